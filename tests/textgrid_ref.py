"""Reference word timings from Praat TextGrids (praatio reads both file flavours)."""

from __future__ import annotations

from pathlib import Path

from praatio import textgrid

from pipeline.alignment.timing_eval import normalise, pair_words

__all__ = ["matched_timing_errors", "normalise", "reference_words"]


def reference_words(path: Path, tier: str = "words") -> list[tuple[str, float, float]]:
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    return [(e.label.lower(), e.start, e.end) for e in tg.getTier(tier).entries if e.label.strip()]


def matched_timing_errors(
    hyp: list[tuple[str, float, float]], ref: list[tuple[str, float, float]]
) -> list[tuple[float, float]]:
    """|start error|, |end error| for words the recogniser got right (runs of 2+ matching words: see
    pipeline.alignment.timing_eval)."""
    return [(abs(p.start_error), abs(p.end_error)) for p in pair_words(hyp, ref)]
