"""The transcript's text area: a read-only QTextEdit with a caption gutter, word hit-testing, keys, highlights.

It only reports what the user did (word k pressed, move, edit, copy...); the
TranscriptView keeps the state. The gutter is painted beside the viewport, like
line numbers in a code editor, so selecting or copying text never includes it.
"""

from __future__ import annotations

from bisect import bisect_left

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QTextEdit, QToolTip, QWidget

from ui.transcript.transcript_document import WordLookups, blend, format_time

# Keys the text area claims even where a window-wide shortcut uses them (Qt's ShortcutOverride).
_CLAIMED = (
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.SelectAll,
    QKeySequence.StandardKey.Find,
    QKeySequence.StandardKey.FindNext,
    QKeySequence.StandardKey.FindPrevious,
)
_EDIT_KEYS = (Qt.Key.Key_F2, Qt.Key.Key_Return, Qt.Key.Key_Enter)
_PAD = 10  # gutter padding, px


class _Gutter(QWidget):
    def __init__(self, text: TranscriptText) -> None:
        super().__init__(text)
        self.text = text
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click a time to select its caption and play from there")

    def sizeHint(self) -> QSize:
        return QSize(self.text.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.text.paint_gutter(painter, event.rect())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = self.text.row_at_y(round(event.position().y()))
        if event.button() == Qt.MouseButton.LeftButton and row is not None:
            self.text.row_clicked.emit(row)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        row = self.text.row_at_y(event.pos().y())
        if row is not None:
            event.accept()
            self.text.row_menu_requested.emit(row, event.globalPos())


class TranscriptText(QTextEdit):
    """Signals carry indexes into the TranscriptDocument's display order (word k, caption row r)."""

    word_pressed = Signal(int, bool)  # k (-1: no word there), extend (shift held)
    word_double_clicked = Signal(int)
    row_clicked = Signal(int)
    row_menu_requested = Signal(int, QPoint)  # caption row r right-clicked in the gutter, global position
    move_requested = Signal(int, bool)  # -1 or +1 words in reading order, extend
    edit_requested = Signal()
    copy_requested = Signal()
    select_all_requested = Signal()
    find_requested = Signal()
    find_next_requested = Signal(bool)  # backwards
    escape_pressed = Signal()
    view_changed = Signal()  # scrolled or resized: what is visible changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.td: WordLookups | None = None  # a TranscriptDocument, or the editor's EditorDocument
        self.current_row = -1  # the caption holding the selected word, marked in the gutter
        self._time_w = self._speaker_w = 0
        self._highlights: tuple[list[tuple[int, int]], int, tuple[int, int] | None] = ([], -1, None)
        self._empty = QTextDocument(self)  # shown while there is no transcript
        self.gutter = _Gutter(self)
        self.gutter.hide()
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    # --- document ----------------------------------------------------------------------------
    def set_transcript_document(self, td: WordLookups | None) -> None:
        self.td = td
        self.current_row = -1
        self._highlights = ([], -1, None)
        if td is None:
            self.setDocument(self._empty)
        else:
            self.setDocument(td.doc)
            # A relayout moves the captions: repaint the whole gutter (the signal's rect is in
            # document coordinates, not the gutter's, so it must not be passed on).
            td.doc.documentLayout().update.connect(lambda *_: self.gutter.update())
        self._measure_gutter()
        self.gutter.update()

    def gutter_font(self) -> QFont:
        f = QFont(self.font())
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * 0.9)
        return f

    def _measure_gutter(self) -> None:
        fm = QFontMetrics(self.gutter_font())
        td = self.td
        if td is None or not td.rows:
            self._time_w = self._speaker_w = 0
        else:
            self._time_w = fm.horizontalAdvance("0:00:00" if td.long_times else "00:00")
            speakers = {r.speaker for r in td.rows if r.speaker}
            widest = max((fm.horizontalAdvance(s) for s in speakers), default=0)
            # +2: elidedText cuts a name that fits exactly; long names are elided at 14 characters.
            self._speaker_w = min(widest + 2, fm.averageCharWidth() * 14) if widest else 0
        self.gutter.setVisible(self._time_w > 0)
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)
        self._place_gutter()

    def gutter_width(self) -> int:
        if not self._time_w:
            return 0
        return _PAD + self._time_w + (_PAD + self._speaker_w if self._speaker_w else 0) + _PAD

    def _place_gutter(self) -> None:
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_gutter()
        if self._highlights[0]:
            self._apply_highlights()
        self.view_changed.emit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._measure_gutter()

    def _scrolled(self) -> None:
        self.gutter.update()
        if self._highlights[0]:
            self._apply_highlights()
        self.view_changed.emit()

    # --- geometry ----------------------------------------------------------------------------
    def _cursor_at(self, pos: int) -> QTextCursor:
        c = QTextCursor(self.document())
        c.setPosition(pos)
        return c

    def position_rect(self, pos: int) -> QRect:
        """The caret rectangle at document position `pos`, in viewport coordinates."""
        return self.cursorRect(self._cursor_at(pos))

    def word_rect(self, k: int) -> QRect:
        """Where word k is drawn, in viewport coordinates (its bounding box if it wraps)."""
        assert self.td is not None
        a, b = self.position_rect(self.td.starts[k]), self.position_rect(self.td.ends[k])
        if a.top() == b.top():
            left, right = sorted((a.left(), b.left()))  # right-to-left words end on the left
            return QRect(left, a.top(), max(1, right - left), a.height())
        return a.united(b)

    def word_at(self, p: QPoint) -> int | None:
        """The word under viewport point `p`, or None over blank space."""
        if self.td is None:
            return None
        k = self.td.word_at(self.cursorForPosition(p).position())
        if k is None or not self.word_rect(k).adjusted(-3, -2, 3, 2).contains(p):
            return None
        return k

    def visible_range(self) -> tuple[int, int]:
        """Document positions at the top-left and bottom-right of the viewport."""
        vp = self.viewport().rect()
        return (self.cursorForPosition(vp.topLeft()).position(), self.cursorForPosition(vp.bottomRight()).position())

    def row_at_y(self, y: int) -> int | None:
        if self.td is None or not self.td.rows:
            return None
        block = self.cursorForPosition(QPoint(0, y)).block()
        return block.blockNumber() if 0 <= block.blockNumber() < len(self.td.rows) else None

    def scroll_to_position(self, pos: int) -> None:
        """Scroll just enough that `pos` is visible, with a line of context when it was off-screen."""
        r = self.position_rect(pos)
        vp = self.viewport().rect()
        bar = self.verticalScrollBar()
        if r.top() < 0:
            bar.setValue(bar.value() + r.top() - r.height())
        elif r.bottom() > vp.bottom():
            bar.setValue(bar.value() + r.bottom() - vp.bottom() + r.height())

    # --- highlights --------------------------------------------------------------------------
    def set_highlights(self, matches: list[tuple[int, int]], current: int, words: tuple[int, int] | None) -> None:
        """Find matches (sorted document ranges), the current one, and the selected words' range."""
        self._highlights = (matches, current, words)
        self._apply_highlights()

    def _range(self, start: int, end: int, fmt: QTextCharFormat) -> QTextEdit.ExtraSelection:
        sel = QTextEdit.ExtraSelection()
        c = QTextCursor(self.document())
        c.setPosition(start)
        c.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        sel.cursor = c
        sel.format = fmt
        return sel

    def _apply_highlights(self) -> None:
        """Only matches on screen get a highlight (there may be thousands); scrolling redoes this."""
        matches, current, words = self._highlights
        sels: list[QTextEdit.ExtraSelection] = []
        if self.td is not None:
            pal, styles = self.palette(), self.td.styles
            if matches:
                lo, hi = self.visible_range()
                fmt = QTextCharFormat()
                fmt.setBackground(styles.match)
                for s, e in matches[max(0, bisect_left(matches, (lo, 0)) - 1) :]:
                    if s > hi:
                        break
                    sels.append(self._range(s, e, fmt))
            if words is not None:
                fmt = QTextCharFormat()
                fmt.setBackground(pal.color(QPalette.ColorRole.Highlight))
                fmt.setForeground(pal.color(QPalette.ColorRole.HighlightedText))
                sels.append(self._range(*words, fmt))
            if 0 <= current < len(matches):
                fmt = QTextCharFormat()
                fmt.setBackground(styles.current_match)
                dark_text = styles.current_match.lightnessF() > 0.5
                fmt.setForeground(QColor(Qt.GlobalColor.black if dark_text else Qt.GlobalColor.white))
                sels.append(self._range(*matches[current], fmt))
        self.setExtraSelections(sels)

    # --- gutter ------------------------------------------------------------------------------
    def row_label(self, r: int) -> tuple[str, str]:
        """What the gutter shows for caption row r: its start time and its speaker ("" if none)."""
        assert self.td is not None
        row = self.td.rows[r]
        return format_time(row.start, self.td.long_times), row.speaker or ""

    def paint_gutter(self, painter: QPainter, clip: QRect) -> None:
        pal = self.palette()
        base, window = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Window)
        bg = blend(base, window, 0.7)
        painter.fillRect(clip, bg)
        w = self.gutter_width()
        painter.setPen(blend(bg, pal.color(QPalette.ColorRole.Text), 0.18))
        painter.drawLine(w - 1, clip.top(), w - 1, clip.bottom())
        td = self.td
        if td is None or not td.rows:
            return
        font = self.gutter_font()
        painter.setFont(font)
        fm = QFontMetrics(font)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        strong = pal.color(QPalette.ColorRole.Text)
        layout = self.document().documentLayout()
        offset = self.verticalScrollBar().value()
        height = self.viewport().height()
        block = self.cursorForPosition(QPoint(0, 0)).block()
        while block.isValid() and block.blockNumber() < len(td.rows):
            rect = layout.blockBoundingRect(block)
            if rect.top() - offset > height:
                break
            stamp, speaker = self.row_label(block.blockNumber())
            line = block.layout().lineAt(0)
            baseline = block.layout().position().y() + line.y() + line.ascent() - offset
            current = block.blockNumber() == self.current_row
            if current:
                band = QRect(0, round(rect.top() - offset), w - 1, round(rect.height()))
                painter.fillRect(band, blend(bg, pal.color(QPalette.ColorRole.Highlight), 0.18))
            painter.setPen(strong if current else muted)
            painter.drawText(QPointF(_PAD + self._time_w - fm.horizontalAdvance(stamp), baseline), stamp)
            if speaker and self._speaker_w:
                name = fm.elidedText(speaker, Qt.TextElideMode.ElideRight, self._speaker_w)
                painter.drawText(QPointF(2 * _PAD + self._time_w, baseline), name)
            block = block.next()

    # --- input -------------------------------------------------------------------------------
    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent) and self.td is not None:
            k = self.word_at(event.pos())
            tip = self.td.tooltip(k) if k is not None else ""
            if k is not None and tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport(), self.word_rect(k))
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.td is None:
            super().mousePressEvent(event)
            return
        k = self.word_at(event.position().toPoint())
        if k is not None and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            event.accept()  # extend the word selection, not Qt's text selection
            self.word_pressed.emit(k, True)
            return
        super().mousePressEvent(event)  # clears any text selection; a drag starts a new one
        self.word_pressed.emit(-1 if k is None else k, False)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        k = self.word_at(event.position().toPoint()) if event.button() == Qt.MouseButton.LeftButton else None
        if k is None:
            super().mouseDoubleClickEvent(event)
            return
        event.accept()
        self.word_double_clicked.emit(k)

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and (any(event.matches(k) for k in _CLAIMED) or event.key() in (Qt.Key.Key_F2, Qt.Key.Key_F3))
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
        elif event.matches(QKeySequence.StandardKey.SelectAll):
            self.select_all_requested.emit()
        elif event.matches(QKeySequence.StandardKey.Find):
            self.find_requested.emit()
        elif event.matches(QKeySequence.StandardKey.FindNext) or event.matches(QKeySequence.StandardKey.FindPrevious):
            self.find_next_requested.emit(event.matches(QKeySequence.StandardKey.FindPrevious))
        elif key == Qt.Key.Key_F3:
            self.find_next_requested.emit(shift)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and mods in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.ShiftModifier,
        ):
            self.move_requested.emit(-1 if key == Qt.Key.Key_Left else 1, shift)
        elif key in _EDIT_KEYS and mods == Qt.KeyboardModifier.NoModifier:
            self.edit_requested.emit()
        elif key == Qt.Key.Key_Escape:
            self.escape_pressed.emit()
        else:
            super().keyPressEvent(event)
