"""Word-level speaker error: how many words a diarized transcript gives to the wrong speaker.

Each word's reference speaker is the reference speaker whose turns overlap it
most (`speakers_by_overlap`); words that no reference turn overlaps are not
scored (the reference says nobody speaks there). Hypothesis labels are
arbitrary ("SPEAKER_00"), so they are first mapped one-to-one onto reference
speakers by the assignment that maximises the number of words on which the
two agree; a word is wrong when its mapped speaker differs from the
reference one (an unmapped or missing hypothesis speaker is always wrong).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.speakers.speaker_merge import speakers_by_overlap
from pipeline.speakers.speaker_turns import Turn
from pipeline.transcripts.edit_view import effective_words
from pipeline.transcripts.transcript import Transcript, Word

MAX_EXACT_SPEAKERS = 16  # the subset DP below is 2**n; far more speakers than any recording has


@dataclass(frozen=True)
class SpeakerError:
    rate: float  # wrong / scored (0 when nothing is scored)
    wrong: int
    scored: int  # words some reference turn overlaps
    unscored: int  # words outside every reference turn
    mapping: dict[str, str]  # hypothesis speaker → reference speaker


def best_assignment(weights: list[list[float]]) -> list[tuple[int, int]]:
    """(row, column) pairs, each row and column at most once, maximising the summed weight.

    scipy's Hungarian solver when it is installed; otherwise an exact dynamic program over
    subsets of the larger side (O(small · large · 2**large)), plenty for the handful of
    speakers a recording has. Pairs of weight ≤ 0 are dropped: they gain nothing.
    """
    rows = len(weights)
    cols = len(weights[0]) if rows else 0
    if not rows or not cols:
        return []
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        pairs = _assignment_dp(weights, rows, cols)
    else:
        r, c = linear_sum_assignment(weights, maximize=True)
        pairs = list(zip(r.tolist(), c.tolist()))
    return sorted((i, j) for i, j in pairs if weights[i][j] > 0)


def _assignment_dp(weights: list[list[float]], rows: int, cols: int) -> list[tuple[int, int]]:
    transpose = rows > cols  # walk the smaller side, keep a bitmask of the larger
    w = [list(col) for col in zip(*weights)] if transpose else weights
    small, large = (cols, rows) if transpose else (rows, cols)
    if large > MAX_EXACT_SPEAKERS:
        raise ValueError(f"{large} speakers is more than the exact assignment handles ({MAX_EXACT_SPEAKERS})")
    # best[mask]: (score, pairs) having placed the first popcount(mask) small-side items on `mask`.
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for i in range(small):
        nxt: dict[int, tuple[float, list[tuple[int, int]]]] = {}
        for mask, (score, pairs) in best.items():
            for j in range(large):
                if mask & (1 << j):
                    continue
                cand = (score + w[i][j], [*pairs, (i, j)])
                m = mask | (1 << j)
                if m not in nxt or cand[0] > nxt[m][0]:
                    nxt[m] = cand
        best = nxt
    pairs = max(best.values(), key=lambda v: v[0])[1]
    return [(j, i) for i, j in pairs] if transpose else pairs


def word_speaker_error(words: Transcript | Sequence[Word], reference: Sequence[Turn]) -> SpeakerError:
    """The word-level speaker error of `words` (a transcript's words as the user sees them) against reference turns."""
    ws = effective_words(words) if isinstance(words, Transcript) else list(words)
    ref = speakers_by_overlap(ws, list(reference))
    pairs = [(w.speaker, r) for w, r in zip(ws, ref) if r is not None]
    hyp_names = sorted({h for h, _ in pairs if h is not None})
    ref_names = sorted({r for _, r in pairs})
    counts = [[0.0] * len(ref_names) for _ in hyp_names]
    hi, ri = {h: i for i, h in enumerate(hyp_names)}, {r: j for j, r in enumerate(ref_names)}
    for h, r in pairs:
        if h is not None:
            counts[hi[h]][ri[r]] += 1
    mapping = {hyp_names[i]: ref_names[j] for i, j in best_assignment(counts)}
    wrong = sum(1 for h, r in pairs if h is None or mapping.get(h) != r)
    scored = len(pairs)
    return SpeakerError(
        rate=wrong / scored if scored else 0.0, wrong=wrong, scored=scored, unscored=len(ws) - scored, mapping=mapping
    )
