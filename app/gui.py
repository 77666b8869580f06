"""Start the desktop app: one instance per user, crash-proof, with the files given queued."""
from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
log = logging.getLogger(__name__)


def main(files: list[str] | None = None) -> int:
    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from app.crash import install_excepthook, setup_logging
    from app.single_instance import InstanceServer, hand_off

    files = [str(Path(f).expanduser().resolve()) for f in (files or [])]
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                                 or os.environ.get("QT_QPA_PLATFORM")):
        print("hark: no display to open the window on; run it in a desktop session, or under a virtual one: "
              "xvfb-run -a hark   (the command line works anywhere: hark --help)", file=sys.stderr)
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

    from app.controller import Controller
    from app.settings import default_qsettings, load_settings
    from pipeline.models.store import ModelStore
    from ui.crash_dialog import CrashDialog
    from ui.tray import TrayIcon

    icon = QIcon(str(RESOURCES / "hark.svg"))
    app.setWindowIcon(icon)
    qsettings = default_qsettings()
    controller = Controller(load_settings(qsettings), ModelStore(), qsettings, icon)
    window = controller.window
    install_excepthook(lambda report: CrashDialog(report, window, log_dir=log_file.parent).exec())

    server = InstanceServer(parent=controller)
    server.files_received.connect(lambda fs: (controller.add_paths(fs) if fs else None, _raise(window)))
    server.command_received.connect(controller.command)
    server.listen()
    if QSystemTrayIcon.isSystemTrayAvailable():
        controller.tray = TrayIcon(icon, window)
        controller.tray.dictation_toggle_requested.connect(lambda: controller.command("dictate-toggle"))
        controller.tray.dictation_history_requested.connect(controller.show_dictation_history)
        controller.tray.show()

    # Ctrl+C in the terminal or a polite kill: quit the way the Quit menu does (queue saved).
    # Python runs signal handlers only between bytecodes, so a timer wakes it regularly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: (controller.shutdown() if not controller._quitting else None, app.quit()))
    wake = QTimer(controller, interval=250)
    wake.timeout.connect(lambda: None)
    wake.start()

    window.show()
    controller.maybe_first_run()
    controller.start_dictation()
    if files:
        controller.add_paths(files)
    app.aboutToQuit.connect(lambda: controller.shutdown() if not controller._quitting else None)
    rc = app.exec()
    server.close()
    return rc


def _raise(window) -> None:  # type: ignore[no-untyped-def]
    window.showNormal()
    window.raise_()
    window.activateWindow()
