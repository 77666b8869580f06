"""Asking for a speaker's new name; shared by the transcript view and the editor.

The rename itself is pipeline.speakers.speaker_merge.rename_speaker (pure): renaming to
the name of another speaker merges the two, which the dialog says up front.
"""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget


def menu_text(speaker: str | None) -> str:
    """The action's text for the speaker it would rename (None: there is none to rename)."""
    name = speaker.replace("&", "&&") if speaker else ""  # a name's "&" is no mnemonic
    return f"Rename Spea&ker “{name}”…" if speaker else "Rename Spea&ker…"


def undo_label(old: str, new: str) -> str:
    return f"Rename speaker “{old}” → “{new.strip()}”"


def ask_speaker_name(parent: QWidget, old: str, others: list[str]) -> str | None:
    """The new name typed, or None when cancelled or unchanged."""
    dlg = QInputDialog(parent)
    dlg.setWindowTitle("Rename Speaker")
    dlg.setInputMode(QInputDialog.InputMode.TextInput)
    dlg.setTextEchoMode(QLineEdit.EchoMode.Normal)
    amp = lambda t: t.replace("&", "&&")  # noqa: E731 - the label reads "&" as a shortcut marker
    merge = f"\nUse another speaker's name ({', '.join(map(amp, others[:4]))}) to merge the two." if others else ""
    dlg.setLabelText(f"New name for {amp(old)}, on every word and caption:{merge}")
    dlg.setTextValue(old)
    dlg.setOkButtonText("Rename")
    dlg.resize(max(dlg.sizeHint().width(), 380), dlg.sizeHint().height())
    if not dlg.exec():
        return None
    name = " ".join(dlg.textValue().split())
    return name if name and name != old else None


__all__ = ["ask_speaker_name", "menu_text", "undo_label"]
