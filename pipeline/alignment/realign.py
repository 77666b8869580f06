"""After a correction, the corrected caption's words are aligned again: text changed, times follow.

`changed_captions` finds the captions whose text an edit changed; `realign` aligns their words
(corrections applied) against the source audio and returns new times by word id; the editor
applies them with `pipeline.editing.editing.apply_alignment`, which records them as retimes (so undo
and the project file keep the engine's times beside them).
"""

from __future__ import annotations

import threading
from pathlib import Path

from pipeline.alignment.aligner import Aligner, WordSpan
from pipeline.alignment.file_align import align_file
from pipeline.transcripts.edit_view import effective_words, word_texts
from pipeline.transcripts.transcript import Transcript


def changed_captions(before: Transcript, after: Transcript) -> list[int]:
    """Indexes of `after`'s captions holding a word whose text differs between the two."""
    old, new = word_texts(before), word_texts(after)
    changed = {wid for wid, text in new.items() if old.get(wid) != text}
    return [i for i, c in enumerate(after.captions) if changed.intersection(c.word_ids)]


def realign(
    media: str | Path, t: Transcript, captions: list[int], aligner: Aligner, *, cancel: threading.Event | None = None
) -> dict[int, tuple[float, float]]:
    """New (start, end) for the words of `captions` that the aligner placed; rough ones are left out."""
    words = {w.id: w for w in effective_words(t)}
    manual = {r.word_id for r in t.edits.retimed if not r.aligned}
    ids = sorted(
        {wid for i in captions for wid in t.captions[i].word_ids if wid in words},
        key=lambda wid: (words[wid].start, wid),
    )
    if not ids:
        return {}
    spans = [WordSpan(words[wid].text, words[wid].start, words[wid].end) for wid in ids]
    timed = align_file(media, spans, aligner, cancel=cancel)
    return {wid: (tm.start, tm.end) for wid, tm in zip(ids, timed) if not tm.rough and wid not in manual}
