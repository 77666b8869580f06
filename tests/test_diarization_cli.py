"""`hark transcribe --diarize` and `hark eval diarization`, end to end, offline.

Real words come from the offline engine (PocketSphinx) on real two-speaker
speech; the speakers from the real pyannote pipeline with random weights.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.cli.main import main
from pipeline.transcripts.transcript_json import load as load_transcript
from tests.conftest import DATA, PYANNOTE_SAMPLE, PYANNOTE_SAMPLE_RTTM, copy_shared

pytest.importorskip("pyannote.audio", reason="the diarize extra is not installed")

from pipeline.speakers.diarization_eval import diarization_error, read_uem
from pipeline.speakers.speaker_turns import Turn, read_rttm

pytestmark = pytest.mark.slow
AMI = DATA / "pyannote" / "ami-debug"


def test_transcribe_with_speakers_offline(
    tmp_path: Path, random_diarization_pipeline: Path, no_network: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's done-when command, with --speakers 2 so that the speaker changes mid-file."""
    src = copy_shared(PYANNOTE_SAMPLE, tmp_path)
    out = tmp_path / "out"
    rc = main(
        [
            "transcribe",
            str(src),
            "--engine",
            "sphinx",
            "--diarize",
            "--speakers",
            "2",
            "--speaker-speed",
            "fast",
            "--diarization-model",
            str(random_diarization_pipeline),
            "--format",
            "srt,json",
            "--out",
            str(out),
            "-q",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert no_network == []
    t = load_transcript(out / "sample.json")
    assert len(t.words) > 40
    assert all(w.speaker in {"SPEAKER_00", "SPEAKER_01"} for w in t.words)
    assert {w.speaker for w in t.words} == {"SPEAKER_00", "SPEAKER_01"}
    assert all(c.speaker is not None for c in t.captions)
    for c in t.captions:  # captions split at speaker changes: one speaker per caption
        ids = set(c.word_ids)
        assert {w.speaker for w in t.words if w.id in ids} == {c.speaker}
    record = t.provenance.options["diarization"]
    assert isinstance(record, dict)
    assert record["num_speakers"] == 2
    assert record["segmentation_step"] == 0.5
    srt = (out / "sample.srt").read_text()
    blocks = [b for b in srt.strip().split("\n\n") if b]
    assert len(blocks) == len(t.captions)
    assert all(re.search(r"^SPEAKER_0[01]: ", b.splitlines()[2]) for b in blocks)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--speakers", "2"], "need --diarize"),
        (["--speaker-speed", "fast"], "need --diarize"),
        (["--diarization-model", "x"], "need --diarize"),
        (["--diarize", "--speakers", "2", "--min-speakers", "3"], "--speakers gives the exact number"),
        (["--diarize", "--min-speakers", "3", "--max-speakers", "2"], "--min-speakers is more than --max-speakers"),
        (["--diarize", "--speakers", "0"], "argument --speakers: must be within 1..50"),
    ],
)
def test_speaker_option_mistakes_are_one_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main(["transcribe", str(PYANNOTE_SAMPLE), *extra])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("hark transcribe: error: ") and err.count("\n") == 1, err


def test_speed_presets() -> None:
    from pipeline.speakers.diarization import DiarizationOptions

    assert DiarizationOptions().segmentation_step == 0.3
    assert DiarizationOptions.for_preset("accurate", num_speakers=2) == DiarizationOptions(
        segmentation_step=0.1, num_speakers=2
    )
    assert DiarizationOptions.for_preset("fast").segmentation_step == 0.5
    with pytest.raises(ValueError, match="unknown speed preset 'slow'"):
        DiarizationOptions.for_preset("slow")


def test_a_missing_pipeline_fails_before_transcribing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["transcribe", str(PYANNOTE_SAMPLE), "--engine", "sphinx", "--diarize", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 4
    assert "no speaker diarization model" in err and "hark models download diarization" in err
    assert list(tmp_path.iterdir()) == []


def test_der_of_the_reference_against_itself_and_a_one_speaker_guess() -> None:
    ref = read_rttm(PYANNOTE_SAMPLE_RTTM)
    assert diarization_error(ref, ref).der == 0.0
    one = [Turn(0.0, 30.0, "X")]
    r = diarization_error(ref, one)
    speech: dict[str, float] = {}
    for t in ref:
        speech[t.speaker] = speech.get(t.speaker, 0.0) + t.duration
    a, b = ([t for t in ref if t.speaker == name] for name in ("speaker90", "speaker91"))
    overlap = sum(max(0.0, min(x.end, y.end) - max(x.start, y.start)) for x in a for y in b)
    assert overlap == pytest.approx(1.89, abs=0.01)
    # All speech given to one speaker (mapped to speaker91, who talks more): speaker90's time is
    # confusion, except where both talk: there one of the two voices is missed instead.
    assert r.confusion == pytest.approx(speech["speaker90"] - overlap, abs=1e-6)
    assert r.missed == pytest.approx(overlap, abs=1e-6)
    # The guess also talks through the reference's silences (the scored extent is 0-30 s).
    assert r.false_alarm == pytest.approx(30.0 - (sum(speech.values()) - overlap), abs=1e-6)
    assert r.total == pytest.approx(sum(speech.values()), abs=1e-6)


def test_uem_lines_and_errors(tmp_path: Path) -> None:
    assert read_uem(AMI / "debug.development.uem", "dev01") == [(0.0, 30.0)]
    bad = tmp_path / "bad.uem"
    bad.write_text("dev00 NA 3 1\n")
    with pytest.raises(ValueError, match="line 1: end is before start"):
        read_uem(bad)


def test_eval_diarization_scores_the_shared_clips(
    random_diarization_pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "eval",
            "diarization",
            str(PYANNOTE_SAMPLE),
            "--rttm",
            str(PYANNOTE_SAMPLE_RTTM),
            "--diarization-model",
            str(random_diarization_pipeline),
            "--json",
        ]
    )
    assert rc == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["speakers_ref"] == 2 and row["speakers_hyp"] >= 1
    assert row["scored"] == pytest.approx(24.35, abs=0.5)  # reference speech inside the scored extent
    assert row["der"] == pytest.approx(
        (row["missed"] + row["false_alarm"] + row["confusion"]) / row["scored"], abs=1e-3
    )  # printed to 4 decimals
    assert row["words"] > 40 and 0.0 <= row["word_speaker_error"] <= 1.0

    rc = main(
        [
            "eval",
            "diarization",
            str(AMI / "dev00.wav"),
            str(AMI / "dev01.wav"),
            "--rttm",
            str(AMI / "debug.development.rttm"),
            "--uem",
            str(AMI / "debug.development.uem"),
            "--diarization-model",
            str(random_diarization_pipeline),
            "--no-words",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert re.search(r"dev00\.wav: DER \d+\.\d%", out) and re.search(r"dev01\.wav: DER \d+\.\d%", out)
    assert re.search(r"^overall: DER \d+\.\d% over \d+\.\d s scored", out, re.M)


def test_eval_needs_turns_for_the_file(
    tmp_path: Path, random_diarization_pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = copy_shared(PYANNOTE_SAMPLE, tmp_path)
    renamed = src.rename(tmp_path / "other.wav")
    rc = main(
        [
            "eval",
            "diarization",
            str(renamed),
            "--rttm",
            str(AMI / "debug.development.rttm"),
            "--diarization-model",
            str(random_diarization_pipeline),
        ]
    )
    assert rc == 3
    assert "no turns for file id 'other'" in capsys.readouterr().err
    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER other 1 zero 1.0 <NA> <NA> A <NA> <NA>\n")
    rc = main(
        [
            "eval",
            "diarization",
            str(renamed),
            "--rttm",
            str(bad),
            "--no-words",
            "--diarization-model",
            str(random_diarization_pipeline),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 3 and f"{bad}: line 1: " in err and err.count("\n") == 1


def test_ctrl_c_in_the_speaker_step_exits_130(tmp_path: Path, random_diarization_pipeline: Path) -> None:
    """On a terminal (tqdm bars on), Ctrl+C while pyannote runs: 'cancelled', exit 130, no abort at exit."""
    import os
    import pty
    import signal
    import sys
    import time

    src = copy_shared(PYANNOTE_SAMPLE, tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "app",
        "transcribe",
        str(src),
        "--engine",
        "sphinx",
        "--diarize",
        "--speaker-speed",
        "accurate",
        "--diarization-model",
        str(random_diarization_pipeline),
        "--out",
        str(tmp_path / "out"),
    ]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the hark command on a terminal
        os.chdir(Path(__file__).parents[1])
        os.execv(cmd[0], cmd)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 110, 0, 0))  # a terminal has a width: bars show
    out, sent, deadline = b"", False, time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not sent and b"(speakers)" in out:
            time.sleep(1.0)
            os.kill(pid, signal.SIGINT)
            sent = True
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert sent, text[-2000:]
    assert os.waitstatus_to_exitcode(status) == 130, text[-2000:]
    assert "hark: cancelled" in text and "terminate called" not in text
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
