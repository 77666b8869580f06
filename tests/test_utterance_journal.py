"""The dictation journal: audio on disk before decoding, recovery after a crash, history."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audio.decode import decode_audio
from pipeline.dictation import utterance_journal
from pipeline.dictation.utterance_journal import JournalError, JournalFullError, UtteranceJournal, read_wav
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return decode_audio(DATA / "mfa" / "61-70968-0000.flac").samples


def test_write_puts_a_complete_wav_and_sidecar_in_pending(tmp_path: Path, speech: np.ndarray) -> None:
    j = UtteranceJournal(tmp_path)
    uid = j.write(speech, mode="push_to_talk", target_app="gedit")
    wav = tmp_path / "dictation" / "pending" / f"{uid}.wav"
    meta = json.loads(wav.with_suffix(".json").read_text())
    assert meta["id"] == uid and meta["mode"] == "push_to_talk" and meta["target_app"] == "gedit"
    assert meta["created"].endswith("+00:00")
    back = read_wav(wav)
    assert len(back) == len(speech)
    assert np.max(np.abs(back - speech)) < 1.5 / 32767  # 16-bit rounding only
    assert [p.name for p in wav.parent.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_ids_sort_in_recording_order(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    ids = [j.write(np.zeros(160, dtype=np.float32), mode="toggle") for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert [p.id for p in j.pending()] == ids


def test_crash_mid_decode_then_recover_at_next_start(tmp_path: Path, speech: np.ndarray) -> None:
    j = UtteranceJournal(tmp_path)
    uid = j.write(speech, mode="toggle", target_app=None)
    del j  # the app dies while decoding
    again = UtteranceJournal(tmp_path)
    [p] = again.pending()
    assert p.id == uid and p.mode == "toggle" and p.target_app is None and p.sidecar_ok
    assert len(p.samples()) == len(speech)
    again.mark_done(uid, "recovered text")
    assert again.pending() == []
    [h] = again.history(10)
    assert h.id == uid and h.text == "recovered text" and h.audio_path is not None and h.audio_path.exists()


def test_a_write_cut_short_leaves_only_a_temp_file_that_recovery_removes(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    pending = tmp_path / "dictation" / "pending"
    (pending / ".20990101T000000000000Z-000.wav.tmp").write_bytes(b"RIFF\x00")  # the crash came mid-write
    assert j.pending() == []
    assert list(pending.iterdir()) == []


def test_corrupted_sidecar_is_kept_aside_and_the_audio_still_recovered(tmp_path: Path, speech: np.ndarray) -> None:
    j = UtteranceJournal(tmp_path)
    uid = j.write(speech[:16000], mode="push_to_talk", target_app="firefox")
    sidecar = tmp_path / "dictation" / "pending" / f"{uid}.json"
    sidecar.write_bytes(b'{"id": "' + uid.encode() + b'", "crea')  # torn
    [p] = UtteranceJournal(tmp_path).pending()
    assert p.id == uid and not p.sidecar_ok and p.mode == "unknown"
    assert p.created  # from the file's time
    assert len(p.samples()) == 16000
    assert not sidecar.exists()
    assert (sidecar.parent / f"{uid}.json.corrupt").read_bytes().endswith(b'"crea')
    j.mark_done(uid, "ok")  # the damaged copy goes with it
    assert list(sidecar.parent.iterdir()) == []


def test_missing_sidecar_still_recovers_the_audio(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    uid = j.write(np.full(800, 0.1, dtype=np.float32), mode="toggle")
    (tmp_path / "dictation" / "pending" / f"{uid}.json").unlink()
    [p] = j.pending()
    assert p.id == uid and not p.sidecar_ok


def test_history_keeps_audio_for_the_last_n_only(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path, keep_audio=3)
    ids = [j.write(np.full(1600, 0.01 * i, dtype=np.float32), mode="toggle") for i in range(6)]
    for i, uid in enumerate(ids):
        j.mark_done(uid, f"text {i}")
    items = j.history(10)
    assert [h.id for h in items] == ids[::-1]  # newest first
    assert [h.text for h in items] == [f"text {i}" for i in range(5, -1, -1)]
    assert [h.audio_path is not None for h in items] == [True] * 3 + [False] * 3
    assert sorted(p.stem for p in (tmp_path / "dictation" / "audio").iterdir()) == ids[-3:]
    assert [h.id for h in j.history(2)] == ids[:-3:-1]
    lines = (tmp_path / "dictation" / "history.jsonl").read_text().splitlines()
    assert len(lines) == 6 and all(json.loads(line)["id"] in ids for line in lines)


def test_keep_audio_zero_deletes_audio_at_once(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path, keep_audio=0)
    uid = j.write(np.zeros(160, dtype=np.float32), mode="toggle")
    [h] = [j.mark_done(uid, "x")]
    assert h.audio_path is None and list((tmp_path / "dictation" / "audio").iterdir()) == []


def test_failed_decode_goes_to_history_with_its_error_and_audio(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    uid = j.write(np.zeros(1600, dtype=np.float32), mode="toggle")
    item = j.mark_failed(uid, "engine stopped")
    assert item.text is None and item.error == "engine stopped" and item.audio_path is not None
    assert j.pending() == []


def test_crash_between_history_line_and_move_is_finished_not_offered_again(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    uid = j.write(np.zeros(1600, dtype=np.float32), mode="toggle")
    # what mark_done does first, then "crash" before the audio moves
    j._append_history(
        {
            "id": uid,
            "created": "",
            "finished": "",
            "text": "typed already",
            "error": None,
            "mode": "toggle",
            "target_app": None,
        }
    )
    again = UtteranceJournal(tmp_path)
    assert again.pending() == []  # not decoded and typed a second time
    [h] = again.history(5)
    assert h.text == "typed already" and h.audio_path is not None


def test_a_torn_history_line_is_skipped_and_the_next_one_starts_fresh(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    a = j.write(np.zeros(160, dtype=np.float32), mode="toggle")
    j.mark_done(a, "first")
    with (tmp_path / "dictation" / "history.jsonl").open("ab") as f:
        f.write(b'{"id": "torn", "te')  # a crash mid-append
    b = j.write(np.zeros(160, dtype=np.float32), mode="toggle")
    j.mark_done(b, "second")
    assert [h.text for h in j.history(10)] == ["second", "first"]


def test_unknown_id_is_a_journal_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no pending utterance"):
        UtteranceJournal(tmp_path).mark_done("nope", "x")


def test_discard_forgets_a_pending_utterance(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    uid = j.write(np.zeros(160, dtype=np.float32), mode="toggle")
    j.discard(uid)
    assert j.pending() == [] and j.history(5) == []


def test_full_disk_at_the_os_edge_is_a_typed_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = UtteranceJournal(tmp_path)
    real_write = os.write
    written: list[int] = []

    def full_disk(fd: int, data: bytes) -> int:
        if written:  # the first block goes through, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(len(data))
        return real_write(fd, bytes(memoryview(data)[:4096]))

    monkeypatch.setattr(utterance_journal.os, "write", full_disk)
    with pytest.raises(JournalFullError, match="disk full"):
        j.write(np.zeros(16000, dtype=np.float32), mode="toggle")
    monkeypatch.undo()
    assert list((tmp_path / "dictation" / "pending").iterdir()) == []
    assert j.pending() == []


@pytest.mark.slow
def test_a_really_full_disk_is_a_typed_error(tmp_path: Path) -> None:
    """A tiny tmpfs in a private mount namespace (skipped where not allowed)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not available")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    script = f"""
import json, os, subprocess, sys
import numpy as np
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", {str(mnt)!r}], check=True)
from pathlib import Path
from pipeline.dictation.utterance_journal import JournalFullError, UtteranceJournal
j = UtteranceJournal(Path({str(mnt)!r}))
small = j.write(np.zeros(1600, dtype=np.float32), mode="toggle")
try:
    j.write(np.zeros(16000 * 5, dtype=np.float32), mode="toggle")  # 160 kB of WAV
    error = None
except JournalFullError as e:
    error = str(e)
print(json.dumps({{"error": error, "pending": [p.id for p in j.pending()], "small": small,
                  "left": sorted(os.listdir(os.path.join({str(mnt)!r}, "dictation", "pending")))}}))
"""
    run = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if run.returncode != 0 and ("unshare" in run.stderr or "mount" in run.stderr):
        pytest.skip(f"cannot mount a private tmpfs here: {run.stderr.strip()[-200:]}")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["error"] is not None and "disk full" in report["error"]
    assert report["pending"] == [report["small"]]  # the earlier utterance is untouched
    assert report["left"] == [f"{report['small']}.json", f"{report['small']}.wav"]  # no temp file left


# --- an utterance on disk while it is recorded (the kill -9 campaign: a crash mid-utterance) ---------
def _tone(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).uniform(-0.5, 0.5, round(16000 * seconds))).astype(np.float32)


def test_a_live_recording_grows_block_by_block_and_write_replaces_it(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    audio = _tone(1.0)
    rec = j.begin(mode="push_to_talk", target_app="gedit")
    for block in np.array_split(audio, 31):  # ~32 ms blocks, as the microphone delivers them
        rec.append(block)
    assert rec.path.stat().st_size == 2 * len(audio)  # on disk before the utterance ends
    assert j.pending() == []  # this journal's own recording in progress is not offered for recovery
    uid = j.write(audio, mode="push_to_talk", target_app="gedit", live=rec)
    assert uid == rec.id and not rec.open and not rec.path.exists()
    [p] = j.pending()
    assert p.id == uid and p.mode == "push_to_talk" and p.target_app == "gedit" and p.sidecar_ok
    assert np.max(np.abs(p.samples() - audio)) < 1.5 / 32767
    rec.append(audio)  # a block arriving late does nothing
    assert sorted(x.suffix for x in rec.path.parent.iterdir()) == [".json", ".wav"]


def test_a_cancelled_live_recording_leaves_nothing(tmp_path: Path) -> None:
    j = UtteranceJournal(tmp_path)
    rec = j.begin(mode="toggle")
    rec.append(_tone(0.5))
    j.discard(rec.id)
    assert list((tmp_path / "dictation" / "pending").iterdir()) == [] and j.pending() == []


_RECORDER = """
import sys, time
import numpy as np
from pathlib import Path
from pipeline.dictation.utterance_journal import UtteranceJournal
j = UtteranceJournal(Path(sys.argv[1]))
rec = j.begin(mode="toggle", target_app="xterm")
audio = (np.random.default_rng(0).uniform(-0.5, 0.5, 16000 * 2)).astype(np.float32)
for block in np.array_split(audio, 62):
    rec.append(block)
print(rec.id, flush=True)
time.sleep(120)  # still "recording" when it is killed
"""


def test_killed_mid_recording_the_audio_so_far_is_recovered(tmp_path: Path) -> None:
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-c", _RECORDER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        uid = proc.stdout.readline().strip()
        assert uid, "the recorder did not start"
        assert UtteranceJournal(tmp_path).pending() == []  # still being recorded by a live process: left alone
        assert (tmp_path / "dictation" / "pending" / f"{uid}.rec").exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    j = UtteranceJournal(tmp_path)
    [p] = j.pending()
    assert p.id == uid and p.mode == "toggle" and p.target_app == "xterm" and p.sidecar_ok
    assert np.max(np.abs(p.samples() - _tone(2.0))) < 1.5 / 32767  # every block handed over, none torn
    assert sorted(x.suffix for x in (tmp_path / "dictation" / "pending").iterdir()) == [".json", ".wav"]
    j.mark_done(uid, "recovered")
    assert j.pending() == [] and [h.text for h in j.history(5)] == ["recovered"]


def test_recovery_of_live_recordings_cut_at_every_step(tmp_path: Path) -> None:
    """What a crash leaves at each step of a recording, and what the next start makes of it."""
    pending = tmp_path / "dictation" / "pending"
    j = UtteranceJournal(tmp_path)
    empty = j.begin(mode="toggle")  # killed before the first block: nothing was said
    torn = j.begin(mode="toggle")
    torn.append(_tone(0.25))
    with open(torn.path, "ab") as f:
        f.write(b"\x01")  # half a sample: the kill struck inside a write
    finished = j.begin(mode="toggle")
    finished.append(_tone(0.25))
    j.write(_tone(0.5), mode="toggle", live=finished)
    finished.path.write_bytes(b"\x00\x00")  # as if the kill came after the WAV, before the .rec was removed
    for rec in (empty, torn):
        rec.close()  # the process died
    again = UtteranceJournal(tmp_path)
    got = {p.id: len(p.samples()) for p in again.pending()}
    assert got == {torn.id: 4000, finished.id: 8000}
    assert sorted(x.name for x in pending.iterdir()) == sorted(
        f"{uid}{suffix}" for uid in (torn.id, finished.id) for suffix in (".json", ".wav")
    )
