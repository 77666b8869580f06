"""The queue panel: a table of jobs with a progress bar per row, row actions, and a drop hint."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from pipeline.transcription.jobs import Job, JobStatus
from ui.main.queue_model import COL_DURATION, COL_NAME, COL_PROGRESS, COL_STATUS, JOB_ROLE, QueueModel


class ProgressDelegate(QStyledItemDelegate):
    """Paints the progress column as a native progress bar."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        job: Job | None = index.data(JOB_ROLE)
        if job is None or job.status is not JobStatus.RUNNING:
            super().paint(painter, option, index)  # done, waiting, failed, cancelled: the status says it
            return
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect).adjusted(4, 5, -4, -5)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = round(job.progress * 100)
        bar.text = f"{bar.progress}%"
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class QueueView(QWidget):
    """Signals carry job ids; the controller acts on them."""

    add_files_requested = Signal()
    cancel_requested = Signal(str)
    retry_requested = Signal(str)
    remove_requested = Signal(str)
    reveal_requested = Signal(str)
    job_selected = Signal(str)  # also emitted with "" when the selection is cleared

    def __init__(self, model: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.table = QTableView(self)
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.table))
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_DURATION, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_PROGRESS, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_PROGRESS, 110)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self._emit_selected())

        self.act_add = QAction("Add Files…", self, toolTip="Add audio or video files to the queue (Ctrl+O)")
        self.act_cancel = QAction("Cancel", self, toolTip="Stop this job; it can be retried later")
        self.act_retry = QAction("Retry", self, toolTip="Run this job again")
        self.act_remove = QAction("Remove", self, toolTip="Take this job off the list (its files stay)")
        self.act_remove.setShortcut(QKeySequence.StandardKey.Delete)
        self.act_remove.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.act_reveal = QAction("Show in Folder", self, toolTip="Open the folder holding the exported captions")
        self.act_add.triggered.connect(self.add_files_requested)
        self.act_cancel.triggered.connect(lambda: self._act(self.cancel_requested))
        self.act_retry.triggered.connect(lambda: self._act(self.retry_requested))
        self.act_remove.triggered.connect(lambda: self._act(self.remove_requested))
        self.act_reveal.triggered.connect(lambda: self._act(self.reveal_requested))
        self.addAction(self.act_remove)

        bar = QToolBar(self)
        bar.setIconSize(QSize(16, 16))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.act_add, self.act_cancel, self.act_retry, self.act_remove, self.act_reveal):
            bar.addAction(a)

        self.empty = QWidget(self)
        hint = QLabel(
            "<h2>Drop audio or video files here</h2>"
            "<p>or folders: every media file inside is queued.<br>"
            "Transcripts open here when they are done.</p>",
            self.empty,
        )
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setForegroundRole(hint.foregroundRole())
        open_btn = QPushButton("Open Files…", self.empty)
        open_btn.setToolTip("Choose files to transcribe (Ctrl+O)")
        open_btn.clicked.connect(self.add_files_requested)
        lay = QVBoxLayout(self.empty)
        lay.addStretch(1)
        lay.addWidget(hint)
        lay.addWidget(open_btn, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(2)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(bar)
        layout.addWidget(self.stack)
        model.rowsInserted.connect(self._update_state)
        model.rowsRemoved.connect(self._update_state)
        model.modelReset.connect(self._update_state)
        model.dataChanged.connect(self._data_changed)  # a bound slot: dropped when this view is deleted
        self._update_state()

    # --- state --------------------------------------------------------------------------------
    def selected_job(self) -> Job | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.job_at(rows[0].row()) if rows else None

    def select_job(self, job_id: str) -> None:
        try:
            row = self.model.queue.index(job_id)
        except StopIteration:
            return
        self.table.selectRow(row)

    def _update_state(self, *_: object) -> None:
        self.stack.setCurrentWidget(self.table if self.model.rowCount() else self.empty)
        self._update_actions()

    def _update_actions(self) -> None:
        job = self.selected_job()
        status = job.status if job else None
        self.act_cancel.setEnabled(status in (JobStatus.QUEUED, JobStatus.RUNNING))
        self.act_retry.setEnabled(status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DONE))
        self.act_remove.setEnabled(job is not None and status is not JobStatus.RUNNING)
        self.act_reveal.setEnabled(bool(job and job.outputs))

    def _data_changed(self, *_: object) -> None:
        self._update_actions()

    def _selection_changed(self, *_: object) -> None:
        self._update_actions()
        self._emit_selected()

    def _emit_selected(self) -> None:
        job = self.selected_job()
        self.job_selected.emit(job.id if job else "")

    def _act(self, signal: SignalInstance) -> None:
        job = self.selected_job()
        if job is not None:
            signal.emit(job.id)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        menu = QMenu(self)
        for a in (self.act_cancel, self.act_retry, self.act_remove, self.act_reveal):
            menu.addAction(a)
        menu.exec(self.table.viewport().mapToGlobal(pos))


__all__ = ["COL_DURATION", "COL_STATUS", "ProgressDelegate", "QueueView"]
