"""Tools → Models…: download, import, cancel, remove and choose whisper.cpp models, or use a model file.

The model in use (what the current settings resolve to) is marked; choosing
another, or adding or removing one that "best installed" would pick, moves the mark.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QItemSelection, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from audio.errors import HarkError
from pipeline.models.catalog import KIND_WHISPER, CatalogModel
from pipeline.models.ggml_file import GgmlFormatError, problems, read_header
from pipeline.models.imported import ImportedModel
from pipeline.models.model_import import ImportResult
from pipeline.models.store import ModelStore
from ui.models.diarization_model_box import DiarizationModelBox
from ui.models.download_worker import Downloads, Progress, ask_to_stop, human_size, short_reason
from ui.models.model_import_box import ModelImportBox, describe_import
from ui.models.model_table import ModelTableModel, RowState, State, make_table_view, status_text


class ModelManagerDialog(QDialog):
    """Lists the catalog and the imported models. `model_chosen` carries a catalog or imported name, or the
    full path of a model file; `models_changed` says one was installed, imported or removed."""

    model_chosen = Signal(str)
    models_changed = Signal()

    def __init__(
        self, store: ModelStore, parent: QWidget | None = None, *, model: str | None = None, engine: str = "auto"
    ) -> None:
        """`model` and `engine`: the current settings, to mark the model they use."""
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.store = store
        self.downloads = Downloads(store, self)
        self._closing_result: int | None = None  # set while stopping downloads before closing
        self._choice = (model, engine)

        self.models = ModelTableModel(store, self)
        self.table = make_table_view(self.models, self)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.models.modelReset.connect(self._update_buttons)  # an import or removal re-lists the rows
        self.table.doubleClicked.connect(self._double_clicked)

        self.show_quantized = QCheckBox("Show &quantized variants", self)
        self.show_quantized.setToolTip("Smaller, slightly less accurate versions of each model (q5, q8)")
        self.show_quantized.toggled.connect(self._toggle_quantized)

        self.folder = QLineEdit(str(store.root), self)
        self.folder.setReadOnly(True)
        self.folder.setToolTip("Where Hark keeps downloaded models (HARK_MODELS_DIR moves it)")
        self.open_folder_button = QPushButton("Open &Folder", self)
        self.open_folder_button.clicked.connect(self.open_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Models folder:", self))
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.open_folder_button)

        # errors and outcomes show here, without a modal box in the way
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_icon = QLabel(self)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.message_icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size))
        self.message_icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        message_row = QHBoxLayout()
        message_row.addWidget(self.message_icon)
        message_row.addWidget(self.message, 1)
        self.message.hide()
        self.message_icon.hide()

        self.download_button = QPushButton("&Download", self)
        self.cancel_button = QPushButton("&Cancel Download", self)
        self.remove_button = QPushButton("&Remove", self)
        self.use_file_button = QPushButton("Use a Model &File…", self)
        self.use_button = QPushButton("&Use This Model", self)
        self.close_button = QPushButton("Close", self)
        self.download_button.setToolTip("Download the selected model (resumes a cancelled download)")
        self.cancel_button.setToolTip("Stop this download; what was fetched is kept and resumes next time")
        self.remove_button.setToolTip("Delete the selected model from the models folder")
        self.use_file_button.setToolTip("Use a whisper.cpp ggml .bin file where it is, without copying it")
        self.use_button.setToolTip("Transcribe with the selected model from now on")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.use_file_button.clicked.connect(self.use_model_file)
        self.use_button.clicked.connect(self.use_selected)
        self.close_button.clicked.connect(self.reject)
        for b in (
            self.download_button,
            self.cancel_button,
            self.remove_button,
            self.use_file_button,
            self.close_button,
        ):
            b.setAutoDefault(False)
        self.use_button.setDefault(True)
        buttons = QHBoxLayout()
        for b in (self.download_button, self.cancel_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.use_file_button, self.use_button):
            buttons.addWidget(b)
        bottom = QHBoxLayout()  # Close stays last, below the diarization box
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addLayout(folder_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.show_quantized)
        layout.addLayout(message_row)
        layout.addLayout(buttons)
        self.import_box = ModelImportBox(store.root, self)
        layout.addWidget(self.import_box)
        self.diarization = DiarizationModelBox(store, self)  # a gated folder from Hugging Face, not a table row
        layout.addWidget(self.diarization)
        layout.addLayout(bottom)

        self.downloads.progressed.connect(self._on_progress)
        self.downloads.succeeded.connect(self._on_succeeded)
        self.downloads.failed.connect(self._on_failed)
        self.downloads.cancelled.connect(self._on_cancelled)
        self.downloads.all_stopped.connect(self._finish_closing)
        self.diarization.stopped.connect(self._finish_closing)
        self.import_box.imported.connect(self._on_imported)
        self.import_box.failed.connect(lambda message: self._say(message, error=True))
        self.import_box.cancelled.connect(lambda: self._say("Import cancelled: nothing was kept."))
        self.import_box.stopped.connect(self._finish_closing)
        self.models.dataChanged.connect(self._data_changed)
        self.resize(940, 800)  # every row of the default list without scrolling, and both boxes
        self._update_in_use()
        self._update_buttons()

    # --- queries --------------------------------------------------------------------------------
    def running_downloads(self) -> list[str]:
        """Names of the models still downloading (or stopping); the app checks this on quit."""
        return self.downloads.running() + self.diarization.running()

    def status_text(self, name: str) -> str:
        """What the Status column says (or would say, for a row hidden by the quantized filter)."""
        return status_text(self.models.state(name))

    def selected_entry(self) -> CatalogModel | None:
        """The selected catalog model (None for an imported one)."""
        rows = self.table.selectionModel().selectedRows()
        return self.models.entry_at(rows[0].row()) if rows else None

    def selected_imported(self) -> ImportedModel | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models.imported_at(rows[0].row()) if rows else None

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models.name_at(rows[0].row()) if rows else None

    def in_use(self) -> str | None:
        """The name of the marked row: the model the current settings transcribe with."""
        return self.models.in_use()

    def select_model(self, name: str) -> bool:
        row = self.models.row_of(name)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    # --- actions --------------------------------------------------------------------------------
    def download_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.start_download(entry)

    def start_download(self, entry: CatalogModel) -> None:
        if self.store.is_installed(entry) or not self.downloads.start(entry):
            return
        self.models.set_state(entry.name, RowState(State.DOWNLOADING))
        self._say("")

    def cancel_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None and self.downloads.is_running(entry.name):
            self.downloads.cancel(entry.name)
            self.models.set_state(entry.name, RowState(State.CANCELLING, self.models.state(entry.name).progress))

    def cancel_all(self) -> None:
        for name in self.downloads.running():
            self.downloads.cancel(name)
            self.models.set_state(name, RowState(State.CANCELLING, self.models.state(name).progress))
        self.diarization.cancel()

    def remove_selected(self) -> None:
        imported = self.selected_imported()
        if imported is not None:
            self._remove_imported(imported)
            return
        entry = self.selected_entry()
        if entry is None or self.downloads.is_running(entry.name):
            return
        partial = self.models.state(entry.name).state is State.CANCELLED and not self.store.is_installed(entry)
        what = f"the partial download of {entry.name}" if partial else f"{entry.name} ({human_size(entry.size)})"
        if not self._confirm_remove(what, "You can download it again at any time."):
            return
        try:
            self.store.remove(entry)
        except OSError as e:
            self._say(f"Could not remove {entry.name}: {e.strerror or e}", error=True)
            return
        self.models.set_state(entry.name, RowState(State.ABSENT))
        self._say(f"Removed {entry.name}.")
        self._store_changed()

    def _remove_imported(self, model: ImportedModel) -> None:
        if not self._confirm_remove(
            f"{model.name} ({human_size(model.size)})", "The file or folder it was imported from is not touched."
        ):
            return
        try:
            self.store.remove_imported(model.name)
        except OSError as e:
            self._say(f"Could not remove {model.name}: {e.strerror or e}", error=True)
            return
        self._say(f"Removed {model.name}.")
        self._store_changed()

    def _confirm_remove(self, what: str, note: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove model?",
            f"Delete {what} from {self.store.root}?\n{note}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def use_selected(self) -> None:
        name = self.selected_name()
        entry = self.selected_entry()
        usable = self.selected_imported() is not None or (
            entry is not None and entry.kind == KIND_WHISPER and self.store.is_installed(entry)
        )
        if name is None or not usable:
            return
        self._use(name)
        self._say(f"Hark now transcribes and dictates with {name}.")

    def _use(self, model: str) -> None:
        engine = self._choice[1]
        self._choice = (model, "auto" if engine == "sphinx" else engine)  # choosing a model leaves the offline one
        self.model_chosen.emit(model)
        self._update_in_use()

    def set_choice(self, model: str | None, engine: str) -> None:
        """The settings changed elsewhere: mark the model they use now."""
        self._choice = (model, engine)
        self._update_in_use()

    def use_model_file(self) -> None:
        start = str(self.store.root) if self.store.root.is_dir() else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "Use a Model File", start, "whisper.cpp models (*.bin);;All files (*)"
        )
        if not path:
            return
        path = os.path.abspath(path)
        name = Path(path).name
        try:
            header = read_header(path)
        except GgmlFormatError as e:
            QMessageBox.warning(self, "Not a usable model", f"{name} cannot be used as a speech model.\n\n{e}")
            return
        issues = problems(header)
        if issues:
            QMessageBox.warning(
                self, "Not a usable model", f"{name} cannot be used as a speech model:\n\n• " + "\n• ".join(issues)
            )
            return
        self._use(path)
        self._say(f"Hark now transcribes and dictates with {name}, from {Path(path).parent}.")

    def open_folder(self) -> None:
        try:
            self.store.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self._say(f"Cannot create {self.store.root}: {e.strerror or e}", error=True)
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.store.root)))

    # --- closing --------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        """Every way of closing comes here: ask before stopping downloads, stop an import (it is quick to
        redo), then wait for their threads to end."""
        if self._closing_result is not None:
            return  # already waiting for the downloads to stop
        running = self.running_downloads()
        importing = self.import_box.running()
        if running and not ask_to_stop(self, running):
            return
        if running or importing:
            self._closing_result = result
            self.cancel_all()
            self.import_box.cancel()
            self._say(
                "Stopping…"
                if importing
                else "Stopping the download…"
                if len(running) == 1
                else "Stopping the downloads…"
            )
            self._update_buttons()
            return
        super().done(result)

    def _finish_closing(self) -> None:
        if self._closing_result is not None and not self.running_downloads() and not self.import_box.running():
            result, self._closing_result = self._closing_result, None
            super().done(result)

    # --- download reports (GUI thread) ----------------------------------------------------------
    def _on_progress(self, name: str, progress: Progress) -> None:
        if self.models.state(name).state is State.DOWNLOADING:
            self.models.set_state(name, RowState(State.DOWNLOADING, progress))

    def _on_succeeded(self, name: str, _path: str) -> None:
        self.models.set_state(name, RowState(State.INSTALLED))
        self._say(f"{name} is installed.")
        self._store_changed()

    def _on_imported(self, result: ImportResult) -> None:
        self._store_changed()
        self.select_model(result.model.name)
        self.table.scrollTo(self.table.currentIndex())
        self._say(describe_import(result))

    def _on_failed(self, name: str, message: str) -> None:
        self.models.set_state(name, RowState(State.FAILED, reason=short_reason(message), detail=message))
        # the store's messages mostly start "cannot download NAME: …" already
        said = message if message.lower().startswith("cannot download") else f"Could not download {name}: {message}"
        self._say(said[:1].upper() + said[1:], error=True)

    def _on_cancelled(self, name: str, last: Progress | None) -> None:
        self.models.set_state(name, RowState(State.CANCELLED, last))

    # --- state ----------------------------------------------------------------------------------
    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.message_icon.setVisible(bool(text) and error)

    def _toggle_quantized(self, show: bool) -> None:
        keep = self.selected_name()
        self.models.set_show_quantized(show)
        if keep is not None:
            self.select_model(keep)
        self._update_buttons()

    def _store_changed(self) -> None:
        """A model arrived or went: re-list the rows (keeping the selection), move the mark, tell the app."""
        keep = self.selected_name()
        self.models.refresh_installed()
        if keep is not None:
            self.select_model(keep)
        self._update_in_use()
        self._update_buttons()
        self.models_changed.emit()

    def _update_in_use(self) -> None:
        model, engine = self._choice
        name = None  # the offline engine: chosen, or what runs with no usable whisper model
        if engine != "sphinx":
            try:  # as pipeline.transcription.engine_setup.load_engine chooses
                name = self.store.resolve(model or os.environ.get("HARK_MODEL") or None).name
            except HarkError:
                pass
        self.models.set_in_use(name)

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        self._update_buttons()

    def _data_changed(self, *_: object) -> None:
        self._update_buttons()

    def _double_clicked(self, *_: object) -> None:
        if self.use_button.isEnabled():
            self.use_selected()

    def _update_buttons(self) -> None:
        entry, name = self.selected_entry(), self.selected_name()
        imported = self.selected_imported() is not None
        closing = self._closing_result is not None
        state = self.models.state(name).state if name else None
        installed = state is State.INSTALLED
        running = name is not None and self.downloads.is_running(name)
        self.download_button.setEnabled(not closing and entry is not None and not installed and not running)
        self.download_button.setText("&Resume" if state is State.CANCELLED else "&Download")
        self.cancel_button.setEnabled(not closing and running and state is State.DOWNLOADING)
        self.remove_button.setEnabled(not closing and not running and state in (State.INSTALLED, State.CANCELLED))
        whisper = imported or (entry is not None and entry.kind == KIND_WHISPER)
        self.use_button.setEnabled(not closing and installed and whisper)
        self.use_file_button.setEnabled(not closing)
        self.import_box.set_available(not closing)


__all__ = ["ModelManagerDialog"]
