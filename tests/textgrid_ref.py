"""Reference word timings from Praat TextGrids (praatio reads both file flavours)."""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from praatio import textgrid


def reference_words(path: Path, tier: str = "words") -> list[tuple[str, float, float]]:
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    return [(e.label.lower(), e.start, e.end) for e in tg.getTier(tier).entries if e.label.strip()]


def normalise(word: str) -> str:
    return re.sub(r"[^a-z']", "", word.lower())


def matched_timing_errors(hyp: list[tuple[str, float, float]], ref: list[tuple[str, float, float]]) -> list[tuple[float, float]]:
    """|start error|, |end error| for words the recogniser got right.

    Only runs of two or more consecutive matching words count, so a lone "and"
    is never paired with an "and" from another sentence.
    """
    a = [normalise(w) for w, _, _ in hyp]
    b = [normalise(w) for w, _, _ in ref]
    out = []
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        if block.size < 2:
            continue
        for k in range(block.size):
            h, r = hyp[block.a + k], ref[block.b + k]
            out.append((abs(h[1] - r[1]), abs(h[2] - r[2])))
    return out
