"""The last line of defence: unhandled exceptions are logged and reported once, and Hark keeps running."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QThread, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QLabel

from app.system.crash import LOG_BACKUPS, LOG_MAX_BYTES, install_excepthook, setup_logging
from ui.main.crash_dialog import MESSAGE, CrashDialog

# pytest-qt would otherwise swap sys.excepthook around each phase and fail the test itself.
pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture(autouse=True)
def restore_hooks() -> Iterator[None]:
    saved = sys.excepthook, threading.excepthook
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    sys.excepthook, threading.excepthook = saved
    for h in root.handlers:
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


class Boom(QObject):
    fire = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.fire.connect(self.explode)

    @Slot()
    def explode(self) -> None:
        raise ValueError("boom in a slot")


class Reports:
    """show_dialog for the tests: remembers each report and the thread it came on."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.on_main_thread: list[bool] = []

    def __call__(self, text: str) -> None:
        self.texts.append(text)
        self.on_main_thread.append(threading.current_thread() is threading.main_thread())


def test_setup_logging_writes_a_rotating_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARK_LOG_DIR", str(tmp_path / "from-env"))
    path = setup_logging()
    assert path == tmp_path / "from-env" / "hark.log"
    logger = logging.getLogger("hark.test")
    monkeypatch.setattr(logger, "level", logging.INFO)  # an in-process `hark` command before may have quietened "hark"
    logger.info("hello log")
    assert "hello log" in path.read_text(encoding="utf-8")
    again = setup_logging(tmp_path / "argument")  # replaces the first, never logs twice
    ours = [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]
    assert len(ours) == 1 and (ours[0].maxBytes, ours[0].backupCount) == (LOG_MAX_BYTES, LOG_BACKUPS)
    assert again == tmp_path / "argument" / "hark.log" and LOG_MAX_BYTES == 1_000_000 and LOG_BACKUPS == 3


def test_exception_in_a_qt_slot_is_logged_and_reported(qtbot, tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path)
    reports = Reports()
    install_excepthook(reports)
    boom = Boom()
    QTimer.singleShot(0, boom.fire.emit)
    qtbot.waitUntil(lambda: bool(reports.texts), timeout=3000)

    report = reports.texts[0]
    assert "Traceback (most recent call last)" in report
    assert "in explode" in report and "ValueError: boom in a slot" in report
    for line in ("Hark ", "Python ", "Qt ", "OS: "):
        assert line in report
    assert reports.on_main_thread == [True]
    logged = log_file.read_text(encoding="utf-8")
    assert "unhandled exception" in logged and "ValueError: boom in a slot" in logged and "in explode" in logged

    ticks: list[int] = []  # the event loop still runs
    QTimer.singleShot(0, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: bool(ticks), timeout=3000)


def test_worker_thread_exception_reaches_the_gui_thread(qtbot, tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path)
    reports = Reports()
    install_excepthook(reports)

    def work() -> None:
        raise RuntimeError("worker failed")

    t = threading.Thread(target=work, name="hark-worker")
    t.start()
    t.join()
    qtbot.waitUntil(lambda: bool(reports.texts), timeout=3000)
    assert reports.on_main_thread == [True]
    assert "RuntimeError: worker failed" in reports.texts[0] and "Thread: hark-worker" in reports.texts[0]
    assert "RuntimeError: worker failed" in log_file.read_text(encoding="utf-8")


def test_qthread_exception_reaches_the_gui_thread(qtbot, tmp_path: Path) -> None:
    setup_logging(tmp_path)
    reports = Reports()
    install_excepthook(reports)

    class Worker(QThread):
        def run(self) -> None:
            raise KeyError("qthread failed")

    w = Worker()
    w.start()
    assert w.wait(3000)
    qtbot.waitUntil(lambda: bool(reports.texts), timeout=3000)
    assert reports.on_main_thread == [True] and "KeyError: 'qthread failed'" in reports.texts[0]


def test_a_storm_of_the_same_exception_shows_one_dialog(qtbot, tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path)
    reports = Reports()
    install_excepthook(reports)
    boom = Boom()
    for _ in range(20):
        QTimer.singleShot(0, boom.fire.emit)
    done: list[int] = []
    QTimer.singleShot(50, lambda: done.append(1))
    qtbot.waitUntil(lambda: bool(done), timeout=3000)
    qtbot.wait(20)
    assert len(reports.texts) == 1
    logged = log_file.read_text(encoding="utf-8")
    assert logged.count("Traceback") == 1 and "again (16 times)" in logged

    QTimer.singleShot(0, lambda: [][1])  # noqa: PLE0643 (the IndexError is the point)  # a different error still gets its own report
    qtbot.waitUntil(lambda: len(reports.texts) == 2, timeout=3000)
    assert "IndexError" in reports.texts[1]


def test_keyboard_interrupt_keeps_default_behaviour() -> None:
    seen: list[type[BaseException]] = []
    sys.excepthook = lambda t, e, tb: seen.append(t)
    reports = Reports()
    install_excepthook(reports)
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
    assert seen == [KeyboardInterrupt] and reports.texts == []


def test_a_failing_dialog_does_not_loop(qtbot, tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path)
    calls: list[str] = []

    def broken_dialog(text: str) -> None:
        calls.append(text)
        raise OSError("no display")

    install_excepthook(broken_dialog)
    boom = Boom()
    QTimer.singleShot(0, boom.explode)
    qtbot.waitUntil(lambda: bool(calls), timeout=3000)
    qtbot.wait(20)
    assert len(calls) == 1
    assert "could not show the crash report" in log_file.read_text(encoding="utf-8")


def test_report_opens_the_real_dialog(qtbot, tmp_path: Path) -> None:
    setup_logging(tmp_path)
    shown: list[CrashDialog] = []

    def show(text: str) -> None:
        dlg = CrashDialog(text, log_dir=tmp_path)
        qtbot.addWidget(dlg)
        dlg.show()
        shown.append(dlg)

    install_excepthook(show)
    boom = Boom()
    QTimer.singleShot(0, boom.fire.emit)
    qtbot.waitUntil(lambda: bool(shown), timeout=3000)
    dlg = shown[0]
    assert dlg.isVisible() and "boom in a slot" in dlg.report_view.toPlainText()
    assert dlg.report_view.isReadOnly() and not dlg.report_view.isVisible()  # details start collapsed


# --- the dialog on its own -----------------------------------------------------------
def test_crash_dialog_copy_details_and_log_folder(qtbot, tmp_path: Path) -> None:
    report = "Hark 0.1.0\n\nTraceback (most recent call last):\nValueError: boom\n"
    dlg = CrashDialog(report, log_dir=tmp_path)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert any(lbl.text() == MESSAGE for lbl in dlg.findChildren(QLabel))

    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dlg.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == report

    qtbot.mouseClick(dlg.details_button, Qt.MouseButton.LeftButton)
    assert dlg.report_view.isVisible() and dlg.report_view.toPlainText() == report
    qtbot.mouseClick(dlg.details_button, Qt.MouseButton.LeftButton)
    assert not dlg.report_view.isVisible()

    class Opener(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[QUrl] = []

        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            self.urls.append(url)

    opener = Opener()
    QDesktopServices.setUrlHandler("file", opener, "open")  # type: ignore[arg-type]  # PySide6 takes str; stubs say bytes
    try:
        qtbot.mouseClick(dlg.open_log_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [Path(u.toLocalFile()) for u in opener.urls] == [tmp_path]

    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()


def test_crash_dialog_without_log_folder(qtbot) -> None:
    dlg = CrashDialog("report")
    qtbot.addWidget(dlg)
    assert not dlg.open_log_button.isEnabled()
    for w in (dlg.copy_button, dlg.open_log_button, dlg.close_button, dlg.details_button, dlg.report_view):
        assert w.toolTip()
