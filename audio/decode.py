"""Any audio or video file -> 16 kHz mono float32, streamed through ffmpeg.

ffmpeg (driven through ffmpeg-python) resamples, downmixes and converts to
float32 itself; we read its stdout straight into a preallocated float32 array,
so a long file never exists as float64 or as one big Python bytes object.
"""
from __future__ import annotations

import collections
import concurrent.futures
import logging
import math
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ffmpeg
import numpy as np

from audio.errors import Cancelled, EmptyMediaError, NotMediaError
from audio.ffmpeg_tools import FfmpegTools, find_tools
from audio.probe import MediaInfo, check_path, probe

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
_BYTES_PER_SAMPLE = 4
# Big enough reads keep the pipe overhead negligible (4 s of audio each).
_READ_SAMPLES = SAMPLE_RATE * 4

ProgressFn = Callable[[float], None]


@dataclass
class DecodedAudio:
    samples: np.ndarray  # float32, mono, `sample_rate` Hz
    sample_rate: int
    info: MediaInfo
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class _StderrTail:
    """Drains ffmpeg's stderr on a thread (a full pipe would stall ffmpeg) and keeps the tail."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.lines: collections.deque[str] = collections.deque(maxlen=40)
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream) -> None:  # type: ignore[no-untyped-def]
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self.lines.append(line)

    def join(self) -> list[str]:
        self._thread.join(timeout=5)
        return list(self.lines)


def _command(path: Path, tools: FfmpegTools, sample_rate: int) -> list[str]:
    stream = ffmpeg.input(str(path)).output(
        "pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=sample_rate, map="0:a:0", vn=None, sn=None, dn=None
    )
    return stream.global_args("-hide_banner", "-nostdin", "-loglevel", "error").compile(cmd=tools.ffmpeg)


class _Decoder:
    """One ffmpeg process; yields float32 blocks and reports what went wrong."""

    def __init__(self, path: Path, tools: FfmpegTools, sample_rate: int) -> None:
        self.path = path
        self.info: MediaInfo | None = None
        self.sample_rate = sample_rate
        self.proc = subprocess.Popen(
            _command(path, tools, sample_rate),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        self.stderr = _StderrTail(self.proc.stderr)

    def read_into(self, view: memoryview) -> int:
        """Fill `view` (bytes) as far as the stream allows; return bytes read (0 at end)."""
        assert self.proc.stdout is not None
        got = 0
        while got < len(view):
            n = self.proc.stdout.readinto(view[got:])
            if not n:
                break
            got += n
        return got

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def finish(self, n_samples: int) -> list[str]:
        """Wait for ffmpeg; raise for unusable input, return warnings for damaged input."""
        rc = self.proc.wait()
        errors = self.stderr.join()
        decoded = n_samples / self.sample_rate
        if n_samples == 0:
            if rc != 0:
                raise NotMediaError(self.path, errors[-1] if errors else f"ffmpeg exited with {rc}")
            raise EmptyMediaError(self.path)
        warnings: list[str] = []
        expected = self.info.duration if self.info else None
        if rc != 0 or errors:
            detail = errors[-1] if errors else f"ffmpeg exited with {rc}"
            of = f" of {expected:.1f} s" if expected and decoded < expected * 0.98 else ""
            warnings.append(f"the file is damaged or truncated: decoded {decoded:.1f} s{of} despite errors ({detail})")
        elif expected and decoded < expected * 0.98 - 0.5:
            warnings.append(f"the file seems truncated: decoded {decoded:.1f} s of {expected:.1f} s")
        for w in warnings:
            log.warning("%s: %s", self.path, w)
        return warnings


def decode_audio(
    path: str | Path,
    *,
    sample_rate: int = SAMPLE_RATE,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    tools: FfmpegTools | None = None,
) -> DecodedAudio:
    """Decode the first audio stream of `path` to mono float32 at `sample_rate`.

    Raises MediaError subclasses for missing, non-media, audio-less and empty
    files. A file damaged mid-stream returns what decoded, with `warnings`.
    """
    p = Path(path)
    tools = tools or find_tools()
    check_path(p)
    # ffmpeg starts decoding while ffprobe looks at the file: each costs a process start.
    dec = _Decoder(p, tools, sample_rate)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe")
    probing = pool.submit(probe, p, tools)
    pool.shutdown(wait=False)
    buf = np.empty(sample_rate * 60, dtype=np.float32)
    info: MediaInfo | None = None
    n = 0  # samples
    tail = b""
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if info is None and probing.done():
                info = dec.info = probing.result()  # raises MediaError for unusable input
                expected = math.ceil((info.duration or 0) * sample_rate) + sample_rate  # durations are approximate
                if expected > len(buf):
                    buf = _grow(buf, n, expected)
            if len(buf) - n < _READ_SAMPLES:
                buf = _grow(buf, n)
            view = memoryview(buf).cast("B")[n * _BYTES_PER_SAMPLE : (n + _READ_SAMPLES) * _BYTES_PER_SAMPLE]
            got = dec.read_into(view)
            if got == 0:
                break
            whole, rest = divmod(got, _BYTES_PER_SAMPLE)
            n += whole
            if rest:  # a sample cut across reads can only happen at the very end
                tail = bytes(view[whole * _BYTES_PER_SAMPLE : got])
            if progress is not None and info is not None and info.duration:
                progress(min(1.0, n / sample_rate / info.duration))
        if info is None:
            info = dec.info = probing.result()
    except BaseException:
        dec.kill()
        raise
    if tail:
        log.debug("dropped %d trailing bytes", len(tail))
    warnings = dec.finish(n)
    if progress is not None:
        progress(1.0)
    # Keep the result compact: a view into a much larger buffer would pin it.
    samples = buf[:n] if len(buf) - n < sample_rate * 5 else buf[:n].copy()
    return DecodedAudio(samples=samples, sample_rate=sample_rate, info=info, warnings=warnings)


def _grow(buf: np.ndarray, used: int, size: int = 0) -> np.ndarray:
    bigger = np.empty(max(size, len(buf) * 3 // 2, used + _READ_SAMPLES * 2), dtype=np.float32)
    bigger[:used] = buf[:used]
    return bigger


class AudioStream:
    """Stream `path` as float32 blocks of `block_samples` (the last may be shorter).

    For consumers that never need the whole file at once: memory stays at one
    block. `info` is known on creation; `warnings` once the stream is exhausted.
    Unusable input raises like decode_audio.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        block_samples: int = SAMPLE_RATE * 10,
        sample_rate: int = SAMPLE_RATE,
        cancel: threading.Event | None = None,
        tools: FfmpegTools | None = None,
    ) -> None:
        self.path = Path(path)
        tools = tools or find_tools()
        self.info = probe(self.path, tools)  # raises now for unusable input
        self.sample_rate = sample_rate
        self.block_samples = block_samples
        self.cancel = cancel
        self.warnings: list[str] = []
        self.samples_read = 0
        self._tools = tools

    def __iter__(self) -> Iterator[np.ndarray]:
        dec = _Decoder(self.path, self._tools, self.sample_rate)
        dec.info = self.info
        try:
            while True:
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled()
                block = np.empty(self.block_samples, dtype=np.float32)
                got = dec.read_into(memoryview(block).cast("B")) // _BYTES_PER_SAMPLE
                if got == 0:
                    break
                self.samples_read += got
                yield block[:got]
        except BaseException:
            dec.kill()
            raise
        self.warnings = dec.finish(self.samples_read)
