"""Scoring word times against reference timings (pipeline.alignment.timing_eval), on made-up words with known
errors and on a human TextGrid scored against itself and against shifted copies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.alignment.timing_eval import boundary_hits, pair_words, score_timing
from tests.conftest import DATA
from tests.textgrid_ref import reference_words

REF = [("so", 0.0, 0.2), ("my", 0.3, 0.5), ("fellow", 0.5, 0.9), ("americans", 0.9, 1.6), ("ask", 2.0, 2.3)]


def test_errors_are_hypothesis_minus_reference_per_matched_word() -> None:
    hyp = [("So,", 0.05, 0.25), ("my", 0.3, 0.45), ("fellow", 0.45, 1.0), ("Americans.", 1.0, 1.5), ("ask", 2.0, 2.3)]
    s = score_timing(hyp, REF)
    assert s.matched == 5 and s.reference_words == 5
    assert [round(p.start_error, 3) for p in s.pairs] == [0.05, 0.0, -0.05, 0.1, 0.0]
    assert [round(p.end_error, 3) for p in s.pairs] == [0.05, -0.05, 0.1, -0.1, 0.0]
    assert s.within(0.05) == pytest.approx(3 / 5)  # so, my, ask
    assert s.within(0.1) == 1.0
    assert s.median("start_error") == pytest.approx(0.05)
    assert s.signed_median("end_error") == pytest.approx(0.0)


def test_a_lone_matching_word_is_not_paired() -> None:
    hyp = [("ask", 2.0, 2.3), ("not", 2.3, 2.5)]  # "ask" alone matches; a run of one does not count
    assert pair_words(hyp, REF) == []
    assert score_timing(hyp, REF).within(0.1) is None


def test_boundaries_count_each_reference_boundary_once() -> None:
    # Reference boundaries: 0, 0.2, 0.3, 0.5, 0.9, 1.6, 2.0, 2.3 (a shared end/start counts once): 8.
    b = boundary_hits(REF, REF)
    assert (b.hits, b.hypothesis, b.reference) == (8, 8, 8) and b.f1 == 1.0
    # Two hypothesis boundaries near one reference boundary: only one hit.
    b = boundary_hits([("a", 0.0, 0.04), ("b", 0.08, 0.2)], [("a", 0.0, 0.2)])
    assert (b.hits, b.hypothesis, b.reference) == (2, 4, 2)
    assert b.precision == 0.5 and b.recall == 1.0 and b.f1 == pytest.approx(2 / 3)


@given(st.floats(min_value=-0.5, max_value=0.5, allow_nan=False))
def test_a_shifted_copy_scores_its_shift(shift: float) -> None:
    hyp = [(w, a + shift, b + shift) for w, a, b in REF]
    s = score_timing(hyp, REF)
    assert s.matched == len(REF)
    assert s.median("start_error") == pytest.approx(abs(shift)) and s.signed_median("end_error") == pytest.approx(shift)
    assert s.within(0.1) == (1.0 if abs(shift) <= 0.1 else 0.0)


def test_a_human_textgrid_against_itself_and_shifted() -> None:
    ref = reference_words(DATA / "mfa" / "cold_corpus.TextGrid")
    assert len(ref) > 40
    exact = score_timing(ref, ref)
    assert exact.matched == len(ref) and exact.within(0.05) == 1.0 and exact.boundaries.f1 == 1.0
    late = score_timing([(w, a + 0.15, b + 0.15) for w, a, b in ref], ref)
    assert late.within(0.1) == 0.0 and late.within(0.2) == 1.0 and late.boundaries.f1 < 0.5
