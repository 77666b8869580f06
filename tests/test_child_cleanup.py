"""No ffmpeg outlives Hark, and no temporary export file outlives an export, on every way out.

Real processes throughout: `hark cut` (the installed command) rendering a generated video is
interrupted (SIGINT, SIGTERM) or killed (SIGKILL) once its ffmpeg runs; the child-process
helper is checked in a small Python parent that starts `sleep` from a worker thread.
Children are found through /proc (Linux only).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from audio import child_process
from tests.media_gen import make_testsrc_video

ROOT = Path(__file__).resolve().parents[1]
HARK = ROOT / ".venv" / "bin" / "hark"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PDEATHSIG is Linux's")


# --- processes, through /proc --------------------------------------------------------------
def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of `pid`, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name in (...) may hold spaces
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z"  # a zombie is dead, only not yet reaped


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None and st[1] == pid and st[0] != "Z":
            out.append(int(entry.name))
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_until(cond: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def stays(cond: Callable[[], bool], seconds: float) -> bool:
    """`cond` holds throughout `seconds` (checked every 20 ms)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not cond():
            return False
        time.sleep(0.02)
    return cond()


# --- `hark cut` on a render that takes several seconds ------------------------------------
@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of a 60 s 640x360 video with two words cut: a re-encode takes ~8 s on 2 cores."""
    from pipeline.editing import editing as ed
    from pipeline.transcripts import project as projects
    from pipeline.transcripts.transcript import MediaRef, Provenance, Transcript, Word

    folder = tmp_path_factory.mktemp("cut-project")
    src = make_testsrc_video(folder / "src.mp4", 60)
    words = [Word(i, f"w{i}", i + 0.1, i + 0.9) for i in range(60)]
    t = Transcript(
        media=MediaRef(str(src), 60.0, ""), language="en", provenance=Provenance("test", "1", "none"), words=words
    )
    return projects.save(projects.Project(transcript=ed.cut_words(t, [10, 11])), folder / "src.hark")


@pytest.fixture
def cut_run(project: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`hark cut` started in its own session; yields it, its rendering ffmpeg's pid, the output folder."""
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [
            str(HARK),
            "cut",
            str(project),
            "--out",
            str(out / "cut.mp4"),
            "--no-snap",
            "--captions",
            "none",
            "--mode",
            "reencode",
            "-q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    render: list[int] = []

    def rendering() -> bool:
        render[:] = [k for k in children(proc.pid) if ".part" in cmdline(k)]
        return bool(render) or proc.poll() is not None

    try:
        assert wait_until(rendering, 30) and render, "hark cut never started its render"
        # Let ffmpeg get going (its output exists and grows), so the interruption lands mid-render.
        part = next(out.glob(".*.part*"))
        assert wait_until(lambda: (part.exists() and part.stat().st_size > 0) or proc.poll() is not None, 10)
        assert proc.poll() is None, "the render finished before the test could interrupt it"
        yield proc, render[0], out
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pid in render:  # whatever the outcome, leave no ffmpeg behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["process", "group"])
def test_ctrl_c_during_cut_exits_130_and_leaves_nothing(cut_run, target: str) -> None:
    """'group' is a terminal's Ctrl+C (ffmpeg gets SIGINT too); 'process' signals hark alone."""
    proc, ffmpeg_pid, out = cut_run
    if target == "group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGINT)
    rc = proc.wait(timeout=20)
    assert rc == 130, proc.stderr.read().decode(errors="replace")
    assert wait_until(lambda: not alive(ffmpeg_pid), 2), "ffmpeg outlived hark cut"
    assert list(out.iterdir()) == []  # no .part file, no output


@pytest.mark.slow
def test_sigterm_during_cut_cancels_and_leaves_nothing(cut_run) -> None:
    proc, ffmpeg_pid, out = cut_run
    os.kill(proc.pid, signal.SIGTERM)
    rc = proc.wait(timeout=20)
    assert wait_until(lambda: not alive(ffmpeg_pid), 2), "ffmpeg outlived hark cut"
    assert list(out.iterdir()) == []
    assert rc == 130


@pytest.mark.slow
def test_sigkill_of_hark_kills_its_ffmpeg(cut_run) -> None:
    proc, ffmpeg_pid, _out = cut_run
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)
    # Nothing in Hark runs any more: only the kernel (PDEATHSIG) can stop ffmpeg.
    assert wait_until(lambda: not alive(ffmpeg_pid), 2), "ffmpeg kept running after hark was killed"


# --- the helper, in a parent process of its own -------------------------------------------
PARENT = """
import os, sys, threading, time
sys.path.insert(0, {root!r})
from audio.child_process import popen

started = {{}}

def worker():
    started["tid"] = threading.get_native_id()
    started["proc"] = popen(["sleep", "60"])

t = threading.Thread(target=worker)
t.start()
t.join()
# join() returns before the OS thread is fully gone; PDEATHSIG would fire at its very end.
while os.path.exists(f"/proc/self/task/{{started['tid']}}"):
    time.sleep(0.01)
print(started["proc"].pid, flush=True)
time.sleep(60)
"""


def test_child_started_on_a_thread_outlives_the_thread_but_not_the_process() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True)
    child = 0
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"the parent failed: {line!r}"
        child = int(line)
        stat = _stat(child)
        assert stat is not None and stat[1] == parent.pid
        # The thread that started it has ended: with PDEATHSIG set from that thread, the kernel
        # would kill the child right now (measured: within milliseconds).
        assert stays(lambda: alive(child), 0.5), "the child died with the thread that started it"
        parent.kill()
        parent.wait()
        assert wait_until(lambda: not alive(child), 2), "the child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if child and alive(child):
            os.kill(child, signal.SIGKILL)


def test_child_of_a_parent_that_died_before_prctl_kills_itself() -> None:
    """The race: the parent dies between fork and prctl; nobody would send the signal then."""
    proc = subprocess.Popen(["sleep", "60"], preexec_fn=child_process.die_with(os.getpid() + 1_000_000))  # noqa: PLW1509
    try:
        assert proc.wait(timeout=5) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_popen_and_run_behave_like_subprocess() -> None:
    done = child_process.run(
        [sys.executable, "-c", "import sys; print(sys.stdin.read().upper()); sys.exit(3)"],
        input="hi",
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (3, "HI", "")
    with pytest.raises(subprocess.CalledProcessError):
        child_process.run(["false"], check=True)
    with pytest.raises(FileNotFoundError):
        child_process.popen(["/nonexistent/ffmpeg"])
    with pytest.raises(subprocess.TimeoutExpired):
        child_process.run(["sleep", "60"], timeout=0.2)
    assert not [k for k in children(os.getpid()) if cmdline(k).startswith("sleep 60")]


def test_kill_children_stops_every_live_child() -> None:
    procs = [child_process.popen(["sleep", "60"]) for _ in range(2)]
    threading.Thread(target=lambda: procs.append(child_process.popen(["sleep", "60"]))).start()
    assert wait_until(lambda: len(procs) == 3, 5)
    child_process.kill_children()
    assert [p.wait(timeout=5) for p in procs] == [-signal.SIGKILL] * 3


def test_windows_job_structure_has_the_x64_layout() -> None:
    """The one part of the Windows code that can be checked here: JOBOBJECT_EXTENDED_LIMIT_INFORMATION is
    144 bytes on x64 and LimitFlags sits at offset 16 (the sizes of SIZE_T/ULONG_PTR are the same here)."""
    import ctypes

    if ctypes.sizeof(ctypes.c_size_t) != 8:
        pytest.skip("a 64-bit Python")
    assert ctypes.sizeof(child_process._ExtendedLimits) == 144
    assert child_process._BasicLimits.LimitFlags.offset == 16


# --- the temporary export file on every way out ---------------------------------------------
ABANDON = """
import sys, threading, time
sys.path.insert(0, {root!r})
from pathlib import Path
from pipeline.render.render import RenderOptions, render_trimmed

started = threading.Event()
def work():
    render_trimmed({src!r}, [(0.0, 25.0), (30.0, 60.0)], Path({out!r}), RenderOptions(mode="reencode"),
                   progress=lambda f: started.set())
threading.Thread(target=work, daemon=True).start()
started.wait()
sys.exit(0)  # the main thread leaves while the render runs (as after a second Ctrl+C): atexit must clean up
"""


@pytest.mark.slow
def test_exit_during_a_render_on_a_daemon_thread_leaves_no_part_file(project: Path, tmp_path: Path) -> None:
    src = project.with_name("src.mp4")
    out = tmp_path / "out"
    out.mkdir()

    def writers() -> list[int]:
        return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and str(out) in cmdline(int(p.name))]

    try:
        run = subprocess.run(
            [sys.executable, "-c", ABANDON.format(root=str(ROOT), src=str(src), out=str(out / "c.mp4"))],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert wait_until(lambda: not [p for p in writers() if alive(p)], 2), "ffmpeg outlived its parent"
        assert stays(lambda: not list(out.iterdir()), 0.5), list(out.iterdir())  # nothing, and nothing writes later
    finally:
        for pid in writers():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit])
def test_an_exception_raised_inside_the_render_leaves_no_part_file(
    project: Path, tmp_path: Path, raised: type[BaseException]
) -> None:
    from pipeline.render.render import RenderOptions, render_trimmed

    def progress(fraction: float) -> None:
        if fraction > 0:
            raise raised()

    before = set(children(os.getpid()))
    with pytest.raises(raised):
        render_trimmed(
            project.with_name("src.mp4"),
            [(0.0, 60.0)],
            tmp_path / "c.mp4",
            RenderOptions(mode="reencode"),
            progress=progress,
        )
    assert list(tmp_path.iterdir()) == []
    assert wait_until(lambda: set(children(os.getpid())) <= before, 2)
