"""Preferences: engine, model, language, output and caption rules.

The dialog edits a copy of the app's settings object (app.settings.AppSettings,
which ui/ may not import): any dataclass with the fields of EditableSettings.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from pathlib import Path
from typing import Any, ClassVar, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pipeline.captions.export import FORMATS
from pipeline.transcription.engine_setup import ENGINES
from ui.settings.dictation_settings import FIELDS as DICTATION_FIELDS
from ui.settings.dictation_settings import DictationSettingsBox
from ui.settings.speaker_settings import FIELDS as SPEAKER_FIELDS
from ui.settings.speaker_settings import SpeakerSettingsBox


class EditableSettings(Protocol):
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # a dataclass: settings() replaces fields
    engine: str
    model: str | None
    language: str | None
    translate: bool
    threads: int
    formats: list[str]
    output_folder: str | None
    max_line_chars: int
    max_lines: int
    highlight_words: bool
    use_vad: bool
    align_words: bool


ENGINE_LABELS = {
    "auto": "Automatic",
    "whisper": "Whisper (whisper.cpp)",
    "sphinx": "Offline English (PocketSphinx)",
}
# Label (with mnemonic) and tooltip per export format.
FORMAT_LABELS = {
    "srt": ("S&RT", "SubRip captions, read by nearly every video player and editor."),
    "vtt": ("&VTT", "WebVTT captions, for web video players."),
    "txt": ("Te&xt", "The plain transcript in paragraphs, without timings."),
    "json": ("&JSON", "The full transcript with word timings, for other programs and for reopening."),
}
# A subset of whisper's languages: the ones it transcribes well enough to offer by name.
LANGUAGES = {
    "af": "Afrikaans",
    "ar": "Arabic",
    "hy": "Armenian",
    "az": "Azerbaijani",
    "eu": "Basque",
    "be": "Belarusian",
    "bn": "Bengali",
    "bs": "Bosnian",
    "bg": "Bulgarian",
    "yue": "Cantonese",
    "ca": "Catalan",
    "zh": "Chinese",
    "hr": "Croatian",
    "cs": "Czech",
    "da": "Danish",
    "nl": "Dutch",
    "en": "English",
    "et": "Estonian",
    "fi": "Finnish",
    "fr": "French",
    "gl": "Galician",
    "de": "German",
    "el": "Greek",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "is": "Icelandic",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "kn": "Kannada",
    "kk": "Kazakh",
    "ko": "Korean",
    "lv": "Latvian",
    "lt": "Lithuanian",
    "mk": "Macedonian",
    "ms": "Malay",
    "mr": "Marathi",
    "ne": "Nepali",
    "no": "Norwegian",
    "fa": "Persian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sr": "Serbian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "es": "Spanish",
    "sw": "Swahili",
    "sv": "Swedish",
    "tl": "Tagalog",
    "ta": "Tamil",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "cy": "Welsh",
}
LINE_CHARS_RANGE = (20, 80)
MAX_LINES_RANGE = (1, 3)

VALUE_ROLE = Qt.ItemDataRole.UserRole
KIND_ROLE = Qt.ItemDataRole.UserRole + 1
# Kinds of model combo items.
BEST, NAMED, FILE, PICK = "best", "named", "file", "pick"


class SettingsDialog(QDialog):
    def __init__(self, settings: EditableSettings, installed_models: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._original = settings
        self._model_dialog: QFileDialog | None = None
        self._folder_dialog: QFileDialog | None = None
        self.setWindowTitle("Hark Settings")

        # --- transcription ------------------------------------------------------
        self.engine_combo = QComboBox()
        for key in ENGINES:
            self.engine_combo.addItem(ENGINE_LABELS.get(key, key), key)
        self.engine_combo.setToolTip(
            "Automatic uses Whisper when a model is installed and the offline English engine otherwise."
        )

        self.model_combo = QComboBox()
        self.model_combo.setToolTip("The Whisper model: larger models are more accurate but slower.")
        self.model_combo.addItem("Best installed", None)
        self.model_combo.setItemData(0, BEST, KIND_ROLE)
        for name in installed_models:
            self._add_model_item(name, name, NAMED)
        self.model_combo.addItem("Model file…")
        self.model_combo.setItemData(self.model_combo.count() - 1, PICK, KIND_ROLE)
        self._model_index = 0  # the last real choice, restored if picking a file is cancelled

        self.language_combo = QComboBox()
        self.language_combo.setToolTip("The language spoken in the recordings; Auto-detect listens first.")
        self.language_combo.addItem("Auto-detect", None)
        for code, name in sorted(LANGUAGES.items(), key=lambda kv: kv[1]):
            self.language_combo.addItem(f"{name} ({code})", code)
        self.language_combo.setMaxVisibleItems(15)

        self.translate_check = QCheckBox("&Translate into English")
        self.translate_check.setToolTip("Write the transcript in English whatever language is spoken.")

        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(1, os.cpu_count() or 1)
        self.threads_spin.setToolTip("How many CPU cores transcription may use; fewer keeps the computer responsive.")

        self.vad_check = QCheckBox("Skip &silence (voice activity detection)")
        self.vad_check.setToolTip(
            "Leave out silent stretches before transcribing, which is faster and avoids invented text."
        )

        self.align_check = QCheckBox("Ali&gn word timings to the audio (English)")
        self.align_check.setToolTip(
            "Forced alignment after recognition: exact word times for cuts and highlighting. "
            "Off is faster; word times are then the recogniser's, marked rough."
        )

        transcription = QGroupBox("Transcription")
        form = QFormLayout(transcription)
        form.addRow("&Engine:", self.engine_combo)
        form.addRow("&Model:", self.model_combo)
        form.addRow("&Language:", self.language_combo)
        form.addRow("", self.translate_check)
        form.addRow("CPU t&hreads:", self.threads_spin)
        form.addRow("", self.vad_check)
        form.addRow("", self.align_check)

        # --- output -------------------------------------------------------------
        self.format_checks: dict[str, QCheckBox] = {}
        format_row = QHBoxLayout()
        for fmt in FORMATS:
            label, tip = FORMAT_LABELS.get(fmt, (fmt.upper(), f"Write a .{fmt} file."))
            box = QCheckBox(label)
            box.setToolTip(tip)
            box.toggled.connect(self._validate)
            self.format_checks[fmt] = box
            format_row.addWidget(box)
        format_row.addStretch(1)

        self.next_to_input_radio = QRadioButton("Next to each &input file")
        self.next_to_input_radio.setToolTip(
            "Save the results in the folder of each recording. A file already there is never replaced: "
            "the results get a numbered name (talk-2.srt)."
        )
        self.folder_radio = QRadioButton("In this f&older:")
        self.folder_radio.setToolTip("Save all results in one folder of your choice.")
        self._folder_group = QButtonGroup(self)
        self._folder_group.addButton(self.next_to_input_radio)
        self._folder_group.addButton(self.folder_radio)
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Choose a folder")
        self.folder_edit.setToolTip("The folder where every result is saved.")
        self.folder_edit.setClearButtonEnabled(True)
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setToolTip("Choose the output folder.")
        self.browse_button.clicked.connect(self._browse_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_radio)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        save_col = QVBoxLayout()
        save_col.addWidget(self.next_to_input_radio)
        save_col.addLayout(folder_row)

        self.hint_label = QLabel()
        self.hint_label.setWordWrap(True)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        hint_row = QHBoxLayout()
        hint_row.setContentsMargins(0, 0, 0, 0)
        hint_row.addWidget(icon)
        hint_row.addWidget(self.hint_label, 1)
        self._hint = QWidget()
        self._hint.setLayout(hint_row)

        output = QGroupBox("Output")
        self._output_form = QFormLayout(output)
        self._output_form.addRow("Formats:", format_row)
        self._output_form.addRow("Save:", save_col)
        self._output_form.addRow("", self._hint)

        # --- captions -----------------------------------------------------------
        self.line_chars_spin = QSpinBox()
        self.line_chars_spin.setRange(*LINE_CHARS_RANGE)
        self.line_chars_spin.setSuffix(" characters")
        self.line_chars_spin.setToolTip("The longest a caption line may be; 42 is the usual broadcast limit.")
        self.max_lines_spin = QSpinBox()
        self.max_lines_spin.setRange(*MAX_LINES_RANGE)
        self.max_lines_spin.setSuffix(" lines")
        self.max_lines_spin.setToolTip("How many lines one caption may show at once.")
        self.highlight_check = QCheckBox("Highlight each &word as it is spoken (VTT)")
        self.highlight_check.setToolTip(
            "Add word timings to WebVTT captions so players can highlight words karaoke-style."
        )

        captions = QGroupBox("Captions")
        cform = QFormLayout(captions)
        cform.addRow("Line le&ngth:", self.line_chars_spin)
        cform.addRow("Lines per ca&ption:", self.max_lines_spin)
        cform.addRow("", self.highlight_check)

        # --- buttons ------------------------------------------------------------
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setToolTip("Keep these settings for the next transcriptions.")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without changing anything.")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self.dictation_box = DictationSettingsBox(self)
        self.speaker_box = SpeakerSettingsBox(self)

        files_page = QWidget(self)
        files_layout = QVBoxLayout(files_page)
        files_layout.addWidget(transcription)
        files_layout.addWidget(output)
        files_layout.addWidget(captions)
        files_layout.addStretch(1)
        speakers_page = QWidget(self)  # a page of its own: the Transcription page is full
        speakers_layout = QVBoxLayout(speakers_page)
        speakers_layout.addWidget(self.speaker_box)
        speakers_layout.addStretch(1)
        dictation_page = QWidget(self)
        dictation_layout = QVBoxLayout(dictation_page)
        dictation_layout.addWidget(self.dictation_box)
        dictation_layout.addStretch(1)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(files_page, "Transcription")
        self.tabs.addTab(speakers_page, "Speakers")
        self.tabs.addTab(dictation_page, "Dictation")
        self.tabs.setTabVisible(1, all(hasattr(settings, f) for f in SPEAKER_FIELDS))
        self.tabs.setTabVisible(2, all(hasattr(settings, f) for f in DICTATION_FIELDS))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)

        for spin in (self.threads_spin, self.line_chars_spin, self.max_lines_spin):
            spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # numbers need no full width
        _align_forms(form, self._output_form, cform, self.dictation_box.form, self.speaker_box.form)

        self._set_tab_order()
        self._load(settings)
        self.engine_combo.currentIndexChanged.connect(self._engine_changed)
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        self.model_combo.activated.connect(self._model_activated)
        self.folder_radio.toggled.connect(self._folder_mode_changed)
        self.folder_edit.textChanged.connect(self._validate)
        self._engine_changed()
        self._folder_mode_changed()
        self.setMinimumWidth(540)

    # --- reading and writing the settings --------------------------------------
    def _load(self, s: EditableSettings) -> None:
        self.engine_combo.setCurrentIndex(max(0, self.engine_combo.findData(s.engine)))
        if s.model:
            i = self._find_model(s.model)
            if i < 0:
                if _looks_like_path(s.model):
                    i = self._add_model_item(s.model, Path(s.model).name, FILE)
                else:  # a catalog model that has been removed since: keep the choice visible
                    i = self._add_model_item(s.model, f"{s.model} (not installed)", NAMED)
            self.model_combo.setCurrentIndex(i)
        self._model_index = self.model_combo.currentIndex()
        i = self.language_combo.findData(s.language) if s.language else 0
        if i < 0:  # a code not in the short list: offer it as it is
            self.language_combo.addItem(f"Other ({s.language})", s.language)
            i = self.language_combo.count() - 1
        self.language_combo.setCurrentIndex(i)
        self.translate_check.setChecked(s.translate)
        self.threads_spin.setValue(s.threads)
        self.vad_check.setChecked(s.use_vad)
        self.align_check.setChecked(s.align_words)
        for fmt, box in self.format_checks.items():
            box.setChecked(fmt in s.formats)
        self.folder_edit.setText(s.output_folder or "")
        (self.folder_radio if s.output_folder else self.next_to_input_radio).setChecked(True)
        self.line_chars_spin.setValue(s.max_line_chars)
        self.max_lines_spin.setValue(s.max_lines)
        self.highlight_check.setChecked(s.highlight_words)
        if all(hasattr(s, f) for f in DICTATION_FIELDS):
            self.dictation_box.load(s)
        if all(hasattr(s, f) for f in SPEAKER_FIELDS):
            self.speaker_box.load(s)

    def settings(self) -> Any:
        """A copy of the settings given, with this dialog's choices (same type)."""
        folder = self.folder_edit.text().strip()
        changes: dict[str, Any] = {
            "engine": self.engine_combo.currentData(),
            "model": self.model_combo.currentData(VALUE_ROLE),
            "language": self.language_combo.currentData(),
            "translate": self.translate_check.isChecked(),
            "threads": self.threads_spin.value(),
            "formats": [f for f, box in self.format_checks.items() if box.isChecked()],
            "output_folder": folder if self.folder_radio.isChecked() and folder else None,
            "max_line_chars": self.line_chars_spin.value(),
            "max_lines": self.max_lines_spin.value(),
            "highlight_words": self.highlight_check.isChecked(),
            "use_vad": self.vad_check.isChecked(),
            "align_words": self.align_check.isChecked(),
        }
        if all(hasattr(self._original, f) for f in DICTATION_FIELDS):
            changes.update(self.dictation_box.changes())
        if all(hasattr(self._original, f) for f in SPEAKER_FIELDS):
            changes.update(self.speaker_box.changes())
        return dataclasses.replace(self._original, **changes)

    # --- model choice -------------------------------------------------------------
    def _add_model_item(self, value: str, text: str, kind: str) -> int:
        """Insert before "Model file…" (or at the end while that is not there yet)."""
        last = self.model_combo.count() - 1
        at = last if last >= 0 and self.model_combo.itemData(last, KIND_ROLE) == PICK else last + 1
        self.model_combo.insertItem(at, text, value)
        self.model_combo.setItemData(at, kind, KIND_ROLE)
        if kind == FILE:
            self.model_combo.setItemData(at, value, Qt.ItemDataRole.ToolTipRole)
        return at

    def _find_model(self, value: str) -> int:
        for i in range(self.model_combo.count()):
            if self.model_combo.itemData(i, KIND_ROLE) in (NAMED, FILE) and self.model_combo.itemData(i) == value:
                return i
        return -1

    def _model_changed(self, index: int) -> None:
        if self.model_combo.itemData(index, KIND_ROLE) != PICK:
            self._model_index = index

    def _model_activated(self, index: int) -> None:
        if self.model_combo.itemData(index, KIND_ROLE) != PICK:
            return
        self.model_combo.setCurrentIndex(self._model_index)  # until a file is actually chosen
        if self._model_dialog is None:
            self._model_dialog = QFileDialog(self, "Choose a Whisper model file")
            self._model_dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
            self._model_dialog.setNameFilters(["Whisper models (*.bin)", "All files (*)"])
            self._model_dialog.fileSelected.connect(self._model_file_chosen)
        current = self.model_combo.currentData()
        if current and _looks_like_path(current):
            self._model_dialog.setDirectory(str(Path(current).parent))
        self._model_dialog.open()

    def _model_file_chosen(self, path: str) -> None:
        if not path:
            return
        i = self._find_model(path)
        if i < 0:
            i = self._add_model_item(path, Path(path).name, FILE)
        self.model_combo.setCurrentIndex(i)

    def _engine_changed(self) -> None:
        # The offline English engine has its model built in.
        self.model_combo.setEnabled(self.engine_combo.currentData() != "sphinx")

    # --- output folder --------------------------------------------------------------
    def _folder_mode_changed(self) -> None:
        self.folder_edit.setEnabled(self.folder_radio.isChecked())
        self._validate()

    def _browse_folder(self) -> None:
        if self._folder_dialog is None:
            self._folder_dialog = QFileDialog(self, "Choose the output folder")
            self._folder_dialog.setFileMode(QFileDialog.FileMode.Directory)
            self._folder_dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
            self._folder_dialog.fileSelected.connect(self._folder_chosen)
        if self.folder_edit.text().strip():
            self._folder_dialog.setDirectory(self.folder_edit.text().strip())
        self._folder_dialog.open()

    def _folder_chosen(self, path: str) -> None:
        if path:
            self.folder_edit.setText(path)
            self.folder_radio.setChecked(True)

    # --- validation -------------------------------------------------------------------
    def _validate(self) -> None:
        problem = ""
        if not any(box.isChecked() for box in self.format_checks.values()):
            problem = "Choose at least one output format."
        elif self.folder_radio.isChecked() and not self.folder_edit.text().strip():
            problem = "Choose an output folder, or save next to each input file."
        self.hint_label.setText(problem)
        self._output_form.setRowVisible(self._hint, bool(problem))
        self.ok_button.setEnabled(not problem)

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self.engine_combo,
            self.model_combo,
            self.language_combo,
            self.translate_check,
            self.threads_spin,
            self.vad_check,
            self.align_check,
            *self.format_checks.values(),
            self.next_to_input_radio,
            self.folder_radio,
            self.folder_edit,
            self.browse_button,
            self.line_chars_spin,
            self.max_lines_spin,
            self.highlight_check,
            self.speaker_box.enabled_check,
            self.speaker_box.folder_edit,
            self.speaker_box.browse_button,
            self.speaker_box.speakers_spin,
            self.dictation_box.enabled_check,
            self.dictation_box.hotkey_edit,
            self.dictation_box.mode_combo,
            self.dictation_box.silence_spin,
            self.dictation_box.insert_combo,
            self.dictation_box.input_combo,
            self.dictation_box.vocabulary_edit,
            self.dictation_box.partials_check,
            self.ok_button,
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel),
        ]
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)


def _align_forms(*forms: QFormLayout) -> None:
    """Right-aligned labels of one width, so the fields of all group boxes line up."""
    labels: list[QWidget] = []
    for f in forms:
        f.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        f.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for row in range(f.rowCount()):
            item = f.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if label is not None:
                labels.append(label)
    width = max((w.sizeHint().width() for w in labels), default=0)
    for w in labels:
        w.setMinimumWidth(width)
        if isinstance(w, QLabel):
            w.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _looks_like_path(value: str) -> bool:
    return value.endswith(".bin") or os.sep in value or "/" in value
