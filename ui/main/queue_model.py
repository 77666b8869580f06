"""The job queue as a Qt table model: name, duration, status, progress."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from pipeline.transcription.jobs import Job, JobQueue, JobStatus

COL_NAME, COL_DURATION, COL_STATUS, COL_PROGRESS = range(4)
HEADERS = ("File", "Length", "Status", "Progress")
JOB_ROLE = Qt.ItemDataRole.UserRole + 1  # the Job itself
Index = QModelIndex | QPersistentModelIndex


def clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def status_text(job: Job) -> str:
    if job.status is JobStatus.FAILED and job.error:
        return f"Failed: {job.error}"
    if job.status is JobStatus.RUNNING:
        doing = job.stage or "Transcribing"
        return f"{doing} · {clock(job.eta)} left" if job.eta is not None else doing
    if job.status is JobStatus.DONE and job.warnings:
        return f"Done · {job.warnings[0]}"
    return job.status.label


class QueueModel(QAbstractTableModel):
    def __init__(self, queue: JobQueue, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = queue

    def set_queue(self, queue: JobQueue) -> None:
        self.beginResetModel()
        self.queue = queue
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.queue.jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.queue.jobs):
            return None
        job = self.queue.jobs[index.row()]
        col = index.column()
        if role == JOB_ROLE:
            return job
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return job.name
            if col == COL_DURATION:
                return clock(job.duration)
            if col == COL_STATUS:
                return status_text(job)
            if col == COL_PROGRESS:
                return None  # painted as a bar by the view's delegate
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_NAME:
                return job.path
            if col in (COL_STATUS, COL_PROGRESS) and job.error:
                return f"{job.name} failed:\n{job.error}"
            if col in (COL_STATUS, COL_PROGRESS) and (job.outputs or job.warnings):
                return "\n".join([*job.warnings, *(["Saved:", *job.outputs] if job.outputs else [])])
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_DURATION:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # --- updates from the controller --------------------------------------------------------
    def job_changed(self, job_id: str) -> None:
        try:
            row = self.queue.index(job_id)
        except StopIteration:
            return
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))

    def add_paths(self, paths: list[str]) -> list[Job]:
        """Queue files (those already waiting are skipped) and show the new rows."""
        before = len(self.queue.jobs)
        targets: list[str | Path] = list(paths)
        pending = JobQueue(list(self.queue.jobs)).add(targets)  # dry run: how many rows will appear
        if not pending:
            return []
        self.beginInsertRows(QModelIndex(), before, before + len(pending) - 1)
        added = self.queue.add(targets)
        self.endInsertRows()
        return added

    def remove_job(self, job_id: str) -> None:
        row = self.queue.index(job_id)
        self.beginRemoveRows(QModelIndex(), row, row)
        self.queue.remove(job_id)
        self.endRemoveRows()

    def job_at(self, row: int) -> Job | None:
        return self.queue.jobs[row] if 0 <= row < len(self.queue.jobs) else None
