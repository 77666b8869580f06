"""Word and character error rates of transcripts against reference transcripts (jiwer).

Both sides are normalised as whisper's own evaluations do (whisper_normalizer: lower case, no
punctuation, contractions and numbers spelled one way, fillers such as "uh" dropped, and
anything in <...> or [...] removed, which also drops annotation like <cutoff-x> or [laughter]).
Totals add up error counts and reference lengths over files: the total WER is all errors over
all reference words, not a mean of per-file rates, so a 3-word clip does not weigh as much as
a 300-word one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audio.errors import MediaError

REFERENCE_SUFFIXES = (".txt", ".lab")
Normaliser = Callable[[str], str]


@dataclass(frozen=True)
class ErrorCounts:
    """Levenshtein alignment counts of a hypothesis against a reference of `length` units."""

    length: int  # words (or characters) in the normalised reference
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float | None:
        """errors / length; None for an empty reference (any rate would be made up)."""
        return self.errors / self.length if self.length else (0.0 if not self.errors else None)

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(
            self.length + other.length,
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
        )


@dataclass(frozen=True)
class Score:
    words: ErrorCounts
    chars: ErrorCounts

    @property
    def wer(self) -> float | None:
        return self.words.rate

    @property
    def cer(self) -> float | None:
        return self.chars.rate

    def __add__(self, other: Score) -> Score:
        return Score(self.words + other.words, self.chars + other.chars)


EMPTY = Score(ErrorCounts(0), ErrorCounts(0))


@functools.cache
def normaliser(language: str) -> Normaliser:
    """Whisper's English normaliser for English; its basic one (case, punctuation, brackets) otherwise."""
    if language.lower().split("-")[0] == "en":
        from whisper_normalizer.english import EnglishTextNormalizer

        english: Normaliser = EnglishTextNormalizer()
        return english
    from whisper_normalizer.basic import BasicTextNormalizer

    basic: Normaliser = BasicTextNormalizer()
    return basic


def normalise(text: str, language: str) -> str:
    return " ".join(normaliser(language)(text).split())


def _word_counts(ref: str, hyp: str) -> ErrorCounts:
    import jiwer

    if not ref:  # jiwer refuses an empty reference; every hypothesis word is then an insertion
        return ErrorCounts(0, insertions=len(hyp.split()))
    out = jiwer.process_words(ref, hyp)
    return ErrorCounts(out.hits + out.substitutions + out.deletions, out.substitutions, out.deletions, out.insertions)


def _char_counts(ref: str, hyp: str) -> ErrorCounts:
    import jiwer

    if not ref:
        return ErrorCounts(0, insertions=len(hyp))
    out = jiwer.process_characters(ref, hyp)
    return ErrorCounts(out.hits + out.substitutions + out.deletions, out.substitutions, out.deletions, out.insertions)


def score(reference: str, hypothesis: str, language: str = "en") -> Score:
    """WER and CER of `hypothesis` against `reference`, both normalised first.

    Characters are those of the normalised text, single spaces between words included (jiwer's CER)."""
    ref, hyp = normalise(reference, language), normalise(hypothesis, language)
    return Score(_word_counts(ref, hyp), _char_counts(ref, hyp))


def total(scores: Iterable[Score]) -> Score:
    """Errors summed over reference lengths summed: one corpus-level rate, not a mean of rates."""
    return sum(scores, EMPTY)


# --- references -------------------------------------------------------------------------------
def reference_path(audio: Path, ref: Path | None) -> Path:
    """The reference transcript of `audio`: `ref` itself when it is a file; else STEM.txt or STEM.lab
    in the folder `ref`, or beside the audio when `ref` is None."""
    if ref is not None and not ref.is_dir():
        if not ref.exists():
            raise MediaError(ref, "no such reference file or folder")
        return ref
    folder = ref if ref is not None else audio.parent
    for suffix in REFERENCE_SUFFIXES:
        candidate = folder / f"{audio.stem}{suffix}"
        if candidate.is_file():
            return candidate
    names = " or ".join(f"{audio.stem}{s}" for s in REFERENCE_SUFFIXES)
    raise MediaError(audio, f"no reference transcript ({names} in {folder})")


def read_reference(path: Path) -> str:
    """The whole file as one transcript (lines joined); MediaError when it cannot serve as one."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise MediaError(path, "the reference is not a UTF-8 text file") from None
    except OSError as e:
        raise MediaError(path, f"cannot read the reference: {e.strerror or e}") from None
    text = " ".join(text.split())
    if not text:
        raise MediaError(path, "the reference transcript is empty")
    return text


def references(audios: Sequence[Path], ref: Path | None) -> dict[Path, tuple[Path, str]]:
    """Reference path and text for every audio file, read before any decoding starts."""
    out: dict[Path, tuple[Path, str]] = {}
    for audio in audios:
        path = reference_path(audio, ref)
        out[audio] = (path, read_reference(path))
    return out
