"""Times in the trimmed output: source seconds → output seconds, and the transcript re-timed to match.

The renderer keeps `keep` ranges of the source back to back, so a source time
inside keep-range k lands at (sum of the earlier ranges) + (time - k.start); a
time inside a cut lands where the next kept range begins. Captions lose their
cut words, close the gap the cut left, and are dropped when nothing of them is
kept.
"""

from __future__ import annotations

import bisect
import dataclasses
from itertools import accumulate

from pipeline.captions.caption_editing import wrap_caption
from pipeline.captions.captions import CaptionRules
from pipeline.transcripts.edit_view import Range, cut_word_ids, effective_words
from pipeline.transcripts.transcript import NO_SPACE_LANGUAGES, Caption, Edits, MediaRef, Transcript, Word

MIN_SHOWN = 0.05  # s: an output caption is never shorter than this (when the output allows)


class OutputClock:
    """Maps source-media seconds to seconds of the trimmed output."""

    def __init__(self, keep: list[Range]) -> None:
        self.keep = keep
        self._starts = [s for s, _ in keep]
        self._offsets = [0.0, *accumulate(e - s for s, e in keep)]
        self.total = self._offsets[-1]

    def range_of(self, t: float) -> int | None:
        """Index of the keep-range holding source time `t`, or None when it is cut."""
        k = bisect.bisect_right(self._starts, t) - 1
        return k if k >= 0 and t <= self.keep[k][1] else None

    def to_output(self, t: float) -> float:
        k = bisect.bisect_right(self._starts, t) - 1
        if k < 0:
            return 0.0
        s, e = self.keep[k]
        return self._offsets[k] + (min(t, e) - s)


def output_transcript(
    t: Transcript, keep: list[Range], *, media: MediaRef | None = None, rules: CaptionRules = CaptionRules()
) -> Transcript:
    """The transcript of the trimmed output: kept words and captions in output time, edits applied.

    The words kept are those the edit does not cut (pipeline.transcripts.edit_view.cut_word_ids);
    `keep` (the cut points as rendered, e.g. moved into silence) gives their
    times. The result has no edits left: corrections are its text, nothing is cut.
    """
    clock = OutputClock(keep)
    words: list[Word] = []
    kept: dict[int, Word] = {}
    cut = cut_word_ids(t)
    for w in effective_words(t):
        if w.id in cut:  # what the user sees struck through is gone, whatever the snapping did
            continue
        k = clock.range_of((w.start + w.end) / 2)
        s, e = keep[k] if k is not None else (w.start, w.end)
        start, end = clock.to_output(max(w.start, s)), clock.to_output(min(w.end, e))
        nw = dataclasses.replace(w, start=start, end=max(start, end))
        words.append(nw)
        kept[w.id] = nw
    words.sort(key=lambda w: w.start)
    sep = "" if (t.language or "") in NO_SPACE_LANGUAGES else " "
    captions: list[Caption] = []
    for c in t.captions:
        ids = [i for i in c.word_ids if i in kept]
        if not ids:
            continue
        first, last = kept[ids[0]], kept[ids[-1]]
        # The caption's own edges where they are kept, else its first/last kept word's.
        start = clock.to_output(c.start) if clock.range_of(c.start) is not None else first.start
        end = clock.to_output(c.end) if clock.range_of(c.end) is not None else last.end
        start, end = min(start, first.start), max(end, last.end)
        lines = c.lines if ids == c.word_ids else wrap_caption([kept[i].text for i in ids], rules, sep)
        captions.append(Caption(start=start, end=end, word_ids=ids, lines=list(lines), speaker=c.speaker))
    _untangle(captions, clock.total)
    return dataclasses.replace(
        t,
        media=media or dataclasses.replace(t.media, duration=clock.total),
        words=words,
        captions=captions,
        edits=Edits(),
        warnings=list(t.warnings),
    )


def _untangle(captions: list[Caption], total: float) -> None:
    """Ordered, non-overlapping, inside [0, total], each shown at least a moment."""
    captions.sort(key=lambda c: c.start)
    for i, c in enumerate(captions):
        c.start = min(max(c.start, captions[i - 1].end if i else 0.0), total)
        nxt = captions[i + 1].start if i + 1 < len(captions) else total
        c.end = min(max(c.end, c.start + MIN_SHOWN), max(nxt, c.start), total)
