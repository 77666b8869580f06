"""`hark transcribe` as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from pipeline.transcripts import transcript_json
from tests.conftest import DATA, JFK_MP3, SILERO, copy_shared


def hark(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_jfk_to_srt_and_json(tmp_path: Path) -> None:
    run = hark("transcribe", str(JFK_MP3), "--engine", "sphinx", "--format", "srt,json", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    srt = (tmp_path / "jfk.srt").read_text()
    assert "country" in srt
    assert srt.startswith("1\n00:00:")
    assert not (tmp_path / "jfk.vtt").exists()
    text = (tmp_path / "jfk.json").read_text()
    t = transcript_json.loads(text)
    assert transcript_json.dumps(t) + "\n" == text  # loads back equal, byte for byte
    assert t.media.duration == pytest.approx(11.0, abs=0.05)
    assert t.provenance.engine == "pocketsphinx" and t.language == "en"
    assert "Traceback" not in run.stderr


def test_installed_console_script(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("hark")
    if not exe.exists():
        pytest.skip("hark console script not installed next to this Python (run through make test)")
    run = subprocess.run([str(exe), "models", "list"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "base.en" in run.stdout


def test_with_vad_from_the_model_manager(tmp_path: Path) -> None:
    run = hark(
        "transcribe",
        str(JFK_MP3),
        "--engine",
        "sphinx",
        "--format",
        "txt",
        "--out",
        str(tmp_path),
        env={"HARK_VAD_MODEL": str(SILERO)},
    )
    assert run.returncode == 0, run.stderr
    assert "country" in (tmp_path / "jfk.txt").read_text()
    assert "silence trimming is off" not in run.stderr


def test_missing_file_exits_3_with_one_line(tmp_path: Path) -> None:
    # With the default engine too: nothing is loaded, and no model notice crowds the error.
    for engine in ("sphinx", "auto"):
        run = hark("transcribe", str(tmp_path / "missing.wav"), "--engine", engine)
        assert run.returncode == 3
        lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
        assert lines == [f"hark: error: {tmp_path / 'missing.wav'}: no such file"], run.stderr


def test_batch_keeps_going_past_bad_files(tmp_path: Path) -> None:
    good = copy_shared(JFK_MP3, tmp_path)
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n" * 100)
    out = tmp_path / "out"
    run = hark(
        "transcribe",
        str(bad),
        str(tmp_path / "gone.wav"),
        str(good),
        "--engine",
        "sphinx",
        "--format",
        "txt",
        "--out",
        str(out),
    )
    assert run.returncode == 3
    assert (out / "jfk.txt").exists() and not (out / "notes.txt").exists()
    assert "1 of 3 files transcribed" in run.stderr
    assert "notes.mp4" in run.stderr and "gone.wav" in run.stderr
    assert "Traceback" not in run.stderr


def test_silent_file_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "silence.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000 * 3)
    run = hark("transcribe", str(p), "--engine", "sphinx", "--out", str(tmp_path))
    assert run.returncode == 3
    assert "silent" in run.stderr
    assert not (tmp_path / "silence.srt").exists()


def test_usage_errors_exit_2() -> None:
    run = hark("transcribe", str(JFK_MP3), "--format", "docx")
    assert run.returncode == 2 and "unknown format" in run.stderr
    assert hark("transcribe").returncode == 2


def test_model_problems_exit_4(tmp_path: Path) -> None:
    run = hark("transcribe", str(JFK_MP3), "--engine", "whisper")
    assert run.returncode == 4 and "hark models download" in run.stderr
    run = hark("transcribe", str(JFK_MP3), "--model", str(tmp_path / "nope.bin"))
    assert run.returncode == 4 and "not found" in run.stderr
    notmodel = tmp_path / "fake.bin"
    notmodel.write_bytes(b"\0" * 1000)
    run = hark("transcribe", str(JFK_MP3), "--model", str(notmodel))
    assert run.returncode == 4 and "not a usable whisper.cpp model" in run.stderr


def test_ctrl_c_cancels_with_130(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "transcribe",
            str(DATA / "mfa/cold_corpus.wav"),
            "--engine",
            "sphinx",
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3.0)  # imports, model load, decoding under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_help_lists_commands() -> None:
    run = hark("--help")
    assert run.returncode == 0
    assert "transcribe" in run.stdout and "models" in run.stdout and "Exit codes" in run.stdout


def test_existing_files_are_never_replaced_unless_asked(tmp_path: Path) -> None:
    media = copy_shared(JFK_MP3, tmp_path)
    reference = tmp_path / "jfk.txt"
    reference.write_text("the user's own transcript\n")
    run = hark("transcribe", str(media), "--engine", "sphinx", "--format", "txt,srt", "-q")
    assert run.returncode == 0, run.stderr
    assert reference.read_text() == "the user's own transcript\n"
    assert "country" in (tmp_path / "jfk-2.txt").read_text() and (tmp_path / "jfk-2.srt").is_file()
    assert not (tmp_path / "jfk.srt").exists()  # one set of outputs shares one name
    assert "jfk-2.txt" in run.stdout
    run = hark("transcribe", str(media), "--engine", "sphinx", "--format", "txt", "--overwrite", "-q")
    assert run.returncode == 0, run.stderr
    assert "country" in reference.read_text()
