"""Every command of the editor window as a QAction: menu text, shortcut, tooltip; and the menus.

Shortcuts are window-wide. Keys that also type text (Space, J, K, L, Delete,
Backspace) still reach a focused line edit (the inline word editor, find and
replace fields), because QLineEdit claims them before shortcuts are matched.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenuBar

from ui.transcript.speaker_rename import menu_text

Keys = str | QKeySequence.StandardKey | list[str] | None


class EditorActions:
    def __init__(self, window: QMainWindow, stack: QUndoStack) -> None:
        self._w = window
        a = self._make
        self.open_project = a("&Open Project…", "Ctrl+Shift+O", "Open another project in the editor")
        self.export = a(
            "&Export Trimmed Media…", "Ctrl+Shift+E", "Render the edit without the cut parts, with captions"
        )
        self.close = a("&Close Editor", QKeySequence.StandardKey.Close, "Close the editor (your edits are saved)")

        self.undo = stack.createUndoAction(window, "&Undo")
        self.undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.redo = stack.createRedoAction(window, "&Redo")
        # The platform's Redo keys plus Ctrl+Shift+Z, once each: a key listed twice is "ambiguous" and does nothing.
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        if QKeySequence("Ctrl+Shift+Z") not in redo_keys:
            redo_keys.append(QKeySequence("Ctrl+Shift+Z"))
        self.redo.setShortcuts(redo_keys)
        for act, tip in ((self.undo, "Undo the last edit (Ctrl+Z)"), (self.redo, "Redo (Ctrl+Shift+Z)")):
            act.setToolTip(tip)
            act.setStatusTip(tip)
        self.cut = a(
            "Cu&t Selected Words",
            ["Delete", "Backspace"],
            "Remove the selected words from the video (they stay in the text, struck through)",
        )
        self.restore = a("&Restore Selected Words", "Ctrl+Shift+R", "Bring cut words back into the video")
        self.correct = a("Co&rrect Word…", "F2", "Change what the selected word says (or double-click it)")
        self.insert = a("&Insert Word After…", "Ctrl+I", "Type a word the speech engine missed, after the selection")
        self.split = a("&Split Caption Here", ["Ctrl+Return", "Ctrl+Enter"], "Start a new caption at the selected word")
        self.merge = a(
            "&Merge with Next Caption", "Ctrl+Shift+M", "Join the selected word's caption with the one after it"
        )
        self.rename_speaker = a(
            menu_text(None),
            None,
            "Rename the selected caption's speaker everywhere "
            "(another speaker's name merges the two); or double-click a lane's name",
        )
        self.find = a("&Find…", QKeySequence.StandardKey.Find, "Find words in the transcript")
        self.replace = a("R&eplace…", "Ctrl+H", "Find words and replace them")
        self.select_all = a("Select &All", QKeySequence.StandardKey.SelectAll, "Select every word")

        self.play = a("&Play / Pause", "Space", "Play from the playhead, or pause")
        self.back = a("&Back 5 s / Slower", "J", "Slower when playing fast, else jump back 5 seconds")
        self.pause = a("P&ause", "K", "Pause playback")
        self.faster = a("Play / &Faster", "L", "Play; press again for 1.5× and 2× speed")
        self.preview_cuts = a("Preview &Cuts", "Ctrl+P", "Playback skips the cut parts, as the export will")
        self.preview_cuts.setCheckable(True)
        self.preview_cuts.setChecked(True)
        self.follow = a("F&ollow Playhead", None, "Scroll the text and the timeline along with playback")
        self.follow.setCheckable(True)
        self.follow.setChecked(True)
        self.zoom_in = a("Zoom &In Timeline", QKeySequence.StandardKey.ZoomIn, "Show less time, in more detail")
        self.zoom_out = a("Zoom &Out Timeline", QKeySequence.StandardKey.ZoomOut, "Show more time")

    def _make(self, text: str, keys: Keys, tip: str) -> QAction:
        act = QAction(text, self._w)
        if isinstance(keys, list):
            act.setShortcuts([QKeySequence(k) for k in keys])
        elif keys is not None:
            act.setShortcut(QKeySequence(keys))
        shown = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        act.setToolTip(f"{tip} ({shown})" if shown else tip)
        act.setStatusTip(tip)
        self._w.addAction(act)  # shortcuts work even while the menu bar is hidden
        return act

    def build_menus(self, bar: QMenuBar) -> None:
        def menu(title: str, items: list[QAction | None]) -> None:
            m = bar.addMenu(title)
            for act in items:
                m.addSeparator() if act is None else m.addAction(act)

        menu("&File", [self.open_project, None, self.export, None, self.close])
        menu(
            "&Edit",
            [
                self.undo,
                self.redo,
                None,
                self.cut,
                self.restore,
                None,
                self.correct,
                self.insert,
                self.split,
                self.merge,
                self.rename_speaker,
                None,
                self.find,
                self.replace,
                self.select_all,
            ],
        )
        menu(
            "&Playback",
            [
                self.play,
                self.back,
                self.pause,
                self.faster,
                None,
                self.preview_cuts,
                self.follow,
                None,
                self.zoom_in,
                self.zoom_out,
            ],
        )

    def word_actions(self) -> list[QAction]:
        """Those that need a selected word."""
        return [self.cut, self.restore, self.correct, self.insert, self.split, self.merge]


__all__ = ["EditorActions"]
