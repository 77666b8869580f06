"""The Models dialog's "Import model" section: bring a whisper model the user already has into the models folder.

A whisper.cpp ggml .bin, an OpenAI .pt checkpoint or a CTranslate2 / faster-whisper
model (its folder, or the model.bin in it) becomes a ggml file in the models
folder, optionally quantised to 8 or 5 bits. The import runs off the GUI thread
(ui.models.import_worker) with a progress bar and Cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pipeline.models.model_import import ImportResult
from ui.models.download_worker import human_size
from ui.models.import_worker import Importer

MODEL_FILES = "Whisper models (*.bin *.pt);;All files (*)"
PRECISIONS = (  # (label, quantize)
    ("Keep full precision (f16)", None),
    ("8-bit (q8_0): about half the size", "q8_0"),
    ("5-bit (q5_0): about a third of the size", "q5_0"),
)


def pick_model_source(parent: QWidget, folder: bool, start: Path) -> str | None:
    """Ask for a model file or a model folder; None if the user cancelled."""
    where = str(start) if start.is_dir() else str(Path.home())
    if folder:
        path = QFileDialog.getExistingDirectory(parent, "Import a Model Folder (CTranslate2 / faster-whisper)", where)
    else:
        path, _ = QFileDialog.getOpenFileName(parent, "Import a Model File", where, MODEL_FILES)
    return path or None


def progress_text(done: int, total: int) -> str:
    percent = min(100, done * 100 // total) if total > 0 else 0
    return f"Importing: {human_size(done)} of {human_size(total)} · {percent}%"


def add_source_menu(button: QPushButton, on_pick: Callable[[bool], None]) -> QMenu:
    """Give `button` the menu "Model File…" / "Model Folder…"; `on_pick(folder)` runs on a choice."""
    menu = QMenu(button)
    file_action = menu.addAction("Model &File… (ggml .bin, OpenAI .pt, CTranslate2 model.bin)")
    folder_action = menu.addAction("Model F&older… (CTranslate2 / faster-whisper)")
    file_action.triggered.connect(lambda: on_pick(False))
    folder_action.triggered.connect(lambda: on_pick(True))
    button.setMenu(menu)
    return menu


class ModelImportBox(QGroupBox):
    """Import button with its file / folder menu, the precision, and progress with Cancel while importing."""

    imported = Signal(object)  # ImportResult, on the GUI thread
    failed = Signal(str)  # one sentence
    cancelled = Signal()
    stopped = Signal()  # an import ended, however it ended

    def __init__(self, root: Path, parent: QWidget | None = None) -> None:
        super().__init__("Import a model you already have", parent)
        self.root = root
        self.importer = Importer(root, self)

        note = QLabel(
            "A whisper.cpp .bin file, an OpenAI .pt checkpoint, or a CTranslate2 / faster-whisper "
            "folder. Hark converts it into the models folder; the original is not changed.",
            self,
        )
        note.setWordWrap(True)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.import_button = QPushButton("&Import Model…", self)
        self.import_button.setAutoDefault(False)
        self.import_button.setToolTip("Choose a model file or a model folder to import")
        self.menu = add_source_menu(self.import_button, self.choose_and_import)
        self.file_action, self.folder_action = self.menu.actions()
        self.precision = QComboBox(self)
        for label, quantize in PRECISIONS:
            self.precision.addItem(label, quantize)
        self.precision.setToolTip(
            "Smaller models load faster and use less memory, and are slightly less "
            "accurate. A model that is quantized already keeps its own precision."
        )
        precision_label = QLabel("&Precision:", self)
        precision_label.setBuddy(self.precision)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addSpacing(12)
        row.addWidget(precision_label)
        row.addWidget(self.precision)
        row.addStretch(1)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel(self)
        self.cancel_button = QPushButton("Cancel Import", self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addLayout(progress_row)
        self._show_progress(False)

        self.importer.progressed.connect(self._on_progress)
        self.importer.succeeded.connect(self.imported)
        self.importer.failed.connect(self.failed)
        self.importer.cancelled.connect(self.cancelled)
        self.importer.stopped.connect(self._on_stopped)

    # --- queries --------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.importer.running()

    def quantize(self) -> str | None:
        return self.precision.currentData()

    # --- actions --------------------------------------------------------------------------------
    def choose_and_import(self, folder: bool) -> None:
        path = pick_model_source(self.window(), folder, Path.home())
        if path is not None:
            self.start(path)

    def start(self, path: str) -> bool:
        if not self.importer.import_path(path, self.quantize()):
            return False
        self.progress.setValue(0)
        self.progress_label.setText(f"Reading {Path(path).name}…")
        self._show_progress(True)
        self.set_available(False)
        return True

    def cancel(self) -> None:
        if self.importer.running():
            self.importer.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    def set_available(self, available: bool) -> None:
        """Starting another import (or closing the dialog) turns the controls off; the Cancel stays."""
        on = available and not self.importer.running()
        self.import_button.setEnabled(on)
        self.precision.setEnabled(on)

    # --- reports (GUI thread) -----------------------------------------------------------------
    def _on_progress(self, done: int, total: int) -> None:
        if not self.cancel_button.isEnabled():
            return  # cancelling: keep saying so
        self.progress.setValue(min(1000, done * 1000 // max(1, total)))
        self.progress_label.setText(progress_text(done, total))

    def _on_stopped(self) -> None:
        self._show_progress(False)
        self.set_available(True)
        self.stopped.emit()

    def _show_progress(self, show: bool) -> None:
        for w in (self.progress, self.progress_label, self.cancel_button):
            w.setVisible(show)
        self.cancel_button.setEnabled(show)


def describe_import(result: ImportResult) -> str:
    """What the dialog says after a successful import."""
    m = result.model
    if result.reused:
        return f"{m.name} was imported already, from the same source: it is selected in the list."
    return f"Imported {m.name} ({m.kind}, {m.ftype}, {human_size(m.size)}). Use This Model transcribes with it."


__all__ = [
    "PRECISIONS",
    "ModelImportBox",
    "add_source_menu",
    "describe_import",
    "pick_model_source",
    "progress_text",
]
