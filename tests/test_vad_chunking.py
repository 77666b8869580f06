"""Silero VAD (real trained weights from ../shared) and the chunker built on it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from audio.decode import decode_audio
from audio.vad import FRAME_SECONDS, SileroVad, VadModelError, VadParams, regions_from_probabilities
from pipeline.transcription.chunking import AudioChunk, Chunker, TimeMap, compact, quietest_cut
from tests.conftest import DATA, JFK_WAV, SILERO

SR = 16_000


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad(SILERO)


def rttm_turns(path) -> list[tuple[float, float]]:
    turns = []
    for line in path.read_text().splitlines():
        f = line.split()
        turns.append((float(f[3]), float(f[3]) + float(f[4])))
    return turns


def test_speech_found_where_the_reference_says(vad: SileroVad) -> None:
    samples = decode_audio(DATA / "pyannote/sample.wav").samples
    regions = vad.speech_regions(samples)
    turns = rttm_turns(DATA / "pyannote/sample.rttm")
    first_speech = min(a for a, _ in turns)
    assert regions[0][0] == pytest.approx(first_speech, abs=0.3)
    covered = sum(min(b, e) - max(a, s) for a, b in regions for s, e in turns if min(b, e) > max(a, s))
    assert covered / sum(e - s for s, e in turns) > 0.95


def test_silence_has_no_speech(vad: SileroVad) -> None:
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(SR * 5) * 0.001).astype(np.float32)
    assert vad.speech_regions(noise) == []


def test_streaming_equals_whole(vad: SileroVad) -> None:
    samples = decode_audio(JFK_WAV).samples
    whole = vad.probabilities(samples)
    s = vad.stream()
    parts = [s.feed(samples[i : i + 7777]) for i in range(0, len(samples), 7777)] + [s.flush()]
    assert np.allclose(np.concatenate(parts), whole, atol=1e-5)


def test_missing_model_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(VadModelError, match="not found"):
        SileroVad(tmp_path / "nope.onnx")


def test_regions_padding_merging_and_min_speech() -> None:
    frames = int(1 / FRAME_SECONDS)
    probs = np.zeros(frames * 10, dtype=np.float32)
    probs[frames : 2 * frames] = 0.9  # 1 s speech
    probs[int(2.2 * frames) : 3 * frames] = 0.9  # after a 0.2 s pause: same region
    probs[5 * frames : 5 * frames + 3] = 0.9  # a 0.1 s blip: dropped
    regions = regions_from_probabilities(probs, VadParams(pad=0.1), total=10.0)
    assert len(regions) == 1
    a, b = regions[0]
    assert a == pytest.approx(0.9, abs=0.05) and b == pytest.approx(3.1, abs=0.05)


def test_timemap_maps_back_and_never_spans_a_removed_gap() -> None:
    samples = np.arange(SR * 10, dtype=np.float32)
    out, tm = compact(samples, [(1.0, 2.0), (5.0, 6.5)], offset=100.0, gap=0.3)
    assert len(out) == SR * 1 + int(0.3 * SR) + int(1.5 * SR)
    assert tm.to_source(0.5) == pytest.approx(101.5)
    assert tm.to_source(1.3 + 0.25) == pytest.approx(105.25)
    start, end = tm.span_to_source(0.9, 1.6)  # a word straddling the gap stays in its region
    assert start == pytest.approx(101.9) and end == pytest.approx(102.0)
    assert isinstance(tm, TimeMap)


def test_quietest_cut_prefers_the_middle_of_the_longest_pause() -> None:
    score = np.ones(100)
    score[30:33] = 0
    score[60:70] = 0
    assert quietest_cut(score, 20, 90) == 65


def test_chunker_keeps_every_speech_second_and_caps_chunk_length(vad: SileroVad) -> None:
    speech = decode_audio(DATA / "pyannote/sample.wav").samples
    long = np.concatenate([speech, np.zeros(SR * 20, dtype=np.float32), speech])  # 80 s
    chunker = Chunker(vad.stream())
    chunks: list[AudioChunk] = []
    for i in range(0, len(long), SR * 7):
        chunks.extend(chunker.feed(long[i : i + SR * 7]))
    chunks.extend(chunker.finish())
    assert len(chunks) >= 3
    assert all(c.end - c.start <= 30.0 + 1e-6 for c in chunks)
    assert all(b.start >= a.end - 1e-6 for a, b in itertools.pairwise(chunks))
    # The 20 s of silence never reaches the engine.
    kept = sum(len(c.samples) for c in chunks) / SR
    assert kept < len(long) / SR - 20
    for c in chunks:
        for s, length in zip(c.timemap.source_starts, c.timemap.lengths):
            assert not (30.0 + 1 < s < 50.0 - 1) and not (30.0 + 1 < s + length < 50.0 - 1)


def test_chunker_without_vad_skips_digital_silence() -> None:
    chunker = Chunker(None)
    silent = np.zeros(SR * 70, dtype=np.float32)
    chunks = list(chunker.feed(silent)) + list(chunker.finish())
    assert chunks == [] and chunker.peak == 0.0


def test_where_decoding_resumes_after_the_engine_stopped_early() -> None:
    from pipeline.transcription.chunking import TimeMap

    tm = TimeMap(compact_starts=(0.0, 5.5, 13.4), source_starts=(0.1, 5.5, 13.4), lengths=(5.2, 7.6, 3.2))
    assert tm.speech_after(0.0) == pytest.approx(16.0)
    assert tm.speech_after(4.6) == pytest.approx(0.6 + 7.6 + 3.2)  # heard up to 4.6 s of the first region
    assert tm.speech_after(20.0) == 0.0
    assert tm.resume_point(4.6) == 5.5  # a new region begins within a second: start on it
    assert tm.resume_point(7.0) == 7.0  # mid-region: where the engine stopped
    assert tm.resume_point(16.7) == 16.7


def test_a_resumed_decode_does_not_repeat_words_already_heard() -> None:
    from pipeline.engines.base import EngineWord
    from pipeline.transcription.transcribe import _overlap

    def ws(text: str) -> list[EngineWord]:
        return [EngineWord(text=t, start=0.0, end=0.1, probability=1.0) for t in text.split()]

    assert _overlap(ws("on the left."), ws("the left. If the reader")) == 2
    assert _overlap(ws("on the left."), ws("If the reader")) == 0
    assert _overlap([], ws("If")) == 0
