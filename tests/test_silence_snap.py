"""Cut points move into silence without clipping kept words or leaking cut ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio.decode import decode_audio
from audio.vad import SileroVad
from pipeline.editing.silence_snap import (
    SAMPLE_RATE,
    SnapParams,
    _rms_db,
    make_consistent,
    quietest_point,
    snap_keep_ranges,
    snap_media,
)
from tests.conftest import DATA, SILERO
from tests.textgrid_ref import reference_words

SR = SAMPLE_RATE
EPS = 1e-9


def synth(
    duration: float,
    loud: list[tuple[float, float]],
    silent: Sequence[tuple[float, float]] = (),
    floor: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    """Noise at `floor` level, bursts (0.3) where `loud`, exact zeros where `silent`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, int(duration * SR)).astype(np.float32) * floor
    for a, b in loud:
        x[int(a * SR) : int(b * SR)] = rng.normal(0, 0.3, int(b * SR) - int(a * SR))
    for a, b in silent:
        x[int(a * SR) : int(b * SR)] = 0.0
    return x


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def check_invariants(out: list[tuple[float, float]], kept: list, cut: list, duration: float) -> None:
    for (a, b), nxt in zip(out, out[1:] + [None]):
        assert 0.0 <= a < b <= duration
        if nxt is not None:
            assert b < nxt[0]  # sorted, not overlapping, touching ones merged
    for w in kept:
        if w[1] > w[0]:
            assert any(a - EPS <= w[0] and w[1] <= b + EPS for a, b in out), f"kept word {w} clipped: {out}"
    for w in cut:
        assert sum(overlap(w, r) for r in out) <= EPS, f"cut word {w} leaks into {out}"


# --- properties ----------------------------------------------------------------------
@st.composite
def scenarios(draw):
    duration = draw(st.floats(0.5, 6.0))
    n = draw(st.integers(0, 10))
    points = sorted(draw(st.lists(st.floats(0.0, duration), min_size=2 * n, max_size=2 * n, unique=True)))
    words = [(points[2 * i], points[2 * i + 1]) for i in range(n)]
    labels = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    kept = [w for w, k in zip(words, labels) if k]
    cut = [w for w, k in zip(words, labels) if not k]
    kind = draw(st.sampled_from(["words", "padded", "random"]))
    runs: list[list[tuple[float, float]]] = []
    for w, k in zip(words, labels):
        if k and runs and runs[-1] and labels[words.index(runs[-1][-1])]:
            runs[-1].append(w)
        elif k:
            runs.append([w])
        else:
            runs.append([])
    keep = [(r[0][0], r[-1][1]) for r in runs if r]
    if kind == "padded":  # edges pushed part-way into the neighbouring gaps, as a glue might do
        padded = []
        for _i, (a, b) in enumerate(keep):
            before = max([w[1] for w in words if w[1] <= a], default=0.0)
            after = min([w[0] for w in words if w[0] >= b], default=duration)
            fa, fb = draw(st.floats(0, 1)), draw(st.floats(0, 1))
            padded.append((a - fa * (a - before) / 2, b + fb * (after - b) / 2))
        keep = padded
    elif kind == "random":  # anything at all, consistent or not
        edges = sorted(draw(st.lists(st.floats(-0.5, duration + 0.5), max_size=10, unique=True)))
        keep = list(zip(edges[::2], edges[1::2]))
    seed = draw(st.integers(0, 2**32 - 1))
    use_vad = draw(st.booleans())
    return duration, words, kept, cut, keep, kind, seed, use_vad


@given(scenarios())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_invariants(sc) -> None:
    duration, words, kept, cut, keep, kind, seed, use_vad = sc
    rng = np.random.default_rng(seed)
    samples = synth(duration, words, seed=seed) * rng.uniform(0.2, 1.0)
    probs = rng.uniform(0, 1, int(duration / 0.032) + 1).astype(np.float32) if use_vad else None
    out = snap_keep_ranges(keep, kept, cut, samples, SR, vad_probs=probs, duration=duration)
    check_invariants(out, kept, cut, duration)
    if kind in ("words", "padded"):
        # consistent input: ranges keep their count and each edge moves at most max_shift
        assert len(out) == len(keep)
        shift = SnapParams().max_shift
        for (a0, b0), (a1, b1) in zip(keep, out):
            assert abs(a1 - max(0.0, a0)) <= shift + EPS and abs(b1 - min(duration, b0)) <= shift + EPS


@given(scenarios())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_make_consistent(sc) -> None:
    duration, _, kept, cut, keep, *_ = sc
    check_invariants(make_consistent(keep, kept, cut, duration), kept, cut, duration)


# --- behaviour on constructed audio ---------------------------------------------------
WORDS = [(0.5, 1.0), (1.3, 1.8), (2.4, 2.9), (3.2, 3.7)]


def test_cut_points_move_into_the_silence_between_words() -> None:
    x = synth(4.0, WORDS, silent=[(1.12, 1.2), (2.2, 2.3)])
    kept, cut = [WORDS[0], WORDS[2], WORDS[3]], [WORDS[1]]
    out = snap_keep_ranges([(0.0, 1.0), (2.4, 4.0)], kept, cut, x, SR)
    (a0, b0), (a1, b1) = out
    assert (a0, b1) == (0.0, 4.0)  # the media's own start and end are not cut points
    assert 1.12 <= b0 <= 1.2 and 2.2 <= a1 <= 2.3
    # energy-only ties go to the point nearest the original edge: the near side of the silence
    assert b0 == pytest.approx(1.13, abs=0.011) and a1 == pytest.approx(2.29, abs=0.011)


def test_without_any_quieter_place_edges_stay_put() -> None:
    x = np.zeros(4 * SR, dtype=np.float32)
    out = snap_keep_ranges([(0.0, 1.0), (2.4, 4.0)], [WORDS[0], WORDS[2]], [WORDS[1]], x, SR)
    assert out == [(0.0, 1.0), (2.4, 4.0)]


def test_speech_probability_comes_before_energy() -> None:
    x = synth(4.0, WORDS, silent=[(1.02, 1.08)])  # the quietest audio is right after the kept word
    probs = np.full(int(4.0 / 0.032) + 1, 0.9, dtype=np.float32)
    probs[int(1.2 / 0.032)] = 0.05  # ... but the VAD is surest there is no speech at 1.184-1.216
    out = snap_keep_ranges([(0.0, 1.0), (2.4, 4.0)], [WORDS[0], WORDS[2]], [WORDS[1]], x, SR, vad_probs=probs)
    assert int(out[0][1] / 0.032) == int(1.2 / 0.032)
    no_vad = snap_keep_ranges([(0.0, 1.0), (2.4, 4.0)], [WORDS[0], WORDS[2]], [WORDS[1]], x, SR)
    assert 1.02 <= no_vad[0][1] <= 1.08


def test_edges_move_no_further_than_max_shift() -> None:
    words = [(0.2, 0.5), (2.5, 3.0), (3.5, 3.9)]
    x = synth(4.0, words, silent=[(1.4, 1.6)])  # a silence too far from the edge at 0.5
    out = snap_keep_ranges(
        [(0.0, 0.5), (3.5, 4.0)], [words[0], words[2]], [words[1]], x, SR, params=SnapParams(max_shift=0.2)
    )
    assert 0.5 <= out[0][1] <= 0.7


def test_inconsistent_input_is_repaired_kept_words_first() -> None:
    x = synth(4.0, WORDS)
    # the keep-range covers the cut word and misses the last kept word entirely
    out = snap_keep_ranges([(0.4, 2.95)], [WORDS[0], WORDS[2], WORDS[3]], [WORDS[1]], x, SR)
    check_invariants(out, [WORDS[0], WORDS[2], WORDS[3]], [WORDS[1]], 4.0)
    assert len(out) == 3
    # a kept and a cut word overlapping in time: the overlap stays (kept words win)
    kept, cut = [(1.0, 1.5)], [(1.4, 2.0)]
    out = make_consistent([(1.0, 1.5)], kept, cut, 4.0)
    assert out == [(1.0, 1.5)]
    out = snap_keep_ranges([(0.9, 1.6)], kept, cut, x, SR)
    assert any(a <= 1.0 and b >= 1.5 for a, b in out)
    assert all(b <= 1.5 + EPS for a, b in out)  # nothing of the cut word beyond the overlap


def test_word_free_ranges_may_collapse_and_are_dropped() -> None:
    cut = [(1.3, 1.8), (1.84, 2.3)]
    x = synth(4.0, [(1.3, 1.835), (1.84, 2.3)], silent=[(1.836, 1.84)])  # only 4 ms of the range is quiet
    out = snap_keep_ranges([(0.0, 1.0), (1.8, 1.84), (2.4, 4.0)], [WORDS[0], WORDS[2]], cut, x, SR)
    assert len(out) == 2
    check_invariants(out, [WORDS[0], WORDS[2]], cut, 4.0)


def test_bad_and_degenerate_input() -> None:
    x = synth(2.0, [])
    with pytest.raises(ValueError, match="ends before"):
        snap_keep_ranges([(1.0, 0.5)], [], [], x, SR)
    assert snap_keep_ranges([], [], [], x, SR) == []
    assert snap_keep_ranges([(0.5, 0.5)], [], [], x, SR) == []  # empty range
    # zero-length words carry no audio: ignored
    assert snap_keep_ranges([(0.0, 2.0)], [(1.0, 1.0)], [(1.5, 1.5)], x, SR) == [(0.0, 2.0)]
    # ranges beyond the media are clamped
    assert snap_keep_ranges([(-1.0, 5.0)], [], [], x, SR) == [(0.0, 2.0)]
    # an empty window returns the (clamped) original
    assert quietest_point(1.0, 1.0, 1.0, x, SR, None, SnapParams()) == 1.0


# --- real speech ----------------------------------------------------------------------
COLD = DATA / "mfa" / "cold_corpus.wav"


def real_case() -> tuple[np.ndarray, list, list, list]:
    words = reference_words(Path(str(COLD).replace(".wav", ".TextGrid")))
    audio = decode_audio(COLD).samples
    # cut the fillers and every fifth word, as a user tidying up a transcript would
    is_cut = [w in ("uh", "um") or i % 5 == 4 for i, (w, _, _) in enumerate(words)]
    kept = [(a, b) for (_, a, b), c in zip(words, is_cut) if not c]
    cut = [(a, b) for (_, a, b), c in zip(words, is_cut) if c]
    keep: list[tuple[float, float]] = []
    prev_cut = True
    for (_, a, b), c in zip(words, is_cut):
        if not c:
            keep.append((keep.pop()[0], b) if keep and not prev_cut else (a, b))
        prev_cut = c
    return audio, kept, cut, keep


@pytest.mark.parametrize("use_vad", [False, True])
def test_real_speech_cut_points_land_in_quiet_gaps(use_vad: bool) -> None:
    audio, kept, cut, keep = real_case()
    probs = SileroVad(SILERO).probabilities(audio) if use_vad else None
    out = snap_keep_ranges(keep, kept, cut, audio, SR, vad_probs=probs)
    total = len(audio) / SR
    check_invariants(out, kept, cut, total)
    assert len(out) == len(keep) >= 8

    original = np.array([e for r in keep for e in r])
    snapped = np.array([e for r in out for e in r])
    e_orig = _rms_db(audio, SR, original, 0.02)
    e_snap = _rms_db(audio, SR, snapped, 0.02)
    speech = np.concatenate([audio[int(a * SR) : int(b * SR)] for a, b in kept])
    speech_db = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2))
    # snapped points sit between words ...
    for t in snapped:
        assert not any(a + EPS < t < b - EPS for a, b in kept + cut), t
    # ... and in quiet: well below the speech level, and quieter than the word-boundary cuts were
    assert np.median(e_snap) <= speech_db - 12
    assert np.mean(e_snap) < np.mean(e_orig) - 1
    if use_vad:  # the speech probability decides first: never higher than at the original edge
        assert probs is not None
        at = lambda t: probs[np.clip((t / 0.032).astype(np.int64), 0, len(probs) - 1)]  # noqa: E731
        assert np.all(at(snapped) <= at(original) + SnapParams().vad_tolerance + 1e-6)
    else:  # energy alone never picks a louder point than the original edge
        assert np.all(e_snap <= e_orig + SnapParams().energy_tolerance_db + 1e-6)
    assert np.sum(snapped != original) >= 6  # it did move edges


def test_snap_media_decodes_and_runs_the_vad() -> None:
    audio, kept, cut, keep = real_case()
    direct = snap_keep_ranges(keep, kept, cut, audio, SR, vad_probs=SileroVad(SILERO).probabilities(audio))
    assert snap_media(COLD, keep, kept, cut, vad_model=SILERO) == direct
