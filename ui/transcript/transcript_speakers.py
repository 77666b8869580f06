"""The transcript view's speaker commands: rename the selected caption's speaker (from the word and
gutter menus, and the main window's Edit menu). A mixin of TranscriptView, which owns the state it reads
(`_project`, `_td`, `_focus`) and declares the `speaker_renamed` signal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from pipeline.speakers.speaker_merge import rename_speaker, transcript_speakers
from pipeline.transcripts.edit_view import EditError
from pipeline.transcripts.project import Project
from ui.transcript.speaker_rename import ask_speaker_name, menu_text
from ui.transcript.transcript_document import TranscriptDocument


class TranscriptSpeakers(QWidget):
    # TranscriptView's state and methods this mixin uses, declared here for the type checker (importing
    # TranscriptView would make an import cycle).
    _project: Project | None
    _td: TranscriptDocument | None
    _focus: int | None
    act_rename_speaker: QAction
    speaker_renamed: Signal

    if TYPE_CHECKING:

        def _render(self, keep: bool = False) -> None: ...

        def _set_selection(self, anchor: int, focus: int, scroll: bool = True) -> None: ...

    def _rename_speaker_action(self) -> QAction:
        act = QAction(
            menu_text(None),
            self,
            toolTip="Rename the speaker of the selected caption everywhere (another speaker's name merges the two)",
        )
        act.setStatusTip(act.toolTip())
        act.setEnabled(False)
        act.triggered.connect(lambda: self.rename_speaker())
        return act

    def _row_menu(self, row: int, global_pos: QPoint) -> None:
        """Right-click in the gutter: select that caption, offer to rename its speaker."""
        if self._td is None:
            return
        r = self._td.rows[row]
        self._set_selection(r.first, r.last, scroll=False)
        if r.speaker:
            menu = QMenu(self)
            menu.addAction(self.act_rename_speaker)
            menu.exec(global_pos)

    def current_speaker(self) -> str | None:
        """The speaker of the caption holding the selected word."""
        td = self._td
        return td.rows[td.row_of(self._focus)].speaker if td is not None and self._focus is not None else None

    def _update_speaker_action(self) -> None:
        speaker = self.current_speaker()
        self.act_rename_speaker.setText(menu_text(speaker))
        self.act_rename_speaker.setEnabled(speaker is not None)

    def rename_speaker(self, old: str | None = None, new: str | None = None) -> bool:
        """Rename `old` (default: the current caption's speaker) to `new` (default: ask); True if renamed."""
        p, old = self._project, old or self.current_speaker()
        if p is None or not old:
            return False
        others = [s for s in transcript_speakers(p.transcript) if s != old]
        name = new if new is not None else ask_speaker_name(self, old, others)
        if not name:
            return False
        try:
            p.transcript = rename_speaker(p.transcript, old, name)
        except EditError:  # gone meanwhile, or an empty name
            return False
        self._render(keep=True)  # the gutter's names (and its width) change
        self.speaker_renamed.emit(p, old, name.strip())
        return True


__all__ = ["TranscriptSpeakers"]
