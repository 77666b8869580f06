"""Speakers in the desktop app: the queue identifies them (real pyannote, random weights, offline),
jobs survive without a pipeline, cancel works mid-diarization, and speakers are renamed in the
transcript view and in the editor (undoably), with the project and fresh exports following."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMenu, QWidget

from app.controllers.controller import Controller
from app.controllers.job_speakers import WARNING_PREFIX
from app.settings import AppSettings, load_settings, save_settings, to_diarization_options
from pipeline.captions.captions import build_captions
from pipeline.captions.export import export
from pipeline.models.store import ModelStore, sha256_file
from pipeline.speakers.speaker_merge import transcript_speakers
from pipeline.transcription.jobs import JobStatus
from pipeline.transcripts import project as projects
from pipeline.transcripts.project import Project
from pipeline.transcripts.transcript import MediaRef, Provenance, Transcript, Word
from tests.conftest import DATA, PYANNOTE_SAMPLE, copy_shared, ffmpeg
from ui.main.queue_model import status_text
from ui.settings.settings_dialog import SettingsDialog
from ui.settings.speaker_settings import UNAVAILABLE, SpeakerSettingsBox

W = TypeVar("W", bound=QWidget)

APEX = DATA / "mfa" / "mfa_apex.flac"  # 3.1 s of speech


# --- fixtures and helpers ----------------------------------------------------------------------
@pytest.fixture
def make_controller(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HARK_DATA_DIR", str(tmp_path / "data"))
    made: list[Controller] = []

    def make(**kw: Any) -> Controller:
        base: dict[str, Any] = {
            "engine": "sphinx",
            "projects_folder": str(tmp_path / "projects"),
            "output_folder": str(tmp_path / "out"),
            "formats": ["srt", "vtt", "json"],
            "use_vad": False,
            "threads": 2,
        }
        c = Controller(AppSettings(**{**base, **kw}), ModelStore())
        qtbot.addWidget(c.window)
        c.window.show()
        made.append(c)
        return c

    yield make
    for c in made:
        if not c._quitting:
            c.shutdown()


def settled(c: Controller) -> bool:
    return not c.runner.busy() and all(not j.active for j in c.queue.jobs)


def when_shown(kind: type[W], act: Callable[[W], None], tries: int = 250) -> None:
    """Once a modal dialog or popup menu of `kind` shows (inside its exec loop), do `act` with it."""

    def poll(left: int = tries) -> None:
        w = QApplication.activePopupWidget() or QApplication.activeModalWidget()
        if isinstance(w, kind):
            act(w)
        elif left:
            QTimer.singleShot(20, lambda: poll(left - 1))

    QTimer.singleShot(0, poll)


def answer_rename(qtbot, name: str, seen: list[str] | None = None) -> None:
    """Type `name` into the next Rename Speaker dialog and press Enter."""

    def act(dlg: QInputDialog) -> None:
        if seen is not None:
            seen.append(dlg.textValue())
        field = dlg.findChild(QLineEdit)
        assert field is not None
        field.selectAll()
        qtbot.keyClicks(field, name)
        qtbot.keyClick(field, Qt.Key.Key_Return)

    when_shown(QInputDialog, act)


def choose_in_menu(qtbot, prefix: str, seen: list[str]) -> None:
    """Pick the entry starting with `prefix` in the next popup menu, by keyboard."""

    def act(menu: QMenu) -> None:
        seen.extend(a.text() for a in menu.actions())
        target = next(a for a in menu.actions() if a.text().startswith(prefix))
        menu.setActiveAction(target)
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    when_shown(QMenu, act)


def two_speaker_project(tmp_path: Path) -> Path:
    """A saved project whose words carry diarization-style speakers, over a real media file."""
    media = copy_shared(APEX, tmp_path)
    script = [
        ("SPEAKER_00", "Welcome back to the show."),
        ("SPEAKER_01", "Thanks for having me here."),
        ("SPEAKER_00", "Let us talk about speakers."),
        ("SPEAKER_01", "Gladly, whenever you like."),
    ]
    words: list[Word] = []
    t = 0.1
    for speaker, sentence in script:
        for text in sentence.split():
            words.append(Word(len(words), text, t, t + 0.1, 0.9, speaker))
            t += 0.12
        t += 0.05
    tr = Transcript(
        MediaRef(str(media), 3.1, sha256_file(media)),
        "en",
        Provenance("pocketsphinx", "5", "en-us"),
        words=words,
        captions=build_captions(words, language="en"),
    )
    assert [c.speaker for c in tr.captions] == [s for s, _ in script]
    return projects.save(Project(tr, {"engine": "sphinx"}), tmp_path / "two-speakers.hark")


# --- settings ----------------------------------------------------------------------------------
def test_speaker_settings_round_trip_and_dialog(qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    qs = QSettings(str(tmp_path / "hark.ini"), QSettings.Format.IniFormat)
    s = AppSettings(diarize=True, diarization_model="/models/community-1", num_speakers=3, speaker_speed="fast")
    save_settings(s, qs)
    assert load_settings(qs) == s
    qs.setValue("preferences/num_speakers", "-4")  # hand-edited garbage: that field falls back alone
    assert load_settings(qs) == dataclasses.replace(s, num_speakers=0)
    qs.setValue("preferences/speaker_speed", "warp")
    assert load_settings(qs).speaker_speed == "balanced"

    dlg = SettingsDialog(AppSettings(), [])
    qtbot.addWidget(dlg)
    box = dlg.speaker_box
    assert dlg.tabs.tabText(1) == "Speakers" and dlg.tabs.isTabVisible(1)
    assert box.enabled_check.isEnabled() and not box.folder_edit.isEnabled()  # off: nothing else to set
    assert box.folder_edit.placeholderText().startswith("None yet: download it in Tools → Models")
    box.enabled_check.setChecked(True)
    assert box.folder_edit.isEnabled() and box.speakers_spin.text() == "Auto"
    box.folder_edit.setText(str(tmp_path / "nowhere"))
    assert "not found" in box.hint_label.text() and not box.hint_label.isHidden()
    box.speakers_spin.setValue(2)
    assert box.speed_combo.currentData() == "balanced" and box.speed_combo.isEnabled()
    box.speed_combo.setCurrentIndex(box.speed_combo.findData("accurate"))
    assert dlg.settings() == dataclasses.replace(
        AppSettings(),
        diarize=True,
        speaker_speed="accurate",
        diarization_model=str(tmp_path / "nowhere"),
        num_speakers=2,
    )
    assert to_diarization_options(dlg.settings()).segmentation_step == 0.1

    # Without torch/pyannote: greyed out, with the one line that says how to add them.
    off = SpeakerSettingsBox(available=False)
    qtbot.addWidget(off)
    off.load(s)
    assert not off.enabled_check.isEnabled() and not off.folder_edit.isEnabled()
    assert off.hint_label.text() == UNAVAILABLE and "pip install 'hark[diarize]'" in UNAVAILABLE


# --- the queue ---------------------------------------------------------------------------------
def test_queue_identifies_speakers_and_cancels_mid_diarization(
    make_controller, qtbot, tmp_path: Path, random_diarization_pipeline: Path, no_network
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    sample = copy_shared(PYANNOTE_SAMPLE, media)
    excerpt = media / "excerpt.wav"  # the same talk again, for the cancelled job
    ffmpeg("-i", str(sample), "-t", "25", str(excerpt))
    c = make_controller(diarize=True, diarization_model=str(random_diarization_pipeline))
    seen: list[float] = []
    c.runner.progress.connect(lambda _id, f: seen.append(f))
    c.add_paths([str(sample)])
    job = c.queue.jobs[0]
    qtbot.waitUntil(lambda: settled(c), timeout=180_000)
    assert job.status is JobStatus.DONE, job.error
    assert seen == sorted(seen) and seen[-1] == 1.0  # one bar for both steps, never backwards
    assert any(0.5 < f < 0.9 for f in seen)  # the diarization half moves on its own
    assert not job.warnings, job.warnings
    p = projects.load(job.project)
    words = p.transcript.words
    assert len(words) > 30 and all(w.speaker and w.speaker.startswith("SPEAKER_") for w in words)
    assert all(cap.speaker for cap in p.transcript.captions)
    assert p.settings["diarize"] is True
    record = p.transcript.provenance.options["diarization"]
    assert isinstance(record, dict)
    assert record["pipeline"] == random_diarization_pipeline.name  # a folder name, not a path
    srt = next(Path(o) for o in job.outputs if o.endswith(".srt")).read_text(encoding="utf-8")
    body = [ln for ln in srt.splitlines() if ln and not ln.isdigit() and "-->" not in ln]
    assert body and body[0].startswith("SPEAKER_") and srt.count("SPEAKER_") >= len(p.transcript.captions)
    vtt = next(Path(o) for o in job.outputs if o.endswith(".vtt")).read_text(encoding="utf-8")
    assert "<v SPEAKER_" in vtt
    # The transcript shown names the speakers in its gutter.
    assert c.project is not None and c.window.transcript_view.text.row_label(0)[1].startswith("SPEAKER_")

    # Past the transcription half of the bar pyannote is running (the pipeline loaded is reused): cancel.
    diarizer = c.runner._speakers._diarizer
    c.add_paths([str(excerpt)])
    second = c.queue.jobs[1]
    qtbot.waitUntil(
        lambda: second.status is JobStatus.RUNNING and "Identifying speakers" in c.window.status_label.text(),
        timeout=120_000,
    )
    assert status_text(second).startswith("Identifying speakers")  # the row says what it does, too
    c.cancel_job(second.id)
    qtbot.waitUntil(lambda: second.status is JobStatus.CANCELLED, timeout=60_000)
    assert c.window.status_label.text() == "Cancelled: excerpt.wav"
    assert not c.runner.busy() and second.outputs == [] and second.project is None
    assert [f.name for f in (tmp_path / "projects").glob("*.hark")] == [Path(job.project).name]
    assert not list((tmp_path / "out").glob("excerpt*"))
    assert c.runner._speakers._diarizer is diarizer
    assert no_network == []


def test_no_pipeline_keeps_the_transcript_with_a_warning(make_controller, qtbot, tmp_path: Path) -> None:
    sample = copy_shared(APEX, tmp_path)
    c = make_controller(diarize=True)  # no folder in Settings, none downloaded, no $HARK_DIARIZATION_MODEL
    c.add_paths([str(sample)])
    job = c.queue.jobs[0]
    qtbot.waitUntil(lambda: settled(c), timeout=60_000)
    assert job.status is JobStatus.DONE, job.error
    assert len(job.warnings) == 1 and job.warnings[0].startswith(WARNING_PREFIX)
    assert "no speaker diarization model" in job.warnings[0] and "--diarization-model" not in job.warnings[0]
    assert WARNING_PREFIX in c.window.status_label.text()
    p = projects.load(job.project)
    assert p.transcript.words and all(w.speaker is None for w in p.transcript.words)
    assert sorted(Path(o).suffix for o in job.outputs) == [".json", ".srt", ".vtt"]


# --- renaming ----------------------------------------------------------------------------------
def test_rename_in_the_transcript_view_saves_and_exports(make_controller, qtbot, tmp_path: Path) -> None:
    path = two_speaker_project(tmp_path)
    c = make_controller()
    assert c.open_project(str(path))
    view = c.window.transcript_view
    menu_action = next(a for a in c.window.menuBar().actions() if a.text() == "&Edit").menu().actions()
    assert view.act_rename_speaker in menu_action and not view.act_rename_speaker.isEnabled()

    # Edit menu: works on the selected caption's speaker (the second caption: SPEAKER_01).
    second = c.project.transcript.captions[1]
    view.select_words(second.word_ids[0])
    assert view.act_rename_speaker.isEnabled() and view.act_rename_speaker.text() == "Rename Spea&ker “SPEAKER_01”…"
    prefilled: list[str] = []
    answer_rename(qtbot, "Bob", prefilled)
    view.act_rename_speaker.trigger()
    assert prefilled == ["SPEAKER_01"]
    assert transcript_speakers(c.project.transcript) == ["SPEAKER_00", "Bob"]
    assert view.text.row_label(1)[1] == "Bob" and view.current_speaker() == "Bob"

    # Right-click a caption's speaker in the gutter: the menu renames it.
    text = view.text
    y = round(text.document().documentLayout().blockBoundingRect(text.document().findBlockByNumber(0)).center().y())
    entries: list[str] = []
    choose_in_menu(qtbot, "Rename Spea&ker", entries)
    answer_rename(qtbot, "Alice")
    QApplication.sendEvent(
        text.gutter,
        QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(10, y), text.gutter.mapToGlobal(QPoint(10, y))),
    )
    qtbot.waitUntil(lambda: transcript_speakers(c.project.transcript) == ["Alice", "Bob"])
    assert entries == ["Rename Spea&ker “SPEAKER_00”…"]

    # Saved through the autosave path; a fresh export shows the names.
    qtbot.waitUntil(lambda: transcript_speakers(projects.load(path).transcript) == ["Alice", "Bob"], timeout=5000)
    saved = projects.load(path).transcript
    srt = export(saved, "srt", tmp_path / "again.srt").read_text(encoding="utf-8")
    vtt = export(saved, "vtt", tmp_path / "again.vtt").read_text(encoding="utf-8")
    assert "Alice: Welcome back" in srt and "Bob: Thanks for" in srt and "SPEAKER_" not in srt
    assert "<v Alice>Welcome back" in vtt and "<v Bob>" in vtt and "SPEAKER_" not in vtt

    # Renaming to an existing name merges the two speakers.
    view.select_words(second.word_ids[0])
    assert view.rename_speaker(new="Alice")
    assert transcript_speakers(c.project.transcript) == ["Alice"]


def test_rename_in_the_editor_is_undoable(make_controller, qtbot, tmp_path: Path) -> None:
    path = two_speaker_project(tmp_path)
    c = make_controller()
    assert c.open_project(str(path))
    ed = c.open_editor()
    assert ed is not None
    w = ed.window
    qtbot.waitExposed(w)
    header = w.timeline._header
    assert w.timeline.word_lane_names() == ["SPEAKER_00", "SPEAKER_01"]

    # Double-click the lane's name, type the new one.
    rect = header.lane_rect("SPEAKER_01")
    assert rect is not None
    prefilled: list[str] = []
    answer_rename(qtbot, "Guest", prefilled)
    qtbot.mouseDClick(header, Qt.MouseButton.LeftButton, pos=rect.center())
    assert prefilled == ["SPEAKER_01"]
    assert w.timeline.word_lane_names() == ["SPEAKER_00", "Guest"]
    assert transcript_speakers(w.transcript) == ["SPEAKER_00", "Guest"]
    assert w.session.stack.undoText() == "Rename speaker “SPEAKER_01” → “Guest”"
    assert [r.speaker for r in w.td.rows] == ["SPEAKER_00", "Guest", "SPEAKER_00", "Guest"]
    assert ed.flush() and transcript_speakers(projects.load(path).transcript) == ["SPEAKER_00", "Guest"]
    # The main window's transcript shows the same project.
    qtbot.waitUntil(lambda: c.window.transcript_view.text.row_label(1)[1] == "Guest", timeout=3000)

    w.editor_actions.undo.trigger()
    assert w.timeline.word_lane_names() == ["SPEAKER_00", "SPEAKER_01"]
    assert ed.flush() and transcript_speakers(projects.load(path).transcript) == ["SPEAKER_00", "SPEAKER_01"]
    w.editor_actions.redo.trigger()
    assert transcript_speakers(w.transcript) == ["SPEAKER_00", "Guest"]

    # The Edit menu entry works on the selected caption's speaker; a merge is one undo step too.
    w.text.select_ids([w.transcript.captions[0].word_ids[0]])
    assert w.editor_actions.rename_speaker.isEnabled() and "SPEAKER_00" in w.editor_actions.rename_speaker.text()
    answer_rename(qtbot, "Guest")
    w.editor_actions.rename_speaker.trigger()
    assert w.timeline.word_lane_names() == ["Guest"]
    w.editor_actions.undo.trigger()
    assert w.timeline.word_lane_names() == ["SPEAKER_00", "Guest"]
    w.close()
