"""Reference word timings from a Praat TextGrid (praatio reads both the long and the short flavour)."""

from __future__ import annotations

from pathlib import Path

from audio.errors import MediaError
from pipeline.alignment.timing_eval import TimedWord

WORD_TIERS = ("words", "word", "Words", "Word")


def read_textgrid_words(path: Path, tier: str | None = None) -> list[TimedWord]:
    """The labelled intervals of the word tier (`tier`, else the first of WORD_TIERS there), in order.

    Raises MediaError naming the file for anything unusable: missing, not a TextGrid, no such tier, no words.
    """
    from praatio import textgrid

    path = Path(path)
    if not path.is_file():
        raise MediaError(path, "no such TextGrid")
    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    except Exception as e:  # praatio raises a variety (ValueError, IndexError, its own) for malformed files
        raise MediaError(path, f"not a readable TextGrid ({type(e).__name__})") from None
    names = list(tg.tierNames)
    wanted = [tier] if tier else [t for t in WORD_TIERS if t in names]
    if not wanted or wanted[0] not in names:
        raise MediaError(path, f"no word tier {tier or 'words'!r} (tiers: {', '.join(names) or 'none'})")
    words = [
        (e.label.strip().lower(), float(e.start), float(e.end))
        for e in tg.getTier(wanted[0]).entries
        if e.label.strip()
    ]
    if not words:
        raise MediaError(path, f"tier {wanted[0]!r} has no words")
    return words
