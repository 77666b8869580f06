"""The main window: the queue on the left, the selected transcript on the right, menus, drops."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QSplitter, QWidget

from audio.formats import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS
from ui.main.queue_model import QueueModel
from ui.main.queue_view import QueueView
from ui.transcript.transcript_view import TranscriptView

MEDIA_FILTER = (
    "Audio and video (" + " ".join(f"*{e}" for e in sorted(AUDIO_EXTENSIONS | VIDEO_EXTENSIONS)) + ");;All files (*)"
)
PROJECT_FILTER = "Hark projects (*.hark);;All files (*)"


def local_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class MainWindow(QMainWindow):
    files_dropped = Signal(list)  # paths of files or folders, from a drop or File > Open
    open_project_requested = Signal(str)
    models_requested = Signal()
    settings_requested = Signal()
    dictation_toggle_requested = Signal()
    dictation_history_requested = Signal()

    def __init__(self, queue_model: QueueModel, icon: QIcon | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hark")
        if icon is not None:
            self.setWindowIcon(icon)
        self.setAcceptDrops(True)
        self.resize(1180, 720)
        self.can_close: Callable[[], bool] = lambda: True  # the controller asks about running jobs

        self.queue_view = QueueView(queue_model, self)
        self.transcript_view = TranscriptView(self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.queue_view)
        split.addWidget(self.transcript_view)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([470, 710])
        split.setChildrenCollapsible(False)
        self.setCentralWidget(split)
        self.queue_view.add_files_requested.connect(self.choose_files)

        self.status_label = QLabel("Ready", self)
        self.statusBar().addWidget(self.status_label, 1)
        self.engine_label = QLabel(self)  # which engine and model the next job will use
        self.engine_label.setToolTip("The speech engine and model new jobs use (Tools → Settings, Tools → Models)")
        self.statusBar().addPermanentWidget(self.engine_label)
        self._build_menus()
        self.setMinimumSize(QSize(720, 420))

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self.act_open = self._action(
            m, "&Open Files…", self.choose_files, QKeySequence.StandardKey.Open, "Add audio or video files to the queue"
        )
        self._action(m, "Open &Folder…", self.choose_folder, None, "Add every media file in a folder")
        m.addSeparator()
        self._action(m, "Open &Project…", self.choose_project, "Ctrl+Shift+O", "Open a saved transcript project")
        self.recent_menu = QMenu("&Recent Projects", self)
        m.addMenu(self.recent_menu)
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit, "Quit Hark")

        e = self.menuBar().addMenu("&Edit")
        self._action(
            e,
            "&Find in Transcript…",
            self.transcript_view.show_find,
            QKeySequence.StandardKey.Find,
            "Search the transcript (Ctrl+F)",
        )
        self.act_editor = self._action(
            e,
            "Edit / &Cut…",
            self.transcript_view.editor_requested.emit,
            "Ctrl+E",
            "Open the transcript in the editor: cut words from the media, preview, export",
        )
        e.addSeparator()
        e.addAction(self.transcript_view.act_rename_speaker)  # names the selected caption's speaker

        t = self.menuBar().addMenu("&Tools")
        self._action(t, "&Models…", self.models_requested.emit, "Ctrl+M", "Download, remove or choose speech models")
        self._action(
            t,
            "&Settings…",
            self.settings_requested.emit,
            QKeySequence.StandardKey.Preferences,
            "Engine, language, outputs and caption rules",
        )
        if not QKeySequence(QKeySequence.StandardKey.Preferences).toString():
            t.actions()[-1].setShortcut(QKeySequence("Ctrl+,"))
        t.addSeparator()
        self._action(
            t,
            "Start/Stop &Dictation",
            self.dictation_toggle_requested.emit,
            None,
            "Dictate into the app you were using (anywhere: hold the dictation hotkey, Ctrl+Alt+Space)",
        )
        self._action(
            t,
            "Dictation &History…",
            self.dictation_history_requested.emit,
            "Ctrl+Shift+H",
            "What you dictated: copy it or insert it again",
        )

        h = self.menuBar().addMenu("&Help")
        self._action(h, "&About Hark", self.about, None, "Version and credits")

    def _action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], object],
        shortcut: str | QKeySequence.StandardKey | None,
        tip: str,
    ) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(tip)
        act.setToolTip(tip)
        act.triggered.connect(lambda _checked=False: slot())
        menu.addAction(act)
        return act

    # --- choosing inputs ---------------------------------------------------------------------
    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add audio or video files", "", MEDIA_FILTER)
        if files:
            self.files_dropped.emit(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add every media file in a folder")
        if folder:
            self.files_dropped.emit([folder])

    def choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a project", "", PROJECT_FILTER)
        if path:
            self.open_project_requested.emit(path)

    def set_recent(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for p in paths:
            act = self.recent_menu.addAction(Path(p).stem)
            act.setToolTip(p)
            act.setStatusTip(p)
            act.triggered.connect(lambda _c=False, p=p: self.open_project_requested.emit(p))
        self.recent_menu.setEnabled(bool(paths))

    # --- drag and drop -----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event)
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)

    # --- the rest ----------------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    def show_engine(self, text: str) -> None:
        self.engine_label.setText(text)

    def about(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("hark")
        except PackageNotFoundError:
            v = "dev"
        QMessageBox.about(
            self,
            "About Hark",
            f"<h3>Hark {v}</h3><p>Offline dictation, transcription and caption editing.</p>"
            "<p>Speech recognition by whisper.cpp; everything stays on this computer.</p>",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.can_close():
            event.accept()
        else:
            event.ignore()
