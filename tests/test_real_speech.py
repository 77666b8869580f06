"""The trained whisper tiny.en (the built-in model, converted by our importer) on real speech and on no speech.

What a user gets from `hark transcribe` with the default model: the exact words of jfk.wav, the same
words from its q8_0 and q5_0 quantisations, and no invented text from silence, noise or music.
Word error rates per clip against references are in tests/test_eval_asr.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from app.cli.main import main
from pipeline.engines.base import TranscribeOptions
from pipeline.engines.whispercpp import WhisperCppEngine
from pipeline.models.model_import import import_model
from pipeline.transcription.transcribe import transcribe_file
from tests.conftest import DATA, JFK_WAV, SILERO, TRAINED_NAME, ffmpeg

JFK_TEXT = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
STOCK_PHRASES = ("thank you for watching", "subscribe", "thanks for watching", "subtitles by")


def plain(text: str) -> str:
    """Lower case, no punctuation: how the exact-text checks compare."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def test_jfk_word_for_word_with_the_default_model(trained_store: Path, tmp_path: Path, monkeypatch) -> None:
    """`hark transcribe jfk.wav` with nothing but the built-in model installed."""
    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    out = tmp_path / "out"
    assert main(["transcribe", str(JFK_WAV), "--format", "json,txt,srt", "--out", str(out), "-q"]) == 0
    data = json.loads((out / "jfk.json").read_text())
    assert data["provenance"]["engine"] == "whisper.cpp" and data["provenance"]["model"] == TRAINED_NAME
    assert data["provenance"]["model_sha256"] and data["provenance"]["options"]["vad"] is True
    words = data["words"]
    assert plain(" ".join(w["text"] for w in words)) == JFK_TEXT
    assert plain((out / "jfk.txt").read_text()) == JFK_TEXT
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    assert all(w["start"] < w["end"] for w in words), [(w["text"], w["start"], w["end"]) for w in words]
    assert 0.0 <= words[0]["start"] < 1.5 and 9.0 < words[-1]["end"] <= 11.1  # jfk.wav speaks from 0.3 to 10.5 s


def test_quantised_models_hear_the_same_words(trained_tiny_en: Path, trained_tiny_en_q8: Path, tmp_path: Path) -> None:
    q5 = import_model(trained_tiny_en, tmp_path / "models", quantize="q5_0", name="q5").path
    texts = {}
    for name, path in (("f16", trained_tiny_en), ("q8_0", trained_tiny_en_q8), ("q5_0", q5)):
        engine = WhisperCppEngine(path)
        try:
            t = transcribe_file(JFK_WAV, engine, TranscribeOptions(language="en", threads=2))
        finally:
            engine.close()
        texts[name] = plain(" ".join(w.text for w in t.words))
    assert texts == {"f16": JFK_TEXT, "q8_0": JFK_TEXT, "q5_0": JFK_TEXT}


@pytest.fixture(scope="module")
def no_speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("no-speech")
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=pink:amplitude=0.003:duration=600:seed=2",
        "-ar",
        "16000",
        "-ac",
        "1",
        str(d / "room-tone-10min.flac"),
    )
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=color=white:amplitude=0.1:duration=60:seed=1",
        "-ar",
        "16000",
        "-ac",
        "1",
        str(d / "white-noise.wav"),
    )
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "600", str(d / "silence-10min.flac"))
    return {p.stem: p for p in d.iterdir()} | {"big-buck-bunny": DATA / "lhotse" / "big_buck_bunny_small.mp4"}


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["room-tone-10min", "white-noise", "big-buck-bunny"])
def test_no_words_from_noise_or_music(
    clip: str, no_speech: dict[str, Path], trained_store: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Without VAD, tiny.en writes "I'm going to do that." over white noise and "Mmm. Mmm." over the film's
    music; with it (the default), nothing: no speech is bad input (exit 3, as digital silence), one line,
    and no file is written (an empty SRT would pass for a transcript)."""
    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    out = tmp_path / "out"
    assert main(["transcribe", str(no_speech[clip]), "--format", "json,srt", "--out", str(out), "-q"]) == 3
    err = capsys.readouterr().err
    assert "no speech was recognised" in err and err.count("\n") == 1, err
    assert not any(p in err.lower() for p in STOCK_PHRASES)
    assert not out.exists() or not list(out.iterdir())

    # The pipeline's own transcript (what the app shows) holds no word either, and says why.
    from pipeline.models.store import ModelStore
    from pipeline.transcription.engine_setup import load_engine, load_vad
    from pipeline.transcription.transcribe import transcribe_file

    store = ModelStore()
    vad, _ = load_vad(store)
    engine = load_engine("whisper", None, store, language="en").engine
    assert isinstance(engine, WhisperCppEngine)
    try:
        t = transcribe_file(no_speech[clip], engine, vad=vad)
    finally:
        engine.close()
    assert t.words == [] and t.captions == [] and "no speech was recognised" in t.warnings


@pytest.mark.slow
def test_ten_minutes_of_digital_silence_is_one_line(
    no_speech: dict[str, Path], trained_store: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    assert main(["transcribe", str(no_speech["silence-10min"]), "--out", str(tmp_path / "out"), "-q"]) == 3
    err = capsys.readouterr().err
    assert "the audio is silent; there is nothing to transcribe" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_hark_command_itself_with_the_built_in_model(trained_store: Path, tmp_path: Path) -> None:
    """As a user types it, in a new process: the default model, no options."""
    import os
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "app", "transcribe", str(JFK_WAV), "--format", "txt", "--out", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HARK_VAD_MODEL": str(SILERO)},
    )
    assert run.returncode == 0, run.stderr
    assert plain((tmp_path / "jfk.txt").read_text()) == JFK_TEXT
