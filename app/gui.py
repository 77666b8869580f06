"""Start the desktop app: one instance per user, crash-proof, with the files given queued."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QWidget

    from app.controllers.controller import Controller

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
log = logging.getLogger(__name__)
WAKE_MS = 200  # how soon a signal is seen while Qt waits for events


def main(files: list[str] | None = None) -> int:
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from app.system.crash import install_excepthook, setup_logging
    from app.system.single_instance import InstanceServer, hand_off

    files = [str(Path(f).expanduser().resolve()) for f in (files or [])]
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")
    ):
        print(
            "hark: no display to open the window on; run it in a desktop session, or under a virtual one: "
            "xvfb-run -a hark   (the command line works anywhere: hark --help)",
            file=sys.stderr,
        )
        return 1
    QCoreApplication.setOrganizationName("Hark")
    QCoreApplication.setApplicationName("Hark")
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QGuiApplication.setDesktopFileName("hark")  # the .desktop entry: taskbar icon and grouping

    if hand_off(files):
        print("hark: already running; the files were handed to its window", file=sys.stderr)
        return 0
    log_file = setup_logging()
    log.info("Hark starting; log at %s", log_file)
    on_signal = QuitOnSignal(app)  # before anything can open a dialog

    from app.controllers.controller import Controller
    from app.settings import default_qsettings, load_settings
    from pipeline.models.store import ModelStore
    from ui.main.crash_dialog import CrashDialog
    from ui.main.tray import TrayIcon

    icon = QIcon(str(RESOURCES / "hark.svg"))
    QGuiApplication.setWindowIcon(icon)  # a static function (`app` may be a QCoreApplication to mypy)
    qsettings = default_qsettings()
    controller = Controller(load_settings(qsettings), ModelStore(), qsettings, icon)
    on_signal.controller = controller
    window = controller.window

    def show_crash(report: str) -> None:
        CrashDialog(report, window, log_dir=log_file.parent).exec()

    install_excepthook(show_crash)

    server = InstanceServer(parent=controller)

    def files_received(fs: list[str]) -> None:
        if fs:
            controller.add_paths(fs)
        _raise(window)

    server.files_received.connect(files_received)
    server.command_received.connect(controller.command)
    server.listen()
    if QSystemTrayIcon.isSystemTrayAvailable():
        controller.tray = TrayIcon(icon, window)
        controller.tray.dictation_toggle_requested.connect(lambda: controller.command("dictate-toggle"))
        controller.tray.dictation_history_requested.connect(controller.show_dictation_history)
        controller.tray.show()

    window.show()
    controller.maybe_first_run()
    rc = 0
    if not on_signal.requested:
        controller.start_dictation()
        if files:
            controller.add_paths(files)
        app.aboutToQuit.connect(lambda: controller.shutdown() if not controller._quitting else None)
        QTimer.singleShot(0, lambda: log.info("main window ready"))  # the first thing the main loop does
        rc = app.exec()
    if on_signal.requested:  # also when it came before the main loop started: nothing else quits then
        on_signal.quit()
        rc = 0
    server.close()
    return rc


class QuitOnSignal:
    """SIGTERM (a polite kill) or SIGINT (Ctrl+C in the terminal): save and quit, as the Quit menu does, from
    whatever event loop runs then, a modal dialog's included, and before the main loop has started (the
    first-run dialog runs then).

    app.quit() cannot do that: Qt 6 ignores it before app.exec(), which would then start the main loop anyway,
    and a dialog's exec() would go on. QCoreApplication.exit() ends every running loop, nested ones included,
    and makes a loop started after it return at once."""

    def __init__(self, app: QCoreApplication) -> None:
        from PySide6.QtCore import QTimer

        self.app = app
        self.controller: Controller | None = None  # set once there is something to save
        self.requested = False
        self._done = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        # Python runs signal handlers between bytecodes only: while Qt waits for events, a timer wakes it.
        # A QTimer fires in nested loops (a modal dialog's) too.
        self._wake = QTimer(app, interval=WAKE_MS)
        self._wake.timeout.connect(lambda: None)
        self._wake.start()

    def _on_signal(self, _signum: int, _frame: object) -> None:
        from PySide6.QtCore import QTimer

        self.requested = True
        # From the event loop, not midway through the Python code the signal interrupted.
        QTimer.singleShot(0, self.quit)

    def quit(self) -> None:
        from PySide6.QtWidgets import QApplication, QDialog

        if self._done:
            return
        self._done = True
        log.info("quitting on a signal")
        c = self.controller
        if c is not None and not c._quitting:
            c.shutdown()  # the queue, open projects and settings are on disk before anything closes
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QDialog) and w.isVisible():
                # Qt's own done(), not the dialog's: no "stop the download?" question now.
                QDialog.done(w, QDialog.DialogCode.Rejected)
        self.app.exit(0)


def _raise(window: QWidget) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()
