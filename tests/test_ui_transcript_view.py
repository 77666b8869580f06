"""The transcript panel with real widgets: captions and gutter, word selection, find, copy, export, corrections."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Sequence

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent, QKeyEvent, QPalette, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from pipeline.captions.caption_editing import wrap_caption
from pipeline.captions.captions import CaptionRules, build_captions, wrap_lines
from pipeline.captions.export import FORMATS, to_txt
from pipeline.transcripts.project import Project
from pipeline.transcripts.transcript import Correction, MediaRef, Provenance, Transcript, Word
from ui.transcript.transcript_document import WORD_ID, TranscriptDocument, format_time
from ui.transcript.transcript_view import TranscriptView
from ui.transcript.word_editor import WordEditor

SCRIPT = [
    ("Alice", "Welcome back to the show. Today we talk about offline speech recognition."),
    ("Alice", "It runs on your own machine, with no cloud service at all."),
    ("Bob", "That sounds great. How accurate is it compared with the big online services?"),
    ("Bob", "I tried it last week on a noisy recording from the kitchen."),
    ("Alice", "With a medium model it gets most words right, even names like Hark or whisper."),
    ("Alice", "The words it is unsure about are marked, so you can fix them in a few seconds."),
]
UNSURE = {7: 0.31, 30: 0.42}  # word id -> probability below 0.5


def make_transcript(
    script: Sequence[tuple[str | None, str]] = SCRIPT,
    *,
    language: str = "en",
    unsure: dict[int, float] | None = None,
    sep: str = " ",
) -> Transcript:
    """Words spoken at a steady pace, a pause after each sentence, then captions made the real way."""
    unsure = UNSURE if unsure is None else unsure
    words: list[Word] = []
    t = 0.4
    for speaker, sentence in script:
        for text in sentence.split() if sep else list(sentence):
            i = len(words)
            words.append(Word(i, text, t, t + 0.3, unsure.get(i, 0.93), speaker))
            t += 0.36
        t += 0.9
    return Transcript(
        media=MediaRef("/media/podcast-episode-12.mp3", t + 1.0, "0" * 64),
        language=language,
        provenance=Provenance("whisper.cpp", "1.8.5", "base.en"),
        words=words,
        captions=build_captions(words, language=language),
    )


def big_transcript(n: int = 10_000) -> Transcript:
    rng = random.Random(7)
    vocab = [
        "the",
        "a",
        "speech",
        "model",
        "runs",
        "offline",
        "and",
        "it",
        "writes",
        "captions",
        "for",
        "every",
        "word",
        "you",
        "say",
        "today",
    ]
    words = [
        Word(
            i,
            rng.choice(vocab) + ("." if i % 17 == 16 else ""),
            i * 0.4,
            i * 0.4 + 0.3,
            rng.choice((0.95, 0.9, 0.4)),
            "SPEAKER_00" if (i // 200) % 2 else "SPEAKER_01",
        )
        for i in range(n)
    ]
    return Transcript(
        media=MediaRef("/media/long.wav", n * 0.4 + 1, "0" * 64),
        language="en",
        provenance=Provenance("whisper.cpp", "1.8.5", "base.en"),
        words=words,
        captions=build_captions(words),
    )


def _pyside_loses_none() -> bool:
    """PySide6 6.12.0 on CPython < 3.12 drops a reference to None on each call of a void method,
    so a few thousand calls abort the interpreter ("deallocating None"); 6.11.3 does not."""
    if sys.version_info >= (3, 12):
        return False  # None is immortal there
    doc = QTextDocument()
    before = sys.getrefcount(None)
    for _ in range(100):
        doc.setPlainText("")
    return sys.getrefcount(None) < before - 50


@pytest.fixture
def view(qtbot):
    if _pyside_loses_none():
        pytest.fail(
            "this PySide6 build loses references to None (PySide6 6.12.0 on Python 3.11) and would crash: "
            "install PySide6-Essentials<6.12",
            pytrace=False,
        )
    v = TranscriptView()
    qtbot.addWidget(v)
    v.resize(760, 520)
    v.show()
    qtbot.waitExposed(v)
    v.activateWindow()
    return v


@pytest.fixture
def project() -> Project:
    return Project(make_transcript())


def doc_of(v: TranscriptView) -> TranscriptDocument:
    """The document of the transcript the view shows (a project is set)."""
    assert v._td is not None
    return v._td


def editor_of(v: TranscriptView) -> WordEditor:
    """The open inline word editor."""
    ed = v.editor()
    assert ed is not None
    return ed


def click_word(qtbot, v: TranscriptView, word_id: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    k = doc_of(v).index_of[word_id]
    v.text.scroll_to_position(doc_of(v).starts[k])
    qtbot.mouseClick(v.text.viewport(), Qt.MouseButton.LeftButton, modifier, v.text.word_rect(k).center())


def shown_word(v: TranscriptView, word_id: int) -> str:
    td = v._td
    assert td is not None
    k = td.index_of[word_id]
    c = QTextCursor(td.doc)
    c.setPosition(td.starts[k])
    c.setPosition(td.ends[k], QTextCursor.MoveMode.KeepAnchor)
    return c.selectedText()


def format_of(v: TranscriptView, word_id: int) -> QTextCharFormat:
    td = v._td
    assert td is not None
    c = QTextCursor(td.doc)
    c.setPosition(td.starts[td.index_of[word_id]] + 1)
    return c.charFormat()


def type_text(qtbot, widget, text: str) -> None:
    """keyClicks aborts the process on non-ASCII text: send such characters as plain key events."""
    for ch in text:
        if ch.isascii():
            qtbot.keyClicks(widget, ch)
        else:
            QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, ch))


# --- showing ---------------------------------------------------------------------------------
def test_empty_state_shows_placeholder(view: TranscriptView, project: Project) -> None:
    assert view.project() is None
    assert view.stack.currentWidget() is view.placeholder
    assert "No transcript" in view.placeholder.text()
    assert not view.export_button.isEnabled() and not view.act_copy_all.isEnabled()
    view.set_project(project)
    assert view.project() is project and view.stack.currentWidget() is view.text
    assert view.export_button.isEnabled()
    view.set_project(None)
    assert view.project() is None and view.stack.currentWidget() is view.placeholder
    assert view.selected_word_ids() == []


def test_captions_render_with_times_and_speakers_in_the_gutter(view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    caps = project.transcript.captions
    doc = view.text.document()
    assert doc.blockCount() == len(caps)
    for i, cap in enumerate(caps):
        assert doc.findBlockByNumber(i).text() == " ".join(project.transcript.words[w].text for w in cap.word_ids)
    # The gutter is outside the text (copying never includes times) and labels every caption.
    assert "0:00" not in doc.toPlainText()
    labels = [view.text.row_label(r) for r in range(len(caps))]
    assert labels == [(format_time(c.start), c.speaker or "") for c in caps]
    assert labels[0] == ("0:00", "Alice") and any(s == "Bob" for _, s in labels)
    assert any(t.startswith("0:1") for t, _ in labels)
    gutter = view.text.gutter
    assert gutter.isVisible() and gutter.width() == view.text.gutter_width() > 40
    assert view.text.viewport().x() >= gutter.width()  # the text starts after the gutter
    # Gutter text is painted in the muted colour over its own background.
    img = gutter.grab().toImage()
    bg = img.pixelColor(2, img.height() - 2)
    assert any(img.pixelColor(x, y) != bg for x in range(img.width()) for y in range(30))
    assert "podcast-episode-12.mp3" in view.info.text() and "words" in view.info.text()


def test_hour_long_media_uses_h_mm_ss(view: TranscriptView) -> None:
    t = make_transcript()
    t.media.duration = 4000.0
    view.set_project(Project(t))
    assert view.text.row_label(0)[0] == "0:00:00"
    assert format_time(3725.2) == "1:02:05" and format_time(65.9) == "1:05"


def test_low_confidence_and_corrected_words_are_marked(view: TranscriptView) -> None:
    t = make_transcript()
    t.edits.corrections.append(Correction(4, "program."))
    view.set_project(Project(t))
    assert shown_word(view, 4) == "program."  # corrected text is what is shown
    assert format_of(view, 4).underlineStyle() == QTextCharFormat.UnderlineStyle.DotLine
    assert format_of(view, 7).underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline
    assert format_of(view, 8).underlineStyle() == QTextCharFormat.UnderlineStyle.NoUnderline
    assert format_of(view, 8).property(WORD_ID) == 8
    td = view._td
    assert td is not None
    assert "show." in td.tooltip(td.index_of[4])  # the engine's original text
    assert "31%" in td.tooltip(td.index_of[7])
    assert td.tooltip(td.index_of[8]) == ""


def test_positions_hold_with_characters_outside_the_bmp(view: TranscriptView) -> None:
    t = make_transcript([("Alice", "Great 👍🏽 job, thanks 🎉 everyone.")], unsure={})
    view.set_project(Project(t))
    assert [shown_word(view, w.id) for w in t.words] == [w.text for w in t.words]
    view.edit_word(1)
    editor_of(view).setText("𝄞 music")
    view.correction.commit()
    assert [shown_word(view, w.id) for w in t.words[2:]] == [w.text for w in t.words[2:]]
    assert shown_word(view, 1) == "𝄞 music"


def test_follows_the_palette(view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    dark = QPalette(view.palette())
    for role, colour in (
        (QPalette.ColorRole.Base, "#1e1f22"),
        (QPalette.ColorRole.Window, "#2b2d30"),
        (QPalette.ColorRole.Text, "#dfe1e5"),
        (QPalette.ColorRole.PlaceholderText, "#8c8f94"),
    ):
        dark.setColor(role, QColor(colour))
    view.setPalette(dark)
    img = view.text.gutter.grab().toImage()
    assert img.pixelColor(3, img.height() - 3).lightnessF() < 0.3  # gutter background follows Base/Window
    td = view._td
    assert td is not None and td.styles.match.lightnessF() < 0.5  # find highlight tints the dark base


def test_tooltips_name_the_original_text_and_the_confidence(qtbot, view: TranscriptView) -> None:
    t = make_transcript()
    t.edits.corrections.append(Correction(4, "program."))
    view.set_project(Project(t))
    vp = view.text.viewport()

    def tip_at(word_id: int) -> str:
        QToolTip.hideText()
        qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)
        pos = view.text.word_rect(doc_of(view).index_of[word_id]).center()
        QApplication.sendEvent(vp, QHelpEvent(QEvent.Type.ToolTip, pos, vp.mapToGlobal(pos)))
        return QToolTip.text() if QToolTip.isVisible() else ""

    assert "“show.”" in tip_at(4)
    assert "Confidence 31%" in tip_at(7)
    assert tip_at(8) == ""


# --- selecting -------------------------------------------------------------------------------
def test_click_selects_a_word_and_activates_it(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    with qtbot.waitSignal(view.word_activated, timeout=1000) as blocker:
        click_word(qtbot, view, 12)
    assert blocker.args == [12]
    assert view.selected_word_ids() == [12]
    sels = view.text.extraSelections()
    assert len(sels) == 1 and sels[0].cursor.selectedText() == project.transcript.words[12].text
    assert view.text.current_row == doc_of(view).row_of(doc_of(view).index_of[12])
    # A click on blank space below the text clears the selection.
    qtbot.mouseClick(
        view.text.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(view.text.viewport().width() - 5, view.text.viewport().height() - 5),
    )
    assert view.selected_word_ids() == []


def test_shift_click_extends_over_a_range(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    click_word(qtbot, view, 4)
    with qtbot.assertNotEmitted(view.word_activated):
        click_word(qtbot, view, 15, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_word_ids() == list(range(4, 16))
    click_word(qtbot, view, 2, Qt.KeyboardModifier.ShiftModifier)  # the anchor stays at the first click
    assert view.selected_word_ids() == [2, 3, 4]


def test_arrow_keys_move_the_word_selection(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    click_word(qtbot, view, 3)
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_Right)
    assert view.selected_word_ids() == [4]
    qtbot.keyClick(view.text, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view.text, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_word_ids() == [4, 5, 6]
    qtbot.keyClick(view.text, Qt.Key.Key_Left)
    assert view.selected_word_ids() == [5]
    for _ in range(10):
        qtbot.keyClick(view.text, Qt.Key.Key_Left)
    assert view.selected_word_ids() == [0]  # stops at the first word


def test_right_to_left_words_are_hit_and_arrows_follow_the_eye(qtbot, view: TranscriptView) -> None:
    view.set_project(Project(make_transcript([("דנה", "שלום לכולם וברוכים הבאים.")], language="he", unsure={})))
    assert view.text.document().findBlockByNumber(0).text() == "שלום לכולם וברוכים הבאים."
    r0, r1 = (view.text.word_rect(k) for k in (0, 1))
    assert r1.right() <= r0.left() + 1  # the second word is drawn left of the first
    click_word(qtbot, view, 1)
    assert view.selected_word_ids() == [1]
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_Left)  # left is onwards in Hebrew
    assert view.selected_word_ids() == [2]


def test_gutter_click_selects_the_caption(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    cap = project.transcript.captions[1]
    rect = view.text.word_rect(doc_of(view).index_of[cap.word_ids[0]])
    with qtbot.waitSignal(view.word_activated, timeout=1000) as blocker:
        qtbot.mouseClick(view.text.gutter, Qt.MouseButton.LeftButton, pos=QPoint(20, rect.center().y()))
    assert blocker.args == [cap.word_ids[0]]
    assert view.selected_word_ids() == cap.word_ids


# --- find ------------------------------------------------------------------------------------
def test_find_highlights_counts_and_cycles(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_bar.isVisible() and view.find_bar.field.hasFocus()
    qtbot.keyClicks(view.find_bar.field, "THE")  # case-insensitive
    text = view.text.document().toPlainText().lower()
    expected = text.count("the")
    assert expected >= 4
    assert len(view.find_matches()) == expected
    assert view.find_bar.count.text() == f"1 of {expected}"
    highlighted = [s.cursor.selectedText().lower() for s in view.text.extraSelections()]
    assert highlighted.count("the") == expected + 1  # every match, and the current one on top
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Return)
    assert view.find_bar.count.text() == f"2 of {expected}"
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_F3)
    assert view.find_bar.count.text() == f"3 of {expected}"
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert view.find_bar.count.text() == f"{expected} of {expected}"  # wraps around
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_F3)
    assert view.find_bar.count.text() == f"1 of {expected}"
    qtbot.keyClick(view.text, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert view.find_bar.count.text() == f"{expected} of {expected}"
    qtbot.keyClicks(view.find_bar.field, "zzz")
    assert view.find_bar.count.text() == "No matches" and view.text.extraSelections() == []


def test_escape_closes_find_and_clears_highlights(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    view.show_find()
    qtbot.keyClicks(view.find_bar.field, "it")
    assert view.text.extraSelections()
    qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Escape)
    assert not view.find_bar.isVisible()
    assert view.text.extraSelections() == [] and view.find_matches() == []
    # Reopening searches again for the kept query; Esc in the text closes it too.
    view.show_find()
    assert view.find_matches() and view.find_bar.field.selectedText() == "it"
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_Escape)
    assert not view.find_bar.isVisible() and view.text.extraSelections() == []


def test_find_in_a_long_transcript_highlights_only_what_is_on_screen(qtbot, view: TranscriptView) -> None:
    view.set_project(Project(big_transcript(3000)))
    view.show_find()
    qtbot.keyClicks(view.find_bar.field, "speech")
    n = len(view.find_matches())
    assert n > 100
    assert 0 < len(view.text.extraSelections()) < n
    for _ in range(3):
        qtbot.keyClick(view.find_bar.field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    # Going back from the first match wraps to the end of the text, which is scrolled into view.
    assert view.find_bar.count.text() == f"{n - 2} of {n}"
    assert view.text.viewport().rect().intersects(view.text.position_rect(view.find_matches()[n - 3][0]))
    assert view.text.verticalScrollBar().value() > 0


# --- copy ------------------------------------------------------------------------------------
def test_copy_selected_words_and_copy_all(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    clipboard = QApplication.clipboard()
    click_word(qtbot, view, 7)
    click_word(qtbot, view, 11, Qt.KeyboardModifier.ShiftModifier)
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == "talk about offline speech recognition."
    view.act_copy_all.trigger()
    assert clipboard.text() == to_txt(project.transcript)
    assert clipboard.text().startswith("Alice: Welcome back") and "\n\nBob: That sounds great." in clipboard.text()


def test_copy_dragged_text(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    click_word(qtbot, view, 1)
    c = view.text.textCursor()  # what a drag with the mouse leaves
    c.setPosition(doc_of(view).starts[2] + 1)
    c.setPosition(doc_of(view).ends[4], QTextCursor.MoveMode.KeepAnchor)
    view.text.setTextCursor(c)
    assert view.selected_word_ids() == []  # free text replaces the word selection
    view.copy_selection()
    assert QApplication.clipboard().text() == "o the show."


def test_copy_joins_words_without_spaces_in_japanese(qtbot, view: TranscriptView) -> None:
    script: list[tuple[str | None, str]] = [("話者1", "今日は良い天気です。"), (None, "散歩に行きましょう。")]
    t = make_transcript(script, language="ja", unsure={}, sep="")
    view.set_project(Project(t))
    assert view.text.document().findBlockByNumber(0).text() == "今日は良い天気です。"
    assert view.text.row_label(0) == ("0:00", "話者1")
    click_word(qtbot, view, 2)
    click_word(qtbot, view, 6, Qt.KeyboardModifier.ShiftModifier)
    view.copy_selection()
    assert QApplication.clipboard().text() == "は良い天気"


# --- export ----------------------------------------------------------------------------------
def test_export_menu_emits_each_format(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    assert view.export_button.toolTip() and view.export_button.menu() is view.export_menu
    acts = view.export_menu.actions()
    assert [a.data() for a in acts] == list(FORMATS)
    assert [a.text() for a in acts] == ["SubRip (.srt)", "WebVTT (.vtt)", "Plain Text (.txt)", "Hark JSON (.json)"]
    for act, fmt in zip(acts, FORMATS, strict=True):
        with qtbot.waitSignal(view.export_requested, timeout=1000) as blocker:
            act.trigger()
        assert blocker.args == [fmt]


def test_buttons_have_tooltips_and_a_sensible_tab_order(view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    for act in view.toolbar.actions():
        w = view.toolbar.widgetForAction(act)
        assert w is view.info or w.toolTip(), act.text()
    assert view.text.focusPolicy() == Qt.FocusPolicy.StrongFocus
    chain: list[QWidget] = []
    at: QWidget = view.export_button
    for _ in range(4):
        nxt = at.nextInFocusChain()
        assert nxt is not None
        at = nxt
        chain.append(at)
    assert view.text in chain  # the toolbar, then the text, then the find bar
    assert chain.index(view.text) < chain.index(view.find_bar.field) if view.find_bar.field in chain else True


# --- correcting ------------------------------------------------------------------------------
def open_editor_by_double_click(qtbot, view: TranscriptView, word_id: int) -> WordEditor:
    k = doc_of(view).index_of[word_id]
    qtbot.mouseDClick(view.text.viewport(), Qt.MouseButton.LeftButton, pos=view.text.word_rect(k).center())
    ed = view.editor()
    assert ed is not None and ed.isVisible()
    return ed


def test_correcting_a_word_through_the_inline_editor(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    wid = next(w.id for w in project.transcript.words if w.text == "whisper.")
    ed = open_editor_by_double_click(qtbot, view, wid)
    assert ed.text() == "whisper." and ed.selectedText() == "whisper."
    assert ed.geometry().intersects(view.text.word_rect(doc_of(view).index_of[wid]))
    old = project.transcript
    with qtbot.waitSignal(view.project_changed, timeout=1000) as blocker:
        qtbot.keyClicks(ed, "Whisper.cpp!")
        qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert blocker.args == [project]
    assert view.editor() is None
    assert project.transcript is not old and old.edits.corrections == []  # the old value is kept for undo
    assert project.transcript.edits.corrections == [Correction(wid, "Whisper.cpp!")]
    assert shown_word(view, wid) == "Whisper.cpp!"
    assert format_of(view, wid).underlineStyle() == QTextCharFormat.UnderlineStyle.DotLine
    cap = next(c for c in project.transcript.captions if wid in c.word_ids)
    old_cap = next(c for c in old.captions if wid in c.word_ids)
    shown = [project.transcript.words[i].text if i != wid else "Whisper.cpp!" for i in cap.word_ids]
    assert cap.lines != old_cap.lines and "Whisper.cpp!" in cap.lines[-1]
    assert cap.lines == wrap_caption(shown, CaptionRules(), " ")  # re-wrapped, extra lines rather than one long one
    assert view.selected_word_ids() == [wid]
    # The words after it moved with it: selecting and copying the next word still works.
    click_word(qtbot, view, wid + 1)
    view.copy_selection()
    assert QApplication.clipboard().text() == project.transcript.words[wid + 1].text
    assert "1 corrected" in view.info.text()


def test_f2_and_enter_open_the_editor_and_non_ascii_text_commits(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    click_word(qtbot, view, 5)
    view.text.setFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_F2)
    ed = view.editor()
    assert ed is not None and ed.hasFocus()
    qtbot.keyClick(ed, Qt.Key.Key_Escape)
    assert view.editor() is None and view.text.hasFocus()
    qtbot.keyClick(view.text, Qt.Key.Key_Return)
    ed = view.editor()
    assert ed is not None
    type_text(qtbot, ed, "café")
    with qtbot.waitSignal(view.project_changed, timeout=1000):
        qtbot.keyClick(ed, Qt.Key.Key_Enter)
    assert shown_word(view, 5) == "café"
    assert project.transcript.edits.corrections == [Correction(5, "café")]


def test_escape_cancels_without_change(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    before = project.transcript
    ed = open_editor_by_double_click(qtbot, view, 20)
    with qtbot.assertNotEmitted(view.project_changed):
        qtbot.keyClicks(ed, "nonsense")
        qtbot.keyClick(ed, Qt.Key.Key_Escape)
    assert view.editor() is None
    assert project.transcript is before and before.edits.corrections == []
    assert shown_word(view, 20) == before.words[20].text


def test_empty_correction_is_refused(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    ed = open_editor_by_double_click(qtbot, view, 20)
    with qtbot.assertNotEmitted(view.project_changed):
        qtbot.keyClick(ed, Qt.Key.Key_Backspace)
        qtbot.keyClicks(ed, "   ")
        qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert view.editor() is ed and ed.isVisible()  # kept open, with the reason shown
    assert "cannot be corrected to nothing" in view.edit_error()
    assert project.transcript.edits.corrections == []
    qtbot.keyClicks(ed, "no")
    assert view.edit_error() == ""  # typing clears the complaint
    with qtbot.waitSignal(view.project_changed, timeout=1000):
        qtbot.keyClick(ed, Qt.Key.Key_Return)
    assert project.transcript.edits.corrections == [Correction(20, "no")]


def test_unchanged_text_and_correcting_back_to_the_original(qtbot, view: TranscriptView, project: Project) -> None:
    view.set_project(project)
    ed = open_editor_by_double_click(qtbot, view, 2)
    with qtbot.assertNotEmitted(view.project_changed):
        qtbot.keyClick(ed, Qt.Key.Key_Return)  # same text: nothing to save
    view.edit_word(2)
    qtbot.keyClicks(view.editor(), "to.")
    with qtbot.waitSignal(view.project_changed, timeout=1000):
        qtbot.keyClick(view.editor(), Qt.Key.Key_Return)
    view.edit_word(2)
    qtbot.keyClicks(view.editor(), "to")
    with qtbot.waitSignal(view.project_changed, timeout=1000):
        qtbot.keyClick(view.editor(), Qt.Key.Key_Return)
    assert project.transcript.edits.corrections == []  # back to what the engine heard
    assert format_of(view, 2).underlineStyle() == QTextCharFormat.UnderlineStyle.NoUnderline


def test_correction_keeps_the_scroll_position(qtbot, view: TranscriptView) -> None:
    p = Project(big_transcript(2000))
    view.set_project(p)
    bar = view.text.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    qtbot.wait(10)
    value = bar.value()
    first = doc_of(view).word_at(view.text.visible_range()[0])
    assert first is not None
    k = first + 40
    wid = doc_of(view).word_ids[k]
    view.edit_word(wid)
    value = bar.value()
    qtbot.keyClicks(view.editor(), "corrected")
    with qtbot.waitSignal(view.project_changed, timeout=1000):
        qtbot.keyClick(view.editor(), Qt.Key.Key_Return)
    assert bar.value() == value
    assert view.selected_word_ids() == [wid]
    # Showing the same project again (e.g. after an undo elsewhere) keeps place and selection too.
    view.set_project(p)
    assert view.selected_word_ids() == [wid]
    assert abs(bar.value() - value) < 5


def test_a_ten_thousand_word_project_opens(view: TranscriptView) -> None:
    t = big_transcript(10_000)
    view.set_project(Project(t))
    td = view._td
    assert td is not None and len(td.word_ids) == 10_000
    assert view.text.document().blockCount() == len(t.captions)
    assert view.text.document().isUndoRedoEnabled() is False
    assert "10,000 words" in view.info.text()
    view.select_words(t.words[9999].id)
    assert view.selected_word_ids() == [9999]
    assert view.text.viewport().rect().intersects(view.text.word_rect(9999))
