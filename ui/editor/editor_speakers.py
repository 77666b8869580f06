"""The editor's speaker command: rename a speaker (Edit menu, gutter menu, timeline lane labels) as one
undoable edit. A mixin of EditorWindow, which owns the session, the document and the actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMainWindow, QMenu

from pipeline.speakers.speaker_merge import rename_speaker, transcript_speakers
from pipeline.transcripts.transcript import Transcript
from ui.editor.editor_actions import EditorActions
from ui.editor.editor_document import EditorDocument
from ui.editor.editor_text import EditorText
from ui.transcript.speaker_rename import ask_speaker_name, menu_text, undo_label


class EditorSpeakers(QMainWindow):
    # EditorWindow's state and methods this mixin uses, declared here for the type checker (importing
    # EditorWindow would make an import cycle).
    text: EditorText
    td: EditorDocument
    editor_actions: EditorActions

    if TYPE_CHECKING:

        @property
        def transcript(self) -> Transcript: ...

        def _apply(
            self, label: str, op: Callable[[Transcript], Transcript], select: list[int] | None = None
        ) -> str: ...

    def current_speaker(self) -> str | None:
        """The speaker of the caption holding the selected word."""
        k = self.text.focus
        return self.td.rows[self.td.row_of(k)].speaker if k is not None and self.td.rows else None

    def _update_speaker_action(self) -> None:
        speaker = self.current_speaker()
        self.editor_actions.rename_speaker.setText(menu_text(speaker))
        self.editor_actions.rename_speaker.setEnabled(speaker is not None)

    def rename_speaker(self, old: str | None = None, new: str | None = None) -> str:
        """Rename `old` (default: the selected caption's speaker) to `new` (default: ask) through the undo
        stack; why it was refused ("" when done or cancelled)."""
        old = old or self.current_speaker()
        if not old:
            return ""
        others = [s for s in transcript_speakers(self.transcript) if s != old]
        name = new if new is not None else ask_speaker_name(self, old, others)
        if not name:
            return ""
        return self._apply(undo_label(old, name), lambda t: rename_speaker(t, old, name))

    def _row_menu(self, row: int, global_pos: QPoint) -> None:
        """Right-click in the gutter: select that caption, offer to rename its speaker."""
        r = self.td.rows[row]
        self.text.select(r.first, r.last, scroll=False)
        if r.speaker:
            menu = QMenu(self)
            menu.addAction(self.editor_actions.rename_speaker)
            menu.exec(global_pos)


__all__ = ["EditorSpeakers"]
