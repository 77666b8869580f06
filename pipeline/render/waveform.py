"""Waveform overview for the timeline: min/max peaks per time bin, and their on-disk cache.

Peaks are computed while streaming the media through audio.decode.AudioStream, so
memory stays at one block of audio (plus the peaks themselves: 8 bytes per bin,
~8.6 MB for 3 hours at 100 bins/s) however long the file is.

The cache is an .npz beside the project holding the peaks, the media's sha256 and
the bin rate: a cache made for other media bytes or another rate is recomputed,
and so is one that cannot be read.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audio.decode import SAMPLE_RATE, AudioStream
from audio.errors import Cancelled, HarkError
from pipeline.atomic_write import remove_stale_temps

log = logging.getLogger(__name__)

ProgressFn = Callable[[float], None]
CACHE_VERSION = 1
# 10 s blocks: big enough that the per-block numpy overhead is negligible, small enough for constant memory.
_BLOCK_SAMPLES = SAMPLE_RATE * 10


class WaveformCancelled(Cancelled):
    """Computing the waveform was cancelled (the `cancel` event was set)."""

    def __init__(self) -> None:
        super().__init__("waveform computation cancelled")


class WaveformError(HarkError):
    """The waveform cannot be computed with the arguments given."""


def _check_rate(per_second: float) -> float:
    if not (isinstance(per_second, (int, float)) and math.isfinite(per_second) and 0 < per_second <= SAMPLE_RATE):
        raise WaveformError(f"peaks per second must be between 0 and {SAMPLE_RATE}, not {per_second!r}")
    return float(per_second)


class _Binner:
    """Folds a stream of sample blocks into min/max per bin.

    Bin i spans samples [round(i * step), round((i + 1) * step)) where step = rate / per_second,
    so a fractional step never drifts. Samples of a bin split across blocks wait in `_rest`.
    """

    def __init__(self, samples_per_bin: float) -> None:
        self.step = samples_per_bin
        self.next_bin = 0  # index of the first bin not yet emitted; `_rest` starts at its first sample
        self._rest = np.empty(0, dtype=np.float32)
        self.out: list[np.ndarray] = []

    def _edge(self, i: np.ndarray | int) -> np.ndarray:
        return np.round(np.asarray(i, dtype=np.float64) * self.step).astype(np.int64)

    def feed(self, block: np.ndarray) -> None:
        buf = np.concatenate((self._rest, block)) if len(self._rest) else block
        first = int(self._edge(self.next_bin))
        # Bins that end inside buf are complete.
        n_done = int((first + len(buf)) / self.step) - self.next_bin + 1
        while n_done > 0 and int(self._edge(self.next_bin + n_done)) > first + len(buf):
            n_done -= 1
        if n_done <= 0:
            self._rest = buf.copy() if buf is block else buf
            return
        edges = self._edge(np.arange(self.next_bin, self.next_bin + n_done + 1)) - first
        starts = edges[:-1]
        peaks = np.empty((n_done, 2), dtype=np.float32)
        peaks[:, 0] = np.minimum.reduceat(buf[: edges[-1]], starts)
        peaks[:, 1] = np.maximum.reduceat(buf[: edges[-1]], starts)
        self.out.append(peaks)
        self.next_bin += n_done
        # Copy the tail: a view would keep the whole block alive.
        self._rest = buf[edges[-1] :].copy()

    def finish(self) -> np.ndarray:
        if len(self._rest):  # a last, partial bin
            self.out.append(np.array([[self._rest.min(), self._rest.max()]], dtype=np.float32))
            self._rest = np.empty(0, dtype=np.float32)
        peaks = np.concatenate(self.out) if self.out else np.empty((0, 2), dtype=np.float32)
        # Float sources can exceed full scale; the contract is -1..1.
        np.clip(peaks, -1.0, 1.0, out=peaks)
        return peaks


def compute_peaks(
    media_path: str | Path,
    per_second: float = 100,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Min/max of the mono 16 kHz signal in each 1/per_second of `media_path`: float32, shape (n, 2).

    Raises MediaError subclasses for unusable media and WaveformCancelled when `cancel` is set.
    """
    rate = _check_rate(per_second)
    try:
        stream = AudioStream(media_path, block_samples=_BLOCK_SAMPLES, cancel=cancel)
    except Cancelled as e:
        raise WaveformCancelled() from e
    binner = _Binner(SAMPLE_RATE / rate)
    duration = stream.info.duration or 0.0
    try:
        for block in stream:
            binner.feed(block)
            if progress is not None and duration > 0:
                progress(min(1.0, stream.samples_read / SAMPLE_RATE / duration))
    except Cancelled as e:
        raise WaveformCancelled() from e
    finally:
        stream.close()
    if progress is not None:
        progress(1.0)
    return binner.finish()


# --- cache ------------------------------------------------------------------------------------
def _read_cache(cache_path: Path, media_sha256: str, per_second: float) -> np.ndarray | None:
    """The cached peaks if the file is readable and made for these media bytes and rate; else None."""
    if not cache_path.is_file():
        return None
    try:
        with np.load(cache_path, allow_pickle=False) as z:
            version = int(z["version"])
            sha = str(z["sha256"])
            rate = float(z["per_second"])
            peaks = np.asarray(z["peaks"])
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as e:
        log.info("waveform cache %s unreadable (%s): recomputing", cache_path, e)
        return None
    if version != CACHE_VERSION or sha != media_sha256 or rate != per_second:
        log.info("waveform cache %s is for other media or settings: recomputing", cache_path)
        return None
    if peaks.dtype != np.float32 or peaks.ndim != 2 or peaks.shape[1] != 2 or not np.isfinite(peaks).all():
        log.info("waveform cache %s holds malformed peaks: recomputing", cache_path)
        return None
    return peaks


def _write_cache(cache_path: Path, peaks: np.ndarray, media_sha256: str, per_second: float) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a cache.

    A cache that cannot be written only costs a recomputation next time: logged, not raised.
    """
    tmp: str | None = None
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(cache_path.parent)  # what a writer killed mid-write left (this cache's or others')
        fd, tmp = tempfile.mkstemp(prefix=f".{cache_path.name}.{os.getpid()}.", suffix=".tmp", dir=cache_path.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                version=np.int64(CACHE_VERSION),
                sha256=np.str_(media_sha256),
                per_second=np.float64(per_second),
                peaks=peaks,
            )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, cache_path)
        tmp = None
    except OSError as e:
        log.warning("could not write waveform cache %s: %s", cache_path, e.strerror or e)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def load_or_compute_peaks(
    media_path: str | Path,
    cache_path: str | Path,
    media_sha256: str,
    per_second: float = 100,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Peaks from `cache_path` when it matches `media_sha256` and `per_second`; else computed and cached."""
    rate = _check_rate(per_second)
    cache = Path(cache_path)
    peaks = _read_cache(cache, media_sha256, rate)
    if peaks is not None:
        if progress is not None:
            progress(1.0)
        return peaks
    peaks = compute_peaks(media_path, rate, progress=progress, cancel=cancel)
    _write_cache(cache, peaks, media_sha256, rate)
    return peaks
