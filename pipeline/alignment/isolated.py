"""Any aligner, run in a child process.

PocketSphinx holds Python's lock for a whole decode (50-90 ms per window, measured), which stalls
a GUI in the same process and serialises alignment with everything else Python does meanwhile
(the VAD of the next chunk, progress, file reading). In a child process it runs truly beside the
recogniser. The child is started once (spawn: no fork of a process running Qt and threads) and
kept; a cancel is noticed within 0.1 s while waiting (the child finishes its window and idles).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading
from collections.abc import Callable, Sequence

import numpy as np

from audio.errors import Cancelled
from pipeline.alignment.types import AlignedTime, Aligner, WordSpan
from pipeline.errors import EngineError
from pipeline.process_pool import exit_with_parent, stop_now

_worker: Aligner | None = None  # in the child: built once by _init


def _init(factory: Callable[[], Aligner]) -> None:
    global _worker
    exit_with_parent()  # a Hark killed with -9 must not leave its aligner running
    _worker = factory()


def _align(samples: np.ndarray, words: list[WordSpan]) -> list[AlignedTime | None]:
    assert _worker is not None
    return _worker.align(samples, words)


class IsolatedAligner:
    def __init__(
        self, factory: Callable[[], Aligner], name: str, version: str, supports: Callable[[str | None], bool]
    ) -> None:
        """factory: a picklable callable (a class or module-level function) that builds the aligner."""
        self.name, self.version, self._supports = name, version, supports
        ctx = multiprocessing.get_context("spawn")
        self._pool: concurrent.futures.ProcessPoolExecutor | None = concurrent.futures.ProcessPoolExecutor(
            1, mp_context=ctx, initializer=_init, initargs=(factory,)
        )
        self._lock = threading.Lock()

    def supports(self, language: str | None) -> bool:
        return self._supports(language)

    def align(
        self, samples: np.ndarray, words: Sequence[WordSpan], *, cancel: threading.Event | None = None
    ) -> list[AlignedTime | None]:
        with self._lock:
            if self._pool is None:
                raise EngineError("the aligner was closed")
            future = self._pool.submit(_align, np.ascontiguousarray(samples, dtype=np.float32), list(words))
        try:
            while True:
                try:
                    return future.result(timeout=0.1)
                except concurrent.futures.TimeoutError:
                    if cancel is not None and cancel.is_set():
                        future.cancel()
                        raise Cancelled() from None
        except concurrent.futures.process.BrokenProcessPool as e:
            with self._lock:
                self._pool = None
            raise EngineError("the aligner's worker process stopped unexpectedly") from e

    def close(self) -> None:
        """Stops the child at once: an `align` still waiting fails with EngineError (its caller was cancelled
        or closed; Python's exit would otherwise wait for the window being aligned)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            stop_now(pool)
