"""The slow parts of dictation, off the GUI thread: loading the engine, decoding, typing.

One worker thread runs jobs in the order they were given, so utterances are
decoded and inserted in the order they were spoken; partial (live) decodes run
on their own thread and are skipped while one is still running. Results go back
through `post`, which the controller connects to a queued Qt signal.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class SerialWorker:
    """Runs callables one after another on a daemon thread; exceptions are logged, never lost silently."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], Any]) -> None:
        self._jobs.put(job)

    def pending(self) -> int:
        """Jobs waiting behind the one running (approximate while others submit)."""
        return self._jobs.qsize()

    def stop(self, timeout: float = 5.0) -> None:
        self._jobs.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # the job reports its own errors; this is a bug net
                log.exception("dictation job failed")


class LatestOnly:
    """Runs a callable on a helper thread unless one is still running (live partials)."""

    def __init__(self) -> None:
        self._busy = threading.Lock()

    def try_run(self, job: Callable[[], Any]) -> bool:
        if not self._busy.acquire(blocking=False):
            return False

        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("partial decode failed")
            finally:
                self._busy.release()

        threading.Thread(target=run, name="hark-partial", daemon=True).start()
        return True
