"""The timeline's left column: one label per lane (speaker names on word lanes)."""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget

from ui.timeline_layout import Lane, LaneKind

HEADER_W = 92


class LaneHeader(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._lanes: list[Lane] = []
        self._names: list[str] = []
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Window)

    def set_lanes(self, lanes: list[Lane], word_lane_names: list[str]) -> None:
        self._lanes, self._names = lanes, word_lane_names
        self.update()

    def label(self, lane: Lane) -> str:
        if lane.kind is LaneKind.WORDS:
            return self._names[lane.index] if lane.index < len(self._names) else ""
        return {LaneKind.WAVE: "Waveform", LaneKind.CAPTIONS: "Captions"}.get(lane.kind, "")

    def labels(self) -> list[str]:
        return [self.label(lane) for lane in self._lanes]

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
            p.drawText(QRect(6, lane.top, self.width() - 12, lane.height),
                       int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)
