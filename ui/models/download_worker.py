"""Model downloads off the GUI thread, reported back to it through queued Qt signals.

ModelStore.download blocks (network, disk, sha256), so each download runs in a
plain daemon thread; the thread only emits signals, and everything the widgets
see arrives on the GUI thread. Progress is throttled to ~10 updates a second.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from audio.errors import Cancelled
from pipeline.errors import ModelError
from pipeline.models.catalog import CatalogModel
from pipeline.models.store import ModelStore

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.1  # at most ~10 progress updates a second reach the GUI
_SPEED_WINDOW_S = 3.0  # speed is averaged over this much recent time, so it follows changes


# --- formatting --------------------------------------------------------------------------------
def human_size(n: float) -> str:
    """74 MiB, 2.2 MiB, 1.4 GiB: binary units, like the catalog's published sizes."""
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    if n >= 10 * 2**20:
        return f"{n / 2**20:.0f} MiB"
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 2**10:
        return f"{n / 2**10:.0f} KiB"
    return f"{int(n)} B"


def human_duration(seconds: float) -> str:
    """0:12, 4:05, 1:02:03."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def short_reason(message: str) -> str:
    """The first sentence of an error, without the "cannot download NAME:" prefix a row already says."""
    text = " ".join(message.split())
    text = re.sub(r"^cannot download \S+: ", "", text)
    first, sep, _ = text.partition(". ")
    return first if sep else text.rstrip(".")


@dataclass(frozen=True)
class Progress:
    done: int  # bytes on disk, including a resumed part
    total: int
    speed: float | None = None  # bytes/s, None until it can be measured

    @property
    def percent(self) -> int:
        # floor: 100% only when every byte is there
        return min(100, self.done * 100 // self.total) if self.total > 0 else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.speed if self.speed else None

    def rate(self) -> str:
        """ "3.1 MiB/s · 0:12 left", "" until measured; after the last byte, the checksum is being verified."""
        if self.complete:
            return "Verifying checksum…"
        return f"{human_size(self.speed)}/s · {human_duration(self.eta_s or 0)} left" if self.speed else ""

    def describe(self) -> str:
        """ "42% · 3.1 MiB/s · 0:12 left", or "Verifying checksum…" after the last byte."""
        if self.complete:
            return self.rate()
        return " · ".join(p for p in (f"{self.percent}%", self.rate()) if p)


# --- one download ------------------------------------------------------------------------------
class DownloadWorker(QObject):
    """Downloads one catalog entry in a daemon thread. Signals are emitted from that thread:
    connect them queued (Downloads does)."""

    progressed = Signal(str, object)  # name, Progress
    succeeded = Signal(str, str)  # name, installed path
    failed = Signal(str, str)  # name, the error message (one line)
    cancelled = Signal(str, object)  # name, the last Progress or None

    def __init__(self, store: ModelStore, entry: CatalogModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.entry = entry
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"download-{entry.name}", daemon=True)
        self._samples: deque[tuple[float, int]] = deque()
        self._last_emit = 0.0
        self._last: Progress | None = None

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (or timeout); True if it has ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- in the download thread -------------------------------------------------------------
    def _run(self) -> None:
        name = self.entry.name
        try:
            path = self.store.download(self.entry, progress=self._on_bytes, cancel=self._cancel)
        except Cancelled:
            self.cancelled.emit(name, self._last)
        except ModelError as e:
            self.failed.emit(name, str(e))
        except OSError as e:  # e.g. the rename or the checksum read failed
            self.failed.emit(name, f"cannot write {self.entry.filename}: {e.strerror or e}")
        except Exception as e:  # a bug must fail this row, never the app
            log.exception("download of %s failed", name)
            self.failed.emit(name, f"unexpected error: {type(e).__name__}: {e}")
        else:
            self.succeeded.emit(name, str(path))

    def _on_bytes(self, done: int, total: int) -> None:
        now = time.monotonic()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > _SPEED_WINDOW_S:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        speed = (done - d0) / (now - t0) if now - t0 > 0.05 and done > d0 else None
        self._last = Progress(done, total, speed)
        if now - self._last_emit >= MIN_INTERVAL_S or done >= total:
            self._last_emit = now
            self.progressed.emit(self.entry.name, self._last)


# --- the downloads of one window ---------------------------------------------------------------
class Downloads(QObject):
    """At most one download per model; every signal here arrives on the GUI thread."""

    progressed = Signal(str, object)  # name, Progress
    succeeded = Signal(str, str)  # name, path
    failed = Signal(str, str)  # name, message
    cancelled = Signal(str, object)  # name, last Progress or None (the .part is kept: it resumes)
    all_stopped = Signal()  # the last running download ended, however it ended

    def __init__(self, store: ModelStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._workers: dict[str, DownloadWorker] = {}
        # Ended workers whose thread may still be unwinding: the last reference to a QObject
        # must not be dropped in that thread (Qt would delete it outside its own thread).
        self._retired: list[DownloadWorker] = []

    def running(self) -> list[str]:
        """Names with a download that has not reported its end yet (cancelling ones included)."""
        return list(self._workers)

    def is_running(self, name: str) -> bool:
        return name in self._workers

    def start(self, entry: CatalogModel) -> bool:
        if entry.name in self._workers:
            return False
        worker = DownloadWorker(self.store, entry)
        queued = Qt.ConnectionType.QueuedConnection
        worker.progressed.connect(self._on_progress, queued)
        worker.succeeded.connect(self._on_succeeded, queued)
        worker.failed.connect(self._on_failed, queued)
        worker.cancelled.connect(self._on_cancelled, queued)
        self._workers[entry.name] = worker
        worker.start()
        return True

    def cancel(self, name: str) -> None:
        worker = self._workers.get(name)
        if worker is not None:
            worker.cancel()

    def cancel_all(self) -> None:
        for worker in self._workers.values():
            worker.cancel()

    def wait_all(self, timeout: float) -> bool:
        """Block until every thread has ended; for quitting, when no event loop will run again."""
        deadline = time.monotonic() + timeout
        return all(w.wait(max(0.0, deadline - time.monotonic())) for w in list(self._workers.values()))

    # --- on the GUI thread --------------------------------------------------------------------
    def _on_progress(self, name: str, progress: Progress) -> None:
        if name in self._workers:
            self.progressed.emit(name, progress)

    def _end(self, name: str) -> bool:
        worker = self._workers.pop(name, None)
        self._retired = [w for w in self._retired if w.is_alive()]
        if worker is not None:
            self._retired.append(worker)
        return worker is not None

    def _on_succeeded(self, name: str, path: str) -> None:
        if self._end(name):
            self.succeeded.emit(name, path)
            self._maybe_all_stopped()

    def _on_failed(self, name: str, message: str) -> None:
        if self._end(name):
            self.failed.emit(name, message)
            self._maybe_all_stopped()

    def _on_cancelled(self, name: str, last: Progress | None) -> None:
        if self._end(name):
            self.cancelled.emit(name, last)
            self._maybe_all_stopped()

    def _maybe_all_stopped(self) -> None:
        if not self._workers:
            self.all_stopped.emit()


def ask_to_stop(parent: QWidget, names: list[str]) -> bool:
    """Closing while downloading: stop them (the part fetched is kept and resumes)?"""
    what = names[0] if len(names) == 1 else f"{len(names)} models ({', '.join(names)})"
    answer = QMessageBox.question(
        parent,
        "Stop downloading?",
        f"Hark is downloading {what}.\nClose and stop the download? "
        "What was fetched so far is kept, and the next download resumes from there.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


__all__ = ["DownloadWorker", "Downloads", "Progress", "ask_to_stop", "human_duration", "human_size", "short_reason"]
