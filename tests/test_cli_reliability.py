"""Hostile use of the command line (issue 14): each case gives one clear line, the documented exit
code, loses nothing and leaves nothing behind. Real files, real ffmpeg, the real `hark` entry point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK, EXIT_USAGE, main
from pipeline.models.store import sha256_file
from pipeline.transcripts import project as projects
from pipeline.transcripts.transcript import Caption, MediaRef, Provenance, Transcript, Word
from tests.conftest import JFK_MP3, JFK_WAV

# JFK's words at their places in jfk.wav (seconds), enough for a cut to have something to remove.
JFK_WORDS = [
    ("And", 0.32, 0.54),
    ("so,", 0.54, 1.08),
    ("my", 1.08, 1.38),
    ("fellow", 1.38, 1.80),
    ("Americans,", 1.80, 2.60),
    ("ask", 3.26, 3.98),
    ("not", 3.98, 4.30),
]


def jfk_project(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of jfk.wav and a project over it with "fellow" cut; (project file, media)."""
    media = tmp_path / "jfk.wav"
    shutil.copy(JFK_WAV, media)
    words = [Word(i, t, s, e, 0.9) for i, (t, s, e) in enumerate(JFK_WORDS)]
    t = Transcript(
        media=MediaRef(str(media), 11.0, sha256_file(media), media.stat().st_size),
        language="en",
        provenance=Provenance("whisper.cpp", "1.5.1", "tiny.en"),
        words=words,
        captions=[Caption(0.32, 4.30, [w.id for w in words], [" ".join(w.text for w in words)])],
    )
    from pipeline.editing import editing as ed

    t = ed.cut_words(t, [3])
    return projects.save(projects.Project(transcript=t), tmp_path / "jfk.hark"), media


def run_cli(*args: str) -> tuple[int, str]:
    r = subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return r.returncode, r.stderr


# --- 1. the media changed under the project ------------------------------------------------------
def test_cut_refuses_media_whose_content_changed_and_relinks_when_asked(tmp_path, capsys):
    project, media = jfk_project(tmp_path)
    # Same name, other content (the user re-exported the clip): the words' times no longer apply.
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(JFK_MP3),
            "-ar",
            "16000",
            "-ac",
            "1",
            "-t",
            "9",
            str(tmp_path / "other.wav"),
        ],
        check=True,
    )
    os.replace(tmp_path / "other.wav", media)
    out = tmp_path / "out.wav"
    assert main(["cut", str(project), "--out", str(out), "-q", "--no-snap"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "changed since the project was made" in err and "--accept-changed-media" in err, err
    assert not out.exists() and not list(tmp_path.glob("out*"))

    # The user says this is the media now: it renders, and the project is not rewritten by a cut.
    before = project.read_bytes()
    assert main(["cut", str(project), "--out", str(out), "-q", "--no-snap", "--accept-changed-media"]) == EXIT_OK
    assert out.is_file() and project.read_bytes() == before


def test_cut_refuses_a_truncated_media_file_by_its_size(tmp_path, capsys):
    project, media = jfk_project(tmp_path)
    data = media.read_bytes()
    media.write_bytes(data[: len(data) // 2])
    assert main(["cut", str(project), "--out", str(tmp_path / "o.wav"), "-q", "--no-snap"]) == EXIT_BAD_INPUT
    assert "changed since the project was made" in capsys.readouterr().err


def test_cut_with_unchanged_media_still_renders(tmp_path, capsys):
    project, _ = jfk_project(tmp_path)
    out = tmp_path / "o.wav"
    assert main(["cut", str(project), "--out", str(out), "-q", "--no-snap", "--captions", "none"]) == EXIT_OK
    assert out.is_file()


# --- 5. cut never replaces an existing output unless told to -------------------------------------
def test_cut_refuses_an_existing_output_or_caption_file_unless_forced(tmp_path, capsys):
    project, _ = jfk_project(tmp_path)
    out = tmp_path / "mine.wav"
    out.write_bytes(b"the user's own file")
    assert main(["cut", str(project), "--out", str(out), "-q", "--no-snap"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err, err
    assert out.read_bytes() == b"the user's own file"

    out2 = tmp_path / "fresh.wav"
    out2.with_suffix(".srt").write_text("my own captions\n")  # the sidecar caption file is taken
    assert main(["cut", str(project), "--out", str(out2), "-q", "--no-snap"]) == EXIT_USAGE
    assert "fresh.srt" in capsys.readouterr().err
    assert not out2.exists() and out2.with_suffix(".srt").read_text() == "my own captions\n"

    assert main(["cut", str(project), "--out", str(out), "-q", "--no-snap", "--force"]) == EXIT_OK
    assert out.read_bytes() != b"the user's own file" and out.with_suffix(".srt").is_file()


# --- 2. thread counts ----------------------------------------------------------------------------
def test_threads_are_clamped_to_the_cpu_count_with_a_warning(tmp_path, capsys):
    from app.cli.main import clamp_threads

    n = os.cpu_count() or 1
    assert clamp_threads(10_000) == n
    assert "10000" in capsys.readouterr().err
    assert clamp_threads(1) == 1 and clamp_threads(n) == n
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value", ["0", "-3", "two"])
def test_bad_thread_counts_are_usage_errors(value):
    rc, err = run_cli("transcribe", str(JFK_WAV), "--threads", value, "--engine", "sphinx")
    assert rc == EXIT_USAGE and "--threads" in err and "Traceback" not in err


def test_ten_thousand_threads_transcribe_with_the_cpu_count(tmp_path):
    rc, err = run_cli(
        "transcribe",
        str(JFK_WAV),
        "--threads",
        "10000",
        "--engine",
        "sphinx",
        "--format",
        "txt",
        "--out",
        str(tmp_path),
        "-q",
    )
    assert rc == EXIT_OK, err
    assert "using" in err and "threads" in err, err
    assert "country" in (tmp_path / "jfk.txt").read_text().lower()


# --- 3. and 8. batches ---------------------------------------------------------------------------
def test_a_batch_goes_on_past_a_file_it_cannot_write_and_reports_it(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(JFK_WAV, a / "one.wav")
    shutil.copy(JFK_WAV, b / "two.wav")
    (a / "one.txt").mkdir()  # where one.txt must go there is a folder: the write fails
    rc, err = run_cli(
        "transcribe",
        str(a / "one.wav"),
        str(b / "two.wav"),
        "--engine",
        "sphinx",
        "--format",
        "txt",
        "--overwrite",
        "-q",
    )
    assert rc == EXIT_FAIL, err
    assert (b / "two.txt").is_file()  # the second file was still done
    assert "1 of 2 files transcribed" in err and "one.txt" in err, err
    assert "Traceback" not in err


def test_the_same_input_twice_is_transcribed_once(tmp_path):
    shutil.copy(JFK_WAV, tmp_path / "talk.wav")
    rc, err = run_cli(
        "transcribe",
        str(tmp_path / "talk.wav"),
        str(tmp_path / "." / "talk.wav"),
        str(tmp_path),
        "--engine",
        "sphinx",
        "--format",
        "txt",
        "-q",
    )
    assert rc == EXIT_OK, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.txt", "talk.wav"]
    assert "given more than once" in err, err


# --- 9. a mistyped command ----------------------------------------------------------------------
def test_a_mistyped_command_is_named_not_opened_as_a_file():
    rc, err = run_cli("transcibe", "x.wav")
    assert rc == EXIT_USAGE
    assert "unknown command 'transcibe'" in err and "did you mean 'transcribe'" in err, err


def test_an_unknown_word_that_is_no_file_is_a_usage_error(tmp_path):
    rc, err = run_cli("frobnicate")
    assert rc == EXIT_USAGE and "unknown command 'frobnicate'" in err, err


def test_a_missing_media_file_for_the_app_is_reported_on_the_terminal(tmp_path):
    rc, err = run_cli(str(tmp_path / "nothing-here.mp4"))
    assert rc == EXIT_BAD_INPUT and "nothing-here.mp4" in err and "no such file" in err, err


def test_wants_gui_for_existing_files_and_no_arguments(tmp_path):
    from app.cli.main import wants_gui

    assert wants_gui([]) and wants_gui([str(JFK_WAV)])
    assert not wants_gui(["transcibe"]) and not wants_gui(["--help"])


# --- 11. messages and exit codes ----------------------------------------------------------------
def test_a_malformed_project_is_bad_input(tmp_path, capsys):
    bad = tmp_path / "broken.hark"
    bad.write_text('{"format": "hark-project", "version": 1, "transcript": {"format": "hark-transcript"}}')
    assert main(["cut", str(bad), "-q"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("hark: error:") and len(err.splitlines()) == 1, err


def test_a_bad_crossfade_is_a_usage_error(tmp_path, capsys):
    project, _ = jfk_project(tmp_path)
    assert main(["cut", str(project), "--crossfade", "900", "-q"]) == EXIT_USAGE
    assert "--crossfade" in capsys.readouterr().err


def test_a_folder_given_as_model_says_so(tmp_path):
    rc, err = run_cli("transcribe", str(JFK_WAV), "--model", str(tmp_path), "--out", str(tmp_path))
    assert rc == 4 and "is a folder" in err and "Traceback" not in err, err


def test_out_naming_a_file_says_it_must_be_a_folder(tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    rc, err = run_cli("transcribe", str(JFK_WAV), "--engine", "sphinx", "--out", str(taken), "-q")
    assert rc == EXIT_USAGE and "--out" in err and "folder" in err and "File exists" not in err, err
    assert taken.read_text() == "mine"


def test_a_file_name_starting_with_a_dash_gets_a_hint(tmp_path):
    dash = tmp_path / "-dash.wav"
    shutil.copy(JFK_WAV, dash)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    r = subprocess.run(
        [sys.executable, "-m", "app", "transcribe", "-dash.wav", "--engine", "sphinx"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert r.returncode == EXIT_USAGE and "./-dash.wav" in r.stderr, r.stderr
    rc = subprocess.run(
        [sys.executable, "-m", "app", "transcribe", "--engine", "sphinx", "--format", "txt", "-q", "--", "-dash.wav"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert rc.returncode == EXIT_OK, rc.stderr
    assert (tmp_path / "-dash.txt").is_file()


def test_help_lists_the_exit_codes():
    r = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True, text=True, timeout=60)
    text = " ".join(r.stdout.split())
    for code in ("0 ok", "1 failure", "2 usage", "3 bad input", "4 model problem", "130 cancelled"):
        assert code in text, text


def test_an_unreadable_file_says_permission_denied():
    """As another user (a user namespace maps us to nobody: root reads every file), a file of mode 000."""
    import tempfile

    if shutil.which("unshare") is None or subprocess.run(["unshare", "-U", "true"]).returncode != 0:
        pytest.skip("no unprivileged user namespaces here")
    with tempfile.TemporaryDirectory(prefix="hark-perm-") as d:  # pytest's own folders are closed to others
        folder = Path(d)
        folder.chmod(0o755)
        if any(p.stat().st_mode & 0o001 == 0 for p in folder.parents):
            pytest.skip(f"{folder.parent} is closed to other users")
        locked = folder / "locked.wav"
        shutil.copy(JFK_WAV, locked)
        locked.chmod(0)
        env = {**os.environ, "HOME": d, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        r = subprocess.run(
            ["unshare", "-U", sys.executable, "-m", "app", "transcribe", str(locked), "--engine", "sphinx", "-q"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=d,
        )
    assert r.returncode == EXIT_BAD_INPUT
    assert "permission denied" in r.stderr and "not an audio or video file" not in r.stderr, r.stderr
