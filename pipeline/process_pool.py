"""Stopping a child-process pool now, not after the task it runs.

`ProcessPoolExecutor.shutdown()` lets a running task finish, whether or not it waits for it, and
Python's exit joins every pool as well: a PocketSphinx decode or alignment window in flight kept a
quitting app alive for seconds. The engines and aligners that own a pool call `stop_now` when closed:
by then whatever still runs there was cancelled, or nobody is left to read its result.
"""

from __future__ import annotations

import concurrent.futures


def stop_now(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """End `pool`'s workers (SIGTERM) and shut it down; a future still pending fails with BrokenProcessPool."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    # Before 3.14: the worker processes are only reachable through this private dict (stable since 3.8).
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)  # quick now: the manager thread sees the workers gone


def exit_with_parent() -> None:
    """In a pool's child process: exit as soon as the process that started it is gone.

    A pool worker waits for work on a queue whose write end it holds itself, so when Hark is killed
    (kill -9, a crash, the OOM killer) nothing ever wakes it: each kill left the aligner's worker (~140 MB)
    and multiprocessing's resource tracker running for good. Call it first in the pool's initializer.
    The parent's sentinel (a pipe that closes when the parent dies) wakes a watcher thread at once.
    """
    import multiprocessing
    import multiprocessing.connection
    import os
    import threading

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:  # not a multiprocessing child
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="hark-parent-watch", daemon=True).start()
