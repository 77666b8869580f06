"""Put aligned times on recognised words; give the words no aligner could place honest rough times.

`align_engine_words` runs an aligner over one stretch of audio (a VAD chunk of a file, or a caption
being re-aligned in the editor) and returns the words' new times with a `rough` flag for each.
Rough words are fitted between their aligned neighbours (a rough word never overlaps an aligned
one, and shares the gap between them by its length in letters) and then trimmed to the audio's
energy (leading and trailing quiet cut off, so pauses stay gaps); no word is left with zero length.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.alignment.aligner import AlignedTime, Aligner, WordSpan

SAMPLE_RATE = 16_000
MIN_WORD = 0.03  # s: the shortest a word is left
ENERGY_FRAME = 0.01  # s
QUIET_DB = 18.0  # below the stretch's loudest frames by this much counts as quiet


@dataclass(frozen=True)
class Timed:
    start: float
    end: float
    rough: bool


def align_engine_words(
    samples: np.ndarray, words: Sequence[WordSpan], aligner: Aligner | None, *, cancel: threading.Event | None = None
) -> list[Timed]:
    """Times for `words` (rough times in, seconds into `samples`). Without an aligner every word is
    rough, trimmed to the energy."""
    found: list[AlignedTime | None] = (
        aligner.align(samples, words, cancel=cancel) if aligner is not None and words else [None] * len(words)
    )
    return settle(samples, words, found)


def settle(samples: np.ndarray, words: Sequence[WordSpan], found: Sequence[AlignedTime | None]) -> list[Timed]:
    """Aligned words keep their times; runs of unaligned words are fitted into the gaps between them."""
    total = len(samples) / SAMPLE_RATE
    out: list[Timed | None] = [Timed(f.start, f.end, False) if f is not None else None for f in found]
    i = 0
    while i < len(words):
        if out[i] is not None:
            i += 1
            continue
        j = i
        while j < len(words) and out[j] is None:
            j += 1
        before = out[i - 1] if i > 0 else None
        after = out[j] if j < len(words) else None
        lo = before.end if before is not None else 0.0
        hi = after.start if after is not None else total
        for k, t in zip(range(i, j), _fit(words[i:j], lo, max(lo, hi), samples)):
            out[k] = t
        i = j
    return [t for t in out if t is not None]


def _fit(run: Sequence[WordSpan], lo: float, hi: float, samples: np.ndarray) -> list[Timed]:
    """Rough words between lo and hi: their own times clamped there when those are plausible, else the
    span shared by letters; then each trimmed to the energy inside it."""
    starts = [min(max(w.start, lo), hi) for w in run]
    ends = [min(max(w.end, lo), hi) for w in run]
    own = sum(max(0.0, e - s) for s, e in zip(starts, ends))
    if own < 0.5 * sum(max(0.0, w.end - w.start) for w in run) or own <= 0:
        # The engine's times mostly fall outside the room left: share the room by letters.
        weights = [max(1, len(w.text)) for w in run]
        t = lo
        starts, ends = [], []
        for wgt in weights:
            starts.append(t)
            t += (hi - lo) * wgt / sum(weights)
            ends.append(t)
    out: list[Timed] = []
    prev = lo
    for s, e in zip(starts, ends):
        s = max(s, prev)
        e = max(e, s)
        s, e = _trim_quiet(samples, s, e)
        if e - s < MIN_WORD and s + MIN_WORD <= hi:
            e = s + MIN_WORD
        out.append(Timed(s, max(e, s), True))
        prev = max(prev, e)
    return out


def _trim_quiet(samples: np.ndarray, start: float, end: float) -> tuple[float, float]:
    """Cut quiet frames off both ends of [start, end] (never below MIN_WORD, never all of it)."""
    n = int(ENERGY_FRAME * SAMPLE_RATE)
    a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
    frames = (b - a) // n
    if frames < 4:
        return start, end
    seg = samples[a : a + frames * n].astype(np.float64).reshape(frames, n)
    db = 10 * np.log10(np.mean(seg**2, axis=1) + 1e-10)
    loud = np.flatnonzero(db > db.max() - QUIET_DB)
    if len(loud) == 0:
        return start, end
    s = start + float(loud[0]) * ENERGY_FRAME
    e = start + float(loud[-1] + 1) * ENERGY_FRAME
    if e - s < MIN_WORD:
        return start, end
    return s, min(e, end)
