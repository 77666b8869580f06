"""whisper.cpp through pywhispercpp: the vocabulary-only test model, and a model of the
real tiny.en shapes with random weights (made by pipeline.models.ggml_file) for full decodes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio.decode import decode_audio
from audio.errors import Cancelled
from audio.vad import SileroVad
from pipeline.engines.base import EngineWord, TranscribeOptions
from pipeline.engines.whispercpp import WhisperCppEngine
from pipeline.engines.word_grouping import MIN_WORD, Token, group_tokens, make_monotonic
from pipeline.errors import EngineError, ModelError
from pipeline.transcription.transcribe import transcribe_file
from pipeline.transcripts import transcript_json
from tests.conftest import FOR_TESTS_TINY, FOR_TESTS_TINY_EN, JFK_MP3, JFK_WAV, SILERO

OPTS = TranscribeOptions(threads=2)


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return decode_audio(JFK_WAV).samples


@pytest.fixture(scope="module")
def random_engine(random_tiny_en: Path) -> WhisperCppEngine:
    return WhisperCppEngine(random_tiny_en)


def test_for_tests_model_loads_runs_and_returns_nothing(jfk: np.ndarray) -> None:
    engine = WhisperCppEngine(FOR_TESTS_TINY_EN)
    assert engine.kind == "tiny.en" and not engine.multilingual
    result = engine.transcribe(jfk, OPTS)
    assert result.words == [] and result.language == "en"
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.transcribe(jfk, OPTS)


def test_multilingual_for_tests_model_is_recognised() -> None:
    engine = WhisperCppEngine(FOR_TESTS_TINY)
    assert engine.kind == "tiny" and engine.multilingual and engine.timestamps == "token"
    assert WhisperCppEngine(FOR_TESTS_TINY, dtw=True).timestamps == "dtw"


def test_not_a_model_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "ggml-base.bin"
    bad.write_bytes(b"<html>404</html>" * 100)
    with pytest.raises(ModelError, match="not a usable whisper.cpp model"):
        WhisperCppEngine(bad)
    with pytest.raises(ModelError, match="not found"):
        WhisperCppEngine(tmp_path / "missing.bin")


def test_english_only_model_refuses_other_languages(jfk: np.ndarray) -> None:
    engine = WhisperCppEngine(FOR_TESTS_TINY_EN)
    with pytest.raises(EngineError, match="English-only"):
        engine.transcribe(jfk, TranscribeOptions(language="de"))


def test_random_weights_full_decode_gives_timed_words(random_engine: WhisperCppEngine, jfk: np.ndarray) -> None:
    seen: list[float] = []
    result = random_engine.transcribe(jfk, OPTS, progress=seen.append)
    assert random_engine.timestamps == "token"
    assert result.words, "a full decode with random weights still emits tokens"
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start <= w.end <= len(jfk) / 16000 for w in result.words)
    assert all(w.text == w.text.strip() and w.text for w in result.words)
    assert all(w.probability is not None and 0.0 <= w.probability <= 1.0 for w in result.words)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_cancel_from_another_thread_stops_the_decode(random_engine: WhisperCppEngine, jfk: np.ndarray) -> None:
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    with pytest.raises(Cancelled):
        random_engine.transcribe(np.tile(jfk, 3), OPTS, cancel=cancel)
    timer.cancel()
    # The context is still usable afterwards.
    assert random_engine.transcribe(jfk[: 16000 * 2], OPTS).language == "en"


def test_two_threads_share_one_engine_safely(random_engine: WhisperCppEngine, jfk: np.ndarray) -> None:
    clip = jfk[: 16000 * 4]
    results: list[list[tuple[str, float, float]]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            r = random_engine.transcribe(clip, OPTS)
            results.append([(w.text, w.start, w.end) for w in r.words])
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 3
    for words in results:  # each call got a whole, well-formed result of its own
        assert words and all(0.0 <= s <= e <= 4.0 for _, s, e in words)


def test_every_call_starts_from_fresh_parameters(random_engine: WhisperCppEngine) -> None:
    # pywhispercpp's Model keeps keyword parameters between calls; we build them anew each time.
    tweaked = random_engine._params(TranscribeOptions(threads=1, initial_prompt="Kennedy", translate=True))
    fresh: Any = random_engine._params(OPTS)  # pywhispercpp's params object: no type information
    assert tweaked is not fresh
    assert (fresh.initial_prompt or "") == "" and fresh.translate is False and fresh.n_threads == 2
    assert fresh.language == "en" and fresh.token_timestamps is True and fresh.vad is False


def test_f32_model_is_refused_before_it_can_crash_the_process(tmp_path: Path) -> None:
    from bench.random_ggml import write_random_model

    f32 = write_random_model(FOR_TESTS_TINY_EN, tmp_path / "f32.bin", kind="tiny", ftype=0)
    with pytest.raises(ModelError, match="f32"):
        WhisperCppEngine(f32)


def test_pipeline_with_vad_and_random_model(random_engine: WhisperCppEngine, tmp_path: Path) -> None:
    t = transcribe_file(JFK_MP3, random_engine, OPTS, vad=SileroVad(SILERO))
    assert t.provenance.engine == "whisper.cpp" and t.provenance.options["vad"] is True
    assert t.provenance.options["timestamps"] == "token"
    assert all(0 <= w.start <= w.end <= t.media.duration for w in t.words)
    assert [w.id for w in t.words] == list(range(len(t.words)))
    path = transcript_json.save(t, tmp_path / "t.json")
    assert transcript_json.load(path) == t


# --- sub-word tokens -> words (pure) ----------------------------------------------
def tok(data: str | bytes, start: float, end: float, p: float = 0.9) -> Token:
    return Token(data.encode() if isinstance(data, str) else data, start, end, p)


def test_tokens_group_into_words_with_punctuation_attached() -> None:
    words = group_tokens(
        [
            tok(" Hel", 0.0, 0.2),
            tok("lo", 0.2, 0.4),
            tok(",", 0.4, 0.45),
            tok(" world", 0.5, 0.9, 0.5),
            tok(".", 0.9, 1.0, 0.7),
        ]
    )
    assert [(w.text, w.start, w.end) for w in words] == [("Hello,", 0.0, 0.45), ("world.", 0.5, 1.0)]
    assert words[1].probability == pytest.approx(0.6)


def test_a_character_split_across_tokens_is_rebuilt() -> None:
    e_acute = "é".encode()
    words = group_tokens([tok(b" caf", 0, 0.3), tok(e_acute[:1], 0.3, 0.35), tok(e_acute[1:], 0.35, 0.4)])
    assert [w.text for w in words] == ["café"]


def test_languages_without_spaces_split_per_token() -> None:
    words = group_tokens([tok("我们", 0, 0.3), tok("今天", 0.3, 0.6), tok("。", 0.6, 0.7)], no_space=True)
    assert [w.text for w in words] == ["我们", "今天。"]


def test_make_monotonic_clamps_into_the_media() -> None:
    words = group_tokens([tok(" a", 0.5, 0.4), tok(" b", 0.3, 0.6), tok(" c", 2.0, 9.0)])
    make_monotonic(words, duration=3.0)
    # "a" ended before it began: it takes the head of "b" (at most half) instead of lasting no time
    assert [(round(w.start, 6), round(w.end, 6)) for w in words] == [(0.5, 0.55), (0.55, 0.6), (2.0, 3.0)]


def test_the_last_word_of_a_segment_never_lasts_no_time() -> None:
    """whisper's DTW time of a segment's last token can be at or past the segment's end: "you" in jfk.wav
    came out as 8.02-8.02 (and 7.848-7.848 at the end of a VAD region)."""
    words = group_tokens([tok(" for", 7.26, 7.848), tok(" you", 7.848, 7.848), tok(" ask", 8.66, 8.96)])
    make_monotonic(words, duration=11.0)
    assert [(w.text, round(w.start, 3), round(w.end, 3)) for w in words] == [
        ("for", 7.26, 7.848),
        ("you", 7.848, 7.898),
        ("ask", 8.66, 8.96),
    ]
    end = group_tokens([tok(" a", 1.0, 2.0), tok(" b", 2.0, 2.0)])
    make_monotonic(end, duration=2.0)  # at the very end of the media: from the word before
    assert [(round(w.start, 3), round(w.end, 3)) for w in end] == [(1.0, 1.95), (1.95, 2.0)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 30), st.floats(0, 2)), max_size=40), st.floats(1, 40))
def test_settled_times_are_sorted_inside_the_media_and_never_empty_where_there_is_room(
    spans: list[tuple[float, float]], duration: float
) -> None:
    words = [EngineWord(text=f"w{i}", start=a, end=a + d, probability=1.0) for i, (a, d) in enumerate(spans)]
    make_monotonic(words, duration)
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(0 <= w.start <= w.end <= duration for w in words)
    for i, w in enumerate(words):
        before = words[i - 1].start if i else -1.0
        after = words[i + 1].start if i + 1 < len(words) else duration
        if w.start - before >= 2 * MIN_WORD and after - w.start >= 2 * MIN_WORD and w.start + MIN_WORD <= duration:
            assert w.end - w.start >= MIN_WORD - 1e-9, (i, [(x.start, x.end) for x in words])
