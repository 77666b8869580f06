"""Correcting a word in place: a line edit put over the word, and the correction it makes.

The correction itself is pipeline.editing.editing.correct_word; a refused text (empty)
keeps the editor open with the reason under it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtGui import QFocusEvent, QFont, QKeyEvent, QPalette
from PySide6.QtWidgets import QLabel, QLineEdit, QStyle, QWidget

from pipeline.editing.editing import correct_word
from ui.transcript.transcript_text import TranscriptText

Commit = Callable[[str], str]  # the editor's text -> why it was refused ("" when done)
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

    def keyPressEvent(self, event: QKeyEvent) -> None:
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

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        # Switching windows or opening a popup is not "clicking away".
        if event.reason() not in (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason):
            self.focus_lost.emit()


class InlineEditor(QObject):
    """One line edit at a time over the text: correcting a word, or typing a new one after it."""

    closed = Signal()

    def __init__(self, text: TranscriptText) -> None:
        super().__init__(text)
        self.text = text
        self.editor: WordEditor | None = None
        self._k = -1
        self._after = False  # the editor sits after word k (insert) rather than over it (correct)
        self._commit: Commit | None = None
        text.view_changed.connect(self.reposition)

    def is_open(self) -> bool:
        return self.editor is not None

    def open(self, k: int, initial: str, tip: str, commit: Commit, *, after: bool = False) -> WordEditor:
        self.close()
        self._k, self._after, self._commit = k, after, commit
        ed = WordEditor(self.text.viewport(), initial, self.text.font())
        ed.setToolTip(tip)
        ed.setAccessibleName("Insert word" if after else "Correct word")
        ed.committed.connect(self.commit)
        ed.cancelled.connect(self.close)
        ed.focus_lost.connect(self._focus_lost)
        self.editor = ed
        self.reposition()
        ed.show()
        ed.setFocus(Qt.FocusReason.OtherFocusReason)
        return ed

    def _rect(self) -> QRect:
        r = self.text.word_rect(self._k)
        return QRect(r.right() + 6, r.top(), 1, r.height()) if self._after else r

    def reposition(self) -> None:
        if self.editor is not None and self.text.td is not None and 0 <= self._k < len(self.text.td.word_ids):
            self.editor.place_over(self._rect())

    def commit(self) -> bool:
        """Enter: apply, or keep the editor open and say why not."""
        error = self._apply()
        if error and self.editor is not None:
            self.editor.show_error(error)
            self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        return not error

    def error(self) -> str:
        return self.editor.error() if self.editor is not None else ""

    def _focus_lost(self) -> None:
        self._apply()
        self.close()  # clicking away keeps a good text and drops a refused one

    def _apply(self) -> str:
        ed, commit = self.editor, self._commit
        if ed is None or commit is None:
            return ""
        text = ed.text()
        self._commit = None  # committing changes the document, which may close this editor
        error = commit(text)
        if error:
            self._commit = commit
            return error
        self.close()
        return ""

    def close(self) -> None:
        ed, self.editor = self.editor, None  # cleared first: hiding it moves focus and fires focus_lost
        self._commit = None
        if ed is None:
            return
        had_focus = ed.hasFocus()
        ed.dispose()
        if had_focus:
            self.text.setFocus(Qt.FocusReason.OtherFocusReason)
        self.closed.emit()


class WordCorrection(InlineEditor):
    """Correcting one word of the transcript view; emits the corrected transcript."""

    corrected = Signal(object, int)  # the new Transcript (from pipeline.editing.editing.correct_word), the word id

    def open_word(self, k: int) -> WordEditor:
        td = self.text.td
        assert td is not None
        heard = td.transcript.word_by_id()[td.word_ids[k]].text
        return super().open(
            k,
            td.text_of(k),
            f"The engine heard “{heard}”. Enter saves, Esc cancels",
            lambda text: self._correct(k, text),
        )

    def _correct(self, k: int, text: str) -> str:
        """Correct word k to `text`; the refusal's reason, or "" when done (or nothing changed)."""
        td = self.text.td
        if td is None:
            return ""
        wid = td.word_ids[k]
        if " ".join(text.split()) == td.texts[wid]:
            return ""  # nothing changed: no edit, no autosave
        try:
            new = correct_word(td.transcript, wid, text)
        except ValueError as e:
            return str(e)
        self.close()
        self.corrected.emit(new, wid)
        return ""
