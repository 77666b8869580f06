"""Score word times against reference word times (human TextGrids, synthesised speech with exact truth).

Words are paired by their text first: the normalised hypothesis and reference word sequences are
aligned (difflib), and only runs of two or more consecutive matching words count, so a lone "and"
is never paired with an "and" from another sentence. Over the pairs: start and end errors
(hypothesis minus reference, seconds), their medians and 90th percentiles, and the share of words
within 50 / 100 / 200 ms at both ends. Independently of the text, boundary detection: every word
start and end is a boundary; a hypothesis boundary is a hit when it lies within the collar of a
reference boundary not already taken (nearest first), giving precision, recall and F1.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TimedWord = tuple[str, float, float]  # text, start, end (seconds)
TOLERANCES = (0.05, 0.1, 0.2)
COLLAR = 0.1
MIN_RUN = 2


def normalise(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower()).strip("'")


@dataclass(frozen=True)
class Pair:
    word: str
    start_error: float  # hypothesis minus reference, s
    end_error: float


@dataclass(frozen=True)
class Boundaries:
    hits: int
    hypothesis: int
    reference: int

    @property
    def precision(self) -> float:
        return self.hits / self.hypothesis if self.hypothesis else 0.0

    @property
    def recall(self) -> float:
        return self.hits / self.reference if self.reference else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class TimingScore:
    reference_words: int
    pairs: tuple[Pair, ...]
    boundaries: Boundaries

    @property
    def matched(self) -> int:
        return len(self.pairs)

    def _abs(self, which: str) -> np.ndarray:
        return np.abs([getattr(p, which) for p in self.pairs])

    def median(self, which: str = "start_error") -> float | None:
        return float(np.median(self._abs(which))) if self.pairs else None

    def p90(self, which: str = "start_error") -> float | None:
        return float(np.percentile(self._abs(which), 90)) if self.pairs else None

    def signed_median(self, which: str = "start_error") -> float | None:
        return float(np.median([getattr(p, which) for p in self.pairs])) if self.pairs else None

    def within(self, tolerance: float) -> float | None:
        """Share of matched words with both ends within `tolerance` seconds."""
        if not self.pairs:
            return None
        ok = sum(
            1 for p in self.pairs if abs(p.start_error) <= tolerance + 1e-9 and abs(p.end_error) <= tolerance + 1e-9
        )
        return ok / len(self.pairs)


def pair_words(hypothesis: Sequence[TimedWord], reference: Sequence[TimedWord], min_run: int = MIN_RUN) -> list[Pair]:
    a = [normalise(w) for w, _, _ in hypothesis]
    b = [normalise(w) for w, _, _ in reference]
    pairs: list[Pair] = []
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        if block.size < min_run:
            continue
        for k in range(block.size):
            h, r = hypothesis[block.a + k], reference[block.b + k]
            pairs.append(Pair(r[0], h[1] - r[1], h[2] - r[2]))
    return pairs


def _boundary_times(words: Sequence[TimedWord]) -> list[float]:
    """Word starts and ends; a word ending where the next begins shares one boundary."""
    times: list[float] = []
    for _, start, end in sorted(words, key=lambda w: w[1]):
        for t in (start, end):
            if not times or abs(t - times[-1]) > 1e-6:
                times.append(t)
    return times


def boundary_hits(
    hypothesis: Sequence[TimedWord], reference: Sequence[TimedWord], collar: float = COLLAR
) -> Boundaries:
    hyp, ref = _boundary_times(hypothesis), _boundary_times(reference)
    candidates = []
    for i, h in enumerate(hyp):  # both lists are sorted: only the reference boundaries inside the collar
        for j in range(bisect.bisect_left(ref, h - collar - 1e-9), bisect.bisect_right(ref, h + collar + 1e-9)):
            candidates.append((abs(h - ref[j]), i, j))
    candidates.sort()
    used_h: set[int] = set()
    used_r: set[int] = set()
    for _, i, j in candidates:  # nearest pairs first, each boundary used once
        if i not in used_h and j not in used_r:
            used_h.add(i)
            used_r.add(j)
    return Boundaries(hits=len(used_h), hypothesis=len(hyp), reference=len(ref))


def score_timing(
    hypothesis: Sequence[TimedWord], reference: Sequence[TimedWord], collar: float = COLLAR
) -> TimingScore:
    return TimingScore(
        reference_words=len(reference),
        pairs=tuple(pair_words(hypothesis, reference)),
        boundaries=boundary_hits(hypothesis, reference, collar),
    )
