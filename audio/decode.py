"""Any audio or video file -> 16 kHz mono float32, streamed through ffmpeg.

ffmpeg (driven through ffmpeg-python) resamples, downmixes and converts to
float32 itself; we read its stdout straight into float32 arrays (one, sized
from the probed duration, once that is known), so a long file never exists as
float64 or as one big Python bytes object.
"""

from __future__ import annotations

import collections
import io
import logging
import math
import re
import subprocess
import threading
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import ffmpeg
import numpy as np

from audio import child_process
from audio.errors import Cancelled, EmptyMediaError, NoAudioStreamError, NotMediaError
from audio.ffmpeg_tools import FfmpegTools, find_tools
from audio.probe import MediaInfo, check_path, parse_banner

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


_LEVEL = re.compile(r"\[(fatal|error|warning|info)\] ")


class _StderrReader:
    """Drains ffmpeg's stderr on a thread (a full pipe would stall ffmpeg).

    ffmpeg runs with `-loglevel level+info`: it first describes its input
    (the facts a separate ffprobe would give: one process instead of two),
    then reports errors, each line tagged with its level.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.banner: list[str] = []
        self.banner_done = threading.Event()
        self.errors: collections.deque[str] = collections.deque(maxlen=40)
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip()
                m = _LEVEL.search(line)
                level = m.group(1) if m else "info"
                text = (line[: m.start()] + line[m.end() :]).strip() if m else line.strip()
                if level in ("fatal", "error"):
                    self.errors.append(text)
                if not self.banner_done.is_set():
                    self.banner.append(text)
                    if text.startswith(("Output #0", "Stream mapping:")):
                        self.banner_done.set()
        finally:
            self.banner_done.set()

    def join(self) -> list[str]:
        self._thread.join(timeout=5)
        return list(self.errors)


def _command(path: Path, tools: FfmpegTools, sample_rate: int) -> list[str]:
    stream = ffmpeg.input(str(path)).output(
        "pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=sample_rate, map="0:a:0", vn=None, sn=None, dn=None
    )
    return stream.global_args("-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info").compile(
        cmd=tools.ffmpeg
    )


class _Decoder:
    """One ffmpeg process; yields float32 blocks and reports what went wrong."""

    def __init__(self, path: Path, tools: FfmpegTools, sample_rate: int) -> None:
        self.path = path
        self.info: MediaInfo | None = None
        self.sample_rate = sample_rate
        self.proc = child_process.popen(
            _command(path, tools, sample_rate),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        assert self.proc.stderr is not None
        self.stderr = _StderrReader(self.proc.stderr)

    def media_info(self) -> MediaInfo:
        """What ffmpeg says its input is; raises MediaError for unusable input."""
        self.stderr.banner_done.wait()
        if not self.stderr.banner or not any("Input #0" in ln for ln in self.stderr.banner):
            self.proc.wait()  # ffmpeg gave up on the file: its last words say why
            errors = self.stderr.join()
            raise NotMediaError(self.path, errors[-1] if errors else f"ffmpeg exited with {self.proc.returncode}")
        info = parse_banner(self.path, "\n".join(self.stderr.banner))
        if not info.has_audio:
            raise NoAudioStreamError(self.path)
        self.info = info
        return info

    def read_into(self, view: memoryview) -> int:
        """Fill `view` (bytes) as far as the stream allows; return bytes read (0 at end)."""
        stdout = self.proc.stdout
        assert isinstance(stdout, io.RawIOBase)  # bufsize=0: the pipe's unbuffered FileIO
        got = 0
        while got < len(view):
            n = stdout.readinto(view[got:])
            if not n:
                break
            got += n
        return got

    def info_ready(self) -> bool:
        return self.stderr.banner_done.is_set()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()

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
        elif expected and decoded < expected * 0.98 - 0.5 and not (self.info and self.info.has_video):
            # (A video's container length is often its picture's: audio may end sooner, cleanly.)
            warnings.append(f"the file seems truncated: decoded {decoded:.1f} s of {expected:.1f} s")
        for w in warnings:
            log.warning("%s: %s", self.path, w)
        return warnings


class _WavReader:
    """16 kHz mono 16-bit PCM WAV, what dictation and most recorders write, needs no
    conversion: it is read directly, saving an ffmpeg process start (~50 ms) per file.
    Same interface and the same samples (x / 32768) as _Decoder."""

    def __init__(self, path: Path, w: wave.Wave_read) -> None:
        self.path, self._w = path, w
        self.sample_rate = w.getframerate()
        self.frames = w.getnframes()
        self.info = MediaInfo(
            path=str(path),
            duration=self.frames / self.sample_rate,
            format_name="wav",
            has_audio=True,
            has_video=False,
            audio_codec="pcm_s16le",
            sample_rate=self.sample_rate,
            channels=1,
        )

    @classmethod
    def open(cls, path: Path, sample_rate: int) -> _WavReader | None:
        """A reader if `path` is such a WAV, else None (ffmpeg handles everything else)."""
        try:
            with path.open("rb") as f:
                if f.read(4) != b"RIFF":
                    return None
            w = wave.open(str(path), "rb")  # noqa: SIM115 (kept open by the reader it returns)
        except (wave.Error, EOFError, OSError):
            return None
        shape = (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getcomptype())
        # A header claiming more data than the file holds (or a streamed 0/-1 size) goes to ffmpeg.
        plausible = 0 < w.getnframes() * 2 <= path.stat().st_size
        if shape != (sample_rate, 1, 2, "NONE") or not plausible:
            w.close()
            return None
        return cls(path, w)

    def info_ready(self) -> bool:
        return True

    def media_info(self) -> MediaInfo:
        return self.info

    def read_into(self, view: memoryview) -> int:
        raw = self._w.readframes(len(view) // _BYTES_PER_SAMPLE)
        k = len(raw) // 2
        out = np.frombuffer(view, dtype=np.float32, count=k)
        np.multiply(np.frombuffer(raw, dtype="<i2", count=k), np.float32(1 / 32768), out=out, casting="unsafe")
        return k * _BYTES_PER_SAMPLE

    def finish(self, n_samples: int) -> list[str]:
        self.close()
        if n_samples == 0:
            raise EmptyMediaError(self.path)
        if n_samples < self.frames - self.sample_rate // 2:
            msg = (
                f"the file seems truncated: decoded {n_samples / self.sample_rate:.1f} s of {self.info.duration:.1f} s"
            )
            log.warning("%s: %s", self.path, msg)
            return [msg]
        return []

    def kill(self) -> None:
        self.close()

    def close(self) -> None:
        self._w.close()


def _open_source(path: Path, tools: FfmpegTools | None, sample_rate: int) -> _Decoder | _WavReader:
    return _WavReader.open(path, sample_rate) or _Decoder(path, tools or find_tools(), sample_rate)


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
    check_path(p)
    dec = _open_source(p, tools, sample_rate)
    # Until ffmpeg's description of its input tells the length, audio goes into small blocks; then into one
    # buffer of the right size, so a long file is neither regrown nor copied.
    blocks: list[np.ndarray] = []
    buf: np.ndarray | None = None
    in_buf = 0  # samples held in buf
    n = 0  # samples decoded in all
    info: MediaInfo | None = None
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if info is None and dec.info_ready():
                info = dec.media_info()  # raises MediaError for unusable input
                # Container durations are approximate: a second of headroom.
                size = max(math.ceil((info.duration or 0) * sample_rate) + sample_rate, n + _READ_SAMPLES)
                buf = np.empty(size, dtype=np.float32)
                for b in blocks:
                    buf[in_buf : in_buf + len(b)] = b
                    in_buf += len(b)
                blocks.clear()
            room = len(buf) - in_buf if buf is not None and not blocks else 0
            if room:
                assert buf is not None  # room > 0 only once buf exists
                got = dec.read_into(buf[in_buf : in_buf + min(room, _READ_SAMPLES)].data.cast("B"))
                in_buf += got // _BYTES_PER_SAMPLE
            else:  # length not known yet, or the file ran past its stated duration
                block = np.empty(_READ_SAMPLES, dtype=np.float32)
                got = dec.read_into(block.data.cast("B"))
                if got >= _BYTES_PER_SAMPLE:
                    blocks.append(block[: got // _BYTES_PER_SAMPLE])
            if got < _BYTES_PER_SAMPLE:
                if got:  # a cut sample can only happen at the very end
                    log.debug("dropped %d trailing bytes", got)
                break
            n += got // _BYTES_PER_SAMPLE
            if progress is not None and info is not None and info.duration:
                progress(min(1.0, n / sample_rate / info.duration))
        if info is None:
            info = dec.media_info()
    except BaseException:
        dec.kill()
        raise
    warnings = dec.finish(n)
    if progress is not None:
        progress(1.0)
    if buf is None:
        samples = np.concatenate(blocks) if blocks else np.empty(0, dtype=np.float32)
    elif blocks:
        samples = np.concatenate([buf[:in_buf], *blocks])
    else:
        # Keep the result compact: a view into a much larger buffer would pin it.
        samples = buf[:n] if len(buf) - n < sample_rate * 5 else buf[:n].copy()
    return DecodedAudio(samples=samples, sample_rate=sample_rate, info=info, warnings=warnings)


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
        check_path(self.path)
        self.sample_rate = sample_rate
        self.block_samples = block_samples
        self.cancel = cancel
        self.warnings: list[str] = []
        self.samples_read = 0
        # ffmpeg starts now and describes its input first: unusable input raises here.
        self._dec = _open_source(self.path, tools, sample_rate)
        try:
            self.info = self._dec.media_info()
        except BaseException:
            self._dec.kill()
            raise

    def close(self) -> None:
        """Stop ffmpeg if the stream is dropped before it is read to the end."""
        self._dec.close()

    def __del__(self) -> None:
        # A stream dropped unread without close(): subprocess keeps an unfinished Popen (and so its stdout
        # pipe) alive to reap it later, and ffmpeg would wait forever to write the rest.
        try:
            self.close()
        except Exception:
            pass

    def __iter__(self) -> Iterator[np.ndarray]:
        dec = self._dec
        try:
            while True:
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled()
                block = np.empty(self.block_samples, dtype=np.float32)
                got = dec.read_into(block.data.cast("B")) // _BYTES_PER_SAMPLE
                if got == 0:
                    break
                self.samples_read += got
                yield block[:got]
        except BaseException:
            dec.kill()
            raise
        self.warnings = dec.finish(self.samples_read)
