"""The live-dictation decoder with real engines: whisper.cpp (a random-weight model of the
real tiny.en shapes: real inference, garbage words), PocketSphinx (real words from real
speech) and the real Silero VAD."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from audio.decode import decode_audio
from audio.vad import SileroVad
from pipeline.dictation.dictation_decoder import (
    DictationDecoder,
    PartialText,
    audio_ctx_for,
    vocabulary_prompt,
)
from pipeline.dictation.local_agreement import normalize
from pipeline.engines import whispercpp
from pipeline.engines.base import Engine, EngineResult, TranscribeOptions
from pipeline.engines.sphinx import SphinxEngine
from pipeline.engines.whispercpp import WhisperCppEngine
from tests.conftest import DATA, FOR_TESTS_TINY_EN, SILERO

SR = 16_000
WHISPER_OPTS = TranscribeOptions(language="en", threads=2)
SPHINX_OPTS = TranscribeOptions(language="en")


@pytest.fixture(scope="module")
def whisper(random_tiny_en: Path) -> Iterator[WhisperCppEngine]:
    engine = WhisperCppEngine(random_tiny_en)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def sphinx() -> SphinxEngine:
    return SphinxEngine()


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad(SILERO)


@pytest.fixture(scope="module")
def wizard() -> np.ndarray:
    """4.9 s of LibriSpeech: "he began a confused complaint against the wizard ..." """
    return decode_audio(DATA / "mfa" / "61-70968-0000.flac").samples


class Recorder:
    """Wraps an engine's real transcribe to see what the decoder hands it (it still runs)."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[int, TranscribeOptions, threading.Event | None]] = []
        self.started = threading.Event()
        real = engine.transcribe

        def transcribe(samples: np.ndarray, options: TranscribeOptions, **kw: Any) -> EngineResult:
            self.calls.append((len(samples), options, kw.get("cancel")))
            self.started.set()
            return real(samples, options, **kw)

        monkeypatch.setattr(engine, "transcribe", transcribe)


def words_of(text: str) -> list[str]:
    return [normalize(w) for w in text.split()]


# --- audio_ctx ------------------------------------------------------------------------
def test_audio_ctx_covers_the_utterance_with_a_margin_and_a_floor() -> None:
    assert audio_ctx_for(0.0) == 256
    assert audio_ctx_for(2.0) == 256  # 100 + 128 is under the floor
    assert audio_ctx_for(5.0) == 250 + 128
    assert audio_ctx_for(20.0) == 1000 + 128
    assert audio_ctx_for(5.0, floor=512) == 512
    assert audio_ctx_for(27.5) == 0  # 1375 + 128 would pass 1500: the full context
    assert audio_ctx_for(30.0) == 0 and audio_ctx_for(600.0) == 0
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            audio_ctx_for(bad)


@given(st.floats(0.0, 40.0))
def test_audio_ctx_always_covers_the_audio(seconds: float) -> None:
    ctx = audio_ctx_for(seconds)
    assert ctx == 0 or (seconds * 50 < ctx < 1500 and ctx >= 256)
    assert audio_ctx_for(seconds + 0.5) == 0 or audio_ctx_for(seconds + 0.5) >= ctx


def test_whisper_gets_audio_ctx_on_the_call_and_zero_on_the_next(
    whisper: WhisperCppEngine, wizard: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, float]] = []
    real_full = whispercpp.pw.whisper_full

    def full(ctx, params, audio, n):
        seen.append((params.audio_ctx, round(params.temperature_inc, 3)))
        return real_full(ctx, params, audio, n)

    monkeypatch.setattr(whispercpp.pw, "whisper_full", full)
    short = whisper.transcribe(
        wizard, TranscribeOptions(language="en", threads=2, audio_ctx=audio_ctx_for(4.9), fallback=False)
    )
    assert short.words and all(0.0 <= w.start <= w.end <= len(wizard) / SR for w in short.words)
    # The next call (a file transcription, say) leaves them at their defaults: pywhispercpp would have kept them.
    assert whisper.transcribe(wizard, WHISPER_OPTS).language == "en"
    assert seen == [(audio_ctx_for(4.9), 0.0), (0, 0.2)]
    assert DictationDecoder(whisper, WHISPER_OPTS).options_for(4.9).fallback is False  # one greedy pass
    assert whisper.options_record(TranscribeOptions(audio_ctx=300))["audio_ctx"] == 300
    assert "audio_ctx" not in whisper.options_record(WHISPER_OPTS)  # file transcripts unchanged


# --- final -----------------------------------------------------------------------------
@pytest.mark.parametrize("use_vad", [True, False])
def test_empty_or_silent_audio_gives_empty_text_without_asking_the_engine(
    whisper: WhisperCppEngine, vad: SileroVad, use_vad: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(whisper, monkeypatch)
    dec = DictationDecoder(whisper, WHISPER_OPTS, vad=vad if use_vad else None)
    for audio in (np.zeros(0, np.float32), np.zeros(3 * SR, np.float32)):
        r = dec.final(audio)
        assert r.text == "" and r.words == [] and r.seconds == len(audio) / SR
    assert rec.calls == []


def test_room_noise_without_speech_gives_empty_text_with_the_vad(
    whisper: WhisperCppEngine, vad: SileroVad, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(whisper, monkeypatch)
    noise = (np.random.default_rng(3).standard_normal(4 * SR) * 0.003).astype(np.float32)  # about -50 dBFS
    assert DictationDecoder(whisper, WHISPER_OPTS, vad=vad).final(noise).text == ""
    assert rec.calls == []  # whisper never saw it, so it could not invent "Thank you."


def test_final_trims_silence_and_sizes_audio_ctx_to_the_speech(
    whisper: WhisperCppEngine, vad: SileroVad, wizard: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(whisper, monkeypatch)
    quiet = np.zeros(2 * SR, np.float32)
    audio = np.concatenate([quiet, wizard, quiet])  # 8.9 s, of which 4.9 s speech
    dec = DictationDecoder(whisper, WHISPER_OPTS, vad=vad, vocabulary=["Dorothy", "Oz"])
    r = dec.final(audio)
    [(n, opts, _)] = rec.calls
    assert len(wizard) * 0.8 < n < len(wizard) * 1.25  # about the speech, not the silence around it
    assert opts.audio_ctx == audio_ctx_for(n / SR) and 0 < opts.audio_ctx < 1500
    assert opts.initial_prompt == "Dorothy, Oz." and opts.language == "en" and opts.threads == 2
    assert r.text and r.words and r.seconds == len(audio) / SR and r.decode_ms > 0
    assert r.text == " ".join(w.text for w in r.words)
    # word times are in the caller's audio, where the speech starts after 2 s of silence
    assert all(1.5 <= w.start <= w.end <= 7.2 for w in r.words)


def test_long_utterances_use_the_full_context(wizard: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = WhisperCppEngine(FOR_TESTS_TINY_EN)  # no weights: whisper.cpp runs, finds nothing, fast
    rec = Recorder(engine, monkeypatch)
    dec = DictationDecoder(engine, WHISPER_OPTS)
    assert dec.final(np.tile(wizard, 7)).text == ""  # 34 s, no VAD
    dec.final(wizard)
    assert [opts.audio_ctx for _, opts, _ in rec.calls] == [0, audio_ctx_for(len(wizard) / SR)]
    engine.close()


def test_sphinx_final_gives_the_real_words(sphinx: SphinxEngine, vad: SileroVad, wizard: np.ndarray) -> None:
    r = DictationDecoder(sphinx, SPHINX_OPTS, vad=vad, vocabulary=["wizard"]).final(wizard)
    ref = words_of("he began a confused complaint against the wizard who had vanished behind the curtain on the left")
    got = words_of(r.text)
    assert len(set(got) & set(ref)) >= len(set(ref)) // 2, r.text
    assert r.language == "en"


def test_warm_up_decodes_once(whisper: WhisperCppEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(whisper, monkeypatch)
    dec = DictationDecoder(whisper, WHISPER_OPTS)
    dec.warm_up()
    dec.warm_up()
    [(n, opts, _)] = rec.calls
    assert n == SR and opts.audio_ctx == audio_ctx_for(1.0)


# --- vocabulary --------------------------------------------------------------------------
def test_vocabulary_prompt() -> None:
    assert vocabulary_prompt([]) is None
    assert vocabulary_prompt([], "Meeting notes.") == "Meeting notes."
    assert vocabulary_prompt(["Hark", " PySide6 ", "hark", "", "whisper.cpp"]) == "Hark, PySide6, whisper.cpp."
    assert vocabulary_prompt(["Kubernetes"], "Notes.") == "Notes. Kubernetes."
    many = vocabulary_prompt([f"term{i:04d}" for i in range(1000)])
    assert many is not None and len(many) <= 600 and many.endswith(".") and "term0000" in many


def test_vocabulary_can_change_between_utterances(sphinx: SphinxEngine) -> None:
    dec = DictationDecoder(sphinx, TranscribeOptions(initial_prompt="Notes."), vocabulary=["Hark"])
    assert dec.options_for(3.0).initial_prompt == "Notes. Hark."
    dec.set_vocabulary(["Oz", "Dorothy"])
    assert dec.vocabulary == ("Oz", "Dorothy") and dec.options_for(3.0).initial_prompt == "Notes. Oz, Dorothy."


# --- partials: LocalAgreement on real words ---------------------------------------------------
def grow(audio: np.ndarray, step: float = 1.0) -> Iterator[np.ndarray]:
    n = int(step * SR)
    for end in range(n, len(audio) + n, n):
        yield audio[: min(end, len(audio))]


def test_partials_never_take_back_committed_words_and_the_final_keeps_them(
    sphinx: SphinxEngine, vad: SileroVad, wizard: np.ndarray
) -> None:
    dec = DictationDecoder(sphinx, SPHINX_OPTS, vad=vad)
    shown: list[PartialText] = []
    for so_far in grow(np.concatenate([wizard, np.zeros(SR // 2, np.float32)])):
        shown.append(dec.partial(so_far))
    committed = [p.committed for p in shown]
    for a, b in itertools.pairwise(committed):
        assert b.startswith(a)
    assert committed[-1], "five seconds of clear speech settle some words"
    final = dec.final(np.concatenate([wizard, np.zeros(SR // 2, np.float32)]))
    assert final.text.startswith(committed[-1])
    assert " ".join(w.text for w in final.words) == final.text


@pytest.mark.slow
def test_partials_of_a_long_dictation_stop_redecoding_settled_speech(
    sphinx: SphinxEngine, vad: SileroVad, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = decode_audio(DATA / "mfa" / "cold_corpus.wav").samples[: 12 * SR]
    rec = Recorder(sphinx, monkeypatch)
    dec = DictationDecoder(sphinx, SPHINX_OPTS, vad=vad, max_partial_seconds=4.0)
    committed = ""
    for so_far in grow(cold, 2.0):
        p = dec.partial(so_far)
        assert p.committed.startswith(committed)
        committed = p.committed
    last_partial = rec.calls[-1][0]
    final = dec.final(cold)
    assert final.text.startswith(committed) and len(words_of(final.text)) > len(words_of(committed))
    last_final = rec.calls[-1][0]
    DictationDecoder(sphinx, SPHINX_OPTS, vad=vad).final(cold)  # all 12 s (less the silence the VAD cut)
    everything = rec.calls[-1][0]
    # the window had moved on past settled words: later decodes skip at least a second of speech
    assert last_partial < everything - SR and last_final < everything - SR


def test_a_final_for_another_utterance_leaves_the_partials_alone(
    sphinx: SphinxEngine, vad: SileroVad, wizard: np.ndarray
) -> None:
    cold = decode_audio(DATA / "mfa" / "cold_corpus.wav").samples[: 4 * SR]
    dec = DictationDecoder(sphinx, SPHINX_OPTS, vad=vad)
    for so_far in grow(wizard[: 4 * SR]):
        before = dec.partial(so_far)
    other = dec.final(cold)  # utterance 1 finishing while utterance 2 is being recorded
    assert "wizard" not in other.text
    after = dec.partial(wizard)
    assert after.committed.startswith(before.committed)
    dec.reset()
    assert dec.partial(wizard[:SR]).committed == ""  # a fresh start


def test_partials_and_final_without_a_vad(sphinx: SphinxEngine, wizard: np.ndarray) -> None:
    dec = DictationDecoder(sphinx, SPHINX_OPTS)
    committed = ""
    for so_far in grow(wizard, 1.5):
        committed = dec.partial(so_far).committed
    final = dec.final(wizard)
    assert final.text and final.text.startswith(committed)


def test_partial_is_empty_for_silence(sphinx: SphinxEngine, vad: SileroVad) -> None:
    assert DictationDecoder(sphinx, SPHINX_OPTS, vad=vad).partial(np.zeros(2 * SR, np.float32)) == PartialText()


# --- one decode at a time --------------------------------------------------------------------
def test_final_cancels_a_running_partial(
    whisper: WhisperCppEngine, wizard: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(whisper, monkeypatch)
    dec = DictationDecoder(whisper, WHISPER_OPTS)
    long_partial = np.tile(wizard, 5)  # 24.5 s: a slow decode
    got: list[PartialText] = []
    t = threading.Thread(target=lambda: got.append(dec.partial(long_partial)))
    t.start()
    assert rec.started.wait(30)
    result = dec.final(wizard)
    t.join(60)
    assert not t.is_alive()
    assert got == [PartialText()]  # cancelled: it answers with the last partial (none yet)
    partial_cancel = rec.calls[0][2]
    assert partial_cancel is not None and partial_cancel.is_set()
    assert rec.calls[1][0] == len(wizard) and rec.calls[1][2] is None  # the final ran, uncancelled
    assert result.words


def test_a_partial_never_waits_for_a_running_final(
    whisper: WhisperCppEngine, wizard: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(whisper, monkeypatch)
    dec = DictationDecoder(whisper, WHISPER_OPTS)
    t = threading.Thread(target=dec.final, args=(np.tile(wizard, 3),))
    t.start()
    assert rec.started.wait(30)
    assert dec.partial(wizard) == PartialText()  # answered at once, from what it had
    t.join(60)
    assert len(rec.calls) == 1
