"""Logging to a file, and the last line of defence against unhandled exceptions.

An exception nobody caught (in a Qt slot, which PySide6 hands to
sys.excepthook, or on a worker thread) is logged with its traceback and shown
to the user once as a report; the app keeps running.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

import platformdirs
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot, qVersion

log = logging.getLogger("hark.crash")

LOG_FILE_NAME = "hark.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def default_log_dir() -> Path:
    env = os.environ.get("HARK_LOG_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_log_dir("hark", appauthor=False))


class _HarkFileHandler(RotatingFileHandler):
    """Ours, so that setting up logging twice replaces it rather than logging every line twice."""


def setup_logging(log_dir: Path | None = None) -> Path:
    """Log INFO and above to a rotating file (1 MB x 3); returns the file's path."""
    folder = Path(log_dir) if log_dir is not None else default_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE_NAME
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _HarkFileHandler)]:
        root.removeHandler(h)
        h.close()
    handler = _HarkFileHandler(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return path


def hark_version() -> str:
    try:
        return importlib.metadata.version("hark")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_report(exc: ExcInfo, thread_name: str) -> str:
    """The text a user can send: versions first, then the traceback."""
    header = [
        f"Hark {hark_version()}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"Qt {qVersion()} (PySide6 {pyside_version})",
        f"OS: {platform.platform()}",
        f"Thread: {thread_name}",
        f"Time: {datetime.now().astimezone().isoformat(timespec='seconds')}",
    ]
    return "\n".join(header) + "\n\n" + "".join(traceback.format_exception(*exc)).rstrip() + "\n"


def _signature(exc: ExcInfo) -> tuple[object, ...]:
    """What makes two exceptions "the same": type and where it was raised, not the message
    (messages often carry changing values, e.g. an index)."""
    frames = tuple((f.filename, f.lineno, f.name) for f in traceback.extract_tb(exc[2]))
    return (exc[0].__module__, exc[0].__qualname__, frames)


class _CrashHandler(QObject):
    """Lives on the GUI thread; the queued signal brings reports there from any thread."""

    report = Signal(str)

    def __init__(self, show_dialog: Callable[[str], None]) -> None:
        super().__init__()
        self._show_dialog = show_dialog
        self._lock = threading.Lock()
        self._seen: dict[tuple[object, ...], int] = {}
        self._pending: list[str] = []
        self._showing = False
        # Queued even on the GUI thread: the dialog opens after the failing slot has
        # unwound, never inside the hook.
        self.report.connect(self._on_report, Qt.ConnectionType.QueuedConnection)

    def handle(self, exc: ExcInfo, thread_name: str) -> None:
        key = _signature(exc)
        with self._lock:
            count = self._seen.get(key, 0) + 1
            self._seen[key] = count
        if count > 1:
            # A storm (e.g. in a paint event): a line now and then, not a traceback each time.
            if count & (count - 1) == 0:
                log.error("the same unhandled %s again (%d times): %s", exc[0].__name__, count, exc[1])
            return
        log.error("unhandled exception on thread %s", thread_name, exc_info=exc)
        self.report.emit(build_report(exc, thread_name))

    @Slot(str)
    def _on_report(self, text: str) -> None:
        self._pending.append(text)
        if self._showing:  # a modal dialog is open; the next one follows when it closes
            return
        self._showing = True
        try:
            while self._pending:
                report = self._pending.pop(0)
                try:
                    self._show_dialog(report)
                except Exception:
                    log.exception("could not show the crash report")
                    if sys.__stderr__ is not None:
                        sys.__stderr__.write(report)
        finally:
            self._showing = False


_handler: _CrashHandler | None = None


def install_excepthook(show_dialog: Callable[[str], None]) -> None:
    """Route unhandled exceptions (GUI and worker threads) to the log and `show_dialog`.

    Call on the GUI thread, after the QApplication exists. KeyboardInterrupt and
    SystemExit keep their usual behaviour.
    """
    global _handler
    handler = _CrashHandler(show_dialog)
    app = QCoreApplication.instance()
    if app is not None:
        handler.moveToThread(app.thread())
    _handler = handler
    previous_sys = sys.excepthook
    previous_threading = threading.excepthook

    def sys_hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, (KeyboardInterrupt, SystemExit)):
            previous_sys(exc_type, exc, tb)
            return
        handler.handle((exc_type, exc, tb), threading.current_thread().name)

    def threading_hook(args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, (KeyboardInterrupt, SystemExit)) or args.exc_value is None:
            previous_threading(args)
            return
        name = args.thread.name if args.thread is not None else threading.current_thread().name
        handler.handle((args.exc_type, args.exc_value, args.exc_traceback), name)

    sys.excepthook = sys_hook
    threading.excepthook = threading_hook
