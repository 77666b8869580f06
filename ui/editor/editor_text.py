"""The editor's text area: the transcript view's text widget, plus word selection, the playing word, inline edits.

Selection is by whole words: click, shift+click, drag across words, arrows
(Shift extends). The word being played is tinted; the selection is drawn over
it. Inline editors (correct a word, type a new one) commit through a callback
that returns why the text was refused, so a refusal keeps the editor open.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QPalette, QTextCharFormat
from PySide6.QtWidgets import QWidget

from ui.editor.editor_document import EditorDocument
from ui.transcript.transcript_text import TranscriptText
from ui.transcript.word_editor import InlineEditor


class EditorText(TranscriptText):
    """Word indexes are positions in the EditorDocument's display order."""

    selection_changed = Signal()
    word_clicked = Signal(int)  # k, a plain click on a word (the player seeks there)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Transcript")
        self.setAccessibleDescription(
            "Click a word to play from it. Delete cuts the selected words, "
            "F2 corrects one, Ctrl+Enter splits the caption before it"
        )
        self.anchor: int | None = None
        self.focus: int | None = None
        self.playing: int | None = None
        self._dragging = False
        self._matches: list[tuple[int, int]] = []
        self._current = -1
        self.word_pressed.connect(self._pressed)
        self.move_requested.connect(self.move_selection)
        self.row_clicked.connect(self._row_clicked)
        self.selectionChanged.connect(self._text_selected)

    @property
    def edoc(self) -> EditorDocument | None:
        """The document set_document() gave (TranscriptText knows it only as WordLookups)."""
        td = self.td
        return td if isinstance(td, EditorDocument) else None

    def set_document(self, td: EditorDocument | None) -> None:
        self.set_transcript_document(td)
        self.anchor = self.focus = self.playing = None
        self._matches, self._current = [], -1
        self.selection_changed.emit()

    def document_updated(self) -> None:
        """The EditorDocument rewrote some paragraphs: refit the gutter, redraw the highlights."""
        self._measure_gutter()
        td = self.edoc
        if td is not None:
            n = len(td.word_ids)
            if self.anchor is not None and self.focus is not None and (self.anchor >= n or self.focus >= n):
                self.anchor = self.focus = None
            if self.playing is not None and self.playing >= n:
                self.playing = None
        self.gutter.update()
        self._refresh()

    # --- selection ---------------------------------------------------------------------------
    def selected_range(self) -> tuple[int, int] | None:
        if self.anchor is None or self.focus is None:
            return None
        a, b = sorted((self.anchor, self.focus))
        return a, b

    def selected_word_ids(self) -> list[int]:
        r, td = self.selected_range(), self.edoc
        return td.word_ids[r[0] : r[1] + 1] if r is not None and td is not None else []

    def select(self, anchor: int | None, focus: int | None = None, scroll: bool = True) -> None:
        """Select words anchor..focus (display indexes); None clears the selection."""
        td = self.edoc
        if td is None or anchor is None or not td.word_ids:
            self.anchor = self.focus = None
            self.current_row = -1
        else:
            last = len(td.word_ids) - 1
            self.anchor = min(max(anchor, 0), last)
            self.focus = min(max(anchor if focus is None else focus, 0), last)
            self.current_row = td.row_of(self.focus)
            if scroll:
                self.scroll_to_position(td.starts[self.focus])
        cursor = self.textCursor()
        if cursor.hasSelection():  # one selection at a time: words replace dragged text
            cursor.clearSelection()
            self.setTextCursor(cursor)
        self.gutter.update()
        self._refresh()
        self.selection_changed.emit()

    def select_ids(self, ids: list[int], scroll: bool = True) -> None:
        td = self.edoc
        ks = sorted(td.index_of[i] for i in ids if i in td.index_of) if td is not None else []
        self.select(ks[0] if ks else None, ks[-1] if ks else None, scroll)

    def move_selection(self, step: int, extend: bool) -> None:
        td = self.edoc
        if td is None or not td.word_ids:
            return
        k = (0 if step > 0 else len(td.word_ids) - 1) if self.focus is None else self.focus + step
        self.select(self.anchor if extend and self.anchor is not None else k, k)

    def _pressed(self, k: int, extend: bool) -> None:
        if k < 0:
            self.select(None)
        elif extend and self.anchor is not None:
            self.select(self.anchor, k, scroll=False)
        else:
            self.select(k, k, scroll=False)
            self._dragging = True
            self.word_clicked.emit(k)

    def _row_clicked(self, row: int) -> None:
        td = self.edoc
        if td is not None:
            r = td.rows[row]
            self.select(r.first, r.last, scroll=False)
            self.word_clicked.emit(r.first)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Dragging from a word selects whole words, not characters."""
        td = self.edoc
        if self._dragging and td is not None and event.buttons() & Qt.MouseButton.LeftButton:
            k = td.word_at(self.cursorForPosition(event.position().toPoint()).position())
            if k is not None and k != self.focus:
                self.select(self.anchor, k, scroll=False)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging = False
        super().mouseReleaseEvent(event)

    def _text_selected(self) -> None:
        if self.textCursor().hasSelection() and self.anchor is not None:
            self.select(None)  # a drag from blank space selects free text instead of words

    # --- highlights --------------------------------------------------------------------------
    def set_playing(self, k: int | None) -> None:
        if k != self.playing:
            self.playing = k
            self._refresh()

    def set_matches(self, matches: list[tuple[int, int]], current: int) -> None:
        self._matches, self._current = matches, current
        self._refresh()

    def _refresh(self) -> None:
        td, r = self.edoc, self.selected_range()
        words = (td.starts[r[0]], td.ends[r[1]]) if td is not None and r is not None else None
        self.set_highlights(self._matches, self._current, words)

    def _apply_highlights(self) -> None:
        super()._apply_highlights()
        td = self.edoc
        if td is None or self.playing is None:
            return
        fmt = QTextCharFormat()
        fmt.setBackground(td.styles.playing)
        fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
        # First, so a selected word that is also playing shows as selected.
        self.setExtraSelections(
            [self._range(td.starts[self.playing], td.ends[self.playing], fmt), *self.extraSelections()]
        )


__all__ = ["EditorText", "InlineEditor"]
