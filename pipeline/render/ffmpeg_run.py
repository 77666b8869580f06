"""Running ffmpeg for an export: -progress reporting, prompt cancel, the stderr tail and
disk-full errors, filter graphs too long for argv, and the temporary output that is
renamed over the real one only on success."""

from __future__ import annotations

import atexit
import collections
import errno
import functools
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from audio import child_process
from audio.ffmpeg_tools import FfmpegTools, find_tools
from pipeline.atomic_write import FILE_MODE
from pipeline.render.render_errors import RenderCancelled, RenderError

ProgressFn = Callable[[float], None]

# Filter graphs longer than this go through a script file (argv has per-argument limits).
SCRIPT_THRESHOLD = 8_000
# Placeholder in a command line where run_with_graph puts the filter graph arguments.
GRAPH_SLOT = "GRAPH"
_NO_SPACE = "No space left on device"


def run_ffmpeg(
    cmd: list[str],
    *,
    total: float | None,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
    stdout_lines: list[str] | None = None,
) -> None:
    """Run ffmpeg; report -progress out_time as 0..1 of `total`; kill it promptly on cancel."""
    try:
        proc = child_process.popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
        )
    except OSError as e:
        raise RenderError(f"could not start ffmpeg: {e.strerror or e}") from e
    errors: collections.deque[str] = collections.deque(maxlen=20)
    latest = [0.0]

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if stdout_lines is not None:
                stdout_lines.append(line)
            elif line.startswith("out_time_us=") and total:
                try:
                    latest[0] = max(latest[0], min(1.0, int(line[12:]) / 1e6 / total))
                except ValueError:
                    pass  # "N/A" before the first frame

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.strip():
                errors.append(line.strip())

    readers = [threading.Thread(target=fn, daemon=True) for fn in (read_stdout, read_stderr)]
    for r in readers:
        r.start()
    reported = -1.0
    try:
        while proc.poll() is None:
            if cancel is not None and cancel.wait(0.05):
                raise RenderCancelled()
            if cancel is None:
                time.sleep(0.05)
            if progress is not None and latest[0] > reported:
                reported = latest[0]
                progress(reported)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for r in readers:
            r.join(timeout=5)
    if cancel is not None and cancel.is_set():
        raise RenderCancelled()
    if proc.returncode != 0:
        lines = list(errors)
        if any(_NO_SPACE in ln for ln in lines):
            raise RenderError("the disk is full: free some space and export again", lines)
        last = lines[-1] if lines else f"ffmpeg exited with status {proc.returncode}"
        raise RenderError(f"the export failed: {last}", lines)


@functools.cache
def ffmpeg_features(ffmpeg: str) -> tuple[bool, bool]:
    """(has the subtitles filter i.e. libass, takes -filter_complex_script)."""
    filters = child_process.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True, text=True, errors="replace")
    has_subs = re.search(r"^\s*\S+\s+subtitles\s", filters.stdout, re.M) is not None
    helptext = child_process.run(
        [ffmpeg, "-hide_banner", "-h", "long"], capture_output=True, text=True, errors="replace"
    )
    return has_subs, "filter_complex_script" in helptext.stdout


def has_libass(tools: FfmpegTools | None = None) -> bool:
    return ffmpeg_features((tools or find_tools()).ffmpeg)[0]


def run_with_graph(
    cmd: list[str], graph: str, *, total: float, progress: ProgressFn | None, cancel: threading.Event | None
) -> None:
    """Run `cmd` (cmd[0] is ffmpeg) with `graph` put in at GRAPH_SLOT; through a file when it is long."""
    cmd = list(cmd)
    at = cmd.index(GRAPH_SLOT)
    script: Path | None = None
    try:
        if len(graph) > SCRIPT_THRESHOLD:
            fd, name = tempfile.mkstemp(prefix="hark-graph-", suffix=".txt")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(graph)
            script = Path(name)
            # ffmpeg 7 replaced -filter_complex_script by the generic "-/option file" form.
            flag = "-filter_complex_script" if ffmpeg_features(cmd[0])[1] else "-/filter_complex"
            cmd[at : at + 1] = [flag, str(script)]
        else:
            cmd[at : at + 1] = ["-filter_complex", graph]
        run_ffmpeg(cmd, total=total, progress=progress, cancel=cancel)
    finally:
        if script is not None:
            script.unlink(missing_ok=True)


# Temporary outputs not yet renamed or removed. Whoever made one removes it on every way out of
# its render (finish_output / discard_output); these are what is left when the process exits
# while a render still runs on a daemon thread (the app quits, a second Ctrl+C): ffmpeg is
# killed then (child_process) and its part file must not stay behind either.
_pending: set[Path] = set()


@atexit.register
def _discard_pending() -> None:
    child_process.kill_children()  # first: a live ffmpeg would go on writing
    for tmp in list(_pending):
        discard_output(tmp)


def discard_output(tmp: Path) -> None:
    """Remove a temporary output (from temp_output) that will not become the output."""
    tmp.unlink(missing_ok=True)
    _pending.discard(tmp)


def temp_output(out: Path) -> Path:
    """An empty temporary file next to `out`, for ffmpeg to write (finish_output moves it over `out`,
    discard_output removes it)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".part{out.suffix}", dir=out.parent)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise RenderError("the disk is full: free some space and export again") from e
        raise RenderError(f"cannot write to {out.parent}: {e.strerror or e}") from e
    os.fchmod(fd, FILE_MODE)  # an export is for sharing: not the owner-only mode mkstemp gives
    os.close(fd)
    _pending.add(Path(name))
    return Path(name)


def finish_output(tmp: Path, out: Path) -> None:
    """Flush `tmp` to disk and rename it over `out`."""
    try:
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
        _pending.discard(tmp)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise RenderError("the disk is full: free some space and export again") from e
        raise RenderError(f"could not write {out}: {e.strerror or e}") from e
