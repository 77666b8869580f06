"""Pure edits over a transcript: what the user changed is stored beside the engine's words.

Each operation returns a new Transcript and never mutates its input, so the
app can keep the previous value for undo and save either at any time.
"""
from __future__ import annotations

import copy

from pipeline.captions import CaptionRules, wrap_lines
from pipeline.transcript import NO_SPACE_LANGUAGES, Correction, Transcript


def word_texts(t: Transcript) -> dict[int, str]:
    """Every word's text as the user now reads it (corrections applied)."""
    texts = {w.id: w.text for w in t.words}
    for c in t.edits.corrections:
        if c.word_id in texts:
            texts[c.word_id] = c.text
    return texts


def correct_word(t: Transcript, word_id: int, text: str, rules: CaptionRules = CaptionRules()) -> Transcript:
    """The word now reads `text` (its times are unchanged); captions showing it are re-wrapped.

    Correcting a word back to what the engine heard removes the correction.
    """
    text = " ".join(text.split())
    if not text:
        raise ValueError("a word cannot be corrected to nothing (cut it instead)")
    original = next((w for w in t.words if w.id == word_id), None)
    if original is None:
        raise KeyError(f"no word with id {word_id}")
    out = copy.deepcopy(t)
    out.edits.corrections = [c for c in out.edits.corrections if c.word_id != word_id]
    if text != original.text:
        out.edits.corrections.append(Correction(word_id, text))
    texts = word_texts(out)
    sep = "" if (t.language or "") in NO_SPACE_LANGUAGES else " "
    for cap in out.captions:
        if word_id in cap.word_ids:
            shown = [texts[i] for i in cap.word_ids if i in texts]
            cap.lines = wrap_lines(shown, rules, sep) or [sep.join(shown)]
    return out
