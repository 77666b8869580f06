"""Child processes (ffmpeg, ffprobe) that die with Hark, however Hark ends.

`popen` and `run` stand in for subprocess.Popen and subprocess.run. Three layers:

- Linux: the child asks the kernel for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG),
  which covers SIGKILL, SIGTERM and crashes of Hark. The kernel ties that signal to the
  *thread* that forked the child, not the process: measured here, a `sleep` started with
  PDEATHSIG from a worker thread is killed (-9) the moment that thread returns, though Hark
  lives on. Hark starts ffmpeg from job threads that end, so every child is forked by one
  long-lived daemon thread (`_Spawner`), which ends only with the process. The fork that
  preexec_fn forces (no vfork) measured 2.5-4 ms per start with 0-2 GiB resident: negligible
  beside ffmpeg's own start.
- Windows: every child is put in one Job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE. Its
  handle is never closed, so the system closes it when Hark's process ends, however it ends,
  and that kills every process in the job. (Assigned just after the start: a child could run
  a few instructions outside the job; ffmpeg starts no processes of its own.) Untested here.
- Everywhere, and the only layer on macOS, which has no PDEATHSIG: a registry of live
  children, killed at interpreter exit (atexit) and by `kill_children()`, for SIGTERM handlers
  (the command line's, the app's) to call. After a SIGKILL on macOS nothing of Hark
  runs any more: a decoding ffmpeg ends on its broken output pipe, a rendering one may run to
  its end (a watchdog process per child was judged not worth it).
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

log = logging.getLogger(__name__)

Popen: TypeAlias = "subprocess.Popen[Any]"

# --- the registry of live children (all platforms) -------------------------------------
# Keyed by a counter, not the pid: a pid can be reused while a dead Popen's entry lingers.
# Plain dict operations only (atomic under the GIL): kill_children runs in signal handlers,
# where taking a lock the interrupted code holds would deadlock.
_live: dict[int, weakref.ref[Popen]] = {}
_keys = itertools.count()


def _track(proc: Popen) -> None:
    key = next(_keys)
    _live[key] = weakref.ref(proc, lambda _ref: _live.pop(key, None))


def kill_children() -> None:
    """Kill every child started through this module that still runs. Safe in a signal handler."""
    for ref in list(_live.values()):
        proc = ref()
        if proc is not None and proc.returncode is None:
            try:
                proc.kill()
            except OSError:
                pass  # already gone


atexit.register(kill_children)


# --- Linux: PR_SET_PDEATHSIG from one long-lived thread ---------------------------------
_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    fn.restype = ctypes.c_int
    return fn


_prctl = _load_prctl()


def die_with(parent: int) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGKILL when the thread that forked it ends.

    Runs in the forked child before exec, so it only calls prctl, getppid and kill (no
    imports, no locks). If `parent` died before prctl took effect, nobody would send the
    signal: the child's parent is then someone else, and it kills itself.
    """
    prctl = _prctl

    def preexec() -> None:
        if prctl is None or prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return  # no PDEATHSIG: the registry still covers exits that run Python
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class _Request:
    """One start handed to the spawner thread; the caller may give up waiting (Ctrl+C)."""

    def __init__(self, args: Sequence[str], kwargs: dict[str, Any]) -> None:
        self.args, self.kwargs = args, kwargs
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.proc: Popen | None = None
        self.error: BaseException | None = None
        self.abandoned = False

    def start(self) -> None:
        """On the spawner thread."""
        try:
            proc = subprocess.Popen(self.args, preexec_fn=die_with(os.getpid()), **self.kwargs)  # noqa: PLW1509 (only prctl, async-signal-safe; forked from this one thread)
        except BaseException as e:  # handed to the caller
            self.error = e
        else:
            _track(proc)
            with self.lock:
                self.proc = proc
                if self.abandoned:  # nobody will wait for it
                    proc.kill()
        self.done.set()

    def result(self) -> Popen:
        """On the caller's thread."""
        try:
            self.done.wait()
        except BaseException:
            with self.lock:
                self.abandoned = True
                if self.proc is not None:
                    self.proc.kill()
            raise
        if self.error is not None:
            raise self.error
        assert self.proc is not None
        return self.proc


class _Spawner:
    """The one thread that forks every child: PDEATHSIG fires when *it* ends, i.e. with the process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="hark-child-spawner", daemon=True).start()

    def _serve(self) -> None:
        while True:
            self._requests.get().start()

    def spawn(self, args: Sequence[str], kwargs: dict[str, Any]) -> Popen:
        request = _Request(args, kwargs)
        self._requests.put(request)
        return request.result()


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def _linux_popen(args: Sequence[str], kwargs: dict[str, Any]) -> Popen:
    global _spawner
    with _spawner_lock:
        if _spawner is None or _spawner.pid != os.getpid():  # none yet, or a forked copy of Hark
            try:
                _spawner = _Spawner()
            except RuntimeError:  # no new threads (interpreter shutdown): fork from this thread
                proc = subprocess.Popen(args, preexec_fn=die_with(os.getpid()), **kwargs)  # noqa: PLW1509 (only prctl)
                _track(proc)
                return proc
        spawner = _spawner
    return spawner.spawn(args, kwargs)


# --- Windows: one kill-on-close Job object for all children -----------------------------
class _BasicLimits(ctypes.Structure):  # JOBOBJECT_BASIC_LIMIT_INFORMATION
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", ctypes.c_uint32),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", ctypes.c_uint32),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", ctypes.c_uint32),
        ("SchedulingClass", ctypes.c_uint32),
    ]


class _ExtendedLimits(ctypes.Structure):  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION
    _fields_ = [
        ("BasicLimitInformation", _BasicLimits),
        ("IoInfo", ctypes.c_uint64 * 6),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


_JobObjectExtendedLimitInformation = 9
_JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000


class _WindowsJob:
    """One Job object for all children; its handle is deliberately never closed (see the top)."""

    def __init__(self) -> None:
        if sys.platform != "win32":  # never: only _windows_popen makes one (and mypy skips the rest off Windows)
            raise OSError("job objects exist on Windows only")
        k32 = ctypes.WinDLL("kernel32", use_last_error=True)
        k32.CreateJobObjectW.restype = ctypes.c_void_p
        k32.CreateJobObjectW.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p]
        k32.SetInformationJobObject.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32]
        k32.AssignProcessToJobObject.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self._k32 = k32
        self.handle: int | None = k32.CreateJobObjectW(None, None)
        info = _ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if not self.handle or not k32.SetInformationJobObject(
            self.handle, _JobObjectExtendedLimitInformation, ctypes.byref(info), ctypes.sizeof(info)
        ):
            log.warning("no job object for child processes (error %d)", self._error())
            self.handle = None

    def _error(self) -> int:
        if sys.platform != "win32":
            return 0
        return ctypes.get_last_error()

    def assign(self, proc: Popen) -> None:
        if sys.platform != "win32":
            return
        handle = int(proc._handle)
        if self.handle is not None and not self._k32.AssignProcessToJobObject(self.handle, handle):
            log.warning("child %d is not in the job object (error %d)", proc.pid, self._error())


_job: _WindowsJob | None = None


def _windows_popen(args: Sequence[str], kwargs: dict[str, Any]) -> Popen:
    global _job
    proc = subprocess.Popen(args, **kwargs)
    _track(proc)
    try:
        with _spawner_lock:
            _job = _job or _WindowsJob()
        _job.assign(proc)
    except OSError as e:  # the registry still covers exits that run Python
        log.warning("child %d is not in a job object: %s", proc.pid, e)
    return proc


# --- the interface -----------------------------------------------------------------------
def popen(args: Sequence[str], **kwargs: Any) -> Popen:
    """subprocess.Popen(args, **kwargs) for a child that must not outlive Hark (no preexec_fn)."""
    if "preexec_fn" in kwargs:
        raise TypeError("popen sets preexec_fn itself")
    if _prctl is not None:
        return _linux_popen(args, kwargs)
    if sys.platform == "win32":
        return _windows_popen(args, kwargs)
    proc = subprocess.Popen(args, **kwargs)  # macOS and the rest: the registry alone
    _track(proc)
    return proc


def run(
    args: Sequence[str],
    *,
    input: str | bytes | None = None,
    capture_output: bool = False,
    timeout: float | None = None,
    check: bool = False,
    **kwargs: Any,
) -> subprocess.CompletedProcess[Any]:
    """subprocess.run through `popen`: the child is killed if the wait is interrupted."""
    if capture_output:
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    if input is not None:
        kwargs["stdin"] = subprocess.PIPE
    with popen(args, **kwargs) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except BaseException:  # TimeoutExpired, KeyboardInterrupt, ...
            proc.kill()
            proc.wait()
            raise
        rc = proc.poll()
    assert rc is not None
    if check and rc:
        raise subprocess.CalledProcessError(rc, proc.args, out, err)
    return subprocess.CompletedProcess(proc.args, rc, out, err)
