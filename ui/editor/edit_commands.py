"""Undoable edits: each command holds the transcript before and after one pure operation.

pipeline.editing.editing never mutates a transcript, so undo is just showing the
earlier value again: no inverse operations to get wrong, and every step can
be saved as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from pipeline.transcripts.transcript import Transcript


def words(n: int) -> str:
    return f"{n} word{'s' * (n != 1)}"


def quoted(text: str, limit: int = 24) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def seconds(s: float) -> str:
    return f"{s:.1f} s"


class TranscriptCommand(QUndoCommand):
    """Switches the session between two transcript values; `select` says which words to select after each."""

    def __init__(
        self,
        session: EditSession,
        label: str,
        before: Transcript,
        after: Transcript,
        select_before: Sequence[int],
        select_after: Sequence[int],
    ) -> None:
        super().__init__(label)
        self.session = session
        self.before, self.after = before, after
        self.select_before, self.select_after = list(select_before), list(select_after)

    def redo(self) -> None:
        self.session._show(self.after, self.select_after)

    def undo(self) -> None:
        self.session._show(self.before, self.select_before)


class EditSession(QObject):
    """The transcript being edited and its undo stack; every change, done or undone, is announced."""

    changed = Signal(object, list)  # the Transcript now shown, the word ids to select ([]: leave the selection)

    def __init__(self, transcript: Transcript, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._transcript = transcript
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(1000)  # values share structure, so a deep history stays small

    @property
    def transcript(self) -> Transcript:
        return self._transcript

    def push(
        self, label: str, after: Transcript, select: Sequence[int] = (), select_before: Sequence[int] = ()
    ) -> bool:
        """Record `after` as the next state; False (and nothing recorded) when it equals the current one."""
        before = self._transcript
        if after is before or after == before:
            return False
        self.stack.push(TranscriptCommand(self, label, before, after, select_before, select))
        return True

    def apply(
        self,
        label: str,
        op: Callable[[Transcript], Transcript],
        select: Sequence[int] = (),
        select_before: Sequence[int] = (),
    ) -> bool:
        """Run the pure operation `op` on the current transcript and record its result.

        pipeline.editing.editing.EditError propagates, with nothing recorded.
        """
        return self.push(label, op(self._transcript), select, select_before)

    def amend(self, expected: Transcript, after: Transcript) -> bool:
        """Fold `after` into the last recorded edit, if that edit produced `expected` and nothing came
        since (background work finishing an edit: one undo step takes back both). False otherwise."""
        index = self.stack.index()
        cmd = self.stack.command(index - 1) if index > 0 else None
        if self._transcript is not expected or not isinstance(cmd, TranscriptCommand) or cmd.after is not expected:
            return False
        cmd.after = after
        self._show(after, [])
        return True

    def _show(self, t: Transcript, select: list[int]) -> None:
        self._transcript = t
        self.changed.emit(t, select)


__all__ = ["EditSession", "TranscriptCommand", "quoted", "seconds", "words"]
