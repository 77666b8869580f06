"""Model imports off the GUI thread, for the Models dialog and the first-run dialog.

An import (``pipeline.models.model_import``) reads and writes tens to hundreds
of MiB, so it runs in a daemon thread. That thread touches no Qt object at all:
it writes its progress and outcome into a plain ``ImportJob``, and a timer on
the GUI thread reads them. A window closed, or even deleted, during an import
therefore cannot be reached by it; the timer dies with the window.

Cancel always leaves nothing: if the import finished in the moment before the
cancel reached it, the finished model is removed again.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from audio.errors import Cancelled, HarkError, MediaError
from pipeline.models.ggml_writer import ProgressFn
from pipeline.models.imported import remove_imported
from pipeline.models.model_import import ImportResult

log = logging.getLogger(__name__)
POLL_MS = 50
# What runs in the thread: it reports progress, honours the cancel and returns the import.
ImportWork = Callable[[ProgressFn, threading.Event], ImportResult]


def import_error_text(e: BaseException) -> str:
    """One sentence for the dialog, worded for the app (the importer's are written for the terminal too)."""
    if isinstance(e, MediaError):
        text = f"{e.reason} at {e.path}"
    elif isinstance(e, HarkError):
        text = " ".join(str(e).split())
        text = re.sub(
            r"; choose another --name, or remove it first: hark models remove (\S+)", r"; remove \1 first", text
        )
        text = text.replace("choose another --name", "remove it first")
    else:
        text = f"unexpected error ({type(e).__name__}; details in the log)"
    text = text.rstrip(". ")
    return f"Could not import the model: {text}."


@dataclass(frozen=True)
class Outcome:
    result: ImportResult | None = None  # the import, when it succeeded
    error: str = ""  # a sentence, when it failed
    cancelled: bool = False


class ImportJob:
    """One import in a daemon thread. Its state is read by polling; it never calls back."""

    def __init__(self, work: ImportWork) -> None:
        self._work = work
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._progress: tuple[int, int] | None = None
        self._outcome: Outcome | None = None
        self._thread = threading.Thread(target=self._run, name="hark-import", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def progress(self) -> tuple[int, int] | None:
        with self._lock:
            return self._progress

    def outcome(self) -> Outcome | None:
        """The result once the thread has ended (None while it runs)."""
        if self._thread.is_alive():
            return None
        with self._lock:
            return self._outcome

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- in the import thread ---------------------------------------------------------------
    def _on_bytes(self, done: int, total: int) -> None:
        with self._lock:
            self._progress = (done, total)

    def _run(self) -> None:
        try:
            outcome = Outcome(result=self._work(self._on_bytes, self._cancel))
        except Cancelled:
            outcome = Outcome(cancelled=True)
        except HarkError as e:
            outcome = Outcome(error=import_error_text(e))
        except OSError as e:  # e.g. a source that cannot be read
            outcome = Outcome(
                error=import_error_text(HarkError(f"{e.strerror or e}{f' ({e.filename})' if e.filename else ''}"))
            )
        except Exception as e:  # a bug fails this import, never the app
            log.exception("model import failed")
            outcome = Outcome(error=import_error_text(e))
        with self._lock:
            self._outcome = outcome


class Importer(QObject):
    """Runs one import at a time and reports on the GUI thread."""

    progressed = Signal(int, int)  # bytes written, bytes in all
    succeeded = Signal(object)  # ImportResult
    failed = Signal(str)  # one sentence
    cancelled = Signal()
    stopped = Signal()  # after any of the three

    def __init__(self, root: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root = root
        self._job: ImportJob | None = None
        self._shown: tuple[int, int] | None = None
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._poll)

    def running(self) -> bool:
        return self._job is not None

    def import_path(self, path: str, quantize: str | None = None) -> bool:
        from pipeline.models.model_import import import_model

        return self.start(
            lambda progress, cancel: import_model(path, self.root, quantize=quantize, progress=progress, cancel=cancel)
        )

    def import_bundled(self) -> bool:
        from pipeline.models.bundled import ensure_bundled

        def work(progress: ProgressFn, cancel: threading.Event) -> ImportResult:
            result = ensure_bundled(self.root, progress=progress, cancel=cancel)
            if result is None:
                raise HarkError("the built-in model is not installed with this copy of Hark")
            return result

        return self.start(work)

    def start(self, work: ImportWork) -> bool:
        if self._job is not None:
            return False
        self._job, self._shown = ImportJob(work), None
        self._job.start()
        self._timer.start()
        return True

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def wait(self, timeout: float) -> bool:
        """Block until the thread has ended; for quitting, when no event loop will run again."""
        return self._job is None or self._job.wait(timeout)

    def _poll(self) -> None:
        job = self._job
        if job is None:
            self._timer.stop()
            return
        progress = job.progress()
        if progress is not None and progress != self._shown:  # the last bytes are shown before the end
            self._shown = progress
            self.progressed.emit(*progress)
        outcome = job.outcome()
        if outcome is None:
            return
        self._timer.stop()
        self._job = None
        result = outcome.result
        if result is not None and job.cancel_requested:
            if not result.reused:  # finished just before the cancel got there: the user asked for nothing
                remove_imported(self.root, result.model.name)
            self.cancelled.emit()
        elif result is not None:
            self.succeeded.emit(result)
        elif outcome.cancelled:
            self.cancelled.emit()
        else:
            self.failed.emit(outcome.error)
        self.stopped.emit()


__all__ = ["ImportJob", "Importer", "Outcome", "import_error_text"]
