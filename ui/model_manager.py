"""Tools → Models…: download, cancel, remove and choose whisper.cpp models, or use a model file."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QItemSelection, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pipeline.models.ggml_file import GgmlFormatError, problems, read_header
from pipeline.models.catalog import KIND_WHISPER, CatalogModel
from pipeline.models.store import ModelStore
from ui.diarization_model_box import DiarizationModelBox
from ui.download_worker import Downloads, Progress, ask_to_stop, human_size, short_reason
from ui.model_table import (
    COL_DESCRIPTION,
    COL_NAME,
    COL_SIZE,
    COL_STATUS,
    ModelTableModel,
    RowState,
    State,
    PaddedDelegate,
    StatusDelegate,
    status_text,
)


class ModelManagerDialog(QDialog):
    """Lists the catalog; `model_chosen` carries a catalog name, or the full path of a model file."""

    model_chosen = Signal(str)

    def __init__(self, store: ModelStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.store = store
        self.downloads = Downloads(store, self)
        self._closing_result: int | None = None  # set while stopping downloads before closing

        self.models = ModelTableModel(store, self)
        self.table = QTableView(self)
        self.table.setModel(self.models)
        self.table.setItemDelegateForColumn(COL_STATUS, StatusDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_SIZE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)  # failure reasons are long
        header.setSectionResizeMode(COL_DESCRIPTION, QHeaderView.ResizeMode.ResizeToContents)
        padded = PaddedDelegate(self.table)
        self.table.setItemDelegateForColumn(COL_NAME, padded)
        self.table.setItemDelegateForColumn(COL_DESCRIPTION, padded)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
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
        self.use_file_button.setToolTip("Choose a whisper.cpp ggml .bin file from anywhere on disk")
        self.use_button.setToolTip("Transcribe with the selected model from now on")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.use_file_button.clicked.connect(self.use_model_file)
        self.use_button.clicked.connect(self.use_selected)
        self.close_button.clicked.connect(self.reject)
        for b in (self.download_button, self.cancel_button, self.remove_button, self.use_file_button,
                  self.close_button):
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
        self.diarization = DiarizationModelBox(store, self)  # a gated folder from Hugging Face, not a table row
        layout.addWidget(self.diarization)
        layout.addLayout(bottom)

        self.downloads.progressed.connect(self._on_progress)
        self.downloads.succeeded.connect(self._on_succeeded)
        self.downloads.failed.connect(self._on_failed)
        self.downloads.cancelled.connect(self._on_cancelled)
        self.downloads.all_stopped.connect(self._finish_closing)
        self.diarization.stopped.connect(self._finish_closing)
        self.models.dataChanged.connect(self._data_changed)
        self.resize(940, 760)  # every row of the default list without scrolling, and the diarization box
        self._update_buttons()

    # --- queries --------------------------------------------------------------------------------
    def running_downloads(self) -> list[str]:
        """Names of the models still downloading (or stopping); the app checks this on quit."""
        return self.downloads.running() + self.diarization.running()

    def status_text(self, name: str) -> str:
        """What the Status column says (or would say, for a row hidden by the quantized filter)."""
        return status_text(self.models.state(name))

    def selected_entry(self) -> CatalogModel | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models.entry_at(rows[0].row()) if rows else None

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
        entry = self.selected_entry()
        if entry is None or self.downloads.is_running(entry.name):
            return
        partial = self.models.state(entry.name).state is State.CANCELLED and not self.store.is_installed(entry)
        what = f"the partial download of {entry.name}" if partial else f"{entry.name} ({human_size(entry.size)})"
        answer = QMessageBox.question(
            self, "Remove model?",
            f"Delete {what} from {self.store.root}?\nYou can download it again at any time.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.remove(entry)
        except OSError as e:
            self._say(f"Could not remove {entry.name}: {e.strerror or e}", error=True)
            return
        self.models.set_state(entry.name, RowState(State.ABSENT))
        self._say(f"Removed {entry.name}.")

    def use_selected(self) -> None:
        entry = self.selected_entry()
        if entry is None or entry.kind != KIND_WHISPER or not self.store.is_installed(entry):
            return
        self.model_chosen.emit(entry.name)
        self.accept()

    def use_model_file(self) -> None:
        start = str(self.store.root) if self.store.root.is_dir() else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Use a Model File", start,
                                              "whisper.cpp models (*.bin);;All files (*)")
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
            QMessageBox.warning(self, "Not a usable model",
                                f"{name} cannot be used as a speech model:\n\n• " + "\n• ".join(issues))
            return
        self.model_chosen.emit(path)
        self.accept()

    def open_folder(self) -> None:
        try:
            self.store.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self._say(f"Cannot create {self.store.root}: {e.strerror or e}", error=True)
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.store.root)))

    # --- closing --------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        """Every way of closing comes here: ask before stopping downloads, then wait for them."""
        if self._closing_result is not None:
            return  # already waiting for the downloads to stop
        running = self.running_downloads()
        if running:
            if not ask_to_stop(self, running):
                return
            self._closing_result = result
            self.cancel_all()
            self._say("Stopping the download…" if len(running) == 1 else "Stopping the downloads…")
            self._update_buttons()
            return
        super().done(result)

    def _finish_closing(self) -> None:
        if self._closing_result is not None and not self.running_downloads():
            result, self._closing_result = self._closing_result, None
            super().done(result)

    # --- download reports (GUI thread) ----------------------------------------------------------
    def _on_progress(self, name: str, progress: Progress) -> None:
        if self.models.state(name).state is State.DOWNLOADING:
            self.models.set_state(name, RowState(State.DOWNLOADING, progress))

    def _on_succeeded(self, name: str, _path: str) -> None:
        self.models.set_state(name, RowState(State.INSTALLED))
        self._say(f"{name} is installed.")

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
        keep = self.selected_entry()
        self.models.set_show_quantized(show)
        if keep is not None:
            self.select_model(keep.name)
        self._update_buttons()

    def _selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        self._update_buttons()

    def _data_changed(self, *_: object) -> None:
        self._update_buttons()

    def _double_clicked(self, *_: object) -> None:
        if self.use_button.isEnabled():
            self.use_selected()

    def _update_buttons(self) -> None:
        entry = self.selected_entry()
        closing = self._closing_result is not None
        state = self.models.state(entry.name).state if entry else None
        installed = entry is not None and state is State.INSTALLED
        running = entry is not None and self.downloads.is_running(entry.name)
        self.download_button.setEnabled(not closing and entry is not None and not installed and not running)
        self.download_button.setText("&Resume" if state is State.CANCELLED else "&Download")
        self.cancel_button.setEnabled(not closing and running and state is State.DOWNLOADING)
        self.remove_button.setEnabled(not closing and not running and state in (State.INSTALLED, State.CANCELLED))
        self.use_button.setEnabled(not closing and installed and entry is not None and entry.kind == KIND_WHISPER)
        self.use_file_button.setEnabled(not closing)


__all__ = ["ModelManagerDialog"]
