"""Whisper emits sub-word tokens; readers, captions and editors need words.

A token whose bytes begin with a space starts a new word; anything else
(sub-words, punctuation, the rest of a multi-byte character) joins the word
before it. For languages written without spaces each complete character run
is its own word, with punctuation still attached to the word before.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pipeline.engines.base import EngineWord


class HasTimes(Protocol):
    """What the time fixes below need of a word: an engine's word or a transcript's."""

    start: float
    end: float


W = TypeVar("W", bound=HasTimes)


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
            if tok.data.startswith(b" ") or (no_space and _complete_utf8(so_far) and not _is_punctuation(tok.data)):
                flush()
        current.append(tok)
    flush()
    return words


MIN_WORD = 0.05  # seconds: the least a word lasts once its times are settled


def make_monotonic(words: list[W], duration: float) -> list[W]:
    """Clamp times into [0, duration], starts never going back, ends never before starts; then no word
    lasts less than MIN_WORD where the room allows."""
    prev = 0.0
    for w in words:
        start = min(max(w.start, prev, 0.0), duration)
        end = min(max(w.end, start), duration)
        w.start, w.end = start, end
        prev = start
    return give_words_length(words, duration)


def give_words_length(words: list[W], duration: float, min_len: float = MIN_WORD) -> list[W]:
    """A word of (near) zero length, e.g. whisper's last token of a segment or a word clamped to the end
    of a VAD region, grows into the gap after it, else into the head of the next word, else into the
    tail of the word before (never more than half of a neighbour, never overlapping one). Starts stay
    sorted. Real word boundaries come from alignment; this only keeps every word cuttable."""
    for i, w in enumerate(words):
        if i and w.start < words[i - 1].start:  # the word before moved into a stack of equal starts
            w.start = words[i - 1].start
        w.end = max(w.end, w.start)
        if w.end - w.start >= min_len:
            continue
        nxt = words[i + 1] if i + 1 < len(words) else None
        w.end = max(w.end, min(w.start + min_len, max(nxt.start, w.start) if nxt else duration))
        if nxt is not None and w.end - w.start < min_len:  # the head of the next word, at most half of it
            w.end = max(w.end, min(w.start + min_len, nxt.start + max(0.0, nxt.end - nxt.start) / 2))
            nxt.start = max(nxt.start, w.end)
            nxt.end = max(nxt.end, nxt.start)
        short = min_len - (w.end - w.start)
        if short > 0 and i > 0:
            prev = words[i - 1]
            # never more than half of what the word before spans up to this one's start
            w.start = max(w.start - short, prev.start + (w.start - prev.start) / 2)
            prev.end = min(prev.end, w.start)
    return words
