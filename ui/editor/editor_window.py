"""The caption editor: video on top, the editable transcript, the timeline below; text-based cutting.

Every edit is a pure operation of pipeline.editing.editing pushed on the session's
undo stack; the window only turns the selection into arguments and shows the
transcript the session holds. Saving is the owner's job (app/editor_controller).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QPalette
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from pipeline.editing import editing
from pipeline.editing.editing import EditError
from pipeline.transcripts.transcript import Transcript, Word
from ui.editor.edit_commands import EditSession, quoted, seconds, words
from ui.editor.editor_actions import EditorActions
from ui.editor.editor_document import EditorDocument
from ui.editor.editor_find import FindReplaceBar
from ui.editor.editor_speakers import EditorSpeakers
from ui.editor.editor_text import EditorText, InlineEditor
from ui.editor.media_preview import MediaPreview, clock
from ui.timeline.timeline_widget import TimelineCaption, TimelineWidget, TimelineWord


class EditorWindow(EditorSpeakers, QMainWindow):
    export_requested = Signal()
    open_project_requested = Signal()

    def __init__(self, transcript: Transcript, title: str, media: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.can_close: Callable[[], bool] = lambda: True  # the controller saves before the window goes
        self.session = EditSession(transcript, self)
        self.preview = MediaPreview(self)
        self.text = EditorText(self)
        self.inline = InlineEditor(self.text)
        self.find_bar = FindReplaceBar(self)
        self.timeline = TimelineWidget(self)
        self.editor_actions = EditorActions(self, self.session.stack)
        self.editor_actions.build_menus(self.menuBar())
        self._matches: list[list[int]] = []  # find results: word ids of each match
        self._current = -1
        self._tl_words: dict[tuple[object, ...], TimelineWord] = {}
        self._build_layout()
        self._connect()
        self.td = EditorDocument(transcript, self.palette(), self.text.font())
        self.text.set_document(self.td)
        self._show(transcript, [])
        self.preview.set_source(media, transcript.media.duration)
        self.setWindowTitle(f"{title} — Hark Editor")
        self.resize(1120, 860)
        self.setMinimumSize(QSize(640, 480))
        self.text.setFocus(Qt.FocusReason.OtherFocusReason)

    def _build_layout(self) -> None:
        middle = QWidget(self)
        lay = QVBoxLayout(middle)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.find_bar)
        self.split = QSplitter(Qt.Orientation.Vertical, self)
        for w in (self.preview, middle, self.timeline):
            self.split.addWidget(w)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 4)
        self.split.setStretchFactor(2, 0)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([330, 330, 170])
        self.setCentralWidget(self.split)
        self.status = QLabel(self)
        self.stats = QLabel(self)
        self.stats.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.saved = QLabel(self)
        self.saved.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.stats)
        self.statusBar().addPermanentWidget(self.saved)
        QWidget.setTabOrder(self.preview.skip_box, self.text)
        QWidget.setTabOrder(self.text, self.find_bar.search.field)
        QWidget.setTabOrder(self.find_bar.replace_all, self.timeline)

    def _connect(self) -> None:
        a, t, p = self.editor_actions, self.text, self.preview
        self.session.changed.connect(self._show)
        a.open_project.triggered.connect(self.open_project_requested)
        a.export.triggered.connect(self.export_requested)
        a.close.triggered.connect(self.close)
        a.cut.triggered.connect(self.cut_selection)
        a.restore.triggered.connect(self.restore_selection)
        a.correct.triggered.connect(lambda: self.correct_word())
        a.insert.triggered.connect(lambda: self.insert_word())
        a.split.triggered.connect(self.split_caption)
        a.merge.triggered.connect(self.merge_caption)
        a.rename_speaker.triggered.connect(lambda: self.rename_speaker())
        a.find.triggered.connect(lambda: self.find_bar.open(False))
        a.replace.triggered.connect(lambda: self.find_bar.open(True))
        a.select_all.triggered.connect(lambda: self.text.select(0, len(self.td.word_ids) - 1, scroll=False))
        a.play.triggered.connect(self._space)
        a.back.triggered.connect(p.slower_or_back)
        a.pause.triggered.connect(p.stop_here)
        a.faster.triggered.connect(p.faster)
        a.preview_cuts.toggled.connect(p.set_skip_cuts)
        p.skip_box.toggled.connect(a.preview_cuts.setChecked)
        a.follow.toggled.connect(self.timeline.set_follow_playhead)
        a.zoom_in.triggered.connect(lambda: self.timeline.set_zoom(self.timeline.zoom() * 1.5))
        a.zoom_out.triggered.connect(lambda: self.timeline.set_zoom(self.timeline.zoom() / 1.5))
        self.timeline.set_follow_playhead(True)

        t.word_clicked.connect(lambda k: self.preview.seek(self.td.words[self.td.word_ids[k]].start))
        t.word_double_clicked.connect(lambda k: self.correct_word(k))
        t.edit_requested.connect(lambda: self.correct_word())
        t.selection_changed.connect(self._selection_changed)
        t.copy_requested.connect(self.copy_selection)
        t.select_all_requested.connect(a.select_all.trigger)
        t.find_requested.connect(lambda: self.find_bar.open(False))
        t.find_next_requested.connect(lambda back: self.step_match(-1 if back else 1))
        t.row_menu_requested.connect(self._row_menu)
        t.escape_pressed.connect(lambda: self.find_bar.close_bar() if self.find_bar.isVisible() else t.select(None))

        fb = self.find_bar
        fb.query_changed.connect(self.search)
        fb.next_requested.connect(lambda: self.step_match(1))
        fb.previous_requested.connect(lambda: self.step_match(-1))
        fb.replace_requested.connect(self.replace)
        fb.closed.connect(self._find_closed)

        p.position_changed.connect(self._position)
        p.media_error.connect(lambda msg: self.show_status(f"Cannot play the media: {msg}"))
        tl = self.timeline
        tl.seek_requested.connect(p.seek)
        tl.word_clicked.connect(lambda wid: self.text.select_ids([wid]))
        tl.word_retimed.connect(self.retime_word)
        tl.caption_retimed.connect(self.retime_caption)
        tl.range_selected.connect(self.cut_time)
        tl.speaker_rename_requested.connect(lambda name: self.rename_speaker(name))

    # --- showing the session's transcript ----------------------------------------------------
    @property
    def transcript(self) -> Transcript:
        return self.session.transcript

    def _show(self, t: Transcript, select: list[int]) -> None:
        self.inline.close()
        self.td.update(t)
        self.text.document_updated()
        if select:
            self.text.select_ids(select)
        cuts = editing.cut_ranges(t)
        self.preview.set_cuts(cuts)
        shown = list(self.td.words.values())  # effective_words(t), in time order, as the document got them
        cut = self.td.cut
        captions = [TimelineCaption(i, c.start, c.end, c.text, c.speaker) for i, c in enumerate(t.captions)]
        self.timeline.set_content(
            [self._timeline_word(w, w.id in cut) for w in shown], captions, t.media.duration, cuts
        )
        if self.find_bar.isVisible():
            self.search(scroll=False)
        removed = sum(e - s for s, e in cuts)
        kept = t.media.duration - removed
        self.stats.setText(
            f"{len(shown):,} words · {len(cut):,} cut ({removed:.1f} s) · "
            f"edit ≈ {clock(kept)} of {clock(t.media.duration)}"
        )
        self.stats.setToolTip(
            "Words in the transcript, words cut, the time cut (pauses included), and about "
            "how long the export will be: cut points move into the nearest silence when it is "
            "rendered, so it may come out a little shorter"
        )
        self._selection_changed()

    def _timeline_word(self, w: Word, cut: bool) -> TimelineWord:
        """Frozen dataclasses are slow to make (~10 µs each): an edit reuses those of unchanged words."""
        key = (w.id, w.start, w.end, w.text, cut, w.speaker, w.rough)
        made = self._tl_words.get(key)
        if made is None:
            if len(self._tl_words) > 4 * len(self.td.word_ids) + 1000:
                self._tl_words.clear()
            made = self._tl_words[key] = TimelineWord(*key)
        return made

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange) and hasattr(self, "td"):
            ids, bar = self.text.selected_word_ids(), self.text.verticalScrollBar().value()
            self.td = EditorDocument(self.transcript, self.palette(), self.text.font())  # colours are baked in
            self.text.set_document(self.td)
            self.text.select_ids(ids, scroll=False)
            self.text.verticalScrollBar().setValue(bar)

    def _selection_changed(self) -> None:
        has = bool(self.text.selected_word_ids())
        for act in self.editor_actions.word_actions():
            act.setEnabled(has)
        self.editor_actions.insert.setEnabled(bool(self.td.word_ids) or not self.transcript.words)
        self._update_speaker_action()

    def set_save_state(self, text: str, tip: str) -> None:
        self.saved.setText(text)
        self.saved.setToolTip(tip)

    def show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)

    def _position(self, t: float) -> None:
        self.timeline.set_playhead(t)
        k = self.td.word_at_time(t)
        if (
            k is not None
            and k != self.text.playing
            and self.editor_actions.follow.isChecked()
            and self.preview.is_playing()
        ):
            self.text.scroll_to_position(self.td.starts[k])
        self.text.set_playing(k)

    def _space(self) -> None:
        focused = QApplication.focusWidget()
        if isinstance(focused, QAbstractButton) and focused is not self.preview.play_button:
            focused.click()  # Space on a focused button presses it, as everywhere else
        else:
            self.preview.toggle()

    # --- edits -------------------------------------------------------------------------------
    def _apply(self, label: str, op: Callable[[Transcript], Transcript], select: list[int] | None = None) -> str:
        """Run one undoable edit; the reason it was refused ("" when done), also shown in the status bar."""
        before = self.text.selected_word_ids()
        try:
            done = self.session.apply(label, op, select if select is not None else before, before)
        except EditError as e:
            message = str(e)[:1].upper() + str(e)[1:]
            self.show_status(message)
            return message
        self.show_status(label if done else "Nothing to change")
        return ""

    def cut_selection(self) -> None:
        ids = self.text.selected_word_ids()
        if not ids:
            return
        k = self.td.index_of[ids[-1]] + 1  # then select the next word, so Delete goes on through the text
        after = [self.td.word_ids[k]] if k < len(self.td.word_ids) else ids
        self._apply(f"Cut {words(len(ids))}", lambda t: editing.cut_words(t, ids), after)

    def restore_selection(self) -> None:
        ids = self.text.selected_word_ids()
        if not ids:
            return
        times = {w.id: w for w in editing.effective_words(self.transcript)}
        span = (min(times[i].start for i in ids), max(times[i].end for i in ids))

        def restore(t: Transcript) -> Transcript:
            # The words, and any stretch of time cut between them (a pause cut on the timeline).
            t = editing.restore_words(t, ids)
            return editing.restore_time(t, *span) if len(ids) > 1 else t

        self._apply(f"Restore {words(len(ids))}", restore)

    def correct_word(self, k: int | None = None) -> bool:
        """Open the inline editor over word k (default: the selected word)."""
        k = self.text.focus if k is None else k
        if k is None:
            return False
        self.text.select(k, k)
        wid, old = self.td.word_ids[k], self.td.text_of(k)
        source = next((w.text for w in self.transcript.words if w.id == wid), None)
        heard = f"The engine heard “{source}”. " if source is not None else ""

        def commit(text: str) -> str:
            if " ".join(text.split()) == old:
                return ""
            return self._apply(
                f"Correct {quoted(old)} → {quoted(text)}", lambda t: editing.correct_word(t, wid, text), [wid]
            )

        self.inline.open(k, old, f"{heard}Enter saves, Esc cancels", commit)
        return True

    def insert_word(self, k: int | None = None) -> bool:
        """Open an empty editor after word k (default: the selection's end; none: before the first word)."""
        r = self.text.selected_range()
        k = (r[1] if r is not None else None) if k is None else k
        after = self.td.word_ids[k] if k is not None else None
        if k is None and self.td.word_ids:
            k = 0  # the editor shows at the first word; the new one goes before it

        def commit(text: str) -> str:
            new_id: list[int] = []

            def op(t: Transcript) -> Transcript:
                out, wid = editing.insert_word(t, after, text)
                new_id.append(wid)
                return out

            return self._apply(f"Insert {quoted(text)}", op, None) or self._select_later(new_id)

        if k is None:
            return False
        self.inline.open(k, "", "Type the missing word. Enter adds it, Esc cancels", commit, after=after is not None)
        return True

    def _select_later(self, ids: list[int]) -> str:
        if ids:
            self.text.select_ids(ids)
        return ""

    def split_caption(self) -> None:
        k = self.text.focus
        if k is not None:
            wid, index = self.td.word_ids[k], self.td.caption_of(k)
            self._apply("Split caption", lambda t: editing.split_caption(t, index, wid))

    def merge_caption(self) -> None:
        k = self.text.focus
        if k is not None:
            index = self.td.caption_of(k)
            self._apply("Merge captions", lambda t: editing.merge_captions(t, index))

    def retime_word(self, wid: int, start: float, end: float) -> None:
        self._apply("Retime word", lambda t: editing.retime_word(t, wid, start, end))

    def retime_caption(self, index: int, start: float, end: float) -> None:
        self._apply("Retime caption", lambda t: editing.retime_caption(t, index, start, end))

    def cut_time(self, start: float, end: float) -> None:
        self._apply(f"Cut {seconds(end - start)}", lambda t: editing.cut_time(t, start, end))

    def copy_selection(self) -> None:
        ids = self.text.selected_word_ids()
        if ids:
            sep = self.td.sep
            QApplication.clipboard().setText(sep.join(self.td.texts[i] for i in ids))

    # --- find and replace --------------------------------------------------------------------
    def search(self, scroll: bool = True) -> None:
        query = self.find_bar.query()
        n = len(query.split())
        found = editing.find_words(self.transcript, query, **self.find_bar.options()) if n else []
        index = self.td.index_of
        groups = [found[i : i + n] for i in range(0, len(found), n)] if n else []
        self._matches = sorted((g for g in groups if all(w in index for w in g)), key=lambda g: index[g[0]])
        self._current = 0 if self._matches else -1
        if self._matches:  # start from the first match on screen, as browsers do
            top = self.text.visible_range()[0]
            self._current = next((i for i, g in enumerate(self._matches) if self.td.starts[index[g[0]]] >= top), 0)
        self._show_matches(scroll)

    def _show_matches(self, scroll: bool = True) -> None:
        td = self.td
        ranges = [(td.starts[td.index_of[g[0]]], td.ends[td.index_of[g[-1]]]) for g in self._matches]
        self.text.set_matches(ranges, self._current)
        self.find_bar.set_count(self._current + 1, len(ranges))
        if scroll and 0 <= self._current < len(ranges):
            self.text.scroll_to_position(ranges[self._current][0])

    def step_match(self, step: int) -> None:
        if not self.find_bar.isVisible():
            self.find_bar.open(False)
            return
        if self._matches:
            self._current = (self._current + step) % len(self._matches)
            self._show_matches()

    def replace(self, every: bool) -> None:
        query, repl, opts = self.find_bar.query(), self.find_bar.replacement.text(), self.find_bar.options()
        if not self._matches:
            return
        if every:
            n = len(self._matches)
            self._apply(f"Replace {n} × {quoted(query)}", lambda t: editing.replace_words(t, query, repl, **opts))
            return
        ids = self._matches[self._current]

        def one(t: Transcript) -> Transcript:
            texts = editing.word_texts(editing.replace_words(t, query, repl, **opts))  # how each match would read
            for wid in ids:
                t = editing.correct_word(t, wid, texts[wid])
            return t

        self._apply(f"Replace {quoted(query)}", one, ids)

    def _find_closed(self) -> None:
        self._matches, self._current = [], -1
        self.text.set_matches([], -1)
        self.text.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.inline.commit() if self.inline.is_open() else None  # a half-typed correction is kept
        if self.can_close():
            self.preview.release()
            event.accept()
        else:
            event.ignore()


__all__ = ["EditorWindow"]
