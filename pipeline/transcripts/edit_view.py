"""How an edited transcript reads and plays: the engine's words with the user's edits applied.

Edits live beside the source words (corrections, retimes, inserted words,
cuts); these pure functions compute the view the editor, exports and the
renderer share. Nothing here changes a transcript.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable

from audio.errors import HarkError
from pipeline.transcripts.transcript import Cut, Transcript, Word

Range = tuple[float, float]
EPS = 1e-6  # seconds; shorter pieces of time are not worth a cut or a keep-range


class EditError(HarkError, ValueError):
    """An edit that cannot be made; the message is for the user."""


def word_texts(t: Transcript) -> dict[int, str]:
    """Every word's text as the user now reads it (corrections applied), inserted words included."""
    texts = {w.id: w.text for w in t.words}
    texts.update((w.id, w.text) for w in t.edits.inserted)
    for c in t.edits.corrections:
        if c.word_id in texts:
            texts[c.word_id] = c.text
    return texts


def effective_words(t: Transcript) -> list[Word]:
    """The words as the user now sees them, in time order: corrections, retimes and insertions applied.

    Source words are returned as they are when nothing changed them, so this is
    cheap on a large transcript with few edits.
    """
    texts = {c.word_id: c.text for c in t.edits.corrections}
    times = {r.word_id: (r.start, r.end) for r in t.edits.retimed}
    out: list[Word] = []
    for w in [*t.words, *t.edits.inserted]:
        text = texts.get(w.id, w.text)
        start, end = times.get(w.id, (w.start, w.end))
        if text != w.text or start != w.start or end != w.end:
            # times set by hand or by re-alignment are no longer the recogniser's guess
            w = dataclasses.replace(w, text=text, start=start, end=end, rough=w.rough and w.id not in times)
        out.append(w)
    if t.edits.inserted or t.edits.retimed:
        order = {w.id: i for i, w in enumerate(out)}
        out.sort(key=lambda w: (w.start, w.end, order[w.id]))
    return out


def normalize_ranges(ranges: Iterable[Range], duration: float | None = None) -> list[Range]:
    """Sorted, merged (touching ones too), clipped to [0, duration], without empty pieces."""
    clipped = []
    for s, e in ranges:
        # A range within EPS of the media's start or end reaches it: the sliver left would be too short
        # to keep, and dropping it from both cuts and keep-ranges would lose time.
        s = 0.0 if s <= EPS else s
        if duration is not None:
            e = duration if e >= duration - EPS else e
        if e - s > EPS:
            clipped.append((s, e))
    clipped.sort()
    merged: list[Range] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1] + EPS:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def subtract_ranges(ranges: list[Range], holes: Iterable[Range]) -> list[Range]:
    out = list(ranges)
    for hs, he in holes:
        nxt: list[Range] = []
        for s, e in out:
            if he <= s or hs >= e:
                nxt.append((s, e))
                continue
            if hs - s > EPS:
                nxt.append((s, hs))
            if e - he > EPS:
                nxt.append((he, e))
        out = nxt
    return normalize_ranges(out)


def cut_ranges(t: Transcript) -> list[Range]:
    """The cuts in source seconds: sorted, merged, inside the media."""
    return normalize_ranges(((c.start, c.end) for c in t.edits.cuts), t.media.duration or None)


def as_cuts(ranges: list[Range]) -> list[Cut]:
    return [Cut(s, e) for s, e in ranges]


def keep_ranges(t: Transcript) -> list[Range]:
    """Source-media seconds that stay in the edit: the complement of the cuts."""
    return subtract_ranges([(0.0, t.media.duration)], cut_ranges(t)) if t.media.duration > 0 else []


def _midpoint(w: Word) -> float:
    return (w.start + w.end) / 2


def in_ranges(x: float, ranges: list[Range], end: float | None = None) -> bool:
    """x lies in one of the sorted `ranges`, each taken as [start, end): a moment where a cut ends
    belongs to what is kept after it. A range reaching `end` (the media's end) includes it."""
    i = bisect.bisect_right(ranges, (x, float("inf"))) - 1
    if i < 0:
        return False
    s, e = ranges[i]
    return s <= x < e or (end is not None and x == e and e >= end)


def cut_word_ids(t: Transcript) -> set[int]:
    """Words removed from the edit: those whose middle lies inside a cut."""
    cuts = cut_ranges(t)
    if not cuts:
        return set()
    return {w.id for w in effective_words(t) if in_ranges(_midpoint(w), cuts, t.media.duration)}


def is_cut_at(t: Transcript, time: float) -> bool:
    return in_ranges(time, cut_ranges(t), t.media.duration)
