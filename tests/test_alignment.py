"""Forced alignment: spoken forms of written words, sections, rough-word fitting (pure), and word times
against exact truth (espeak-ng) and the human TextGrids with the trained tiny.en."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.alignment.aligner import AlignedTime, WordSpan, aligner_for
from pipeline.alignment.apply import settle
from pipeline.alignment.file_align import _Window, sections
from pipeline.alignment.pronounce import letter_to_sound, spoken_tokens
from pipeline.alignment.realign import changed_captions, realign
from pipeline.alignment.timing_eval import score_timing
from pipeline.editing import editing as ed
from pipeline.transcripts.transcript import Caption, MediaRef, Provenance, Retime, Transcript, Word
from pipeline.transcripts.transcript_json import from_dict, to_dict
from tests import espeak_speech
from tests.conftest import JFK_WAV, SILERO

DICT = {
    "nineteen": "N AY N T IY N",
    "sixty": "S IH K S T IY",
    "one": "W AH N",
    "alice": "AE L AH S",
    "g": "JH IY",
    "five": "F AY V",
    "dollars": "D AA L ER Z",
    "percent": "P ER S EH N T",
    "covid": None,
    "twenty": "T W EH N T IY",
    "first": "F ER S T",
    "well": "W EH L",
    "known": "N OW N",
}


def lookup(word: str) -> str | None:
    return DICT.get(word)


@pytest.mark.parametrize(
    "text, words",
    [
        ("1961", ["nineteen", "sixty", "one"]),
        ("21st", ["twenty", "first"]),
        ("$5", ["five", "dollars"]),
        ("5%", ["five", "percent"]),
        ("well-known", ["well", "known"]),
        ("Alice,", ["alice"]),
        ("—", []),
    ],
)
def test_written_words_become_dictionary_words(text: str, words: list[str]) -> None:
    got = spoken_tokens(text, lookup)
    assert [s.word for s in got] == words and all(s.phones is None for s in got)


def test_unknown_words_get_a_pronunciation_and_acronyms_are_spelled() -> None:
    (alices,) = spoken_tokens("Alice's", lookup)
    assert alices.phones == "AE L AH S Z"  # the stem's phones plus the possessive
    gpu = spoken_tokens("GPU", lookup)
    assert [s.word for s in gpu] == ["g", "p", "u"] and gpu[0].phones is None and gpu[1].phones == "P IY"
    (zork,) = spoken_tokens("Zorkmid", lookup)
    assert zork.phones == letter_to_sound("zorkmid") and len(zork.phones.split()) >= 5


def test_sections_split_at_long_pauses_and_stay_short() -> None:
    words = [WordSpan("a", 0.0, 0.5), WordSpan("b", 0.6, 1.0), WordSpan("c", 2.5, 3.0)]
    assert sections(words) == [range(2), range(2, 3)]
    many = [WordSpan("w", i * 0.5, i * 0.5 + 0.4) for i in range(400)]  # 200 s without a pause
    parts = sections(many)
    assert sum(len(r) for r in parts) == 400 and all(many[r[-1]].end - many[r[0]].start <= 60 for r in parts)


def test_the_audio_window_serves_overlapping_sections_in_order_and_drops_what_is_behind() -> None:
    audio = np.arange(16_000 * 5, dtype=np.float32)
    window = _Window(iter(np.array_split(audio, 37)))  # uneven blocks
    got, t0 = window.take(0.5, 2.0)
    assert t0 == 0.5 and np.array_equal(got, audio[8_000:32_000])
    got, t0 = window.take(1.5, 9.0)  # overlaps the last one; runs past the end
    assert t0 == 1.5 and np.array_equal(got, audio[24_000:])
    assert len(window._buf) == len(audio) - 24_000  # nothing before the section kept


def test_rough_words_fit_between_aligned_neighbours_with_length() -> None:
    samples = np.zeros(16_000 * 4, np.float32)
    samples[int(1.2 * 16_000) : int(1.6 * 16_000)] = 0.3  # the only sound between the aligned words
    words = [WordSpan("one", 0.0, 0.4), WordSpan("two", 0.2, 0.3), WordSpan("three", 2.0, 2.5)]
    found = [AlignedTime(0.1, 0.9), None, AlignedTime(2.0, 2.4)]
    out = settle(samples, words, found)
    assert [t.rough for t in out] == [False, True, False]
    assert out[0].end <= out[1].start < out[1].end <= out[2].start  # never over an aligned word
    assert abs(out[1].start - 1.2) < 0.02 and abs(out[1].end - 1.6) < 0.02  # trimmed to the sound in the gap


def _transcript(words: list[Word]) -> Transcript:
    return Transcript(
        media=MediaRef("x.wav", 10.0, ""),
        language="en",
        provenance=Provenance("e", "1", "m"),
        words=words,
        captions=[Caption(0.0, 2.0, [w.id for w in words], [" ".join(w.text for w in words)])],
    )


def test_rough_and_aligned_retimes_round_trip_and_hand_retimes_win() -> None:
    t = _transcript([Word(0, "hello", 0.0, 0.5, rough=True), Word(1, "world", 0.5, 1.0)])
    t = ed.retime_word(t, 1, 0.6, 1.0)  # by hand
    t2 = ed.apply_alignment(t, {0: (0.1, 0.45), 1: (0.5, 0.9)})
    assert t2.edits.retimed == [Retime(1, 0.6, 1.0), Retime(0, 0.1, 0.45, aligned=True)]
    back = from_dict(json.loads(json.dumps(to_dict(t2))))
    assert back.words[0].rough and back.edits.retimed == t2.edits.retimed
    assert [w.rough for w in ed.effective_words(back)] == [False, False]  # retimed: no longer rough


def test_changed_captions_finds_the_corrected_caption() -> None:
    t = _transcript([Word(0, "hello", 0.0, 0.5), Word(1, "world", 0.5, 1.0)])
    assert changed_captions(t, t) == [] and changed_captions(t, ed.correct_word(t, 1, "word")) == [0]


# --- real speech, the trained tiny.en --------------------------------------------------------
def known(score: float | None) -> float:
    """A timing score, which is None only when no word was paired."""
    assert score is not None, "no word was paired"
    return score


def _transcribe(path: Path, model: Path, *, aligned: bool) -> Transcript:
    from audio.vad import SileroVad
    from pipeline.engines.base import TranscribeOptions
    from pipeline.engines.whispercpp import WhisperCppEngine
    from pipeline.transcription.transcribe import transcribe_file

    engine = WhisperCppEngine(model)
    try:
        return transcribe_file(
            path,
            engine,
            TranscribeOptions(language="en", threads=2),
            vad=SileroVad(SILERO),
            aligner=aligner_for("en") if aligned else None,
        )
    finally:
        engine.close()


@pytest.mark.slow
@pytest.mark.skipif(not espeak_speech.available(), reason="needs libespeak-ng (apt package espeak-ng)")
def test_aligned_times_on_speech_with_exact_truth(tmp_path: Path, trained_tiny_en: Path) -> None:
    """Six synthesised sentences with pauses of 0.35-1.5 s; word boundaries known to the sample."""
    speech = espeak_speech.joined(espeak_speech.SENTENCES, espeak_speech.PAUSES)
    path = espeak_speech.write_wav(tmp_path / "synth.wav", speech.samples)
    aligned = score_timing(
        [(w.text, w.start, w.end) for w in _transcribe(path, trained_tiny_en, aligned=True).words], speech.words
    )
    token = score_timing(
        [(w.text, w.start, w.end) for w in _transcribe(path, trained_tiny_en, aligned=False).words], speech.words
    )
    # Measured here: 70 of 90 words paired; aligned |start| median 18 ms, |end| 9 ms, 80 % within 50 ms and
    # 90 % within 100 ms at both ends, F1 0.72; token times 218/215 ms, 26 % within 100 ms, F1 0.58.
    assert aligned.matched >= 60
    assert known(aligned.median("start_error")) <= 0.03 and known(aligned.median("end_error")) <= 0.03
    assert known(aligned.within(0.1)) >= 0.85 and known(aligned.within(0.05)) >= 0.7
    assert known(aligned.within(0.1)) > known(token.within(0.1)) + 0.4
    assert aligned.boundaries.f1 > token.boundaries.f1


@pytest.mark.slow
def test_realign_after_a_correction_moves_the_corrected_words(trained_tiny_en: Path) -> None:
    """jfk.wav transcribed without alignment (all rough); correcting a word re-aligns its caption."""
    t = _transcribe(JFK_WAV, trained_tiny_en, aligned=False)
    assert all(w.rough for w in t.words)
    k = next(i for i, w in enumerate(t.words) if w.text.strip(",.").lower() == "country")
    edited = ed.correct_word(t, t.words[k].id, "country,")
    captions = changed_captions(t, edited)
    aligner = aligner_for("en")
    assert aligner is not None
    times = realign(JFK_WAV, edited, captions, aligner)
    new = ed.apply_alignment(edited, times)
    ids = {wid for i in captions for wid in new.captions[i].word_ids}
    assert len(times) >= 0.8 * len(ids)
    placed = [w for w in ed.effective_words(new) if w.id in times]
    assert all(not w.rough for w in placed) and all(b.start >= a.end - 1e-6 for a, b in itertools.pairwise(placed))


def _jfk_spans() -> list[WordSpan]:
    text = [
        "and",
        "so",
        "my",
        "fellow",
        "americans",
        "ask",
        "not",
        "what",
        "your",
        "country",
        "can",
        "do",
        "for",
        "you",
    ]
    return [WordSpan(w, 0.3 + 0.45 * i, 0.3 + 0.45 * i + 0.4) for i, w in enumerate(text)]


def test_background_alignment_returns_a_time_per_word_in_order() -> None:
    from pipeline.alignment.file_align import BackgroundAligner

    aligner = aligner_for("en")
    assert aligner is not None
    spans = _jfk_spans()
    bg = BackgroundAligner(JFK_WAV, aligner)
    bg.add(spans[:5])
    bg.add(spans[5:])
    seen: list[float] = []
    out = bg.finish(seen.append)
    assert len(out) == len(spans) and all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(out))
    assert sum(not t.rough for t in out) >= 10 and (not seen or seen[-1] <= 1.0)


def test_background_alignment_stops_on_cancel_and_reports_a_missing_file(tmp_path: Path) -> None:
    import threading

    from audio.errors import Cancelled, MediaError
    from pipeline.alignment.file_align import BackgroundAligner

    aligner = aligner_for("en")
    assert aligner is not None
    cancel = threading.Event()
    bg = BackgroundAligner(JFK_WAV, aligner, cancel)
    bg.add(_jfk_spans())
    cancel.set()
    with pytest.raises(Cancelled):
        bg.finish()
    bg = BackgroundAligner(tmp_path / "gone.wav", aligner)
    bg.add(_jfk_spans())
    with pytest.raises(MediaError):
        bg.finish()
    bg = BackgroundAligner(JFK_WAV, aligner)
    bg.add(_jfk_spans())
    bg.abort()  # the recognition failed: the thread ends, nothing is raised
    assert not bg._thread.is_alive()


def test_the_isolated_aligner_gives_the_in_process_times_and_closes() -> None:
    """The default aligner runs in a child process (PocketSphinx holds Python's lock for a whole window)."""
    from audio.decode import decode_audio
    from pipeline.alignment.isolated import IsolatedAligner
    from pipeline.errors import EngineError

    samples = decode_audio(JFK_WAV).samples
    isolated, local = aligner_for("en"), aligner_for("en", isolate=False)
    assert isinstance(isolated, IsolatedAligner) and local is not None and not isinstance(local, IsolatedAligner)
    assert isolated.align(samples, _jfk_spans()) == local.align(samples, _jfk_spans())
    isolated.close()
    with pytest.raises(EngineError, match="closed"):
        isolated.align(samples, _jfk_spans())
