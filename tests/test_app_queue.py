"""The desktop app's queue end to end: real window, real drops, the real offline engine, real files."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from app.controllers.controller import Controller
from app.settings import AppSettings
from pipeline.models.store import ModelStore
from pipeline.transcription.jobs import JobStatus, load_queue
from pipeline.transcripts import project as projects
from tests.conftest import DATA, JFK_WAV, copy_shared

APEX = DATA / "mfa" / "mfa_apex.flac"  # 3.1 s of speech
BOTTLE = DATA / "mfa" / "mfa_bottle.flac"  # 2.9 s


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("HARK_DATA_DIR", str(d))
    return d


def settings_for(tmp_path: Path, **kw: Any) -> AppSettings:
    base: dict[str, Any] = {
        "engine": "sphinx",
        "projects_folder": str(tmp_path / "projects"),
        "output_folder": str(tmp_path / "out"),
        "formats": ["srt", "json"],
        "use_vad": False,
        "threads": 2,
    }
    base.update(kw)
    return AppSettings(**base)


@pytest.fixture
def make_controller(qtbot, data_dir: Path, tmp_path: Path):
    made: list[Controller] = []

    def make(**kw: Any) -> Controller:
        c = Controller(settings_for(tmp_path, **kw), ModelStore())
        qtbot.addWidget(c.window)
        c.window.show()
        made.append(c)
        return c

    yield make
    for c in made:
        if not c._quitting:
            c.shutdown()


def drop(window, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPoint(window.width() // 2, window.height() // 2)
    enter = QDragEnterEvent(
        pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    ev = QDropEvent(
        QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, ev)


def all_settled(c: Controller) -> bool:
    settled = not c.runner.busy() and all(not j.active for j in c.queue.jobs)
    return settled


def test_dropped_folder_is_transcribed_and_a_bad_file_fails_alone(make_controller, tmp_path: Path, qtbot) -> None:
    media = tmp_path / "media"
    (media / "sub").mkdir(parents=True)
    copy_shared(APEX, media)
    copy_shared(BOTTLE, media / "sub")
    (media / "notes.txt").write_text("not media, and not a media name: skipped in folders")
    (media / "broken.mp3").write_text("this is not an mp3\n" * 40)
    c = make_controller()
    assert c.window.queue_view.stack.currentWidget() is c.window.queue_view.empty  # the empty state first
    drop(c.window, [media])
    assert [j.name for j in c.queue.jobs] == ["broken.mp3", "mfa_apex.flac", "mfa_bottle.flac"]
    assert c.window.queue_view.stack.currentWidget() is c.window.queue_view.table
    qtbot.waitUntil(lambda: all_settled(c), timeout=90_000)

    broken, apex, bottle = c.queue.jobs
    assert broken.status is JobStatus.FAILED and "not an audio or video file" in (broken.error or "")
    for job in (apex, bottle):
        assert job.status is JobStatus.DONE, job.error
        assert job.duration == pytest.approx(3.0, abs=0.2)
        assert sorted(Path(o).suffix for o in job.outputs) == [".json", ".srt"]
        assert all(Path(o).is_file() for o in job.outputs)
        p = projects.load(job.project)
        assert p.transcript.words and p.settings["engine"] == "sphinx"
        # desktop jobs force-align word times by default, as the CLI does
        assert p.transcript.provenance.options["alignment"] == "pocketsphinx" and p.settings["align_words"] is True
        assert not all(w.rough for w in p.transcript.words), [(w.text, w.rough) for w in p.transcript.words]
    # The row shows the reason in words; the first finished transcript is on screen.
    row = c.queue.index(broken.id)
    status = c.model.data(c.model.index(row, 2))
    assert status.startswith("Failed: ") and "not an audio or video file" in status
    assert c.project is not None and c.project.path is not None
    assert c.recent()[0] in (apex.project, bottle.project)
    # Dropping the same files again while they are done queues them anew only if asked: retry.
    c.retry_job(broken.id)
    qtbot.waitUntil(lambda: all_settled(c), timeout=30_000)
    assert c.queue.get(broken.id).status is JobStatus.FAILED


def test_cancel_a_running_job_then_retry_it(make_controller, tmp_path: Path, qtbot) -> None:
    long = tmp_path / "long.wav"
    # 4 x jfk: long enough to cancel mid-way with the offline engine.
    import numpy as np

    from audio.decode import decode_audio

    pcm = (np.tile(decode_audio(JFK_WAV).samples, 4) * 32767).astype("<i2")
    import wave

    with wave.open(str(long), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    c = make_controller()
    c.add_paths([str(long)])
    job = c.queue.jobs[0]
    qtbot.waitUntil(lambda: job.status is JobStatus.RUNNING and job.progress > 0.05, timeout=30_000)
    c.window.queue_view.select_job(job.id)
    assert c.window.queue_view.act_cancel.isEnabled()
    c.window.queue_view.act_cancel.trigger()
    qtbot.waitUntil(lambda: job.status is JobStatus.CANCELLED, timeout=10_000)
    assert not c.runner.busy() and job.outputs == []
    assert c.window.queue_view.act_retry.isEnabled()
    c.window.queue_view.act_retry.trigger()
    qtbot.waitUntil(lambda: job.status is JobStatus.DONE, timeout=90_000)
    assert "country" in projects.load(job.project).transcript.text()


def test_queue_survives_a_restart(make_controller, tmp_path: Path, qtbot, data_dir: Path) -> None:
    a = copy_shared(JFK_WAV, tmp_path)
    b = copy_shared(APEX, tmp_path)
    c = make_controller()
    c.add_paths([str(a), str(b)])
    qtbot.waitUntil(lambda: c.queue.jobs[0].status is JobStatus.RUNNING, timeout=10_000)
    c.shutdown()  # as when the user quits mid-job and confirms
    saved, warning = load_queue(data_dir / "queue.json")
    assert warning is None
    assert [j.status for j in saved.jobs] == [JobStatus.QUEUED, JobStatus.QUEUED]  # unfinished: runs again
    c2 = make_controller()
    assert [j.path for j in c2.queue.jobs] == [str(a), str(b)]
    qtbot.waitUntil(lambda: all_settled(c2), timeout=90_000)
    assert [j.status for j in c2.queue.jobs] == [JobStatus.DONE, JobStatus.DONE]


def test_a_corrupt_queue_file_is_kept_aside_and_the_app_starts(make_controller, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "queue.json").write_text("{ not json")
    c = make_controller()
    assert len(c.queue) == 0
    assert (data_dir / "queue.json.bad").exists()
    assert "could not be read" in c.window.status_label.text()


def test_event_loop_stays_responsive_during_a_whisper_job(
    make_controller,
    tmp_path: Path,
    qtbot,
    random_tiny_en: Path,
) -> None:
    c = make_controller(engine="whisper", model=str(random_tiny_en), language="en")
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    c.add_paths([str(copy_shared(JFK_WAV, tmp_path))])
    qtbot.waitUntil(lambda: all_settled(c), timeout=120_000)
    timer.stop()
    job = c.queue.jobs[0]
    assert job.status is JobStatus.DONE, job.error
    stall = max(gaps[1:])
    print(f"longest event-loop stall during a whisper job: {stall * 1000:.0f} ms over {len(gaps)} ticks")
    assert stall < 0.5  # generous: a frozen GUI would stall for the whole decode (seconds)


def test_transcript_of_a_finished_job_opens_and_edits_are_autosaved(make_controller, tmp_path: Path, qtbot) -> None:
    c = make_controller()
    c.add_paths([str(copy_shared(JFK_WAV, tmp_path))])
    qtbot.waitUntil(lambda: all_settled(c), timeout=60_000)
    job = c.queue.jobs[0]
    assert c.project is not None and str(c.project.path) == job.project
    first = c.project.transcript.words[0]
    from pipeline.editing.editing import correct_word

    edited = c.project
    edited.transcript = correct_word(edited.transcript, first.id, "AND")
    c.window.transcript_view.project_changed.emit(edited)
    qtbot.waitUntil(lambda: projects.load(job.project).transcript.edits.corrections != [], timeout=5_000)
    assert projects.load(job.project).transcript.edits.corrections[0].text == "AND"


def test_project_whose_media_moved_is_relinked(make_controller, tmp_path: Path, qtbot, monkeypatch) -> None:
    src = copy_shared(APEX, tmp_path)
    c = make_controller()
    c.add_paths([str(src)])
    qtbot.waitUntil(lambda: all_settled(c), timeout=60_000)
    project_file = c.queue.jobs[0].project
    moved = tmp_path / "elsewhere" / "renamed.flac"
    moved.parent.mkdir()
    shutil.move(src, moved)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr("app.controllers.controller.QFileDialog.getOpenFileName", lambda *a, **k: (str(moved), ""))
    c.project = None
    assert c.open_project(project_file)
    assert projects.load(project_file).media_path == moved


def test_recent_projects_menu_and_a_missing_project(make_controller, tmp_path: Path, monkeypatch) -> None:
    c = make_controller()
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    c.add_recent(str(tmp_path / "gone.hark"))
    assert [a.toolTip() for a in c.window.recent_menu.actions()] == [str(tmp_path / "gone.hark")]
    assert not c.open_project(str(tmp_path / "gone.hark"))
    assert warnings and "no such project" in warnings[0]
    assert (
        c.recent() == []
        and json.loads((Path(__import__("os").environ["HARK_DATA_DIR"]) / "recent.json").read_text()) == []
    )


def test_no_whisper_model_fails_the_job_with_what_to_do(make_controller, tmp_path: Path, qtbot) -> None:
    c = make_controller(engine="whisper")
    c.add_paths([str(copy_shared(APEX, tmp_path))])
    qtbot.waitUntil(lambda: all_settled(c), timeout=30_000)
    job = c.queue.jobs[0]
    assert job.status is JobStatus.FAILED
    assert "no whisper model is installed" in (job.error or "") and "Tools → Models" in (job.error or "")
    assert "No whisper model" in c.window.engine_label.text()


def test_a_full_disk_fails_the_job_and_says_so(make_controller, tmp_path: Path, qtbot, monkeypatch) -> None:
    import errno

    import app.controllers.job_runner as runner_mod

    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "projects" / "x.hark"))

    monkeypatch.setattr(runner_mod, "save_project", full)  # the disk is the system edge here
    c = make_controller()
    c.add_paths([str(copy_shared(APEX, tmp_path))])
    qtbot.waitUntil(lambda: all_settled(c), timeout=30_000)
    job = c.queue.jobs[0]
    assert job.status is JobStatus.FAILED and "disk is full" in (job.error or "")
    # The queue goes on: the next file is not blocked by the failure.
    monkeypatch.undo()
    c.retry_job(job.id)
    qtbot.waitUntil(lambda: all_settled(c), timeout=30_000)
    assert job.status is JobStatus.DONE


def test_closing_during_a_job_asks_then_requeues_it(
    make_controller,
    tmp_path: Path,
    qtbot,
    monkeypatch,
    data_dir: Path,
) -> None:
    c = make_controller()
    c.add_paths([str(copy_shared(JFK_WAV, tmp_path))])
    job = c.queue.jobs[0]
    qtbot.waitUntil(lambda: job.status is JobStatus.RUNNING, timeout=10_000)
    asked: list[str] = []

    def answer(choice):
        def question(_parent, _title, text, *_a, **_k):
            asked.append(text)
            return choice

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert c.window.close() is False and c.runner.busy()  # "No": keeps running
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert c.window.close() is True
    assert len(asked) == 2 and "jfk.wav" in asked[0]
    assert not c.runner.busy()
    saved, _ = load_queue(data_dir / "queue.json")
    assert saved.jobs[0].status is JobStatus.QUEUED


def test_projects_reopen_after_a_restart(make_controller, tmp_path: Path, qtbot) -> None:
    c = make_controller()
    c.add_paths([str(copy_shared(JFK_WAV, tmp_path))])
    qtbot.waitUntil(lambda: all_settled(c), timeout=60_000)
    from pipeline.editing.editing import correct_word

    project = c.project
    assert project is not None
    project.transcript = correct_word(project.transcript, project.transcript.words[1].id, "ALL")
    c.window.transcript_view.project_changed.emit(project)
    c.shutdown()  # pending edits are saved on the way out
    c2 = make_controller()
    assert c2.recent() == [str(project.path)]
    assert [a.toolTip() for a in c2.window.recent_menu.actions()] == [str(project.path)]
    c2.window.recent_menu.actions()[0].trigger()
    assert c2.project is not None and c2.project.transcript == project.transcript
    assert c2.window.transcript_view.project() is c2.project
    assert c2.queue.jobs[0].status is JobStatus.DONE  # the finished job is still listed, with its outputs
