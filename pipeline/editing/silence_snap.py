"""Move the cut points of a keep-list into the quietest moment nearby.

Word timings from a recogniser are rough (tens of milliseconds), so cutting exactly
at them clips the start of a word or leaves the tail of a deleted one. Each cut point
(a keep-range edge that borders a cut) moves, within the window the words allow, to the
moment with the lowest Silero speech probability; ties (or no VAD) go to the lowest
short-window RMS energy, and remaining ties to the point nearest the original edge.

The window of an edge is bounded by its neighbouring words: a range start may move
left no further than the end of the cut word before it and right no further than the
start of the first kept word; a range end likewise. So a kept word is never clipped and
a cut word never leaks. Edges also move at most `max_shift`, and edges at the very start
or end of the media stay where they are (nothing was cut there).

Inconsistent input is repaired first, kept words taking priority:
- ranges are clamped to [0, duration]; empty ones dropped; overlapping ones merged;
- words of zero length carry no audio and are ignored;
- a kept word partly or wholly outside the ranges extends them (or gets its own range);
- the part of a cut word not covered by a kept word is removed from the ranges, which
  may split a range in two (timings where a kept and a cut word overlap keep the overlap).
After snapping, a range can only shrink where it holds no kept word: ranges left shorter
than `min_range` are dropped, and ranges that come to touch are merged. Ranges never
invert: each edge's window lies between the neighbouring edges.
All functions are pure; `snap_media` is the convenience wrapper that decodes the audio.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Interval = tuple[float, float]

SAMPLE_RATE = 16_000
VAD_FRAME = 512 / SAMPLE_RATE  # one Silero decision per 32 ms


@dataclass(frozen=True)
class SnapParams:
    max_shift: float = 0.25  # s: an edge moves at most this far
    step: float = 0.005  # s between candidate points
    rms_window: float = 0.02  # s of audio around a candidate measured for energy
    vad_tolerance: float = 0.05  # speech probabilities this close to the lowest count as equal
    energy_tolerance_db: float = 1.0  # energies this close to the lowest count as equal
    min_range: float = 0.02  # s: word-free ranges shorter than this after snapping are dropped


def _merge(intervals: Sequence[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _subtract(ranges: list[Interval], holes: list[Interval]) -> list[Interval]:
    """Ranges minus the open interiors of `holes` (both sorted and merged)."""
    out: list[Interval] = []
    for a, b in ranges:
        pieces = [(a, b)]
        for h0, h1 in holes:
            if h1 <= a or h0 >= b:
                continue
            nxt = []
            for p0, p1 in pieces:
                if h1 <= p0 or h0 >= p1:
                    nxt.append((p0, p1))
                    continue
                if h0 > p0:
                    nxt.append((p0, h0))
                if h1 < p1:
                    nxt.append((h1, p1))
            pieces = nxt
        out.extend(p for p in pieces if p[1] > p[0])
    return out


def _clamp(intervals: Sequence[Interval], duration: float) -> list[Interval]:
    out = []
    for a, b in intervals:
        a, b = float(a), float(b)
        if b < a:
            raise ValueError(f"interval ends before it starts: ({a}, {b})")
        a, b = min(max(a, 0.0), duration), min(max(b, 0.0), duration)
        out.append((a, b))
    return out


def _prepare(
    keep: Sequence[Interval], kept_words: Sequence[Interval], cut_words: Sequence[Interval], duration: float
) -> tuple[list[Interval], list[Interval], list[Interval]]:
    """(consistent ranges, merged kept words, the parts of cut words that must stay out)."""
    kept = _merge([w for w in _clamp(kept_words, duration) if w[1] > w[0]])
    ranges = _merge([r for r in _clamp(keep, duration) if r[1] > r[0]] + kept)
    holes = _merge(_subtract(_merge([c for c in _clamp(cut_words, duration) if c[1] > c[0]]), kept))
    return _subtract(ranges, holes), kept, holes


def make_consistent(
    keep: Sequence[Interval], kept_words: Sequence[Interval], cut_words: Sequence[Interval], duration: float
) -> list[Interval]:
    """Keep-ranges that contain every kept word and no part of a cut word not also kept."""
    return _prepare(keep, kept_words, cut_words, duration)[0]


def _rms_db(samples: np.ndarray, sample_rate: int, times: np.ndarray, window: float) -> np.ndarray:
    """Energy (dB) of `window` seconds of audio centred on each time."""
    half = max(1, round(window * sample_rate / 2))
    centre = np.clip(np.round(times * sample_rate).astype(np.int64), 0, max(0, len(samples) - 1))
    lo = max(0, int(centre.min()) - half)
    hi = min(len(samples), int(centre.max()) + half + 1)
    seg = samples[lo:hi].astype(np.float64)
    csum = np.concatenate([[0.0], np.cumsum(seg * seg)])
    a = np.clip(centre - half - lo, 0, len(seg))
    b = np.clip(centre + half - lo, 0, len(seg))
    n = np.maximum(b - a, 1)
    return 10 * np.log10((csum[b] - csum[a]) / n + 1e-12)


def quietest_point(
    lo: float,
    hi: float,
    origin: float,
    samples: np.ndarray,
    sample_rate: int,
    vad_probs: np.ndarray | None,
    params: SnapParams,
    vad_frame: float = VAD_FRAME,
) -> float:
    """The candidate in [lo, hi] with the least speech, then the least energy, then nearest `origin`."""
    if hi - lo < 1e-9 or len(samples) == 0:
        return min(max(origin, lo), hi)
    n = int(np.floor((hi - lo) / params.step)) + 1
    times = np.unique(np.concatenate([lo + params.step * np.arange(n), [hi, min(max(origin, lo), hi)]]))
    times = times[(times >= lo) & (times <= hi)]
    alive = np.ones(len(times), dtype=bool)
    if vad_probs is not None and len(vad_probs):
        idx = np.clip((times / vad_frame).astype(np.int64), 0, len(vad_probs) - 1)
        p = vad_probs[idx]
        alive &= p <= p.min() + params.vad_tolerance
    energy = _rms_db(samples, sample_rate, times, params.rms_window)
    alive &= energy <= energy[alive].min() + params.energy_tolerance_db
    candidates = times[alive]
    return float(candidates[np.argmin(np.abs(candidates - origin))])


def snap_keep_ranges(
    keep: Sequence[Interval],
    kept_words: Sequence[Interval],
    cut_words: Sequence[Interval],
    samples: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    *,
    vad_probs: np.ndarray | None = None,
    vad_frame: float = VAD_FRAME,
    duration: float | None = None,
    params: SnapParams = SnapParams(),
) -> list[Interval]:
    """Keep-ranges with every cut point moved to the quietest allowed moment (see module doc).

    `samples`: mono float audio of the media at `sample_rate`; `vad_probs`: optional speech
    probability per `vad_frame` seconds; `duration`: the media's length (default: the audio's).
    """
    total = float(duration) if duration is not None else len(samples) / sample_rate
    ranges, kept, holes = _prepare(keep, kept_words, cut_words, total)
    # All three lists are sorted and disjoint: neighbours are found by bisection.
    word_starts = [w[0] for w in kept]
    hole_starts = [h[0] for h in holes]
    hole_ends = [h[1] for h in holes]
    out: list[Interval] = []
    prev_end = 0.0
    for i, (a, b) in enumerate(ranges):
        # Kept words starting in [a, b) lie wholly inside: the ranges were built to contain them.
        inside = kept[bisect.bisect_left(word_starts, a) : bisect.bisect_left(word_starts, b)]
        first_word = inside[0][0] if inside else b
        last_word = inside[-1][1] if inside else a
        next_start = ranges[i + 1][0] if i + 1 < len(ranges) else total
        if a <= 0.0:
            new_a = a
        else:
            k = bisect.bisect_right(hole_ends, a)  # holes ending at or before a: the last one bounds the edge
            cut_before = hole_ends[k - 1] if k else 0.0
            lo = max(prev_end, a - params.max_shift, cut_before, 0.0)
            hi = min(a + params.max_shift, first_word, b)
            # The original edge is always allowed (the ranges are consistent); keep it in the window.
            new_a = quietest_point(min(lo, a), max(hi, a), a, samples, sample_rate, vad_probs, params, vad_frame)
        if b >= total:
            new_b = b
        else:
            lo = max(new_a, b - params.max_shift, last_word)
            k = bisect.bisect_left(hole_starts, b)  # the first hole starting at or after b
            cut_after = hole_starts[k] if k < len(holes) else total
            hi = min(b + params.max_shift, next_start, cut_after, total)
            new_b = quietest_point(min(lo, b), max(hi, b), b, samples, sample_rate, vad_probs, params, vad_frame)
        prev_end = new_b
        if not inside and (new_b - new_a < params.min_range or new_b <= new_a):
            continue  # a word-free range squeezed to (almost) nothing
        if out and new_a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], new_b))
        else:
            out.append((new_a, new_b))
    return out


def snap_media(
    media: str | Path,
    keep: Sequence[Interval],
    kept_words: Sequence[Interval],
    cut_words: Sequence[Interval],
    *,
    vad_model: str | Path | None = None,
    duration: float | None = None,
    params: SnapParams = SnapParams(),
) -> list[Interval]:
    """snap_keep_ranges on a media file: decodes its audio, runs Silero VAD if a model is given."""
    from audio.decode import decode_audio

    audio = decode_audio(media, sample_rate=SAMPLE_RATE)
    probs = None
    if vad_model is not None:
        from audio.vad import SileroVad

        probs = SileroVad(vad_model).probabilities(audio.samples)
    total = duration if duration is not None else (audio.info.duration or audio.duration)
    return snap_keep_ranges(
        keep, kept_words, cut_words, audio.samples, SAMPLE_RATE, vad_probs=probs, duration=total, params=params
    )
