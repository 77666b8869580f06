"""The transcript panel: captions with their times, word selection, find, copy, export and corrections.

Selection is by whole words (click, shift+click, arrows); a drag still selects
free text. Corrections go through pipeline.editing.editing, so the project always holds
what is shown, and the view updates only the word that changed.
"""

from __future__ import annotations

import html
from bisect import bisect_left

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMenu,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pipeline.captions.export import FORMATS, to_txt
from pipeline.transcripts.project import Project
from pipeline.transcripts.transcript import Transcript, join_words
from ui.transcript.find_bar import FindBar, find_all
from ui.transcript.transcript_document import TranscriptDocument
from ui.transcript.transcript_speakers import TranscriptSpeakers
from ui.transcript.transcript_text import TranscriptText
from ui.transcript.word_editor import WordCorrection, WordEditor

FORMAT_LABELS = {
    "srt": "SubRip (.srt)",
    "vtt": "WebVTT (.vtt)",
    "txt": "Plain Text (.txt)",
    "json": "Hark JSON (.json)",
}


PLACEHOLDER = (
    "<h3>No transcript open</h3><p>Finished transcriptions open here.<br>"
    "Click a word to select it, double-click it to correct it.</p>"
)


class TranscriptView(TranscriptSpeakers, QWidget):
    word_activated = Signal(int)  # a word id, when the user clicks a word (the player seeks there)
    export_requested = Signal(str)  # one of pipeline.captions.export.FORMATS; the window asks where to save
    project_changed = Signal(object)  # the Project, after the user edited it (autosave)
    editor_requested = Signal()  # open the shown project in the editor window (cut, preview, export)
    speaker_renamed = Signal(object, str, str)  # the Project, old name, new name (autosave)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._td: TranscriptDocument | None = None
        self._anchor: int | None = None  # word selection: indexes into the display order
        self._focus: int | None = None
        self._matches: list[tuple[int, int]] = []  # find results, document positions
        self._current = -1

        self.text = TranscriptText(self)
        self.text.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.text.customContextMenuRequested.connect(self._context_menu)
        self.text.word_pressed.connect(self._word_pressed)
        self.text.word_double_clicked.connect(lambda k: self.edit_word(self._td.word_ids[k]) if self._td else None)
        self.text.row_clicked.connect(self._row_clicked)
        self.text.row_menu_requested.connect(self._row_menu)
        self.text.move_requested.connect(self._move)
        self.text.edit_requested.connect(lambda: self.edit_word())
        self.text.copy_requested.connect(self.copy_selection)
        self.text.select_all_requested.connect(self.select_all)
        self.text.find_requested.connect(self.show_find)
        self.text.find_next_requested.connect(lambda back: self.find_previous() if back else self.find_next())
        self.text.escape_pressed.connect(self._escape)
        self.text.selectionChanged.connect(self._text_selection_changed)
        self.correction = WordCorrection(self.text)
        self.correction.corrected.connect(self._corrected)

        self.act_find = QAction("Find…", self, toolTip="Search the transcript (Ctrl+F)")
        self.act_copy = QAction("Copy\tCtrl+C", self, toolTip="Copy the selected words")
        self.act_copy_all = QAction("Copy All", self, toolTip="Copy the whole transcript as plain text")
        self.act_correct = QAction("Correct Word…\tF2", self, toolTip="Change what the selected word says")
        self.act_find.triggered.connect(self.show_find)
        self.act_copy.triggered.connect(self.copy_selection)
        self.act_copy_all.triggered.connect(self.copy_all)
        self.act_correct.triggered.connect(lambda: self.edit_word())
        self.act_editor = QAction(
            "Edit / Cut…",
            self,
            toolTip="Open the editor: play the media, cut words "
            "from it, fix captions, export the trimmed result (Ctrl+E)",
        )
        self.act_editor.triggered.connect(self.editor_requested)
        self.act_rename_speaker = self._rename_speaker_action()

        self.export_menu = QMenu("Export", self)
        for fmt in FORMATS:
            act = self.export_menu.addAction(FORMAT_LABELS.get(fmt, fmt.upper()))
            act.setData(fmt)
            act.triggered.connect(lambda _checked=False, f=fmt: self.export_requested.emit(f))
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save the captions or the text to a file")
        self.export_button.setMenu(self.export_menu)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        self.info = QLabel(self)  # title and counts, at the right of the toolbar
        self.info.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.info.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.info.setMinimumWidth(1)
        self.info.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.info.setContentsMargins(8, 0, 8, 0)
        self.toolbar = QToolBar(self)
        self.toolbar.setIconSize(QSize(16, 16))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.act_editor)
        self.toolbar.addAction(self.act_find)
        self.toolbar.addAction(self.act_copy_all)
        self.toolbar.addWidget(self.export_button)
        self.toolbar.addWidget(self.info)

        self.placeholder = QLabel(PLACEHOLDER, self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.placeholder.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.text)

        self.find_bar = FindBar(self)
        self.find_bar.hide()
        self.find_bar.query_changed.connect(self._search)
        self.find_bar.next_requested.connect(self.find_next)
        self.find_bar.previous_requested.connect(self.find_previous)
        self.find_bar.closed.connect(self._find_closed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.find_bar)
        QWidget.setTabOrder(self.export_button, self.text)
        QWidget.setTabOrder(self.text, self.find_bar.field)
        self._render()

    # --- project -----------------------------------------------------------------------------
    def project(self) -> Project | None:
        return self._project

    def show_message(self, title: str, text: str) -> None:
        """No transcript: say why instead (e.g. the reason a job failed)."""
        self.set_project(None)
        self.placeholder.setText(f"<h3>{html.escape(title)}</h3><p>{html.escape(text)}</p>")

    def set_project(self, project: Project | None) -> None:
        """Show `project`; the same project again re-renders it where the user was."""
        self.placeholder.setText(PLACEHOLDER)
        self.correction.close()
        keep = project is not None and project is self._project
        self._project = project
        self._render(keep)

    def _render(self, keep: bool = False) -> None:
        ids, top = (self.selected_word_ids(), self._top_word()) if keep else ([], None)
        old_value = self.text.verticalScrollBar().value()
        p = self._project
        self._td = TranscriptDocument(p.transcript, self.palette(), self.text.font()) if p else None
        self.text.set_transcript_document(self._td)
        self._anchor = self._focus = None
        td = self._td
        if td is not None and ids and ids[0] in td.index_of and ids[-1] in td.index_of:
            self._set_selection(td.index_of[ids[0]], td.index_of[ids[-1]], scroll=False)
        if td is not None and top is not None and top in td.index_of:
            # Lay out up to the old top word (Qt lays out lazily) so the old scroll value is reachable.
            self.text.document().documentLayout().blockBoundingRect(td.doc.findBlock(td.starts[td.index_of[top]]))
            self.text.verticalScrollBar().setValue(old_value)
        self.stack.setCurrentWidget(self.text if td is not None else self.placeholder)
        for w in (
            self.act_find,
            self.act_copy,
            self.act_copy_all,
            self.act_correct,
            self.act_editor,
            self.export_button,
        ):
            w.setEnabled(td is not None)
        if td is None:
            self.find_bar.close_bar()
        self._update_speaker_action()
        self._search(self.find_bar.query() if self.find_bar.isVisible() else "", scroll=not keep)
        self._update_info()

    def _top_word(self) -> int | None:
        """Id of the first word on screen."""
        if self._td is None:
            return None
        k = self._td.word_at(self.text.visible_range()[0])
        return self._td.word_ids[k] if k is not None else None

    def _update_info(self) -> None:
        p, td = self._project, self._td
        if p is None or td is None:
            self.info.setText("")
            return
        n = len(td.word_ids)
        fixed = len(p.transcript.edits.corrections)
        title = self.info.fontMetrics().elidedText(p.title, Qt.TextElideMode.ElideMiddle, 280)
        parts = [title, f"{n:,} word{'s' * (n != 1)}"] + ([f"{fixed:,} corrected"] if fixed else [])
        self.info.setText(" · ".join(parts))
        self.info.setToolTip(str(p.media_path))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange) and self._td is not None:
            self._render(keep=True)  # colours and fonts are baked into the document

    # --- word selection ----------------------------------------------------------------------
    def selected_word_ids(self) -> list[int]:
        if self._td is None or self._anchor is None or self._focus is None:
            return []
        a, b = sorted((self._anchor, self._focus))
        return self._td.word_ids[a : b + 1]

    def select_words(self, first_id: int, last_id: int | None = None) -> None:
        """Select words by id (a range in reading order) and scroll them into view."""
        td = self._td
        if td is None or first_id not in td.index_of:
            return
        last = td.index_of.get(last_id if last_id is not None else first_id, td.index_of[first_id])
        self._set_selection(td.index_of[first_id], last)

    def select_all(self) -> None:
        if self._td is not None and self._td.word_ids:
            self._set_selection(0, len(self._td.word_ids) - 1, scroll=False)

    def clear_selection(self) -> None:
        self._anchor = self._focus = None
        self.text.current_row = -1
        self.text.gutter.update()
        self._refresh_highlights()
        self._update_speaker_action()

    def _set_selection(self, anchor: int, focus: int, scroll: bool = True) -> None:
        assert self._td is not None
        self._anchor, self._focus = anchor, focus
        cursor = self.text.textCursor()
        if cursor.hasSelection():  # one selection at a time: words replace dragged text
            cursor.clearSelection()
            self.text.setTextCursor(cursor)
        self.text.current_row = self._td.row_of(focus)
        self.text.gutter.update()
        if scroll:
            self.text.scroll_to_position(self._td.starts[focus])
        self._refresh_highlights()
        self._update_speaker_action()

    def _word_pressed(self, k: int, extend: bool) -> None:
        if self._td is None:
            return
        if k < 0:
            self.clear_selection()
        elif extend and self._anchor is not None:
            self._set_selection(self._anchor, k, scroll=False)
        else:
            self._set_selection(k, k, scroll=False)
            self.word_activated.emit(self._td.word_ids[k])

    def _row_clicked(self, row: int) -> None:
        if self._td is None:
            return
        r = self._td.rows[row]
        self._set_selection(r.first, r.last, scroll=False)
        self.word_activated.emit(self._td.word_ids[r.first])

    def _move(self, step: int, extend: bool) -> None:
        td = self._td
        if td is None or not td.word_ids:
            return
        if self._focus is None:
            k = 0 if step > 0 else len(td.word_ids) - 1
        else:
            if td.doc.findBlock(td.starts[self._focus]).textDirection() == Qt.LayoutDirection.RightToLeft:
                step = -step  # arrows follow what the eye sees
            k = min(max(self._focus + step, 0), len(td.word_ids) - 1)
        self._set_selection(self._anchor if extend and self._anchor is not None else k, k)

    def _text_selection_changed(self) -> None:
        if self.text.textCursor().hasSelection() and self._anchor is not None:
            self.clear_selection()  # a drag selects free text instead of words

    def _escape(self) -> None:
        if self.find_bar.isVisible():
            self.find_bar.close_bar()
        else:
            self.clear_selection()

    def _refresh_highlights(self) -> None:
        words = None
        if self._td is not None and self._anchor is not None and self._focus is not None:
            a, b = sorted((self._anchor, self._focus))
            words = (self._td.starts[a], self._td.ends[b])
        self.text.set_highlights(self._matches, self._current, words)

    # --- find --------------------------------------------------------------------------------
    def show_find(self) -> None:
        if self._td is None:
            return
        was_open = self.find_bar.isVisible()
        self.find_bar.open_bar()
        if not was_open and self.find_bar.query():
            self._search(self.find_bar.query())

    def find_matches(self) -> list[tuple[int, int]]:
        """(start, end) document positions of every match of the find bar's query."""
        return list(self._matches)

    def _search(self, query: str, scroll: bool = True) -> None:
        self._matches = find_all(self._td.doc, query) if self._td is not None else []
        self._current = -1
        if self._matches:  # start from the first match on screen, as browsers do
            top = self.text.visible_range()[0]
            self._current = min(bisect_left(self._matches, (top, 0)), len(self._matches) - 1)
            if scroll:
                self.text.scroll_to_position(self._matches[self._current][0])
        self.find_bar.set_count(self._current + 1, len(self._matches))
        self._refresh_highlights()

    def _step_match(self, step: int) -> None:
        if not self.find_bar.isVisible():
            self.show_find()
            return
        if not self._matches:
            return
        self._current = (self._current + step) % len(self._matches)
        self.text.scroll_to_position(self._matches[self._current][0])
        self.find_bar.set_count(self._current + 1, len(self._matches))
        self._refresh_highlights()

    def find_next(self) -> None:
        self._step_match(1)

    def find_previous(self) -> None:
        self._step_match(-1)

    def _find_closed(self) -> None:
        self._matches, self._current = [], -1
        self._refresh_highlights()
        self.text.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- copy --------------------------------------------------------------------------------
    def selected_text(self) -> str:
        """Dragged text if any, else the selected words joined as the language writes them."""
        cursor = self.text.textCursor()
        if cursor.hasSelection():
            return cursor.selection().toPlainText()
        if self._project is None or self._td is None:
            return ""
        texts = self._td.texts
        return join_words([texts[i] for i in self.selected_word_ids()], self._project.transcript.language)

    def plain_text(self) -> str:
        """The whole transcript as the TXT export writes it (paragraphs, speaker names)."""
        if self._project is None or self._td is None:
            return ""
        t = self._project.transcript
        return to_txt(t) if t.captions else join_words([self._td.texts[i] for i in self._td.word_ids], t.language)

    def copy_selection(self) -> None:
        text = self.selected_text()
        if text:
            QApplication.clipboard().setText(text)

    def copy_all(self) -> None:
        text = self.plain_text()
        if text:
            QApplication.clipboard().setText(text)

    def _context_menu(self, pos: QPoint) -> None:
        k = self.text.word_at(pos)
        if k is not None and self._td is not None and self._td.word_ids[k] not in self.selected_word_ids():
            self._set_selection(k, k, scroll=False)  # right-click acts on the word under the pointer
        self.act_copy.setEnabled(bool(self.selected_text()))
        self.act_correct.setEnabled(self._focus is not None)
        menu = QMenu(self)
        speaker = [self.act_rename_speaker] if self.current_speaker() else []
        for a in (self.act_copy, self.act_copy_all, None, self.act_correct, *speaker, None, self.act_find):
            menu.addSeparator() if a is None else menu.addAction(a)
        menu.exec(self.text.viewport().mapToGlobal(pos))
        self.act_copy.setEnabled(self._td is not None)

    # --- correcting a word -------------------------------------------------------------------
    def edit_word(self, word_id: int | None = None) -> bool:
        """Open the inline editor over `word_id` (default: the selected word). False if there is none."""
        td = self._td
        k = td.index_of.get(word_id) if td is not None and word_id is not None else self._focus
        if td is None or k is None:
            return False
        self._set_selection(k, k)
        self.correction.open_word(k)
        return True

    def editor(self) -> WordEditor | None:
        """The open inline editor, if any."""
        return self.correction.editor

    def edit_error(self) -> str:
        """Why the editor's text was refused ("" when it was not)."""
        return self.correction.error()

    def cancel_edit(self) -> None:
        self.correction.close()

    def _corrected(self, transcript: Transcript, word_id: int) -> None:
        p, td = self._project, self._td
        if p is None or td is None:
            return
        p.transcript = transcript
        td.update_word(transcript, word_id)  # in place: scroll and selection stay
        if self.find_bar.isVisible():
            self._search(self.find_bar.query(), scroll=False)
        self._refresh_highlights()
        self._update_info()
        self.project_changed.emit(p)


__all__ = ["FORMAT_LABELS", "TranscriptView"]
