"""What the benchmarks share: paths to the shared data and models, timing and memory helpers.

Kept apart from `bench/__main__.py` so that the benchmark modules can use it without importing
the runner (which imports them).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HARK_SHARED", ROOT.parent / "shared"))
OUT = ROOT / "bench" / "out"
TEMPLATE = SHARED / "models" / "whisper.cpp-for-tests" / "for-tests-ggml-tiny.en.bin"
JFK = SHARED / "data" / "whisper.cpp" / "jfk.wav"
SILERO = SHARED / "models" / "silero-vad" / "silero_vad.onnx"


def medians(fns: list[Callable[[], object]], runs: int) -> list[float]:
    """Median wall time of each function; runs alternate so drift hits all of them alike."""
    for fn in fns:
        fn()  # warm-up: page cache, lazy imports, first-call allocations
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [statistics.median(ts) for ts in times]


def random_model(kind: str) -> Path:
    from bench.random_ggml import write_random_model

    path = OUT / f"random-{kind}.en.bin"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        write_random_model(TEMPLATE, path, kind=kind, seed=0)
    return path


def speech_file(minutes: int, suffix: str) -> Path:
    """`minutes` of real speech: the shared utterances looped, encoded once and cached."""
    path = OUT / f"speech-{minutes}min{suffix}"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    sources = sorted((SHARED / "data" / "mfa").glob("*.flac")) + [JFK]
    loop = OUT / "speech-loop.wav"
    if not loop.exists():
        # Sources differ in codec, so they are joined by the concat filter, not the concat demuxer.
        inputs = [a for src in sources for a in ("-i", str(src))]
        graph = "".join(f"[{i}:a]aresample=16000,aformat=channel_layouts=mono[a{i}];" for i in range(len(sources)))
        graph += "".join(f"[a{i}]" for i in range(len(sources))) + f"concat=n={len(sources)}:v=0:a=1[out]"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[out]", str(loop)], check=True
        )
    codec = ["-c:a", "aac", "-b:a", "64k"] if suffix == ".m4a" else []
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(loop),
            "-t",
            str(minutes * 60),
            *codec,
            str(path),
        ],
        check=True,
    )
    return path


def engine_preset(kind: str) -> int:
    import _pywhispercpp as pw

    return {"tiny": pw.WHISPER_AHEADS_TINY_EN, "base": pw.WHISPER_AHEADS_BASE_EN}[kind]


# The child reports its own high-water mark: a forked child's ru_maxrss would include
# the pages it shared with this (large) benchmark process before exec.
_HWM_WRAPPER = """
import atexit, runpy, sys
def report():
    with open('/proc/self/status') as f:
        hwm = next(line for line in f if line.startswith('VmHWM'))
    sys.stderr.write('HWM ' + hwm.split()[1] + '\\n')
atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)
"""


def peak_rss(module_args: list[str], env: dict[str, str]) -> tuple[int, float, str]:
    """Run `python -m MODULE ARGS`; return its exit code, peak resident memory in MiB, and stderr."""
    cmd = [sys.executable, "-c", _HWM_WRAPPER, *module_args]
    run = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    hwm = [line for line in run.stderr.splitlines() if line.startswith("HWM ")]
    peak = int(hwm[-1].split()[1]) / 1024 if hwm else float("nan")
    return run.returncode, peak, run.stderr
