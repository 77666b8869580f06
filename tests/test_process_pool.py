"""Closing a child-process pool does not wait for the task running in it."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time

import pytest

from pipeline.process_pool import stop_now


def test_stop_now_ends_a_busy_worker_at_once() -> None:
    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    assert pool.submit(int, "1").result(timeout=60) == 1  # the worker is up
    busy = pool.submit(time.sleep, 30)  # a decode that nobody waits for any more
    while not busy.running():
        time.sleep(0.01)
    time.sleep(0.2)  # in the worker now
    procs = list(pool._processes.values())
    t0 = time.monotonic()
    stop_now(pool)
    assert time.monotonic() - t0 < 5 and not any(p.is_alive() for p in procs)
    with pytest.raises(concurrent.futures.process.BrokenProcessPool):
        busy.result(timeout=5)  # failed, never left waiting


def test_the_isolated_engine_closes_without_finishing_a_cancelled_decode() -> None:
    import threading

    import numpy as np

    from audio.decode import decode_audio
    from audio.errors import Cancelled
    from pipeline.engines.base import TranscribeOptions
    from pipeline.engines.sphinx import SphinxEngine
    from tests.conftest import JFK_WAV

    samples = np.tile(decode_audio(JFK_WAV).samples, 6)  # ~66 s of speech: seconds of decoding in the child
    engine = SphinxEngine(isolate=True)
    cancel, errors = threading.Event(), []

    def run() -> None:
        try:
            engine.transcribe(samples, TranscribeOptions(), cancel=cancel)
        except Cancelled as e:
            errors.append(e)

    th = threading.Thread(target=run)
    th.start()
    procs: list = []
    deadline = time.monotonic() + 60
    while not procs and time.monotonic() < deadline:  # the child exists once the first chunk is handed over
        procs = list((engine._pool._processes or {}).values()) if engine._pool is not None else []
        time.sleep(0.05)
    time.sleep(0.5)  # into the decode
    cancel.set()
    th.join(10)
    assert errors and not th.is_alive()
    t0 = time.monotonic()
    engine.close()
    assert time.monotonic() - t0 < 1.5 and procs and not any(p.is_alive() for p in procs)
