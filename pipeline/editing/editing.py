"""Pure edits over a transcript: what the user changed is stored beside the engine's words.

Every operation returns a new Transcript and never mutates its input, so the
app keeps earlier values for undo and can save any of them at any time. New
values share unchanged parts (the source words) with the old ones; nothing may
mutate a Transcript in place.

Word operations live here; caption operations in pipeline/captions/caption_editing.py;
the read side (effective words, cut words, keep-ranges) in pipeline/transcripts/edit_view.py.
All are importable from this module.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from pipeline.captions.caption_editing import between_neighbours, merge_captions, retime_caption, rewrap, split_caption
from pipeline.captions.captions import CaptionRules
from pipeline.transcripts.edit_view import (
    EditError,
    as_cuts,
    cut_ranges,
    cut_word_ids,
    effective_words,
    in_ranges,
    is_cut_at,
    keep_ranges,
    normalize_ranges,
    subtract_ranges,
    word_texts,
)
from pipeline.transcripts.transcript import Correction, Cut, Edits, Retime, Transcript, Word

__all__ = [
    "EditError",
    "apply_alignment",
    "correct_word",
    "cut_ranges",
    "cut_time",
    "cut_word_ids",
    "cut_words",
    "effective_words",
    "find_words",
    "insert_word",
    "is_cut_at",
    "keep_ranges",
    "merge_captions",
    "replace_words",
    "restore_time",
    "restore_words",
    "retime_caption",
    "retime_word",
    "split_caption",
    "word_texts",
]

MIN_WORD = 0.02  # s: the shortest a retimed word may be
SECONDS_PER_CHAR = 0.07  # rough speaking rate to size an inserted word in a long pause


def _with_edits(
    t: Transcript,
    *,
    corrections: list[Correction] | None = None,
    cuts: list[Cut] | None = None,
    inserted: list[Word] | None = None,
    retimed: list[Retime] | None = None,
) -> Transcript:
    """`t` with the given edit lists replaced (None: kept as they are)."""
    e = t.edits
    edits = dataclasses.replace(
        e,
        corrections=e.corrections if corrections is None else corrections,
        cuts=e.cuts if cuts is None else cuts,
        inserted=e.inserted if inserted is None else inserted,
        retimed=e.retimed if retimed is None else retimed,
    )
    return dataclasses.replace(t, edits=edits)


def _inserted_ids(t: Transcript) -> set[int]:
    return {w.id for w in t.edits.inserted}


def correct_word(t: Transcript, word_id: int, text: str, rules: CaptionRules = CaptionRules()) -> Transcript:
    """The word now reads `text` (its times are unchanged); captions showing it are re-wrapped.

    Correcting a word back to what the engine heard removes the correction.
    """
    text = " ".join(text.split())
    if not text:
        raise EditError("a word cannot be corrected to nothing (cut it instead)")
    inserted = next((w for w in t.edits.inserted if w.id == word_id), None)
    if inserted is not None:  # the user's own word: change it in place
        out = _with_edits(
            t, inserted=[dataclasses.replace(w, text=text) if w.id == word_id else w for w in t.edits.inserted]
        )
    else:
        original = next((w for w in t.words if w.id == word_id), None)
        if original is None:
            raise EditError(f"there is no word {word_id} in this transcript")
        corrections = [c for c in t.edits.corrections if c.word_id != word_id]
        if text != original.text:
            corrections.append(Correction(word_id, text))
        out = _with_edits(t, corrections=corrections)
    return dataclasses.replace(out, captions=rewrap(out, {word_id}, rules))


def cut_words(t: Transcript, word_ids: Iterable[int]) -> Transcript:
    """Remove words from the edit (they stay in the transcript, marked cut, and can be restored).

    Each run of neighbouring words becomes one cut from the first word's start
    to the last one's end; a run next to a word already cut also takes the
    pause between them, so deleting word by word removes the gaps too.
    Words the user inserted are not in the media: deleting one removes it.
    """
    ids = set(word_ids)
    if not ids:
        return t
    mine = ids & _inserted_ids(t)
    if mine:
        t = _remove_inserted(t, mine)
        ids -= mine
    words = [w for w in effective_words(t) if w.id not in _inserted_ids(t)]
    known = {w.id for w in words}
    unknown = ids - known
    if unknown:
        raise EditError(f"there is no word {min(unknown)} in this transcript")
    if not ids:
        return t
    already = cut_word_ids(t)
    new: list[tuple[float, float]] = []
    i = 0
    while i < len(words):
        if words[i].id not in ids:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and words[j + 1].id in ids:
            j += 1
        start, end = words[i].start, max(w.end for w in words[i : j + 1])
        if i > 0 and words[i - 1].id in already:
            start = min(start, words[i - 1].end)
        if j + 1 < len(words) and words[j + 1].id in already:
            end = max(end, words[j + 1].start)
        new.append((start, end))
        i = j + 1
    ranges = normalize_ranges([*cut_ranges(t), *new], t.media.duration or None)
    return _with_edits(t, cuts=as_cuts(ranges))


def restore_words(t: Transcript, word_ids: Iterable[int]) -> Transcript:
    """Put cut words back; the pauses beside them come back where their neighbour is kept."""
    ids = set(word_ids)
    cut = cut_word_ids(t)
    words = effective_words(t)
    holes = []
    for k, w in enumerate(words):
        if w.id not in ids or w.id not in cut:
            continue
        lo, hi = w.start, w.end
        if k > 0 and (words[k - 1].id not in cut or words[k - 1].id in ids):
            lo = min(lo, words[k - 1].end)
        if k + 1 < len(words) and (words[k + 1].id not in cut or words[k + 1].id in ids):
            hi = max(hi, words[k + 1].start)
        holes.append((lo, hi))
    if not holes:
        return t
    return _with_edits(t, cuts=as_cuts(subtract_ranges(cut_ranges(t), holes)))


def cut_time(t: Transcript, start: float, end: float) -> Transcript:
    """Cut a stretch of source time (a long pause, a cough), whatever words it holds."""
    if end - start <= 0:
        raise EditError("choose a stretch of time to cut")
    ranges = normalize_ranges([*cut_ranges(t), (start, end)], t.media.duration or None)
    return _with_edits(t, cuts=as_cuts(ranges))


def restore_time(t: Transcript, start: float, end: float) -> Transcript:
    return _with_edits(t, cuts=as_cuts(subtract_ranges(cut_ranges(t), [(start, end)])))


def retime_word(t: Transcript, word_id: int, start: float, end: float) -> Transcript:
    """Move a word's boundaries, kept between its neighbours; the caption edge follows a first/last word."""
    words = effective_words(t)
    k = next((i for i, w in enumerate(words) if w.id == word_id), None)
    if k is None:
        raise EditError(f"there is no word {word_id} in this transcript")
    w = words[k]
    lo = min(words[k - 1].end, w.start) if k > 0 else 0.0
    hi = max(words[k + 1].start, w.end) if k + 1 < len(words) else max(t.media.duration, w.end)
    start, end = max(lo, min(start, hi)), max(lo, min(end, hi))
    if end - start < MIN_WORD:
        raise EditError("a word cannot be shorter than 20 ms")
    inserted = _inserted_ids(t)
    if word_id in inserted:
        out = _with_edits(
            t,
            inserted=[dataclasses.replace(x, start=start, end=end) if x.id == word_id else x for x in t.edits.inserted],
        )
    else:
        source = next(x for x in t.words if x.id == word_id)
        retimed = [r for r in t.edits.retimed if r.word_id != word_id]
        if (start, end) != (source.start, source.end):
            retimed.append(Retime(word_id, start, end))
        out = _with_edits(t, retimed=retimed)
    captions = list(out.captions)
    for i, c in enumerate(captions):
        if word_id in c.word_ids:
            captions[i] = between_neighbours(
                captions,
                i,
                start if c.word_ids[0] == word_id else min(c.start, start),
                end if c.word_ids[-1] == word_id else max(c.end, end),
            )
    return dataclasses.replace(out, captions=captions)


def apply_alignment(t: Transcript, times: dict[int, tuple[float, float]]) -> Transcript:
    """Words get the times re-alignment found (recorded as aligned retimes; a hand retime stays), and
    captions holding them span their words again."""
    manual = {r.word_id for r in t.edits.retimed if not r.aligned}
    times = {wid: se for wid, se in times.items() if wid not in manual and se[1] > se[0]}
    if not times:
        return t
    source = {w.id: w for w in t.words}
    retimed = [r for r in t.edits.retimed if r.word_id not in times]
    retimed += [
        Retime(wid, s, e, aligned=True)
        for wid, (s, e) in times.items()
        if wid in source and (s, e) != (source[wid].start, source[wid].end)
    ]
    inserted = [
        dataclasses.replace(w, start=times[w.id][0], end=times[w.id][1], rough=False) if w.id in times else w
        for w in t.edits.inserted
    ]
    out = _with_edits(t, retimed=retimed, inserted=inserted)
    words = {w.id: w for w in effective_words(out)}
    captions = list(out.captions)
    for i, c in enumerate(captions):
        if not times.keys() & set(c.word_ids):
            continue
        mine = [words[wid] for wid in c.word_ids if wid in words]
        captions[i] = between_neighbours(captions, i, min(w.start for w in mine), max(w.end for w in mine))
    return dataclasses.replace(out, captions=captions)


def insert_word(
    t: Transcript, after_word_id: int | None, text: str, rules: CaptionRules = CaptionRules()
) -> tuple[Transcript, int]:
    """Add a word the engine missed after `after_word_id` (None: before the first word).

    It takes the pause between its neighbours (at most about as long as the
    word takes to say); with no pause it gets no duration of its own.
    """
    text = " ".join(text.split())
    if not text:
        raise EditError("type the word to insert")
    words = effective_words(t)
    if after_word_id is None:
        k = -1
    else:
        found = next((i for i, w in enumerate(words) if w.id == after_word_id), None)
        if found is None:
            raise EditError(f"there is no word {after_word_id} in this transcript")
        k = found
    prev = words[k] if k >= 0 else None
    nxt = words[k + 1] if k + 1 < len(words) else None
    lo = prev.end if prev else 0.0
    hi = nxt.start if nxt else max(t.media.duration, lo)
    hi = max(hi, lo)
    want = SECONDS_PER_CHAR * len(text)
    start, end = (lo, min(hi, lo + want)) if prev else (max(lo, hi - want), hi)
    new_id = max((w.id for w in words), default=-1) + 1
    neighbour = prev or nxt
    speaker = neighbour.speaker if neighbour else None
    word = Word(id=new_id, text=text, start=start, end=end, probability=None, speaker=speaker, rough=True)
    out = _with_edits(t, inserted=[*t.edits.inserted, word])
    captions = list(out.captions)
    anchor = prev or nxt
    for i, c in enumerate(captions):
        if anchor is not None and anchor.id in c.word_ids:
            pos = c.word_ids.index(anchor.id) + (1 if prev else 0)
            ids = [*c.word_ids[:pos], new_id, *c.word_ids[pos:]]
            # grown to hold the word, but never over a neighbouring caption (one may have been moved by hand)
            captions[i] = between_neighbours(captions, i, min(c.start, start), max(c.end, end), word_ids=ids)
            break
    out = dataclasses.replace(out, captions=captions)
    return dataclasses.replace(out, captions=rewrap(out, {new_id}, rules)), new_id


def _remove_inserted(t: Transcript, ids: set[int]) -> Transcript:
    captions = [
        dataclasses.replace(c, word_ids=[i for i in c.word_ids if i not in ids])
        if any(i in ids for i in c.word_ids)
        else c
        for c in t.captions
    ]
    out = _with_edits(t, inserted=[w for w in t.edits.inserted if w.id not in ids])
    out = dataclasses.replace(out, captions=[c for c in captions if c.word_ids])
    return dataclasses.replace(out, captions=rewrap(out, _touched(t, ids), CaptionRules()))


def _touched(t: Transcript, ids: set[int]) -> set[int]:
    """Word ids sharing a caption with any of `ids` (their captions need re-wrapping)."""
    out: set[int] = set()
    for c in t.captions:
        if any(i in ids for i in c.word_ids):
            out.update(i for i in c.word_ids if i not in ids)
    return out


_EDGE = "\"'“”‘’«»()[]{}¿¡.,;:!?…-–—"


def _core(text: str) -> str:
    return text.strip(_EDGE)


def find_words(t: Transcript, query: str, *, case_sensitive: bool = False, whole_word: bool = False) -> list[int]:
    """Ids of the words matching `query`, in time order; a query of several words matches runs of words.

    whole_word compares words without their punctuation; otherwise the query
    may be part of a word (single-word queries) or of a run's first/last word.
    """
    terms = query.split()
    if not terms:
        return []
    words = effective_words(t)
    fold = (lambda s: s) if case_sensitive else str.casefold
    terms = [fold(x) for x in terms]
    texts = [fold(w.text) for w in words]
    out: list[int] = []
    n = len(terms)
    i = 0
    while i + n <= len(words):
        if _run_matches(texts[i : i + n], terms, whole_word):
            out.extend(w.id for w in words[i : i + n])
            i += n
        else:
            i += 1
    return out


def _run_matches(texts: list[str], terms: list[str], whole_word: bool) -> bool:
    if whole_word:
        return all(_core(a) == _core(b) for a, b in zip(texts, terms))
    if len(terms) == 1:
        return terms[0] in texts[0]
    inner_ok = all(_core(a) == _core(b) for a, b in zip(texts[1:-1], terms[1:-1]))
    return inner_ok and _core(texts[0]).endswith(_core(terms[0])) and _core(texts[-1]).startswith(_core(terms[-1]))


def replace_words(
    t: Transcript,
    query: str,
    replacement: str,
    *,
    case_sensitive: bool = False,
    whole_word: bool = False,
    rules: CaptionRules = CaptionRules(),
) -> Transcript:
    """Correct every match of `query` to read `replacement`; punctuation around a match is kept.

    A run of several words is replaced word for word, so its replacement must
    have as many words (a single word may become several: "gonna" → "going to").
    """
    terms, repl = query.split(), replacement.split()
    if not terms:
        raise EditError("type what to find")
    if not repl:
        raise EditError("to remove words, cut them instead of replacing them with nothing")
    if len(terms) > 1 and len(repl) != len(terms):
        raise EditError(f"replace {len(terms)} words with {len(terms)} words (cut or insert words for the rest)")
    ids = find_words(t, query, case_sensitive=case_sensitive, whole_word=whole_word)
    texts = word_texts(t)
    flags = 0 if case_sensitive else re.IGNORECASE
    out = t
    for k, wid in enumerate(ids):
        if len(terms) == 1:
            new = (
                re.sub(re.escape(terms[0]), lambda _m: replacement.strip(), texts[wid], count=1, flags=flags)
                if not whole_word
                else _swap_core(texts[wid], replacement.strip())
            )
        else:
            new = _swap_core(texts[wid], repl[k % len(terms)])
        out = correct_word(out, wid, new, rules)
    return out


def _swap_core(text: str, core: str) -> str:
    """Replace a word's letters, keeping the punctuation around them."""
    c = _core(text)
    if not c:
        return core
    i = text.find(c)
    return text[:i] + core + text[i + len(c) :]


def edits_are_empty(e: Edits) -> bool:
    return not (e.corrections or e.cuts or e.inserted or e.retimed)


def is_cut(t: Transcript, word: Word) -> bool:
    return in_ranges((word.start + word.end) / 2, cut_ranges(t), t.media.duration)
