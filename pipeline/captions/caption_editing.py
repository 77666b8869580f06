"""Pure caption edits: split, merge, retime, and re-wrapping after a word changed.

Captions are derived from words and stored so hand-tuned ones survive; these
operations return a new caption list (new Caption objects where changed) and
never mutate their input.
"""

from __future__ import annotations

import dataclasses

from pipeline.captions.captions import CaptionRules, wrap_lines
from pipeline.transcripts.edit_view import EditError, effective_words, word_texts
from pipeline.transcripts.transcript import NO_SPACE_LANGUAGES, Caption, Transcript

MIN_CAPTION = 0.1  # s: the shortest a caption may be retimed to


def between_neighbours(
    captions: list[Caption], i: int, start: float, end: float, *, word_ids: list[int] | None = None
) -> Caption:
    """Caption i spanning start..end (and holding `word_ids`, when given), clipped so it never overlaps
    the captions beside it."""
    if i > 0:
        start = max(start, captions[i - 1].end)
    if i + 1 < len(captions):
        end = min(end, captions[i + 1].start)
    c = captions[i]
    return dataclasses.replace(
        c, start=start, end=max(end, start), word_ids=c.word_ids if word_ids is None else word_ids
    )


def _sep(t: Transcript) -> str:
    return "" if (t.language or "") in NO_SPACE_LANGUAGES else " "


def wrap_caption(texts: list[str], rules: CaptionRules, sep: str) -> list[str]:
    """Lines for a caption's words; when they do not fit the rules, as few extra lines as needed."""
    lines = wrap_lines(texts, rules, sep)
    extra = rules.max_lines
    while lines is None and extra < len(texts):
        extra += 1
        lines = wrap_lines(texts, dataclasses.replace(rules, max_lines=extra), sep)
    return lines or [sep.join(texts)]


def rewrap(t: Transcript, word_ids: set[int], rules: CaptionRules = CaptionRules()) -> list[Caption]:
    """The captions, with those showing any of `word_ids` re-wrapped from the words' current text."""
    texts = word_texts(t)
    sep = _sep(t)
    out = []
    for c in t.captions:
        if any(i in word_ids for i in c.word_ids):
            shown = [texts[i] for i in c.word_ids if i in texts]
            c = dataclasses.replace(c, lines=wrap_caption(shown, rules, sep))
        out.append(c)
    return out


def _caption(t: Transcript, index: int) -> Caption:
    if not 0 <= index < len(t.captions):
        raise EditError(f"there is no caption {index + 1}")
    return t.captions[index]


def split_caption(t: Transcript, index: int, before_word_id: int, rules: CaptionRules = CaptionRules()) -> Transcript:
    """Split caption `index` so that `before_word_id` starts a new caption."""
    c = _caption(t, index)
    if before_word_id not in c.word_ids:
        raise EditError("that word is not in this caption")
    k = c.word_ids.index(before_word_id)
    if k == 0:
        raise EditError("a caption cannot be split before its first word")
    times = {w.id: w for w in effective_words(t)}
    first_ids, second_ids = c.word_ids[:k], c.word_ids[k:]
    boundary = times[before_word_id].start
    # Both halves stay inside the caption's own span, which a retime may have moved off its words.
    first_end = min(max(min(max(times[i].end for i in first_ids), boundary), c.start), c.end)
    second_start = min(max(boundary, first_end), c.end)
    texts = word_texts(t)
    sep = _sep(t)
    a = dataclasses.replace(
        c,
        end=first_end,
        word_ids=first_ids,
        lines=wrap_caption([texts[i] for i in first_ids], rules, sep),
    )
    b = dataclasses.replace(
        c,
        start=second_start,
        word_ids=second_ids,
        lines=wrap_caption([texts[i] for i in second_ids], rules, sep),
    )
    return dataclasses.replace(t, captions=[*t.captions[:index], a, b, *t.captions[index + 1 :]])


def merge_captions(t: Transcript, index: int, rules: CaptionRules = CaptionRules()) -> Transcript:
    """Merge caption `index` with the one after it (same speaker only)."""
    a = _caption(t, index)
    if index + 1 >= len(t.captions):
        raise EditError("the last caption has no next caption to merge with")
    b = t.captions[index + 1]
    if a.speaker != b.speaker:
        raise EditError("captions of different speakers cannot be merged")
    ids = [*a.word_ids, *b.word_ids]
    texts = word_texts(t)
    merged = Caption(
        start=a.start,
        end=max(a.end, b.end),
        word_ids=ids,
        lines=wrap_caption([texts[i] for i in ids if i in texts], rules, _sep(t)),
        speaker=a.speaker,
    )
    return dataclasses.replace(t, captions=[*t.captions[:index], merged, *t.captions[index + 2 :]])


def retime_caption(t: Transcript, index: int, start: float, end: float) -> Transcript:
    """Move a caption's start and end, kept between its neighbours and inside the media."""
    c = _caption(t, index)
    lo = t.captions[index - 1].end if index > 0 else 0.0
    hi = t.captions[index + 1].start if index + 1 < len(t.captions) else max(t.media.duration, c.end)
    start, end = max(lo, min(start, hi)), max(lo, min(end, hi))
    if end - start < MIN_CAPTION:
        raise EditError("a caption cannot be shorter than 0.1 s (or overlap its neighbours)")
    return dataclasses.replace(
        t, captions=[*t.captions[:index], dataclasses.replace(c, start=start, end=end), *t.captions[index + 1 :]]
    )
