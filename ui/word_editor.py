"""Correcting a word in place: a line edit put over the word, and the correction it makes.

The correction itself is pipeline.editing.correct_word; a refused text (empty)
keeps the editor open with the reason under it.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtGui import QFocusEvent, QFont, QKeyEvent, QPalette
from PySide6.QtWidgets import QLabel, QLineEdit, QStyle, QWidget

from pipeline.editing import correct_word
from ui.transcript_text import TranscriptText

_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)


class WordEditor(QLineEdit):
    """Enter commits, Esc cancels, clicking away commits (the owner decides what each does)."""

    committed = Signal()
    cancelled = Signal()
    focus_lost = Signal()

    def __init__(self, viewport: QWidget, text: str, font: QFont) -> None:
        super().__init__(viewport)
        self._area = viewport
        self.setFont(font)
        self.setText(text)
        self.selectAll()
        self._word = QRect()
        self._error = QLabel(viewport)  # a sibling: a child would be clipped to the editor
        self._error.setAutoFillBackground(True)
        self._error.setBackgroundRole(QPalette.ColorRole.ToolTipBase)
        self._error.setForegroundRole(QPalette.ColorRole.ToolTipText)
        self._error.setMargin(4)
        self._error.hide()
        self.textChanged.connect(self._text_changed)

    def place_over(self, word: QRect) -> None:
        """Cover the word at `word` (viewport coordinates), wide enough for the text being typed."""
        self._word = QRect(word)
        width = max(word.width(), self.fontMetrics().horizontalAdvance(self.text())) + 28
        h = self.sizeHint().height()
        inset = self.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, None, self) + 2  # QLineEdit's
        geo = QRect(word.left() - inset, word.center().y() - h // 2, max(width, 64), h)  # text over the word
        area = self._area.rect()
        geo.moveLeft(max(0, min(geo.left(), area.right() - geo.width())))
        self.setGeometry(geo)
        self._error.adjustSize()
        self._error.move(max(0, min(geo.left(), area.right() - self._error.width())), geo.bottom() + 2)

    def show_error(self, message: str) -> None:
        self._error.setText(message[:1].upper() + message[1:])
        self._error.show()
        self._error.raise_()
        self.place_over(self._word)

    def error(self) -> str:
        """The complaint on show, "" when none."""
        return self._error.text() if self._error.isVisible() else ""

    def dispose(self) -> None:
        self._error.deleteLater()
        self.hide()
        self.deleteLater()

    def _text_changed(self) -> None:
        self._error.hide()
        self.place_over(self._word)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.committed.emit()
        elif event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
        else:
            super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and event.key() in _KEYS:
            event.accept()  # these keys belong to the editor, whatever the window binds them to
            return True
        return super().event(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        # Switching windows or opening a popup is not "clicking away".
        if event.reason() not in (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason):
            self.focus_lost.emit()


class WordCorrection(QObject):
    """One inline correction at a time over the transcript's text; emits the corrected transcript."""

    corrected = Signal(object, int)  # the new Transcript (from pipeline.editing.correct_word), the word id

    def __init__(self, text: TranscriptText) -> None:
        super().__init__(text)
        self.text = text
        self.editor: WordEditor | None = None
        self._k = -1  # the word being corrected, an index into the document's display order
        text.view_changed.connect(self.reposition)

    def open(self, k: int) -> None:
        td = self.text.td
        assert td is not None
        self.close()
        self._k = k
        ed = WordEditor(self.text.viewport(), td.text_of(k), self.text.font())
        heard = td.transcript.word_by_id()[td.word_ids[k]].text
        ed.setToolTip(f"The engine heard “{heard}”. Enter saves, Esc cancels")
        ed.committed.connect(self.commit)
        ed.cancelled.connect(self.close)
        ed.focus_lost.connect(self._focus_lost)
        self.editor = ed
        ed.place_over(self.text.word_rect(k))
        ed.show()
        ed.setFocus(Qt.FocusReason.OtherFocusReason)

    def error(self) -> str:
        return self.editor.error() if self.editor is not None else ""

    def reposition(self) -> None:
        if self.editor is not None and self.text.td is not None:
            self.editor.place_over(self.text.word_rect(self._k))

    def commit(self) -> bool:
        """Enter: save, or keep the editor open and say why not."""
        error = self._apply()
        if error and self.editor is not None:
            self.editor.show_error(error)
            self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        return not error

    def _focus_lost(self) -> None:
        if self.editor is not None and self._apply():
            self.close()  # clicking away from a refused text drops it

    def _apply(self) -> str:
        """Correct the word to the editor's text; the refusal's reason, or "" when done."""
        ed, td = self.editor, self.text.td
        if ed is None or td is None:
            return ""
        wid = td.word_ids[self._k]
        if " ".join(ed.text().split()) == td.texts[wid]:
            self.close()  # nothing changed: no edit, no autosave
            return ""
        try:
            new = correct_word(td.transcript, wid, ed.text())
        except ValueError as e:
            return str(e)
        self.close()
        self.corrected.emit(new, wid)
        return ""

    def close(self) -> None:
        ed, self.editor = self.editor, None  # cleared first: hiding it moves focus and fires focus_lost
        if ed is None:
            return
        had_focus = ed.hasFocus()
        ed.dispose()
        if had_focus:
            self.text.setFocus(Qt.FocusReason.OtherFocusReason)
