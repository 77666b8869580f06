"""Find and replace for the editor: the transcript view's find bar, a replace row, and match options.

It only reports what the user asks for; the editor window searches words with
pipeline.editing.editing.find_words and replaces through the undo stack.
"""

from __future__ import annotations

from typing import TypedDict

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ui.transcript.find_bar import FindBar


class MatchOptions(TypedDict):
    """The match options, as pipeline.editing.editing.find_words and replace_words take them."""

    case_sensitive: bool
    whole_word: bool


class FindReplaceBar(QWidget):
    query_changed = Signal()  # the query or an option changed: search again
    next_requested = Signal()
    previous_requested = Signal()
    replace_requested = Signal(bool)  # all matches (True) or the current one
    closed = Signal()

    search: FindBar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = FindBar(self)
        self.search.field.setPlaceholderText("Find words")
        self.search.field.setAccessibleName("Find")
        self.search.field.setToolTip("Enter: next match, Shift+Enter: previous, Esc: close")
        self.search.query_changed.connect(lambda _q: self.query_changed.emit())
        self.search.next_requested.connect(self.next_requested)
        self.search.previous_requested.connect(self.previous_requested)
        self.search.closed.connect(self._closed)
        self.case = QCheckBox("Match case", self)
        self.whole = QCheckBox("Whole words", self)
        self.case.setToolTip("Only matches with the same capital letters")
        self.whole.setToolTip("Match whole words only (punctuation around a word is ignored)")
        for box in (self.case, self.whole):
            box.toggled.connect(lambda _on: self.query_changed.emit())
        options = QHBoxLayout()
        options.setContentsMargins(6, 0, 6, 0)
        options.addWidget(self.case)
        options.addWidget(self.whole)
        options.addStretch(1)

        self.replace_row = QWidget(self)
        self.replacement = QLineEdit(self.replace_row)
        self.replacement.setPlaceholderText("Replace with")
        self.replacement.setAccessibleName("Replace with")
        self.replacement.setToolTip("Enter replaces the current match")
        self.replacement.returnPressed.connect(lambda: self.replace_requested.emit(False))
        self.replace_one = QPushButton("&Replace", self.replace_row)
        self.replace_all = QPushButton("Replace &All", self.replace_row)
        self.replace_one.setToolTip("Replace the current match (one undo step)")
        self.replace_all.setToolTip("Replace every match (one undo step)")
        self.replace_one.clicked.connect(lambda: self.replace_requested.emit(False))
        self.replace_all.clicked.connect(lambda: self.replace_requested.emit(True))
        row = QHBoxLayout(self.replace_row)
        row.setContentsMargins(6, 0, 6, 4)
        row.addWidget(self.replacement, 1)
        row.addWidget(self.replace_one)
        row.addWidget(self.replace_all)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.search)
        lay.addLayout(options)
        lay.addWidget(self.replace_row)
        self.setFocusProxy(self.search.field)
        QWidget.setTabOrder(self.search.field, self.case)
        QWidget.setTabOrder(self.case, self.whole)
        QWidget.setTabOrder(self.whole, self.replacement)
        QWidget.setTabOrder(self.replacement, self.replace_one)
        QWidget.setTabOrder(self.replace_one, self.replace_all)
        self.hide()

    def query(self) -> str:
        return self.search.query() if self.isVisible() else ""

    def options(self) -> MatchOptions:
        return {"case_sensitive": self.case.isChecked(), "whole_word": self.whole.isChecked()}

    def open(self, replace: bool = False) -> None:
        self.replace_row.setVisible(replace)
        self.show()
        self.search.open_bar()
        if replace and self.search.query():
            self.replacement.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.replacement.selectAll()

    def close_bar(self) -> None:
        self.search.close_bar()

    def set_count(self, current: int, total: int) -> None:
        self.search.set_count(current, total)
        for b in (self.replace_one, self.replace_all):
            b.setEnabled(total > 0)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:  # from the replace row or an option: the find field has its own
            self.close_bar()
        else:
            super().keyPressEvent(event)

    def _closed(self) -> None:
        self.hide()
        self.closed.emit()


__all__ = ["FindReplaceBar", "MatchOptions"]
