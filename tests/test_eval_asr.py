"""`hark eval asr`: WER/CER scoring (pipeline.transcription.asr_eval), the bare-pywhispercpp baseline, and the command
end to end on real speech with the trained tiny.en, Hark against the bare engine in the same run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import _pywhispercpp as pw
import pytest

from app.cli.main import main
from audio.errors import MediaError
from pipeline.engines.bare_whisper import decode_params
from pipeline.engines.base import TranscribeOptions
from pipeline.transcription.asr_eval import (
    ErrorCounts,
    Score,
    normalise,
    read_reference,
    reference_path,
    references,
    score,
    total,
)
from tests.conftest import DATA, FOR_TESTS_TINY, FOR_TESTS_TINY_EN, JFK_WAV, SILERO

JFK_REFERENCE = DATA / "whisper.cpp" / "jfk.txt"
# Real speech with human references, each a different source and reference style: LibriSpeech FLAC
# (.lab, upper case), LJSpeech 22.05 kHz WAV (.txt with punctuation), a 26 s WAV (.lab with fillers),
# an MFA clip whose reference marks cut-off words (<cutoff-x>, removed by the normaliser).
CLIPS = [
    DATA / "mfa" / "61-70968-0000.flac",
    DATA / "speechbrain" / "LJ050-0131.wav",
    DATA / "mfa" / "cold_corpus.wav",
    DATA / "mfa" / "mfa_crossword.flac",
]


# --- normalisation and scoring -------------------------------------------------------------------
def test_english_is_normalised_as_whisper_evaluations_do() -> None:
    assert (
        normalise("And so my fellow Americans, ask not what your country can do for you.", "en")
        == "and so my fellow americans ask not what your country can do for you"
    )
    # Annotation in <...> / [...] and fillers go; contractions and British spellings are unified.
    assert normalise("<cutoff-montreal> Montreal [laughter] uh forced   aligner", "en") == "montreal forced aligner"
    assert normalise("I can't recognise it", "en") == "i can not recognize it"


def test_other_languages_get_the_basic_normaliser() -> None:
    # No English rules (the Spanish "y" and "no" stay), accents kept, punctuation gone.
    assert normalise("La sorpresa y el disgusto, ¿no? Fisonomía.", "es") == "la sorpresa y el disgusto no fisonomía"


def test_word_errors_are_counted_by_kind() -> None:
    # the cat sat on the mat / cat sit on the mat today: "the" deleted, sat->sit, "today" inserted.
    s = score("The cat sat on the mat.", "cat sit on the mat today", "en")
    assert s.words == ErrorCounts(length=6, substitutions=1, deletions=1, insertions=1)
    assert s.wer == pytest.approx(3 / 6)


def test_character_error_rate_counts_the_normalised_characters() -> None:
    s = score("Hello, World!", "hello word", "en")  # "hello world" (11 chars) -> "hello word": one deletion
    assert s.chars == ErrorCounts(length=11, deletions=1)
    assert s.cer == pytest.approx(1 / 11)
    assert s.wer == pytest.approx(1 / 2)


def test_total_adds_errors_and_words_not_rates() -> None:
    short = score("yes", "no", "en")  # 1 word, 1 error: WER 100 %
    words = "ask not what your country can do for you"  # 9 words, all right
    long = score(words, words, "en")
    both = total([short, long])
    assert both.words == ErrorCounts(length=10, substitutions=1)
    assert both.wer == pytest.approx(0.1)  # the mean of the two rates would be 0.5
    assert short.wer is not None and long.wer is not None
    assert (short.wer + long.wer) / 2 == pytest.approx(0.5)
    assert total([]) == Score(ErrorCounts(0), ErrorCounts(0))


def test_a_reference_with_no_words_left_has_no_rate() -> None:
    assert score("<unk>", "hello", "en").words == ErrorCounts(length=0, insertions=1)
    assert score("<unk>", "hello", "en").wer is None
    assert score("[laughter]", "", "en").wer == 0.0


# --- references ------------------------------------------------------------------------------------
def test_references_are_found_beside_the_audio_or_in_a_folder(tmp_path: Path) -> None:
    audio = tmp_path / "a" / "clip.flac"
    audio.parent.mkdir()
    audio.write_bytes(b"x")
    (audio.parent / "clip.lab").write_text("from the lab file\n")
    assert reference_path(audio, None) == audio.parent / "clip.lab"
    (audio.parent / "clip.txt").write_text("from the text file\n")
    assert reference_path(audio, None) == audio.parent / "clip.txt"  # .txt first
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "clip.lab").write_text("ANOTHER\nLINE\n")
    assert references([audio], refs) == {audio: (refs / "clip.lab", "ANOTHER LINE")}
    assert reference_path(audio, refs / "clip.lab") == refs / "clip.lab"


@pytest.mark.parametrize("content, reason", [(b"", "empty"), (b" \n\n", "empty"), (b"\xff\xfe\x00bad", "UTF-8")])
def test_unusable_references_are_bad_input(tmp_path: Path, content: bytes, reason: str) -> None:
    ref = tmp_path / "clip.txt"
    ref.write_bytes(content)
    with pytest.raises(MediaError, match=reason):
        read_reference(ref)


def test_a_missing_reference_names_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match=r"no reference transcript \(clip\.txt or clip\.lab in "):
        reference_path(tmp_path / "clip.wav", None)
    with pytest.raises(MediaError, match="no such reference"):
        reference_path(tmp_path / "clip.wav", tmp_path / "nowhere.txt")


# --- the baseline's parameters ---------------------------------------------------------------------
def _values(params: object) -> dict[str, object]:
    """The plain-valued fields of a whisper_full_params (nested greedy/beam_search settings included)."""
    values: dict[str, object] = {}
    for name in dir(params):
        try:
            value = getattr(params, name)
        except TypeError:  # callbacks the binding cannot hand back
            continue
        if not name.startswith("_") and isinstance(value, (bool, int, float, str, dict, tuple)):
            values[name] = value
    return values


@pytest.mark.parametrize(
    "model, options",
    [
        (FOR_TESTS_TINY_EN, TranscribeOptions(language="en", threads=3)),
        (FOR_TESTS_TINY_EN, TranscribeOptions(language=None, threads=1, fallback=False, audio_ctx=300)),
        (FOR_TESTS_TINY, TranscribeOptions(language="de", translate=True, initial_prompt="Grüße", threads=2)),
        (FOR_TESTS_TINY, TranscribeOptions(language=None)),
    ],
)
def test_the_bare_engine_gets_exactly_harks_whisper_parameters(model: Path, options: TranscribeOptions) -> None:
    """Every whisper_full_params field, after the baseline's keywords are applied to whisper.cpp's
    defaults as pywhispercpp does, equals the engine's: no parameter drifts apart unnoticed."""
    from pipeline.engines.whispercpp import WhisperCppEngine

    engine = WhisperCppEngine(model)
    try:
        bare = pw.whisper_full_default_params(pw.WHISPER_SAMPLING_GREEDY)
        for key, value in decode_params(options, multilingual=engine.multilingual).items():
            setattr(bare, key, value)
        assert _values(bare) == _values(engine._params(options))
    finally:
        engine.close()


# --- end to end ------------------------------------------------------------------------------------
def _json_lines(out: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:  # parsed JSON
    objs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return objs[:-1], objs[-1]


@pytest.mark.slow
def test_jfk_has_no_error_in_hark_the_bare_engine_or_hark_with_vad(
    trained_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Default model (the trained tiny.en in the store), reference beside the audio (jfk.txt), text output."""
    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    assert main(["eval", "asr", str(JFK_WAV), "--threads", "1", "--vad"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "tiny.en-bundled" in out[0] and "hark = Hark without VAD" in out[0]
    assert "hark_vad = Hark with Silero" in out[0]
    header = out[1].split()
    assert header[:5] == ["FILE", "WORDS", "WER", "hark", "WER"] and "DIFF" in header
    row = out[2].split()
    assert row[:6] == ["jfk.wav", "22", "0.0%", "0.0%", "+0.0", "0.0%"]  # WER hark, bare, DIFF, WER hark_vad
    assert row[9:12] == ["0/0/0"] * 3  # S/D/I of each
    assert out[3].split()[:2] == ["total", "22"]
    assert out[4].endswith("hark adds no error") and out[5].endswith("hark_vad adds no error")


@pytest.mark.slow
def test_hark_adds_no_error_to_the_bare_engine_on_real_speech(
    trained_tiny_en: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four real clips, references from a --ref folder; Hark's word errors equal the bare engine's, file by file."""
    refs = tmp_path / "refs"
    refs.mkdir()
    for clip in CLIPS:
        ref = next(clip.with_suffix(s) for s in (".txt", ".lab") if clip.with_suffix(s).is_file())
        shutil.copyfile(ref, refs / ref.name)
    rc = main(
        [
            "eval",
            "asr",
            *map(str, CLIPS),
            "--ref",
            str(refs),
            "--model",
            str(trained_tiny_en),
            "--threads",
            "1",
            "--json",
        ]
    )
    assert rc == 0
    files, tot = _json_lines(capsys.readouterr().out)
    assert [Path(str(f["file"])).name for f in files] == [c.name for c in CLIPS]
    for f in files:
        hark, bare = f["hark"], f["bare"]
        assert isinstance(hark, dict) and isinstance(bare, dict)
        assert f["error_difference"] == 0, (f["file"], hark["text"], bare["text"])
        assert (hark["substitutions"], hark["deletions"], hark["insertions"]) == (
            bare["substitutions"],
            bare["deletions"],
            bare["insertions"],
        )
        assert hark["char_errors"] == bare["char_errors"]
    assert tot["total"] is True and tot["files"] == 4 and tot["error_difference"] == 0
    hark_total = tot["hark"]
    assert isinstance(hark_total, dict)
    # Measured here (tiny.en-bundled f16, 1 thread): 7 errors over 100 words, WER 7.0 % for Hark and bare alike
    # (61-70968-0000 0, LJ050-0131 2, cold_corpus 2, mfa_crossword 3).
    assert tot["words"] == 100
    assert hark_total["wer"] < 0.10
    assert hark_total["errors"] == sum(f["hark"]["errors"] for f in files)


# --- bad input -------------------------------------------------------------------------------------
def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_missing_reference_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio = shutil.copyfile(JFK_WAV, tmp_path / "speech.wav")
    assert main(["eval", "asr", str(audio)]) == 3
    line = _one_error_line(capsys.readouterr().err)
    assert "speech.wav: no reference transcript (speech.txt or speech.lab in" in line


def test_missing_audio_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "asr", str(tmp_path / "gone.wav"), "--ref", str(JFK_REFERENCE)]) == 3
    assert "gone.wav: no such file" in _one_error_line(capsys.readouterr().err)


def test_an_unreadable_reference_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = tmp_path / "jfk.txt"
    ref.write_bytes(b"\xff\xfe\x00\x80")
    assert main(["eval", "asr", str(JFK_WAV), "--ref", str(ref)]) == 3
    assert "not a UTF-8 text file" in _one_error_line(capsys.readouterr().err)


def test_one_reference_file_for_several_audio_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["eval", "asr", str(JFK_WAV), str(CLIPS[0]), "--ref", str(JFK_REFERENCE)])
    assert e.value.code == 2
    assert "is one transcript, but 2 audio files were given" in _one_error_line(capsys.readouterr().err)


def test_auto_is_not_a_language_to_score(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["eval", "asr", str(JFK_WAV), "--language", "auto"])
    assert e.value.code == 2
    assert "--language needs the language code" in _one_error_line(capsys.readouterr().err)


def test_no_model_is_a_model_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "asr", str(JFK_WAV)]) == 4  # the isolated models folder is empty
    assert "no whisper model is installed" in _one_error_line(capsys.readouterr().err)


def test_an_english_only_model_cannot_score_swedish(trained_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    swedish = DATA / "mfa" / "se10x016-08071999-1334_u0016001.wav"
    assert main(["eval", "asr", str(swedish), "--language", "sv"]) == 4
    assert "is English-only; choose a multilingual model for 'sv'" in _one_error_line(capsys.readouterr().err)


def test_eval_help_lists_asr(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    assert "asr" in out and "diarization" in out
    with pytest.raises(SystemExit):
        main(["eval", "asr", "--help"])
    out = capsys.readouterr().out
    assert "--no-baseline" in out and "--vad" in out and "VAD: the bare engine has none" in out
