"""What a queue row says: reasons for failures and warnings on finished jobs are readable."""

from __future__ import annotations

from PySide6.QtCore import Qt

from pipeline.transcription.jobs import Job, JobQueue, JobStatus, load_queue, save_queue
from ui.main.queue_model import COL_PROGRESS, COL_STATUS, QueueModel, status_text
from ui.transcript.transcript_view import TranscriptView


def test_failed_and_warned_rows_explain_themselves(qtbot, tmp_path):
    q = JobQueue()
    bad, quiet = q.add(["/m/bad.mp3", "/m/bbb.mp4"])
    q.fail(bad.id, "not an audio or video file ffmpeg can read (Invalid argument)")
    q.finish(quiet.id, "/p/bbb.hark", ["/o/bbb.srt"])
    quiet.warnings = ["no speech was recognised"]
    model = QueueModel(q)
    tip = model.data(model.index(0, COL_PROGRESS), Qt.ItemDataRole.ToolTipRole)
    assert "bad.mp3 failed" in tip and "Invalid argument" in tip
    assert status_text(quiet) == "Done · no speech was recognised"
    tip = model.data(model.index(1, COL_STATUS), Qt.ItemDataRole.ToolTipRole)
    assert "no speech was recognised" in tip and "/o/bbb.srt" in tip
    # warnings survive a restart with the queue
    save_queue(q, tmp_path / "q.json")
    again, _ = load_queue(tmp_path / "q.json")
    assert again.get(quiet.id).warnings == ["no speech was recognised"] and again.get(quiet.id).status is JobStatus.DONE


def test_transcript_view_shows_why_a_job_failed(qtbot):
    view = TranscriptView()
    qtbot.addWidget(view)
    view.show_message("bad.mp3 failed", "contains no audio <zero length>")
    assert view.stack.currentWidget() is view.placeholder
    assert "contains no audio &lt;zero length&gt;" in view.placeholder.text()
    view.set_project(None)
    assert "No transcript open" in view.placeholder.text()


def test_retry_forgets_old_warnings():
    q = JobQueue()
    (j,) = q.add(["/m/a.wav"])
    q.finish(j.id, "/p/a.hark", [])
    j.warnings = ["no speech was recognised"]
    q.retry(j.id)
    assert j.warnings == [] and j.status is JobStatus.QUEUED
