"""The timeline's left column: one label per lane (speaker names on word lanes).

Double-click a speaker's label, or right-click it, to rename that speaker.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QMenu, QWidget

from ui.timeline.timeline_layout import Lane, LaneKind
from ui.transcript.speaker_rename import menu_text

HEADER_W = 92


class LaneHeader(QWidget):
    rename_requested = Signal(str)  # a speaker's name

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._lanes: list[Lane] = []
        self._names: list[str] = []
        self._speakers: set[str] = set()
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Window)

    def set_lanes(self, lanes: list[Lane], word_lane_names: list[str], speakers: set[str] | None = None) -> None:
        """`speakers`: which of the word lanes' names are speakers (not "Words" or "No speaker")."""
        self._lanes, self._names = lanes, word_lane_names
        self._speakers = speakers or set()
        self.setToolTip("Double-click a speaker's name to rename it" if self._speakers else "")
        self.update()

    def label(self, lane: Lane) -> str:
        if lane.kind is LaneKind.WORDS:
            return self._names[lane.index] if lane.index < len(self._names) else ""
        return {LaneKind.WAVE: "Waveform", LaneKind.CAPTIONS: "Captions"}.get(lane.kind, "")

    def labels(self) -> list[str]:
        return [self.label(lane) for lane in self._lanes]

    def speaker_at(self, y: int) -> str | None:
        """The speaker whose lane label is at height `y`, if any."""
        lane = next((ln for ln in self._lanes if ln.top <= y < ln.bottom), None)
        if lane is None or lane.kind is not LaneKind.WORDS:
            return None
        name = self.label(lane)
        return name if name in self._speakers else None

    def lane_rect(self, speaker: str) -> QRect | None:
        """Where a speaker's label is (tests click there)."""
        lane = next((ln for ln in self._lanes if ln.kind is LaneKind.WORDS and self.label(ln) == speaker), None)
        return QRect(0, lane.top, self.width(), lane.height) if lane is not None else None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        speaker = self.speaker_at(round(event.position().y()))
        if event.button() == Qt.MouseButton.LeftButton and speaker is not None:
            event.accept()
            self.rename_requested.emit(speaker)
        else:
            super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        speaker = self.speaker_at(event.pos().y())
        if speaker is None:
            event.ignore()
            return
        menu = QMenu(self)
        menu.addAction(menu_text(speaker)).triggered.connect(lambda: self.rename_requested.emit(speaker))
        menu.exec(event.globalPos())

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        p.setPen(pal.color(QPalette.ColorRole.Mid))
        p.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        fm = self.fontMetrics()
        for lane in self._lanes:
            p.setPen(pal.color(QPalette.ColorRole.Mid))
            p.drawLine(0, lane.bottom - 1, self.width(), lane.bottom - 1)
            text = fm.elidedText(self.label(lane), Qt.TextElideMode.ElideRight, self.width() - 12)
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(
                QRect(6, lane.top, self.width() - 12, lane.height),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                text,
            )
