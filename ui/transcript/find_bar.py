"""A browser-style find bar (a query field, "3 of 12", previous/next, close) and the search behind it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent, QKeySequence, QPalette, QTextCursor, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QStyle, QToolButton, QWidget


class FindBar(QWidget):
    """Emits what the user asks for; the owner searches and reports back with set_count()."""

    query_changed = Signal(str)
    next_requested = Signal()
    previous_requested = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Find in transcript")
        self.field.setClearButtonEnabled(True)
        self.field.setToolTip("Matches ignore case. Enter: next match, Shift+Enter: previous, Esc: close")
        self.field.textChanged.connect(self.query_changed)
        self.field.installEventFilter(self)
        self.count = QLabel(self)
        self.count.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance("9999 of 9999") + 8)
        icon = self.style().standardIcon
        self.prev_button = self._button(icon(QStyle.StandardPixmap.SP_ArrowUp), "Previous match (Shift+F3)")
        self.next_button = self._button(icon(QStyle.StandardPixmap.SP_ArrowDown), "Next match (F3)")
        self.close_button = self._button(icon(QStyle.StandardPixmap.SP_TitleBarCloseButton), "Close (Esc)")
        self.prev_button.clicked.connect(self.previous_requested)
        self.next_button.clicked.connect(self.next_requested)
        self.close_button.clicked.connect(self.close_bar)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addWidget(self.field, 1)
        lay.addWidget(self.count)
        for b in (self.prev_button, self.next_button, self.close_button):
            lay.addWidget(b)
        self.setFocusProxy(self.field)
        self.set_count(0, 0)

    def _button(self, icon: QIcon, tip: str) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(icon)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return b

    def query(self) -> str:
        return self.field.text()

    def open_bar(self) -> None:
        self.show()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def close_bar(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()

    def set_count(self, current: int, total: int) -> None:
        """`current` is 1-based; 0 means no match is current."""
        if not self.field.text():
            self.count.setText("")
        elif total == 0:
            self.count.setText("No matches")
        else:
            self.count.setText(f"{current} of {total}" if current else f"{total} matches")
        for b in (self.prev_button, self.next_button):
            b.setEnabled(total > 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.field or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        back: bool | None = None
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F3):
            back = shift
        elif event.matches(QKeySequence.StandardKey.FindNext) or event.matches(QKeySequence.StandardKey.FindPrevious):
            back = event.matches(QKeySequence.StandardKey.FindPrevious)
        if back is None and key != Qt.Key.Key_Escape:
            return super().eventFilter(watched, event)
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # these keys belong to the bar while it has focus, whatever the window binds
        elif event.type() == QEvent.Type.KeyPress:
            if back is None:
                self.close_bar()
            else:
                (self.previous_requested if back else self.next_requested).emit()
        else:
            return super().eventFilter(watched, event)
        return True


def find_all(doc: QTextDocument, query: str) -> list[tuple[int, int]]:
    """(start, end) positions of every match of `query` in `doc`, ignoring case, in order."""
    found: list[tuple[int, int]] = []
    if not query:
        return found
    c = QTextCursor(doc)
    while True:
        c = doc.find(query, c)  # case-insensitive unless told otherwise; goes on after the last match
        if c.isNull():
            return found
        found.append((c.selectionStart(), c.selectionEnd()))
