"""Whisper emits sub-word tokens; readers, captions and editors need words.

A token whose bytes begin with a space starts a new word; anything else
(sub-words, punctuation, the rest of a multi-byte character) joins the word
before it. For languages written without spaces each complete character run
is its own word, with punctuation still attached to the word before.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from pipeline.engines.base import EngineWord


@dataclass
class Token:
    data: bytes  # raw token bytes (may hold part of a UTF-8 character)
    start: float  # seconds
    end: float
    probability: float


def _is_punctuation(data: bytes) -> bool:
    text = data.decode("utf-8", "ignore").strip()
    return bool(text) and all(unicodedata.category(ch).startswith("P") for ch in text)


def _complete_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def group_tokens(tokens: list[Token], *, no_space: bool = False) -> list[EngineWord]:
    words: list[EngineWord] = []
    current: list[Token] = []

    def flush() -> None:
        if not current:
            return
        text = b"".join(t.data for t in current).decode("utf-8", "replace").strip()
        if text:
            probs = [t.probability for t in current]
            words.append(
                EngineWord(
                    text=text,
                    start=current[0].start,
                    end=max(t.end for t in current),
                    probability=sum(probs) / len(probs),
                )
            )
        current.clear()

    for tok in tokens:
        if not tok.data:
            continue
        if current:
            so_far = b"".join(t.data for t in current)
            if tok.data.startswith(b" "):
                flush()
            elif no_space and _complete_utf8(so_far) and not _is_punctuation(tok.data):
                flush()
        current.append(tok)
    flush()
    return words


def make_monotonic(words: list[EngineWord], duration: float) -> list[EngineWord]:
    """Clamp times into [0, duration], starts never going back, ends never before starts."""
    prev = 0.0
    for w in words:
        start = min(max(w.start, prev, 0.0), duration)
        end = min(max(w.end, start), duration)
        w.start, w.end = start, end
        prev = start
    return words
