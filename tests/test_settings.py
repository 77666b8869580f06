"""Settings: QSettings round trip, garbage tolerance, and the dialog driven through its widgets."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QLineEdit,
    QTabBar,
)

from app.settings import (
    GROUP,
    SETTINGS_VERSION,
    VERSION_KEY,
    AppSettings,
    default_projects_folder,
    default_qsettings,
    load_settings,
    save_settings,
    to_caption_rules,
    to_options,
)
from pipeline.captions.captions import CaptionRules
from pipeline.engines.base import TranscribeOptions, default_threads
from ui.settings.settings_dialog import LANGUAGES, SettingsDialog


def ini(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


def custom() -> AppSettings:
    return AppSettings(
        engine="whisper",
        model="/models/ggml-medium.bin",
        language="de",
        translate=True,
        threads=1,
        formats=["srt", "vtt"],
        output_folder="/tmp/Übersetzungen, neu",
        max_line_chars=37,
        max_lines=3,
        highlight_words=True,
        use_vad=False,
        projects_folder="/data/hark projects",
        dictation_hotkey="<ctrl>+<shift>+d",
        dictation_mode="toggle",
        dictation_insert="paste",
        dictation_input="USB Mic",
        dictation_silence=2.5,
        dictation_vocabulary="Hark, whisper.cpp",
        dictation_partials=False,
    )


# --- storage ---------------------------------------------------------------------
def test_round_trip_through_ini_file(tmp_path: Path) -> None:
    path = tmp_path / "hark.ini"
    save_settings(custom(), ini(path))
    assert load_settings(ini(path)) == custom()
    assert ini(path).value(f"{GROUP}/{VERSION_KEY}") in (SETTINGS_VERSION, str(SETTINGS_VERSION))


def test_defaults_round_trip_keeps_none(tmp_path: Path) -> None:
    path = tmp_path / "hark.ini"
    save_settings(AppSettings(), ini(path))
    loaded = load_settings(ini(path))
    assert loaded == AppSettings()
    assert loaded.model is None and loaded.language is None and loaded.output_folder is None


def test_empty_store_gives_defaults(tmp_path: Path) -> None:
    s = load_settings(ini(tmp_path / "missing.ini"))
    assert s == AppSettings()
    assert s.formats == ["srt", "vtt", "txt", "json"]
    assert s.threads == default_threads()
    assert s.projects_folder == default_projects_folder()
    assert Path(s.projects_folder).name == "projects"


def test_garbage_falls_back_per_field(tmp_path: Path) -> None:
    path = tmp_path / "hark.ini"
    path.write_text(
        f"[{GROUP}]\n"
        "settings_version=soon\n"
        "engine=whisperx\n"  # unknown engine
        "model=small\n"  # fine
        "language=123\n"  # not a language code
        "translate=maybe\n"
        "threads=-3\n"
        "formats=srt, docx\n"  # one unknown format spoils the list
        "output_folder=/out\n"  # fine
        "max_line_chars=500\n"  # out of range
        "max_lines=two\n"
        "highlight_words=yes\n"  # fine: a word for true
        "use_vad=0\n"  # fine: false
        "projects_folder=\n",  # empty
        encoding="utf-8",
    )
    s = load_settings(ini(path))
    d = AppSettings()
    assert s == dataclasses.replace(d, model="small", output_folder="/out", highlight_words=True, use_vad=False)


def test_wrong_types_written_by_code_fall_back(tmp_path: Path) -> None:
    qs = ini(tmp_path / "hark.ini")
    qs.setValue(f"{GROUP}/formats", 5)
    qs.setValue(f"{GROUP}/threads", True)
    qs.setValue(f"{GROUP}/model", ["a", "b"])
    qs.setValue(f"{GROUP}/engine", "sphinx")
    qs.sync()
    s = load_settings(ini(tmp_path / "hark.ini"))
    assert s == dataclasses.replace(AppSettings(), engine="sphinx")


def test_hand_edited_values(tmp_path: Path) -> None:
    path = tmp_path / "hark.ini"
    path.write_text(
        f"[{GROUP}]\nformats=TXT, srt, txt\nlanguage=AUTO\ntranslate=True\nthreads=100000\n", encoding="utf-8"
    )
    s = load_settings(ini(path))
    assert s.formats == ["txt", "srt"]  # a list in the file, duplicates dropped
    assert s.language is None
    assert s.translate is True
    assert s.threads == os.cpu_count()  # more than this machine has: as many as it has


def test_bad_dictation_values_fall_back(tmp_path: Path) -> None:
    qs = ini(tmp_path / "hark.ini")
    for key, value in (
        ("dictation_mode", "shout"),
        ("dictation_insert", "telepathy"),
        ("dictation_silence", "-3"),
        ("dictation_hotkey", ""),
    ):
        qs.setValue(f"{GROUP}/{key}", value)
    s = load_settings(qs)
    d = AppSettings()
    assert (s.dictation_mode, s.dictation_insert, s.dictation_silence, s.dictation_hotkey) == (
        d.dictation_mode,
        d.dictation_insert,
        d.dictation_silence,
        d.dictation_hotkey,
    )


def test_default_store_names_the_app() -> None:
    qs = default_qsettings()  # only looked at, never written
    assert (qs.organizationName(), qs.applicationName()) == ("Hark", "Hark")


def test_to_options_and_caption_rules() -> None:
    s = custom()
    assert to_options(s) == TranscribeOptions(language="de", translate=True, threads=1)
    assert to_caption_rules(s) == CaptionRules(max_line_chars=37, max_lines=3)
    assert to_options(AppSettings()).language is None


# --- the dialog ---------------------------------------------------------------------
@pytest.fixture
def dialog(qtbot) -> SettingsDialog:
    dlg = SettingsDialog(AppSettings(), ["base.en", "small"])
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def _open_file_dialog(qtbot, dlg: SettingsDialog) -> QFileDialog:
    qtbot.waitUntil(lambda: any(fd.isVisible() for fd in dlg.findChildren(QFileDialog)))
    return next(fd for fd in dlg.findChildren(QFileDialog) if fd.isVisible())


def click(qtbot, button: QAbstractButton) -> None:
    """Click on the indicator: a check box stretched across a form is not clickable at its centre."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))


def _type_number(qtbot, spin: QAbstractSpinBox, value: int) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, str(value))
    spin.interpretText()


def test_dialog_shows_the_settings_given(qtbot) -> None:
    s = dataclasses.replace(custom(), language="haw", model="medium")
    dlg = SettingsDialog(s, ["base.en"])
    qtbot.addWidget(dlg)
    assert dlg.engine_combo.currentData() == "whisper"
    assert dlg.model_combo.currentText() == "medium (not installed)"
    assert dlg.language_combo.currentText() == "Other (haw)"
    assert dlg.translate_check.isChecked() and dlg.highlight_check.isChecked() and not dlg.vad_check.isChecked()
    assert dlg.folder_radio.isChecked() and dlg.folder_edit.text() == "/tmp/Übersetzungen, neu"
    assert (dlg.line_chars_spin.value(), dlg.max_lines_spin.value(), dlg.threads_spin.value()) == (37, 3, 1)
    assert dlg.settings() == s  # unchanged when nothing was edited


def test_dialog_edits_every_field(qtbot, dialog: SettingsDialog, tmp_path: Path) -> None:
    dlg = dialog
    model_file = tmp_path / "my-model.bin"
    model_file.write_bytes(b"ggml")
    out_dir = tmp_path / "Übersetzungen"
    out_dir.mkdir()

    dlg.engine_combo.setCurrentIndex(dlg.engine_combo.findData("whisper"))
    dlg.model_combo.setFocus()
    qtbot.keyClick(dlg.model_combo, Qt.Key.Key_End)  # the last item: "Model file…"
    fd = _open_file_dialog(qtbot, dlg)
    fd.selectFile(str(model_file))
    fd.accept()
    assert dlg.model_combo.currentText() == "my-model.bin"
    assert dlg.model_combo.currentData() == str(model_file)

    dlg.language_combo.setCurrentIndex(dlg.language_combo.findData("de"))
    assert dlg.language_combo.currentText() == "German (de)"
    click(qtbot, dlg.translate_check)
    _type_number(qtbot, dlg.threads_spin, 1)
    click(qtbot, dlg.vad_check)
    click(qtbot, dlg.format_checks["txt"])
    click(qtbot, dlg.format_checks["json"])

    qtbot.mouseClick(dlg.browse_button, Qt.MouseButton.LeftButton)
    fd = _open_file_dialog(qtbot, dlg)
    fd.setDirectory(str(out_dir))
    fd.accept()
    assert dlg.folder_radio.isChecked()

    _type_number(qtbot, dlg.line_chars_spin, 32)
    _type_number(qtbot, dlg.max_lines_spin, 1)
    click(qtbot, dlg.highlight_check)

    assert dlg.ok_button.isEnabled()
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert dlg.settings() == dataclasses.replace(
        AppSettings(),
        engine="whisper",
        model=str(model_file),
        language="de",
        translate=True,
        threads=1,
        formats=["srt", "vtt"],
        output_folder=str(out_dir),
        max_line_chars=32,
        max_lines=1,
        highlight_words=True,
        use_vad=False,
    )


def test_installed_model_and_back_to_best(qtbot, dialog: SettingsDialog) -> None:
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("small"))
    assert dialog.settings().model == "small"
    dialog.model_combo.setCurrentIndex(0)
    assert dialog.model_combo.currentText() == "Best installed"
    assert dialog.settings().model is None


def test_cancelled_model_file_keeps_the_model(qtbot, dialog: SettingsDialog) -> None:
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("base.en"))
    dialog.model_combo.setFocus()
    qtbot.keyClick(dialog.model_combo, Qt.Key.Key_End)
    fd = _open_file_dialog(qtbot, dialog)
    fd.reject()
    assert dialog.model_combo.currentText() == "base.en"
    assert dialog.settings().model == "base.en"


def test_ok_needs_a_format_and_a_folder(qtbot, dialog: SettingsDialog) -> None:
    for box in dialog.format_checks.values():
        click(qtbot, box)
    assert not dialog.ok_button.isEnabled()
    assert dialog.hint_label.isVisible() and "at least one" in dialog.hint_label.text()
    click(qtbot, dialog.format_checks["txt"])
    assert dialog.ok_button.isEnabled() and not dialog.hint_label.isVisible()

    click(qtbot, dialog.folder_radio)  # no folder chosen yet
    assert not dialog.ok_button.isEnabled() and "folder" in dialog.hint_label.text()
    qtbot.keyClicks(dialog.folder_edit, "/tmp/out")
    assert dialog.ok_button.isEnabled()
    assert dialog.settings().output_folder == "/tmp/out"
    click(qtbot, dialog.next_to_input_radio)
    assert dialog.settings().output_folder is None and not dialog.folder_edit.isEnabled()


def test_cancel_keeps_the_original(qtbot, dialog: SettingsDialog) -> None:
    click(qtbot, dialog.translate_check)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_sphinx_needs_no_model(qtbot, dialog: SettingsDialog) -> None:
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("sphinx"))
    assert not dialog.model_combo.isEnabled()
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("auto"))
    assert dialog.model_combo.isEnabled()


def test_languages_and_threads_range(dialog: SettingsDialog) -> None:
    combo = dialog.language_combo
    names = [combo.itemText(i) for i in range(1, combo.count())]
    assert combo.itemText(0) == "Auto-detect" and combo.itemData(0) is None
    assert len(names) >= 30 and names == sorted(names)
    assert "English (en)" in names and len(LANGUAGES) == len(names)
    assert (dialog.threads_spin.minimum(), dialog.threads_spin.maximum()) == (1, os.cpu_count())
    assert (dialog.line_chars_spin.minimum(), dialog.line_chars_spin.maximum()) == (20, 80)
    assert (dialog.max_lines_spin.minimum(), dialog.max_lines_spin.maximum()) == (1, 3)


def test_tooltips_mnemonics_and_size(dialog: SettingsDialog) -> None:
    controls = [
        w
        for t in (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit)
        for w in dialog.findChildren(t)
        if not isinstance(w.parent(), (QAbstractSpinBox, QComboBox, QLineEdit, QTabBar))
    ]  # their inner parts
    assert len(controls) >= 19
    assert [w for w in controls if not w.toolTip()] == []
    with_text: list[QAbstractButton | QLabel] = [*dialog.findChildren(QAbstractButton), *dialog.findChildren(QLabel)]
    texts = [w.text() for w in with_text if "&" in w.text()]
    keys = [t[t.index("&") + 1].lower() for t in texts]
    assert len(keys) == len(set(keys)) >= 15, texts
    for label in dialog.findChildren(QLabel):
        if "&" in label.text():
            assert label.buddy() is not None, label.text()
    hint = dialog.sizeHint()
    assert hint.width() <= 640 and hint.height() <= 600
