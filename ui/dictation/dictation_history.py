"""Past dictations: what was said, when, and into which app; copy it or insert it again."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pipeline.dictation.utterance_journal import HistoryItem, UtteranceJournal

TEXT_ROLE = Qt.ItemDataRole.UserRole + 1


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d %b %H:%M")
    except ValueError:
        return iso


class DictationHistory(QDialog):
    insert_requested = Signal(str)  # the text to type again into the app that gets the focus back

    def __init__(self, journal: UtteranceJournal, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dictation History — Hark")
        self.resize(560, 420)
        self.journal = journal
        self.list = QListWidget(self)
        self.list.setAccessibleName("Past dictations")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.itemDoubleClicked.connect(lambda _i: self.copy())
        self.empty = QLabel("Nothing dictated yet. Hold the dictation hotkey and speak.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QDialogButtonBox(self)
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_button.setToolTip("Copy the selected dictation to the clipboard")
        self.insert_button = QPushButton("&Insert Again", self)
        self.insert_button.setToolTip("Close this window and type the text into the app you go back to")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.insert_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        self.copy_button.clicked.connect(self.copy)
        self.insert_button.clicked.connect(self.insert_again)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.empty)
        lay.addWidget(buttons)
        self.list.currentItemChanged.connect(lambda *_: self._enable())

    def refresh(self, limit: int = 200) -> None:
        items = self.journal.history(limit)
        self.list.clear()
        for h in items:  # the journal gives them newest first
            self.list.addItem(self._row(h))
        self.empty.setVisible(not items)
        self.list.setVisible(bool(items))
        if items:
            self.list.setCurrentRow(0)
        self._enable()

    def _row(self, h: HistoryItem) -> QListWidgetItem:
        text = h.text if h.text is not None else f"(failed: {h.error})"
        item = QListWidgetItem(f"{_when(h.created)}   {text or '(nothing heard)'}")
        item.setData(TEXT_ROLE, h.text or "")
        item.setToolTip(f"{h.text or h.error or ''}\n{('into ' + h.target_app) if h.target_app else ''}".strip())
        return item

    def selected_text(self) -> str:
        item = self.list.currentItem()
        return item.data(TEXT_ROLE) if item is not None else ""

    def copy(self) -> None:
        if self.selected_text():
            QGuiApplication.clipboard().setText(self.selected_text())

    def insert_again(self) -> None:
        text = self.selected_text()
        if text:
            self.close()  # the focus goes back to the user's app first
            self.insert_requested.emit(text)

    def _enable(self) -> None:
        has = bool(self.selected_text())
        self.copy_button.setEnabled(has)
        self.insert_button.setEnabled(has)
