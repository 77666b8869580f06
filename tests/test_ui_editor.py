"""The caption editor end to end: a real video transcribed by the offline engine, real widgets, real playback.

The project is made once per session: jfk.wav's speech under an ffmpeg test
picture, transcribed with PocketSphinx. Each test edits its own copy of the
project file and checks what is on screen, in the player and on disk.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QStandardItemModel, QTextCursor
from PySide6.QtWidgets import QApplication

from app.controllers.editor_controller import EditorController
from pipeline.captions.captions import build_captions
from pipeline.editing import editing
from pipeline.engines.sphinx import SphinxEngine
from pipeline.transcription.transcribe import transcribe_file
from pipeline.transcripts import project as projects
from pipeline.transcripts.project import Project
from pipeline.transcripts.transcript import Caption, MediaRef, Provenance, Transcript, Word
from tests.conftest import JFK_WAV, copy_shared, ffmpeg
from ui.editor.edit_commands import TranscriptCommand
from ui.editor.editor_document import EditorDocument
from ui.editor.editor_window import EditorWindow
from ui.editor.media_preview import cut_at, next_cut
from ui.transcript.transcript_document import WORD_ID


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Transcript]:
    """A 11 s H.264+AAC video with real speech, and its real transcript."""
    folder = tmp_path_factory.mktemp("editor-media")
    video = folder / "jfk-talk.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-i",
        str(JFK_WAV),
        "-shortest",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        str(video),
    )
    t = transcribe_file(video, SphinxEngine())
    assert len(t.words) >= 12 and len(t.captions) >= 2, "the offline engine heard too little to test with"
    return video, t


@pytest.fixture
def project_file(clip: tuple[Path, Transcript], tmp_path: Path) -> Path:
    return projects.save(Project(clip[1], {"engine": "sphinx"}), tmp_path / "jfk-talk.hark")


@pytest.fixture
def editor(qtbot, project_file: Path):
    ed = EditorController(projects.load(project_file))
    qtbot.addWidget(ed.window)
    ed.show()
    qtbot.waitExposed(ed.window)
    ed.window.activateWindow()
    ed.window.text.setFocus()
    yield ed
    ed.window.close()


def word_index(ed: EditorController, pred) -> int:
    """Display index of the first word (after the first two) whose effective Word satisfies `pred`."""
    td = ed.window.td
    return next(k for k, wid in enumerate(td.word_ids) if k >= 2 and pred(td.words[wid]))


def click_word(qtbot, ed: EditorController, k: int, **kw) -> None:
    text = ed.window.text
    text.scroll_to_position(ed.window.td.starts[k])
    qtbot.mouseClick(text.viewport(), Qt.MouseButton.LeftButton, pos=text.word_rect(k).center(), **kw)


def struck(ed: EditorController, k: int) -> bool:
    td = ed.window.td
    c = QTextCursor(td.doc)
    c.setPosition(td.starts[k] + 1)
    assert c.charFormat().property(WORD_ID) == td.word_ids[k]
    return c.charFormat().fontStrikeOut()


def on_disk(path: Path) -> Transcript:
    return projects.load(path).transcript


# --- opening -----------------------------------------------------------------------------------
def test_opens_with_video_text_and_timeline(editor: EditorController, clip, qtbot) -> None:
    w, (_video, t) = editor.window, clip
    assert w.windowTitle().startswith("jfk-talk.mp4")
    qtbot.waitUntil(w.preview.has_video, timeout=10_000)
    assert w.preview.stage.currentWidget() is w.preview.video
    assert w.td.doc.blockCount() == len(t.captions)
    assert w.td.plain_text().split() == [x.text for x in editing.effective_words(t)]
    assert w.text.row_label(0)[0] == "0:00"
    # The timeline shows the same words and captions; the waveform arrives from the worker thread.
    assert sorted(w.timeline._words.keys.tolist()) == sorted(x.id for x in t.words)
    qtbot.waitUntil(lambda: w.timeline._peaks is not None, timeout=20_000)
    assert Path(f"{editor.project.path}.peaks.npz").is_file()
    sizes = w.split.sizes()
    assert len(sizes) == 3 and all(s > 0 for s in sizes)


def test_audio_only_media_shows_a_card(qtbot, tmp_path: Path, clip) -> None:
    words = [Word(i, x, 0.5 + i * 0.6, 0.9 + i * 0.6) for i, x in enumerate(["ask", "not", "what", "your", "country"])]
    t = Transcript(
        MediaRef(str(JFK_WAV), 11.0, ""), "en", Provenance("test", "0", "none"), words, build_captions(words)
    )
    w = EditorWindow(t, "jfk.wav", JFK_WAV)
    qtbot.addWidget(w)
    w.show()
    qtbot.wait(600)  # long enough for the player to load the file and say it has no video
    assert not w.preview.has_video()
    assert w.preview.stage.currentWidget() is w.preview.card and "Audio only" in w.preview.card.text()
    assert "jfk.wav" in w.preview.card.text()


# --- selection and playback position ------------------------------------------------------------
def test_clicking_a_word_selects_it_and_seeks_there(editor: EditorController, qtbot) -> None:
    w = editor.window
    k = word_index(editor, lambda x: x.start > 2.0)
    click_word(qtbot, editor, k)
    assert w.text.selected_word_ids() == [w.td.word_ids[k]]
    start = w.td.words[w.td.word_ids[k]].start
    qtbot.waitUntil(lambda: abs(w.preview.player.position() / 1000 - start) < 0.05, timeout=5000)
    assert w.timeline.playhead() == pytest.approx(start, abs=0.05)
    qtbot.keyClick(w.text, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(w.text, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert w.text.selected_word_ids() == w.td.word_ids[k : k + 3]
    qtbot.keyClick(w.text, Qt.Key.Key_Left)
    assert w.text.selected_word_ids() == [w.td.word_ids[k + 1]]


# --- cutting and undo ---------------------------------------------------------------------------
def test_delete_cuts_undo_restores_redo_cuts_again(editor: EditorController, qtbot) -> None:
    w = editor.window
    k = word_index(editor, lambda x: x.start > 1.0)
    click_word(qtbot, editor, k)
    qtbot.keyClick(w.text, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    ids = w.td.word_ids[k : k + 2]
    qtbot.keyClick(w.text, Qt.Key.Key_Delete)
    assert editing.cut_word_ids(w.transcript) == set(ids)
    assert struck(editor, k) and struck(editor, k + 1) and not struck(editor, k + 2)
    assert w.text.selected_word_ids() == [w.td.word_ids[k + 2]]  # Delete goes on through the text
    assert w.editor_actions.undo.text().replace("&", "") == "Undo Cut 2 words"
    cut = editing.cut_ranges(w.transcript)
    assert len(cut) == 1 and w.preview._cuts == cut and "1 cut" not in w.stats.text() and "2 cut" in w.stats.text()
    track = w.timeline._words  # the timeline greys the same words
    assert {int(key) for key, c in zip(track.keys, track.cut) if c} == set(ids)

    qtbot.keyClick(w.text, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert editing.cut_word_ids(w.transcript) == set()
    assert not struck(editor, k) and w.text.selected_word_ids() == ids
    qtbot.keyClick(w.text, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert editing.cut_word_ids(w.transcript) == set(ids) and struck(editor, k)

    # Backspace cuts too; restoring the selection (Ctrl+Shift+R) brings words back.
    w.text.select(k - 1, k - 1)
    qtbot.keyClick(w.text, Qt.Key.Key_Backspace)
    assert w.td.word_ids[k - 1] in editing.cut_word_ids(w.transcript)
    w.text.select(k - 1, k + 1)
    qtbot.keyClick(w.text, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert editing.cut_word_ids(w.transcript) == set()
    assert w.session.stack.count() == 3  # cut, cut, restore (undo + redo left one)


def test_timeline_edits_go_through_the_undo_stack(editor: EditorController) -> None:
    w = editor.window
    t0 = w.transcript
    word = editing.effective_words(t0)[3]
    w.timeline.word_retimed.emit(word.id, word.start + 0.02, word.end - 0.02)
    moved = next(x for x in editing.effective_words(w.transcript) if x.id == word.id)
    assert (moved.start, moved.end) == pytest.approx((word.start + 0.02, word.end - 0.02))
    cap = t0.captions[1]
    w.timeline.caption_retimed.emit(1, cap.start + 0.1, cap.end)
    assert w.transcript.captions[1].start == pytest.approx(cap.start + 0.1)
    w.timeline.range_selected.emit(6.0, 7.0)
    assert (6.0, 7.0) in editing.cut_ranges(w.transcript)
    assert [w.session.stack.text(i) for i in range(3)] == ["Retime word", "Retime caption", "Cut 1.0 s"]
    for _ in range(3):
        w.session.stack.undo()
    assert w.transcript is t0


def test_restoring_words_also_restores_a_time_cut_between_them(editor: EditorController) -> None:
    w = editor.window
    words = editing.effective_words(w.transcript)
    a, b = max(itertools.pairwise(words), key=lambda p: p[1].start - p[0].end)  # the longest pause
    w.timeline.range_selected.emit(a.end + 0.01, b.start - 0.01)  # a cough cut on the timeline
    assert editing.cut_ranges(w.transcript) and not editing.cut_word_ids(w.transcript)
    w.text.select(w.td.index_of[a.id], w.td.index_of[b.id])
    w.editor_actions.restore.trigger()
    assert editing.cut_ranges(w.transcript) == []


def test_redo_keys_are_not_ambiguous(editor: EditorController) -> None:
    keys = [k.toString() for k in editor.window.editor_actions.redo.shortcuts()]
    assert "Ctrl+Shift+Z" in keys and len(keys) == len(set(keys))


# --- correcting, splitting, merging, inserting --------------------------------------------------
def test_correct_a_word_inline(editor: EditorController, qtbot) -> None:
    w = editor.window
    k = word_index(editor, lambda x: True)
    wid, old = w.td.word_ids[k], w.td.text_of(k)
    click_word(qtbot, editor, k)
    qtbot.keyClick(w.text, Qt.Key.Key_F2)
    ed = w.inline.editor
    assert ed is not None and ed.text() == old and ed.hasFocus()
    ed.selectAll()
    qtbot.keyClick(ed, Qt.Key.Key_Delete)  # in the editor Delete edits text: it cuts nothing
    assert not editing.cut_word_ids(w.transcript)
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert w.inline.editor is ed and "nothing" in ed.error()  # refused: the editor stays, with the reason
    qtbot.keyClicks(ed, "Kennedy jr")  # Space and J type into the editor, they do not play
    assert not w.preview.is_playing()
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert w.inline.editor is None
    assert w.td.text_of(k) == "Kennedy jr" and editing.word_texts(w.transcript)[wid] == "Kennedy jr"
    assert "Kennedy jr" in w.transcript.captions[w.td.caption_of(k)].text
    assert w.editor_actions.undo.text().replace("&", "").startswith("Undo Correct")
    # Double-click opens it too; Esc leaves the word as it was.
    w.text.scroll_to_position(w.td.starts[k])
    qtbot.mouseDClick(w.text.viewport(), Qt.MouseButton.LeftButton, pos=w.text.word_rect(k).center())
    assert w.inline.editor is not None
    qtbot.keyClick(w.inline.editor, Qt.Key.Key_Escape)
    assert w.inline.editor is None and w.td.text_of(k) == "Kennedy jr"


def test_split_and_merge_captions(editor: EditorController, qtbot) -> None:
    w = editor.window
    n = len(w.transcript.captions)
    row = next(r for r in w.td.rows if r.last - r.first >= 2)
    k = row.first + 2
    click_word(qtbot, editor, k)
    qtbot.keyClick(w.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(w.transcript.captions) == n + 1 and w.td.doc.blockCount() == n + 1
    assert w.td.rows[w.td.row_of(k)].first == k  # the selected word starts a caption now
    assert w.text.selected_word_ids() == [w.td.word_ids[k]]
    w.text.select(k - 1, k - 1)
    w.editor_actions.merge.trigger()
    assert len(w.transcript.captions) == n and w.td.doc.blockCount() == n
    assert w.td.plain_text().split() == [x.text for x in editing.effective_words(w.transcript)]
    # Refused edits say why in the status bar and record nothing.
    w.text.select(w.td.rows[0].first, w.td.rows[0].first)
    w.editor_actions.split.trigger()
    assert "first word" in w.status.text() and len(w.transcript.captions) == n
    assert w.session.stack.count() == 2


def test_insert_a_missing_word(editor: EditorController, qtbot) -> None:
    w = editor.window
    click_word(qtbot, editor, 2)
    qtbot.keyClick(w.text, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    ed = w.inline.editor
    assert ed is not None and ed.text() == ""
    qtbot.keyClicks(ed, "truly")
    qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert w.td.text_of(3) == "truly" and w.text.selected_word_ids() == [w.td.word_ids[3]]
    assert [x.text for x in w.transcript.edits.inserted] == ["truly"]
    w.session.stack.undo()
    assert "truly" not in w.td.plain_text().split()


def test_find_and_replace(editor: EditorController, qtbot) -> None:
    w = editor.window
    target = editing.effective_words(w.transcript)[4].text
    qtbot.keyClick(w.text, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert w.find_bar.isVisible() and w.find_bar.replace_row.isVisible()
    qtbot.keyClicks(w.find_bar.search.field, target)
    n = len(w._matches)
    assert (n >= 1 and f"of {n}" in w.find_bar.search.count.text()) or "matches" in w.find_bar.search.count.text()
    w.find_bar.replacement.setText("REPLACED")
    w.find_bar.replace_all.click()
    texts = [x.text for x in editing.effective_words(w.transcript)]
    assert texts.count("REPLACED") >= n and target not in texts
    assert w.session.stack.count() == 1  # one undo step for all of them
    w.session.stack.undo()
    assert "REPLACED" not in w.td.plain_text()
    qtbot.keyClick(w.find_bar.search.field, Qt.Key.Key_Escape)
    assert not w.find_bar.isVisible()


# --- playback -----------------------------------------------------------------------------------
def _play_through(qtbot, w: EditorWindow, start: float, until: float, timeout: float = 15.0) -> list[float]:
    seen: list[float] = []
    w.preview.player.positionChanged.connect(lambda ms: seen.append(ms / 1000))
    w.preview.seek(start)
    w.preview.play()
    end = time.monotonic() + timeout
    while time.monotonic() < end and not (seen and seen[-1] >= until):
        qtbot.wait(20)
    w.preview.pause()
    assert seen and seen[-1] >= until, f"playback did not get past {until:.2f} s (last {seen[-1:]})"
    return seen


def _longest_stay(seen: list[float], cuts: list[tuple[float, float]]) -> int:
    run = longest = 0
    for t in seen:
        run = run + 1 if cut_at(cuts, t) is not None else 0
        longest = max(longest, run)
    return longest


def test_playback_skips_cuts(editor: EditorController, qtbot) -> None:
    w = editor.window
    qtbot.waitUntil(lambda: w.preview.duration() > 10, timeout=10_000)
    k = word_index(editor, lambda x: x.start > 2.5)
    w.text.select(k, k + 2)
    w.cut_selection()
    w.text.select(k + 6, k + 6)
    w.cut_selection()
    cuts = editing.cut_ranges(w.transcript)
    assert len(cuts) == 2
    seen = _play_through(qtbot, w, cuts[0][0] - 0.6, cuts[1][1] + 0.4)
    assert _longest_stay(seen, cuts) <= 1  # never inside a cut for more than one position report
    assert any(t < cuts[0][0] for t in seen) and any(t >= cuts[0][1] for t in seen)

    # With "Preview cuts" off, playback goes through the cut.
    qtbot.keyClick(w.text, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert not w.preview.skip_box.isChecked() and not w.preview.skips_cuts()
    seen = _play_through(qtbot, w, cuts[0][0] - 0.3, cuts[0][1] + 0.1)
    assert _longest_stay(seen, cuts) >= 2


def test_keys_play_pause_and_change_speed(editor: EditorController, qtbot) -> None:
    w, p = editor.window, editor.window.preview
    qtbot.waitUntil(lambda: p.duration() > 10, timeout=10_000)
    qtbot.keyClick(w.text, Qt.Key.Key_Space)
    qtbot.waitUntil(p.is_playing, timeout=5000)
    qtbot.keyClick(w.text, Qt.Key.Key_L)
    qtbot.keyClick(w.text, Qt.Key.Key_L)
    assert p.rate() == 2.0 and p.player.playbackRate() == 2.0 and "2×" in p.rate_label.text()
    qtbot.keyClick(w.text, Qt.Key.Key_J)
    assert p.rate() == 1.5
    qtbot.keyClick(w.text, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: not p.is_playing(), timeout=5000)
    assert p.rate() == 1.0
    p.seek(8.0)
    qtbot.keyClick(w.text, Qt.Key.Key_J)  # paused: J jumps back 5 s
    assert p.position() == pytest.approx(3.0, abs=0.05)
    qtbot.keyClick(w.text, Qt.Key.Key_Space)
    qtbot.waitUntil(p.is_playing, timeout=5000)
    qtbot.keyClick(w.text, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not p.is_playing(), timeout=5000)


def test_a_seek_while_the_media_loads_is_kept(qtbot, clip) -> None:
    from ui.editor.media_preview import MediaPreview

    p = MediaPreview()
    qtbot.addWidget(p)
    p.set_source(clip[0], 11.0)
    p.seek(4.2)  # QMediaPlayer itself drops a seek made before it has loaded the file
    assert p.position() == pytest.approx(4.2)
    qtbot.waitUntil(lambda: p.player.position() == 4200, timeout=5000)


def test_jump_helpers() -> None:
    cuts = [(1.0, 2.0), (3.0, 3.5)]
    assert cut_at(cuts, 1.5) == (1.0, 2.0) and cut_at(cuts, 2.0) is None and cut_at(cuts, 0.99) is None
    assert next_cut(cuts, 0.0) == (1.0, 2.0) and next_cut(cuts, 1.5) == (3.0, 3.5) and next_cut(cuts, 3.2) is None


# --- saving -------------------------------------------------------------------------------------
def clip_captions(ed: EditorController) -> list[Caption]:
    first = ed.window.session.stack.command(0)
    assert isinstance(first, TranscriptCommand)
    return first.before.captions


def test_every_edit_is_on_disk_without_saving(editor: EditorController, project_file: Path, qtbot) -> None:
    w = editor.window
    w.text.select(3, 4)
    w.cut_selection()
    w.correct_word(6)
    assert w.inline.editor is not None
    w.inline.editor.setText("nation")
    w.inline.commit()
    w.text.select(8, 8)
    w.split_caption()
    want = w.transcript
    qtbot.waitUntil(lambda: on_disk(project_file) == want, timeout=5000)  # the saver thread writes the last state
    disk = on_disk(project_file)
    assert disk.edits.cuts and disk.edits.corrections and len(disk.captions) == len(clip_captions(editor)) + 1
    assert editing.word_texts(disk)[w.td.word_ids[6]] == "nation"
    qtbot.waitUntil(lambda: w.saved.text() == "Saved", timeout=5000)
    w.session.stack.undo()  # undo is an edit too
    qtbot.waitUntil(lambda: len(on_disk(project_file).captions) == len(want.captions) - 1, timeout=5000)


def test_closing_saves(qtbot, project_file: Path) -> None:
    ed = EditorController(projects.load(project_file))
    qtbot.addWidget(ed.window)
    ed.show()
    closed: list[object] = []
    ed.closed.connect(closed.append)
    ed.window.text.select(2, 5)
    ed.window.cut_selection()
    ed.window.close()
    assert closed == [ed]
    assert editing.cut_ranges(on_disk(project_file)) == editing.cut_ranges(ed.window.transcript)


# --- the document -------------------------------------------------------------------------------
def test_document_updates_in_place_like_a_fresh_build(clip, qtbot) -> None:
    """update() rewrites only changed paragraphs; whatever the edit, the result equals a rebuild."""
    t = clip[1]
    font = QFont()
    pal = QApplication.palette()
    td = EditorDocument(t, pal, font)
    ids = [w.id for w in t.words]
    steps = [
        lambda x: editing.cut_words(x, ids[3:6]),
        lambda x: editing.split_caption(x, 0, x.captions[0].word_ids[2]),
        lambda x: editing.merge_captions(x, 1),
        lambda x: editing.correct_word(x, ids[1], "naïve 𝄞"),
        lambda x: editing.insert_word(x, ids[7], "inserted")[0],
        lambda x: editing.cut_words(x, ids),
        lambda x: editing.restore_words(x, ids),
        lambda x: editing.merge_captions(x, len(x.captions) - 2),
    ]
    history = [t]
    for step in steps:
        history.append(step(history[-1]))
    for x in [*history, *reversed(history)]:
        td.update(x)
        fresh = EditorDocument(x, pal, font)
        assert td.plain_text() == fresh.plain_text()
        assert (td.word_ids, td.starts, td.ends) == (fresh.word_ids, fresh.starts, fresh.ends)
        assert td.doc.blockCount() == len(td.rows) == len(x.captions)
        for k, wid in enumerate(td.word_ids):
            c = QTextCursor(td.doc)
            c.setPosition(td.starts[k] + 1)
            assert c.charFormat().property(WORD_ID) == wid
            assert c.charFormat().fontStrikeOut() == (wid in td.cut)


def test_playing_word_is_highlighted(editor: EditorController) -> None:
    w = editor.window
    k = word_index(editor, lambda x: x.end - x.start > 0.1)
    word = w.td.words[w.td.word_ids[k]]
    w.preview.seek((word.start + word.end) / 2)
    assert w.text.playing == k
    sels = w.text.extraSelections()
    assert any(s.cursor.selectionStart() == w.td.starts[k] and s.cursor.selectionEnd() == w.td.ends[k] for s in sels)
    w.preview.seek(w.transcript.media.duration - 0.01)
    assert w.text.playing is None or w.td.words[w.td.word_ids[w.text.playing]].end > w.transcript.media.duration - 0.5


def test_follows_the_palette(editor: EditorController) -> None:
    from PySide6.QtGui import QColor, QPalette

    w = editor.window
    w.text.select(2, 3)
    w.cut_selection()
    dark = QPalette(w.palette())
    for role, colour in (
        (QPalette.ColorRole.Base, "#1e1f22"),
        (QPalette.ColorRole.Window, "#2b2d30"),
        (QPalette.ColorRole.Text, "#dfe1e5"),
        (QPalette.ColorRole.WindowText, "#dfe1e5"),
        (QPalette.ColorRole.PlaceholderText, "#8c8f94"),
    ):
        dark.setColor(role, QColor(colour))
    w.setPalette(dark)
    assert w.td.styles.word(0, True).foreground().color() == QColor("#8c8f94")  # cut words: muted, struck
    assert struck(editor, 2) and struck(editor, 3) and w.text.selected_word_ids() == [w.td.word_ids[4]]
    assert w.td.styles.playing.lightnessF() < 0.5  # the playing-word tint stays dark on a dark base


def test_accessible_names_and_tooltips(editor: EditorController) -> None:
    w = editor.window
    for widget in (w.text, w.preview.play_button, w.preview.video, w.timeline, w.find_bar.search.field):
        assert widget.accessibleName(), widget
    for act in (
        w.editor_actions.cut,
        w.editor_actions.restore,
        w.editor_actions.split,
        w.editor_actions.play,
        w.editor_actions.export,
    ):
        assert act.toolTip() and act.shortcut().toString()
    k = word_index(editor, lambda x: True)
    w.text.select(k, k)
    w.cut_selection()
    assert "Cut" in w.td.tooltip(k)


# --- export -------------------------------------------------------------------------------------
def test_export_dialog_renders_the_edit_and_cancel_stops_it(
    editor: EditorController,
    clip,
    qtbot,
    tmp_path: Path,
) -> None:
    from audio.probe import probe

    w, video = editor.window, clip[0]
    qtbot.waitUntil(w.preview.has_video, timeout=10_000)
    k = word_index(editor, lambda x: x.start > 3.0)
    w.text.select(k, k + 2)
    w.cut_selection()
    kept = sum(e - s for s, e in editing.keep_ranges(w.transcript))
    dlg = editor.export()
    qtbot.waitExposed(dlg)
    assert Path(dlg.path.text()) == video.with_name("jfk-talk-trimmed.mp4")  # the default: beside the media
    captions_model = dlg.captions.model()
    assert isinstance(captions_model, QStandardItemModel)  # a QComboBox's own model
    assert dlg.captions.currentData() == "srt" and captions_model.item(3).isEnabled()  # burn-in possible

    dlg.path.setText(str(video))  # the source is refused, in words
    assert not dlg.start() and "original" in dlg.message.text()

    out = tmp_path / "cut.mp4"
    dlg.path.setText(str(out))
    dlg.preset.setCurrentIndex(dlg.preset.findData("fast"))
    assert dlg.start()
    assert not dlg.export_button.isEnabled() and dlg.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: dlg.outcome is not None, timeout=120_000)
    result = dlg.outcome
    assert result is not None
    assert result.media == out and out.is_file()
    assert probe(out).duration == pytest.approx(kept, abs=0.35)  # cut points may snap into nearby silence
    assert result.captions == out.with_suffix(".srt") and "-->" in out.with_suffix(".srt").read_text()
    assert "Exported" in dlg.message.text() and dlg.reveal_button.isVisible() and dlg.progress.value() == 1000

    again = tmp_path / "cancelled.mp4"
    dlg.path.setText(str(again))
    dlg.captions.setCurrentIndex(dlg.captions.findData("burn"))
    assert dlg.start()
    task = dlg.task
    assert task is not None
    dlg.cancel_button.click()  # Cancel while running stops the export; the dialog stays open
    qtbot.waitUntil(lambda: not task.running() and "cancelled" in dlg.message.text(), timeout=60_000)
    assert dlg.isVisible() and not again.exists() and dlg.export_button.isEnabled()
    dlg.cancel_button.click()  # now it closes
    assert not dlg.isVisible()


def test_export_failure_is_reported_in_words(editor: EditorController, qtbot, tmp_path: Path) -> None:
    w = editor.window
    w.text.select(0, len(w.td.word_ids) - 1)
    w.cut_selection()
    w.cut_time(0.0, w.transcript.media.duration)
    dlg = editor.export()
    dlg.path.setText(str(tmp_path / "nothing.mp4"))
    assert dlg.start()
    qtbot.waitUntil(lambda: "failed" in dlg.message.text(), timeout=30_000)
    assert "everything is cut" in dlg.message.text() and not (tmp_path / "nothing.mp4").exists()
    dlg.close()


def test_export_refuses_media_that_changed_since_the_project(qtbot, clip, tmp_path: Path) -> None:
    """Same name, other content (re-exported): the word times no longer fit, so nothing is rendered."""
    import dataclasses
    import shutil

    media = tmp_path / "talk.mp4"
    shutil.copyfile(clip[0], media)
    t = dataclasses.replace(clip[1], media=dataclasses.replace(clip[1].media, path=str(media)))
    t = editing.cut_words(t, [t.words[3].id])
    ed = EditorController(projects.load(projects.save(Project(t, {}), tmp_path / "talk.hark")))
    qtbot.addWidget(ed.window)
    ffmpeg("-i", str(clip[0]), "-t", "5", "-c", "copy", str(tmp_path / "shorter.mp4"))
    shutil.move(tmp_path / "shorter.mp4", media)
    dlg = ed.export()
    dlg.path.setText(str(tmp_path / "out.mp4"))
    assert dlg.start()
    qtbot.waitUntil(lambda: "failed" in dlg.message.text(), timeout=30_000)
    assert "changed since the project was made" in dlg.message.text(), dlg.message.text()
    assert not (tmp_path / "out.mp4").exists()
    dlg.close()
    ed.window.close()


# --- from the main window -----------------------------------------------------------------------
def test_main_window_opens_the_editor_and_both_show_the_same_edits(
    qtbot,
    clip,
    tmp_path: Path,
    monkeypatch,
) -> None:
    import dataclasses
    import shutil

    from PySide6.QtWidgets import QMessageBox

    from app.controllers.controller import Controller
    from app.settings import AppSettings
    from pipeline.models.store import ModelStore

    monkeypatch.setenv("HARK_DATA_DIR", str(tmp_path / "data"))
    media = tmp_path / "media" / "talk.mp4"
    media.parent.mkdir()
    shutil.copyfile(clip[0], media)
    t = dataclasses.replace(clip[1], media=dataclasses.replace(clip[1].media, path=str(media)))
    (tmp_path / "projects").mkdir()
    pf = projects.save(Project(t), tmp_path / "projects" / "talk.hark")
    c = Controller(
        AppSettings(
            engine="sphinx",
            projects_folder=str(tmp_path / "projects"),
            output_folder=str(tmp_path / "out"),
            use_vad=False,
        ),
        ModelStore(),
    )
    qtbot.addWidget(c.window)
    c.window.show()
    try:
        tv = c.window.transcript_view
        assert not tv.act_editor.isEnabled()
        assert c.open_project(str(pf)) and tv.act_editor.isEnabled()
        c.window.act_editor.trigger()  # Edit > Edit / Cut…
        assert len(c.editors) == 1
        ed = c.editors[0]
        qtbot.addWidget(ed.window)
        assert ed.window.isVisible() and ed.project is c.project  # one project object: one writer
        tv.act_editor.trigger()  # again: the same window comes forward
        assert c.editors == [ed]

        ed.window.text.select(2, 3)
        ed.window.cut_selection()
        qtbot.waitUntil(lambda: tv._td is not None and tv._td.transcript is ed.window.transcript, timeout=5000)
        wid = ed.window.td.word_ids[5]
        assert tv.edit_word(wid)
        tv_editor = tv.editor()
        assert tv_editor is not None
        tv_editor.setText("nation")
        tv.correction.commit()  # a correction in the transcript view lands in the editor's undo history
        assert ed.window.session.stack.count() == 2 and ed.window.td.texts[wid] == "nation"
        qtbot.waitUntil(lambda: on_disk(pf) == ed.window.transcript, timeout=5000)
        ed.window.close()
        assert c.editors == []

        moved = tmp_path / "elsewhere" / "renamed.mp4"
        moved.parent.mkdir()
        shutil.move(media, moved)
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
        monkeypatch.setattr("app.controllers.controller.QFileDialog.getOpenFileName", lambda *a, **k: (str(moved), ""))
        ed2 = c.open_editor(str(pf))  # the media moved: the relink flow finds it, then the editor opens
        assert ed2 is not None
        qtbot.addWidget(ed2.window)
        assert ed2.project.media_path == moved and ed2.window.editor_actions.export.isEnabled()
        assert ed2.window.preview.player.source().toLocalFile() == str(moved)
        assert projects.load(pf).media_path == moved
    finally:
        c.shutdown()
    assert c.editors == []


CHILD = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, sys.argv[2])
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.controllers.editor_controller import EditorController
from pipeline.transcripts import project as projects
ed = EditorController(projects.load(sys.argv[1]), media_available=False)
w = ed.window
for k in range(4):
    w.text.select(k, k)
    w.cut_selection()
ed.flush()
print("saved", flush=True)
n, i = len(w.td.word_ids), 0
while True:  # go on editing the other words, so the kill lands on saves in flight
    k = 4 + i % (n - 4)
    w.text.select(k, k)
    w.cut_selection() if i % 2 == 0 else w.restore_selection()
    app.processEvents()
    i += 1
"""


@pytest.mark.parametrize("delay", [0.05, 0.4])
def test_kill_9_never_loses_a_saved_edit(project_file: Path, tmp_path: Path, delay: float) -> None:
    import signal
    import subprocess
    import sys

    child = tmp_path / "child.py"
    child.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(child), str(project_file), str(Path(__file__).parents[1])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "saved"
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    t = on_disk(project_file)  # a complete project: atomic writes leave no half file
    first = {w.id for w in editing.effective_words(t)[:4]}
    assert first <= editing.cut_word_ids(t)


@pytest.mark.slow
def test_a_correction_re_aligns_its_caption_in_the_same_undo_step(
    qtbot,
    tmp_path: Path,
    trained_tiny_en: Path,
) -> None:
    """A transcript without alignment (every word rough, as `--no-align` makes it); correcting a word aligns
    its caption in the background, and one undo takes back the text and the new times together."""
    from pipeline.engines.whispercpp import WhisperCppEngine

    media = copy_shared(JFK_WAV, tmp_path)
    engine = WhisperCppEngine(trained_tiny_en)
    try:
        t = transcribe_file(media, engine)
    finally:
        engine.close()
    assert all(w.rough for w in t.words)
    ed = EditorController(projects.load(projects.save(Project(t, {}), tmp_path / "jfk.hark")))
    qtbot.addWidget(ed.window)
    w = ed.window
    k = next(i for i, x in enumerate(t.words) if x.text.strip(",.;").lower() == "country")
    wid = t.words[k].id
    undo_steps = w.session.stack.count()
    w.session.apply("Correct", lambda x: editing.correct_word(x, wid, "nation"))
    assert ed.realign_tasks()
    qtbot.waitUntil(lambda: not any(task.running() for task in ed.realign_tasks()), timeout=60_000)
    qtbot.waitUntil(lambda: wid in {r.word_id for r in w.transcript.edits.retimed}, timeout=5_000)
    caption = next(c for c in w.transcript.captions if wid in c.word_ids)
    words = {x.id: x for x in editing.effective_words(w.transcript)}
    assert not words[wid].rough and editing.word_texts(w.transcript)[wid] == "nation"
    assert sum(not words[i].rough for i in caption.word_ids) >= 0.8 * len(caption.word_ids)
    assert w.session.stack.count() == undo_steps + 1  # folded into the correction's step
    ed.flush()
    assert wid in {r.word_id for r in on_disk(tmp_path / "jfk.hark").edits.retimed}
    w.session.stack.undo()
    assert w.transcript.edits.retimed == [] and all(x.rough for x in editing.effective_words(w.transcript))
    w.close()


def test_background_work_holds_no_qt_object(editor: EditorController) -> None:
    """A worker thread that holds the last reference to a QObject destroys it off the GUI thread when it ends
    (a segfault later, seen once in CI after the editor tests): the work of every background task here must
    capture plain values only."""
    from PySide6.QtCore import QObject

    k = word_index(editor, lambda x: True)
    wid = editor.window.td.word_ids[k]
    editor.window.session.apply("Correct", lambda x: editing.correct_word(x, wid, "nation"))
    tasks = [*editor.realign_tasks(), editor.peaks_task()]
    assert len(tasks) == 2 and all(t is not None for t in tasks)

    def captured(fn) -> list[object]:
        out = [c.cell_contents for c in (fn.__closure__ or ())]
        return out + [x for f in out if callable(f) and hasattr(f, "__closure__") for x in captured(f)]

    for task in tasks:
        assert task is not None
        held = captured(task._work)
        assert not [x for x in held if isinstance(x, QObject) or isinstance(getattr(x, "__self__", None), QObject)], (
            held
        )


@pytest.mark.parametrize("outcome", ["finished", "failed"])
@pytest.mark.parametrize("closed", [True, False], ids=["closed", "deleted-unclosed"])
def test_background_results_arriving_after_the_editor_is_gone_are_dropped(
    qtbot,
    project_file: Path,
    monkeypatch,
    outcome: str,
    closed: bool,
) -> None:
    """The waveform and a re-alignment finishing after the editor window was closed, and even deleted by Qt,
    never touch it (seen under load: "TimelineWidget already deleted" when the peaks arrived after the test
    ended). Certain rather than timed: the work waits for the test to let it finish."""
    import threading

    import numpy as np
    import shiboken6

    from audio.errors import HarkError

    release, started = threading.Event(), threading.Semaphore(0)

    def held(result: object):
        def work(*_a: object, **_k: object) -> object:  # ignores the cancel: it came too late
            started.release()
            assert release.wait(30)
            if outcome == "failed":
                raise HarkError("the media went away")
            return result

        return work

    w0 = projects.load(project_file).transcript.words[3]
    monkeypatch.setattr("pipeline.render.waveform.load_or_compute_peaks", held(np.zeros((10, 2), np.float32)))
    monkeypatch.setattr("pipeline.alignment.realign.realign", held({w0.id: (w0.start, w0.end + 0.1)}))
    ed = EditorController(projects.load(project_file))
    monkeypatch.setattr(ed._aligner, "get", lambda _language: object())  # no aligner process for the stand-in
    ed.show()
    ed.window.session.apply("Correct", lambda x: editing.correct_word(x, w0.id, "nation"))
    tasks = [ed.peaks_task(), *ed.realign_tasks()]
    assert len(tasks) == 2 and started.acquire(timeout=30) and started.acquire(timeout=30)
    window, timeline = ed.window, ed.window.timeline
    if closed:
        window.close()
    shiboken6.delete(window)  # what qtbot's teardown does to a test's windows (deleteLater)
    assert not shiboken6.isValid(timeline)
    release.set()
    assert all(t is not None and t.wait(10) for t in tasks)
    for t in tasks:
        assert t is not None
        t.deliver()  # what each task's timer does next: it must not reach the deleted widgets
    qtbot.wait(3 * 50)  # and the timers themselves
