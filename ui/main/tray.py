"""A tray icon that shows what Hark is doing and brings the window back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget


class TrayIcon(QSystemTrayIcon):
    dictation_toggle_requested = Signal()
    dictation_history_requested = Signal()

    def __init__(self, icon: QIcon, window: QWidget) -> None:
        super().__init__(icon, window)
        self.window = window
        menu = QMenu(window)
        menu.addAction("Show Hark", self._show)
        menu.addSeparator()
        menu.addAction("Start/Stop Dictation", self.dictation_toggle_requested.emit)
        menu.addAction("Dictation History…", self.dictation_history_requested.emit)
        menu.addSeparator()
        menu.addAction("Quit", window.close)
        self.setContextMenu(menu)
        self.activated.connect(
            lambda reason: self._show() if reason == QSystemTrayIcon.ActivationReason.Trigger else None
        )
        self.text = "Hark"
        self.setToolTip(self.text)

    def set_activity(self, text: str, busy: bool) -> None:
        self.text = f"Hark — {text}" if text else "Hark"
        self.setToolTip(self.text)

    def _show(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
