"""The offline English engine on real speech: real words, real times."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from audio.decode import decode_audio
from audio.errors import Cancelled
from pipeline.engines.base import TranscribeOptions
from pipeline.engines.sphinx import SphinxEngine
from pipeline.errors import EngineError
from tests.conftest import DATA, JFK_MP3, JFK_WAV
from tests.textgrid_ref import matched_timing_errors, normalise, reference_words


@pytest.fixture(scope="module")
def engine() -> SphinxEngine:
    return SphinxEngine()


def word_error_rate(hyp: list[str], ref: list[str]) -> float:
    import difflib

    sm = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
    matched = sum(b.size for b in sm.get_matching_blocks())
    return (max(len(ref), len(hyp)) - matched) / len(ref)


def test_jfk_contains_country(engine: SphinxEngine) -> None:
    result = engine.transcribe(decode_audio(JFK_MP3).samples, TranscribeOptions())
    words = [w.text for w in result.words]
    assert "country" in words
    assert result.language == "en"
    assert all(0 <= w.start <= w.end <= 11.0 for w in result.words)
    assert [w.start for w in result.words] == sorted(w.start for w in result.words)
    assert all(0.0 <= (w.probability or 0) <= 1.0 for w in result.words)


def test_librispeech_utterance_against_its_textgrid(engine: SphinxEngine) -> None:
    """61-70968-0000's TextGrid holds one interval, the whole utterance (0-4.905 s)."""
    ((label, t0, t1),) = reference_words(DATA / "mfa/61-70968-0000.TextGrid", tier="61")
    result = engine.transcribe(decode_audio(DATA / "mfa/61-70968-0000.flac").samples, TranscribeOptions())
    assert result.words
    assert all(t0 <= w.start <= w.end <= t1 for w in result.words)
    ref = [normalise(w) for w in label.split()]
    hyp = [normalise(w.text) for w in result.words]
    # Measured here: WER 0.24 (4 of 17 words wrong); pocketsphinx is the fallback engine.
    assert word_error_rate(hyp, ref) <= 0.35


def test_word_times_against_a_word_level_textgrid(engine: SphinxEngine) -> None:
    ref = reference_words(DATA / "mfa/cold_corpus.TextGrid")
    result = engine.transcribe(decode_audio(DATA / "mfa/cold_corpus.wav").samples, TranscribeOptions())
    errors = matched_timing_errors([(w.text, w.start, w.end) for w in result.words], ref)
    # Measured here: 5 words in runs matched; start/end errors max 0.07 s, median 0.01 s.
    assert len(errors) >= 4
    assert max(max(e) for e in errors) <= 0.15
    assert float(np.median([e[0] for e in errors])) <= 0.05


def test_rejects_other_languages(engine: SphinxEngine) -> None:
    with pytest.raises(EngineError, match="only English"):
        engine.transcribe(np.zeros(16000, dtype=np.float32), TranscribeOptions(language="de"))


def test_cancel(engine: SphinxEngine) -> None:
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        engine.transcribe(decode_audio(JFK_MP3).samples, TranscribeOptions(), cancel=ev)


def test_progress_reaches_one(engine: SphinxEngine) -> None:
    seen: list[float] = []
    engine.transcribe(decode_audio(JFK_MP3).samples, TranscribeOptions(), progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_isolated_engine_gives_the_same_words_without_holding_the_gil(engine: SphinxEngine) -> None:
    import time

    samples = decode_audio(JFK_WAV).samples
    isolated = SphinxEngine(isolate=True)
    try:
        gaps: list[float] = []
        done = threading.Event()

        def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                time.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        t = threading.Thread(target=ticker)
        t.start()
        got = isolated.transcribe(samples, TranscribeOptions())
        done.set()
        t.join()
        want = engine.transcribe(samples, TranscribeOptions())
        assert [w.text for w in got.words] == [w.text for w in want.words]
        # (a decoder's adaptation state carries over between calls: times agree to a frame or so)
        assert all(abs(a.start - b.start) <= 0.03 and abs(a.end - b.end) <= 0.03 for a, b in zip(got.words, want.words))
        # In-process, PocketSphinx holds the GIL for a whole utterance (~1.4 s here); a GUI would freeze.
        assert max(gaps) < 0.3
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(Cancelled):
            isolated.transcribe(samples, TranscribeOptions(), cancel=cancel)
    finally:
        isolated.close()


def test_quiet_meeting_speech_its_own_vad_misses_is_still_transcribed():
    """pyannote's sample.wav: PocketSphinx's segmenter hears 1 s of its 30 s; loudness finds the speech."""
    from audio.decode import decode_audio
    from pipeline.engines.base import TranscribeOptions
    from pipeline.engines.sphinx import SphinxEngine, loud_regions
    from pipeline.transcription.transcribe import transcribe_file

    path = DATA / "pyannote" / "sample.wav"
    regions = loud_regions(decode_audio(path).samples)
    assert all(0 <= s < e <= 30.0 and e - s <= 20.0 for s, e in regions)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(regions))
    t = transcribe_file(path, SphinxEngine(), TranscribeOptions(language="en"))
    assert len(t.words) >= 40, [w.text for w in t.words]
    assert t.words[-1].start > 20  # the speech runs to the end of the clip
