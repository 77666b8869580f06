"""The transcript model: words with source-media times, captions over them, provenance.

Word times always refer to the source media. Later edits (corrections, cuts)
are stored beside the words, never by rewriting their times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Languages written without spaces between words.
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "km", "yue", "bo"})


@dataclass
class Word:
    id: int  # stable within a transcript; edits refer to words by id
    text: str  # the word as written, punctuation attached, no surrounding spaces
    start: float  # seconds in the source media
    end: float
    probability: float | None = None  # 0..1, None when the engine gives none
    speaker: str | None = None
    rough: bool = False  # times from the recogniser only: forced alignment could not place this word
    suspect: str | None = None  # why the recogniser may have invented this word (its segment failed whisper's tests)


@dataclass
class Caption:
    start: float
    end: float
    word_ids: list[int]
    lines: list[str]  # the caption's text as displayed, one string per line
    speaker: str | None = None

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass
class MediaRef:
    path: str
    duration: float  # seconds of decoded audio
    sha256: str  # of the file's bytes: finds the media again if it moves
    size: int | None = None


@dataclass
class Provenance:
    engine: str  # "whisper.cpp" or "pocketsphinx"
    engine_version: str
    model: str  # catalog name or file name
    model_sha256: str | None = None
    options: dict[str, object] = field(default_factory=dict)
    hark_version: str = ""


@dataclass
class Correction:
    word_id: int
    text: str


@dataclass
class Cut:
    start: float  # source-media seconds removed from the edit
    end: float


@dataclass
class Retime:
    word_id: int  # the word now spans start..end (source seconds) instead of its engine times
    start: float
    end: float
    aligned: bool = False  # set by re-alignment after a correction, not by hand (hand retimes are never overridden)


@dataclass
class Edits:
    corrections: list[Correction] = field(default_factory=list)
    cuts: list[Cut] = field(default_factory=list)
    inserted: list[Word] = field(default_factory=list)  # words the user typed in; not heard by the engine
    retimed: list[Retime] = field(default_factory=list)


@dataclass
class Transcript:
    media: MediaRef
    language: str | None
    provenance: Provenance
    words: list[Word] = field(default_factory=list)
    captions: list[Caption] = field(default_factory=list)
    edits: Edits = field(default_factory=Edits)
    created: str = ""  # ISO 8601, UTC
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        return join_words([w.text for w in self.words], self.language)

    def word_by_id(self) -> dict[int, Word]:
        return {w.id: w for w in self.words}


def join_words(words: list[str], language: str | None) -> str:
    sep = "" if (language or "") in NO_SPACE_LANGUAGES else " "
    return sep.join(w for w in words if w)


def validate(t: Transcript) -> None:
    """Raise ValueError if the transcript breaks an invariant the exports rely on."""
    seen: set[int] = set()
    prev_start = -math.inf
    for w in t.words:
        if w.id in seen:
            raise ValueError(f"duplicate word id {w.id}")
        seen.add(w.id)
        if not (math.isfinite(w.start) and math.isfinite(w.end)) or w.end < w.start or w.start < 0:
            raise ValueError(f"word {w.id} has bad times {w.start}..{w.end}")
        if w.start < prev_start:
            raise ValueError(f"word {w.id} starts before the word before it")
        prev_start = w.start
    for c in t.captions:
        missing = [i for i in c.word_ids if i not in seen]
        if missing:
            raise ValueError(f"caption at {c.start:.2f}s refers to unknown words {missing}")
