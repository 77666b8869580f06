"""Cut a stream of audio into engine-sized chunks of speech, and map times back.

Why chunk: whisper.cpp builds a log-mel spectrogram of its whole input, so one
call on a 3-hour file would hold gigabytes. Chunks of at most ~30 s, cut at the
quietest point, keep memory flat and give honest progress. Why compact: inside
a chunk only the regions the VAD heard speech in are passed on (joined by short
gaps), so whisper never sees long silence, where it tends to hallucinate.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from audio.vad import CHUNK as VAD_FRAME
from audio.vad import VadParams, VadStream, regions_from_probabilities

# Silero's defaults (0.5 to start, 0.35 to end, 0.2 s padding) call falsetto and much whispered speech
# silence: on the shared clips with the trained tiny.en they cost 16.6 % WER on a 130 s mix against
# 10.0 % without VAD, and 39.2 % against 35.7 % over 60 short clips. Lower thresholds and more padding
# keep it (11.6 % and 37.4 %) and still find nothing in 10 min of room tone, white noise or Big Buck
# Bunny's music (docs/benchmarks.md). Dictation keeps its own endpointing settings.
FILE_VAD = VadParams(threshold=0.35, neg_threshold=0.2, pad=0.3)

SAMPLE_RATE = 16_000
SILENT_PEAK = 10 ** (-60 / 20)  # -60 dBFS: quieter than this is treated as no audio


@dataclass(frozen=True)
class TimeMap:
    """Maps times in compacted audio to times in the source media."""

    compact_starts: tuple[float, ...]  # where each kept region begins in the compact audio
    source_starts: tuple[float, ...]  # ... and in the source
    lengths: tuple[float, ...]

    def region_of(self, t: float) -> int:
        return max(0, bisect.bisect_right(self.compact_starts, t) - 1)

    def to_source(self, t: float, *, region: int | None = None) -> float:
        """Source time of compact time `t`; a time inside a gap snaps to the nearer region edge."""
        k = self.region_of(t) if region is None else region
        offset = min(max(0.0, t - self.compact_starts[k]), self.lengths[k])
        return self.source_starts[k] + offset

    def speech_after(self, t: float) -> float:
        """Seconds of kept speech in the compact audio after compact time `t`."""
        return sum(max(0.0, c + n - max(t, c)) for c, n in zip(self.compact_starts, self.lengths))

    def resume_point(self, t: float, *, snap: float = 1.0) -> float:
        """Where to start decoding again after the engine stopped at compact time `t`: the next region's
        start when one begins within `snap` seconds (a clean start on fresh speech), else `t`."""
        k = bisect.bisect_right(self.compact_starts, t)
        if k < len(self.compact_starts) and self.compact_starts[k] - t <= snap:
            return self.compact_starts[k]
        return t

    def span_to_source(self, start: float, end: float) -> tuple[float, float]:
        """A word never spans a silence the VAD removed: its end stays in its start's region."""
        k = self.region_of(start)
        return self.to_source(start, region=k), self.to_source(end, region=k)


@dataclass
class AudioChunk:
    start: float  # source seconds of the chunk's first sample
    end: float
    samples: np.ndarray  # compacted speech to transcribe
    timemap: TimeMap


def compact(
    samples: np.ndarray, regions: list[tuple[float, float]], offset: float, gap: float = 0.3
) -> tuple[np.ndarray, TimeMap]:
    """Keep only `regions` (seconds, relative to `samples`) joined by `gap` seconds of silence."""
    gap_n = int(gap * SAMPLE_RATE)
    parts: list[np.ndarray] = []
    cstarts, sstarts, lengths = [], [], []
    pos = 0
    for a, b in regions:
        i, j = int(a * SAMPLE_RATE), min(len(samples), round(b * SAMPLE_RATE))
        if j <= i:
            continue
        if parts:
            parts.append(np.zeros(gap_n, dtype=np.float32))
            pos += gap_n
        cstarts.append(pos / SAMPLE_RATE)
        sstarts.append(offset + i / SAMPLE_RATE)
        lengths.append((j - i) / SAMPLE_RATE)
        parts.append(samples[i:j])
        pos += j - i
    out = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return out, TimeMap(tuple(cstarts), tuple(sstarts), tuple(lengths))


def quietest_cut(score: np.ndarray, lo: int, hi: int) -> int:
    """Frame index in [lo, hi) where `score` (speech probability or energy) is lowest.

    Ties go to the middle of the longest quiet run, so cuts land inside pauses.
    """
    window = score[lo:hi]
    if len(window) == 0:
        return hi
    floor = float(window.min()) + 1e-6
    quiet = window <= floor
    best_len, best_mid, run_start = 0, int(np.argmin(window)), None
    for i, q in enumerate(np.append(quiet, False)):
        if q and run_start is None:
            run_start = i
        elif not q and run_start is not None:
            if i - run_start > best_len:
                best_len, best_mid = i - run_start, (run_start + i) // 2
            run_start = None
    return lo + best_mid


def frame_energy(samples: np.ndarray, frame: int = VAD_FRAME) -> np.ndarray:
    n = len(samples) // frame
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    return np.sqrt(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1))


class Chunker:
    """Feed blocks of 16 kHz float32 audio; get AudioChunks of speech back."""

    def __init__(
        self,
        vad: VadStream | None,
        *,
        max_seconds: float = 30.0,
        min_seconds: float = 20.0,
        params: VadParams = FILE_VAD,
    ) -> None:
        self.vad = vad
        self.params = params
        self.max_frames = int(max_seconds * SAMPLE_RATE) // VAD_FRAME
        self.min_frames = int(min_seconds * SAMPLE_RATE) // VAD_FRAME
        self._buf = np.zeros(0, dtype=np.float32)
        self._probs = np.zeros(0, dtype=np.float32)
        self._start = 0  # source sample index of _buf[0]
        self.peak = 0.0  # loudest sample seen, to tell silent input apart

    def feed(self, block: np.ndarray) -> Iterator[AudioChunk]:
        if len(block):
            self.peak = max(self.peak, float(np.max(np.abs(block))))
        self._buf = np.concatenate([self._buf, block])
        if self.vad is not None:
            self._probs = np.concatenate([self._probs, self.vad.feed(block)])
        while len(self._buf) >= (self.max_frames + 1) * VAD_FRAME:
            score = self._probs if self.vad is not None else frame_energy(self._buf[: self.max_frames * VAD_FRAME])
            cut = quietest_cut(score, self.min_frames, self.max_frames)
            chunk = self._emit(cut * VAD_FRAME)
            if chunk is not None:
                yield chunk

    def finish(self) -> Iterator[AudioChunk]:
        if self.vad is not None:
            self._probs = np.concatenate([self._probs, self.vad.flush()])
        if len(self._buf):
            chunk = self._emit(len(self._buf))
            if chunk is not None:
                yield chunk

    def _emit(self, n: int) -> AudioChunk | None:
        samples, self._buf = self._buf[:n], self._buf[n:]
        offset = self._start / SAMPLE_RATE
        self._start += n
        total = n / SAMPLE_RATE
        if self.vad is not None:
            frames = -(-n // VAD_FRAME)
            probs, self._probs = self._probs[:frames], self._probs[frames:]
            regions = regions_from_probabilities(probs, self.params, total=total)
        else:
            loud = len(samples) and float(np.max(np.abs(samples))) >= SILENT_PEAK
            regions = [(0.0, total)] if loud else []
        if not regions:
            return None
        speech, timemap = compact(samples, regions, offset)
        return AudioChunk(start=offset, end=offset + total, samples=speech, timemap=timemap)
