"""What the `hark` subcommands share: exit codes, argument types, progress bars and cancellable work.

app.cli.main dispatches to the app.cli_* modules; they import these from here, never from app.cli.main, so
that no module of the command line imports the one that imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from audio.errors import Cancelled

if TYPE_CHECKING:
    from tqdm import tqdm

# The table in `hark --help` and docs/reliability.md.
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_MODEL, EXIT_CANCELLED = 0, 1, 2, 3, 4, 130
T = TypeVar("T")


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return v


def clamp_threads(n: int) -> int:
    """At most one thread per CPU: more only thrash (10,000 threads put the load at ~3600)."""
    cpus = os.cpu_count() or 1
    if n > cpus:
        print(
            f"hark: warning: --threads {n} is more than this machine's {cpus} CPUs; using {cpus} threads",
            file=sys.stderr,
        )
        return cpus
    return n


def thread_count(text: str) -> int:
    """argparse type for --threads: a whole number >= 1, clamped to the CPU count."""
    return clamp_threads(positive_int(text))


# --- running work so that Ctrl+C cancels it cleanly ------------------------------
def run_cancellable(work: Callable[[threading.Event], T], cancel: threading.Event) -> T:
    """Run `work` on a thread; Ctrl+C sets `cancel` and waits for the work to stop.

    The engine runs in native code with the GIL released; signals only reach
    Python on the main thread, which is why the work is not run here.
    """
    value: list[T] = []
    error: list[BaseException] = []
    done = threading.Event()

    def target() -> None:
        try:
            value.append(work(cancel))
        except BaseException as e:  # handed to the main thread
            error.append(e)
        finally:
            done.set()

    # Waited on through an Event, not Thread.join: on Python 3.11 a Ctrl+C that lands inside
    # join() marks the thread as stopped while it still runs (CPython gh-90882), so the work
    # would be abandoned mid-write instead of cleaning up.
    th = threading.Thread(target=target, name="hark-job", daemon=True)
    th.start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        cancel.set()
        while not done.wait(0.1):
            pass
        raise Cancelled() from None
    if error:
        raise error[0]
    return value[0]


def progress_bar(name: str, quiet: bool) -> tqdm:
    """A percentage bar on stderr (set `.n` to 0..100 and refresh); `quiet` hides it."""
    from tqdm import tqdm

    return tqdm(
        total=100,
        desc=name,
        unit="%",
        disable=True if quiet else None,
        leave=True,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
        file=sys.stderr,
    )
