"""The dictation overlay: a small always-on-top strip that never takes focus.

It says what dictation is doing (listening with a level meter and the words so
far, transcribing, inserted, error) near the bottom of the screen, while the
user's own window keeps the keyboard focus, so the text lands where they were typing.
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

LEVEL_FLOOR_DB = -60.0  # the meter's empty end


class OverlayState(str, Enum):
    HIDDEN = "hidden"
    LISTENING = "listening"
    TRANSCRIBING = "transcribing"
    INSERTED = "inserted"
    ERROR = "error"


class LevelMeter(QWidget):
    """A thin bar that follows the microphone level (dBFS)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = 0.0  # 0..1
        self.setFixedSize(60, 8)
        self.setAccessibleName("Microphone level")

    def set_db(self, db: float) -> None:
        level = min(1.0, max(0.0, (db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB))
        if abs(level - self.level) > 0.01:
            self.level = level
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Mid))
        fill = QRect(0, 0, round(self.width() * self.level), self.height())
        p.fillRect(fill, pal.color(QPalette.ColorRole.Highlight))


class DictationOverlay(QWidget):
    """Shown while dictating; `set_state` drives it. It never activates or takes focus."""

    HIDE_AFTER_MS: ClassVar[dict[OverlayState, int]] = {OverlayState.INSERTED: 1200, OverlayState.ERROR: 5000}

    def __init__(self) -> None:
        flags = (
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
            | Qt.WindowType.X11BypassWindowManagerHint
        )
        super().__init__(None, flags)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Dictation status")
        self.setAutoFillBackground(True)
        self.state = OverlayState.HIDDEN
        self.dot = QLabel("●", self)
        self.meter = LevelMeter(self)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setMinimumWidth(220)
        self.label.setMaximumWidth(520)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 14, 8)
        lay.setSpacing(8)
        lay.addWidget(self.dot)
        lay.addWidget(self.meter)
        lay.addWidget(self.label, 1)
        self._hide_timer = QTimer(self, singleShot=True)
        self._hide_timer.timeout.connect(self._auto_hide)

    # --- what the controller calls ----------------------------------------------------------------
    def set_state(self, state: OverlayState, text: str = "") -> None:
        self.state = state
        self._hide_timer.stop()
        if state is OverlayState.HIDDEN:
            self.hide()
            return
        colours = {
            OverlayState.LISTENING: QColor("#d93025"),
            OverlayState.TRANSCRIBING: QColor("#f29900"),
            OverlayState.INSERTED: QColor("#188038"),
            OverlayState.ERROR: QColor("#d93025"),
        }
        self.dot.setStyleSheet(f"color: {colours[state].name()}")
        self.meter.setVisible(state is OverlayState.LISTENING)
        default = {
            OverlayState.LISTENING: "Listening…",
            OverlayState.TRANSCRIBING: "Transcribing…",
            OverlayState.INSERTED: "Inserted",
            OverlayState.ERROR: "Dictation failed",
        }[state]
        self.label.setText(self._elide(text or default))
        self.label.setToolTip(text)
        self.adjustSize()
        self._place()
        if not self.isVisible():
            self.show()  # WA_ShowWithoutActivating: the user's window keeps the focus
        if state in self.HIDE_AFTER_MS:
            self._hide_timer.start(self.HIDE_AFTER_MS[state])

    def set_partial(self, text: str) -> None:
        if self.state is OverlayState.LISTENING and text:
            self.label.setText(self._elide(text, keep_end=True))  # the newest words matter most
            self.adjustSize()
            self._place()

    def set_level(self, db: float) -> None:
        self.meter.set_db(db)

    # --- helpers ----------------------------------------------------------------------------------
    def _elide(self, text: str, keep_end: bool = False) -> str:
        mode = Qt.TextElideMode.ElideLeft if keep_end else Qt.TextElideMode.ElideRight
        return self.label.fontMetrics().elidedText(" ".join(text.split()), mode, self.label.maximumWidth())

    def _place(self) -> None:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        self.move(area.center().x() - self.width() // 2, area.bottom() - self.height() - 48)

    def _auto_hide(self) -> None:
        self.state = OverlayState.HIDDEN
        self.hide()
