"""The model manager's table: catalog entries with size, status and a progress bar while downloading."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from pipeline.models.catalog import KIND_WHISPER, CatalogModel
from pipeline.models.store import ModelStore
from ui.download_worker import Progress, human_size

COL_NAME, COL_SIZE, COL_STATUS, COL_DESCRIPTION = range(4)
HEADERS = ("Model", "Size", "Status", "Description")
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1  # Progress while downloading, else None
Index = QModelIndex | QPersistentModelIndex


class State(Enum):
    ABSENT = "absent"
    INSTALLED = "installed"
    DOWNLOADING = "downloading"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True)
class RowState:
    state: State
    progress: Progress | None = None
    reason: str = ""  # FAILED: one line; its full text goes in the tooltip
    detail: str = ""

    @property
    def busy(self) -> bool:
        return self.state in (State.DOWNLOADING, State.CANCELLING)


def is_quantized(entry: CatalogModel) -> bool:
    return "-q" in entry.name


def status_text(row: RowState) -> str:
    s, p = row.state, row.progress
    if s is State.INSTALLED:
        return "Installed"
    if s is State.DOWNLOADING:
        return f"Downloading {p.describe()}" if p and not p.complete else (p.describe() if p else "Connecting…")
    if s is State.CANCELLING:
        return "Cancelling…"
    if s is State.CANCELLED:
        return f"Cancelled at {p.percent}% · resumes" if p and p.done else "Cancelled"
    if s is State.FAILED:
        return f"Failed: {row.reason}"
    return "Not installed"


def _about(entry: CatalogModel) -> str:
    return re.sub(r"\s*\([\d.]+ [KMG]i?B\)$", "", entry.description)  # the Size column says it already


class ModelTableModel(QAbstractTableModel):
    """Rows: the whisper models (quantized ones only on request), then the other kinds (VAD)."""

    def __init__(self, store: ModelStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._show_quantized = False
        self._states: dict[str, RowState] = {}
        self._rows: list[CatalogModel] = self._visible()
        self.refresh_installed()

    # --- rows ---------------------------------------------------------------------------------
    def _visible(self) -> list[CatalogModel]:
        shown = [m for m in self.store.catalog if self._show_quantized or not is_quantized(m)]
        return sorted(shown, key=lambda m: m.kind != KIND_WHISPER)  # stable: catalog order within a kind

    def set_show_quantized(self, show: bool) -> None:
        if show == self._show_quantized:
            return
        self.beginResetModel()
        self._show_quantized = show
        self._rows = self._visible()
        self.endResetModel()

    def show_quantized(self) -> bool:
        return self._show_quantized

    def entry_at(self, row: int) -> CatalogModel | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, name: str) -> int | None:
        return next((i for i, m in enumerate(self._rows) if m.name == name), None)

    # --- state --------------------------------------------------------------------------------
    def state(self, name: str) -> RowState:
        return self._states.get(name, RowState(State.ABSENT))

    def set_state(self, name: str, state: RowState) -> None:
        self._states[name] = state
        row = self.row_of(name)
        if row is not None:
            self.dataChanged.emit(self.index(row, COL_NAME), self.index(row, COL_DESCRIPTION))

    def refresh_installed(self) -> None:
        """Re-read the disk for every row that is not busy or showing an outcome worth keeping."""
        for m in self.store.catalog:
            current = self.state(m.name)
            if current.busy:
                continue
            if self.store.is_installed(m):
                self._states[m.name] = RowState(State.INSTALLED)
            elif current.state is State.INSTALLED:
                self._states[m.name] = RowState(State.ABSENT)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(HEADERS) - 1))

    # --- Qt model -----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return int((Qt.AlignmentFlag.AlignRight if section == COL_SIZE else Qt.AlignmentFlag.AlignLeft)
                       | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        entry = self.entry_at(index.row())
        if entry is None or not index.isValid():
            return None
        col, row = index.column(), self.state(entry.name)
        if role == Qt.ItemDataRole.DisplayRole:
            return (entry.name, human_size(entry.size), status_text(row), _about(entry))[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_STATUS and row.state is State.FAILED:
                return row.detail or row.reason
            if col == COL_SIZE:
                return f"{entry.size:,} bytes"
            if col == COL_DESCRIPTION:
                return entry.description
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_STATUS:
            return _status_icon(row.state)
        if role == PROGRESS_ROLE:
            return row.progress if row.state is State.DOWNLOADING else None
        return None


def _status_icon(state: State) -> QIcon | None:
    pixmap = {
        State.INSTALLED: QStyle.StandardPixmap.SP_DialogApplyButton,
        State.FAILED: QStyle.StandardPixmap.SP_MessageBoxWarning,
    }.get(state)
    return QApplication.style().standardIcon(pixmap) if pixmap is not None else None


class PaddedDelegate(QStyledItemDelegate):
    """Adds breathing room after a column sized to its contents."""

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width() + option.fontMetrics.averageCharWidth() * 3, hint.height())


class StatusDelegate(QStyledItemDelegate):
    """A downloading row's status: a short progress bar with the percentage, then speed and time left."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        progress: Progress | None = index.data(PROGRESS_ROLE)
        if progress is None:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else QApplication.style()
        background = QStyleOptionViewItem(option)  # selection highlight and alternate rows as usual
        self.initStyleOption(background, index)
        background.text, background.icon = "", QIcon()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, option.widget)

        rect = QRect(option.rect).adjusted(3, 4, -3, -4)
        bar = QStyleOptionProgressBar()
        if option.widget is not None:
            bar.initFrom(option.widget)  # the view's palette (dark mode) and direction
        bar.rect = QRect(rect.left(), rect.top(), min(option.fontMetrics.horizontalAdvance("0") * 14,
                                                      rect.width() // 2), rect.height())
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = min(1000, progress.done * 1000 // max(1, progress.total))
        bar.text = f"{progress.percent}%"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)

        text_rect = rect.adjusted(bar.rect.width() + 8, 0, 0, 0)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text = option.fontMetrics.elidedText(progress.rate(), Qt.TextElideMode.ElideRight, text_rect.width())
        style.drawItemText(painter, text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                           option.palette, True, text, role)


__all__ = ["COL_DESCRIPTION", "COL_NAME", "COL_SIZE", "COL_STATUS", "ModelTableModel", "PROGRESS_ROLE",
           "PaddedDelegate", "RowState", "State", "StatusDelegate", "is_quantized", "status_text"]
