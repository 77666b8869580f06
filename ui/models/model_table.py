"""The model manager's table: catalog entries with size, status and a progress bar while downloading, the models
the user imported beside them, and the model in use marked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from pipeline.models.catalog import KIND_WHISPER, CatalogModel
from pipeline.models.imported import ImportedModel
from pipeline.models.store import ModelStore
from ui.models.download_worker import Progress, human_size

COL_NAME, COL_SIZE, COL_STATUS, COL_DESCRIPTION = range(4)
HEADERS = ("Model", "Size", "Status", "Description")
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1  # Progress while downloading, else None
Index = QModelIndex | QPersistentModelIndex
Row = CatalogModel | ImportedModel  # names never clash: the importer refuses catalog names
IN_USE = "(in use)"


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


class ModelTableModel(QAbstractTableModel):
    """Rows: the whisper models (quantized ones only on request), the imported ones, then the other kinds (VAD)."""

    def __init__(self, store: ModelStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._show_quantized = False
        self._states: dict[str, RowState] = {}
        self._imported: list[ImportedModel] = store.imported()
        self._in_use: str | None = None
        self._rows: list[Row] = self._visible()
        self.refresh_installed()

    # --- rows ---------------------------------------------------------------------------------
    def _visible(self) -> list[Row]:
        shown = [m for m in self.store.catalog if self._show_quantized or not is_quantized(m)]
        whisper = [m for m in shown if m.kind == KIND_WHISPER]
        return [*whisper, *self._imported, *(m for m in shown if m.kind != KIND_WHISPER)]

    def _reset_rows(self) -> None:
        self.beginResetModel()
        self._rows = self._visible()
        self.endResetModel()

    def set_show_quantized(self, show: bool) -> None:
        if show == self._show_quantized:
            return
        self._show_quantized = show
        self._reset_rows()

    def show_quantized(self) -> bool:
        return self._show_quantized

    def entry_at(self, row: int) -> CatalogModel | None:
        """The catalog entry of `row`; None for an imported model's row."""
        r = self._rows[row] if 0 <= row < len(self._rows) else None
        return r if isinstance(r, CatalogModel) else None

    def imported_at(self, row: int) -> ImportedModel | None:
        r = self._rows[row] if 0 <= row < len(self._rows) else None
        return r if isinstance(r, ImportedModel) else None

    def name_at(self, row: int) -> str | None:
        return self._rows[row].name if 0 <= row < len(self._rows) else None

    def row_of(self, name: str) -> int | None:
        return next((i for i, m in enumerate(self._rows) if m.name == name), None)

    # --- the model in use ---------------------------------------------------------------------
    def in_use(self) -> str | None:
        return self._in_use

    def set_in_use(self, name: str | None) -> None:
        old, self._in_use = self._in_use, name
        for n in {n for n in (old, name) if n is not None}:
            row = self.row_of(n)
            if row is not None:
                self.dataChanged.emit(self.index(row, COL_NAME), self.index(row, COL_DESCRIPTION))

    # --- state --------------------------------------------------------------------------------
    def state(self, name: str) -> RowState:
        return self._states.get(name, RowState(State.ABSENT))

    def set_state(self, name: str, state: RowState) -> None:
        self._states[name] = state
        row = self.row_of(name)
        if row is not None:
            self.dataChanged.emit(self.index(row, COL_NAME), self.index(row, COL_DESCRIPTION))

    def refresh_installed(self) -> None:
        """Re-read the disk: the imported models, and every catalog row that is not busy or showing an
        outcome worth keeping."""
        for m in self.store.catalog:
            current = self.state(m.name)
            if current.busy:
                continue
            if self.store.is_installed(m):
                self._states[m.name] = RowState(State.INSTALLED)
            elif current.state is State.INSTALLED:
                self._states[m.name] = RowState(State.ABSENT)
        imported = self.store.imported()
        for im in self._imported:
            self._states.pop(im.name, None)
        for im in imported:
            self._states[im.name] = RowState(State.INSTALLED)
        if imported != self._imported:
            self._imported = imported
            self._reset_rows()
        elif self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(HEADERS) - 1))

    # --- Qt model -----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(
                (Qt.AlignmentFlag.AlignRight if section == COL_SIZE else Qt.AlignmentFlag.AlignLeft)
                | Qt.AlignmentFlag.AlignVCenter
            )
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        col, row = index.column(), self.state(item.name)
        in_use = item.name == self._in_use
        if role == Qt.ItemDataRole.DisplayRole:
            name = f"{item.name}  {IN_USE}" if in_use else item.name
            return (name, human_size(item.size), status_text(row), _about(item))[col]
        if role == Qt.ItemDataRole.FontRole and in_use and col == COL_NAME:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, row, col, in_use)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_STATUS:
            return _status_icon(row.state)
        if role == PROGRESS_ROLE:
            return row.progress if row.state is State.DOWNLOADING else None
        return None

    def _tooltip(self, item: Row, row: RowState, col: int, in_use: bool) -> str | None:
        if col == COL_NAME and in_use:
            return "Hark transcribes and dictates with this model"
        if col == COL_STATUS and row.state is State.FAILED:
            return row.detail or row.reason
        if col == COL_SIZE:
            return f"{item.size:,} bytes"
        if col == COL_DESCRIPTION:
            if isinstance(item, ImportedModel):
                source = item.source.get("path")
                return f"{item.description}" + (f"\nImported from {source}" if source else "")
            return item.description
        return None


def _about(item: Row) -> str:
    if isinstance(item, ImportedModel):
        return item.description
    return re.sub(r"\s*\([\d.]+ [KMG]i?B\)$", "", item.description)  # the Size column says it already


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
        bar.rect = QRect(
            rect.left(),
            rect.top(),
            min(option.fontMetrics.horizontalAdvance("0") * 14, rect.width() // 2),
            rect.height(),
        )
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
        style.drawItemText(
            painter,
            text_rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
            option.palette,
            True,
            text,
            role,
        )


def make_table_view(models: ModelTableModel, parent: QWidget) -> QTableView:
    """The Models dialog's table: whole rows selected one at a time, progress bars in the Status column."""
    table = QTableView(parent)
    table.setModel(models)
    table.setItemDelegateForColumn(COL_STATUS, StatusDelegate(table))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(28)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(COL_SIZE, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)  # failure reasons are long
    header.setSectionResizeMode(COL_DESCRIPTION, QHeaderView.ResizeMode.ResizeToContents)
    padded = PaddedDelegate(table)
    table.setItemDelegateForColumn(COL_NAME, padded)
    table.setItemDelegateForColumn(COL_DESCRIPTION, padded)
    return table


__all__ = [
    "COL_DESCRIPTION",
    "COL_NAME",
    "COL_SIZE",
    "COL_STATUS",
    "IN_USE",
    "PROGRESS_ROLE",
    "ModelTableModel",
    "PaddedDelegate",
    "RowState",
    "State",
    "StatusDelegate",
    "is_quantized",
    "make_table_view",
    "status_text",
]
