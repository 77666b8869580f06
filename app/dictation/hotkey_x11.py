"""The dictation hotkey on X11 as a real key grab (XGrabKey), so the keys never reach the focused app.

A listener that only watches the keyboard (pynput's) lets Ctrl+Alt+Space type
a space into the user's document before the dictated words; grabbing the
combination on the root window delivers it to Hark alone. NumLock and CapsLock
must not matter, so each grab is made with and without them.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from Xlib.protocol.event import KeyRelease

log = logging.getLogger(__name__)

_MODIFIERS = {
    "ctrl": "ControlMask",
    "control": "ControlMask",
    "alt": "Mod1Mask",
    "shift": "ShiftMask",
    "super": "Mod4Mask",
    "cmd": "Mod4Mask",
    "win": "Mod4Mask",
    "meta": "Mod4Mask",
}


class X11GrabError(Exception):
    pass


def split_combo(combo: str) -> tuple[list[str], str]:
    """('<ctrl>+<alt>+space') -> (['ctrl', 'alt'], 'space')."""
    parts = [p.strip().strip("<>").lower() for p in combo.split("+") if p.strip()]
    mods = [p for p in parts if p in _MODIFIERS]
    keys = [p for p in parts if p not in _MODIFIERS]
    if len(keys) != 1:
        raise X11GrabError(f"a hotkey needs exactly one key besides its modifiers: {combo!r}")
    return mods, keys[0]


class X11KeyGrab:
    """Calls on_press / on_release (on its own thread) for the grabbed combination."""

    def __init__(self, combo: str, on_press: Callable[[], None], on_release: Callable[[], None]) -> None:
        from Xlib import XK, X
        from Xlib import display as xdisplay
        from Xlib.error import DisplayError

        mods, key = split_combo(combo)
        try:
            self._d = xdisplay.Display(os.environ.get("DISPLAY"))
        except DisplayError as e:
            raise X11GrabError(f"cannot reach the X display: {e}") from e
        keysym = XK.string_to_keysym(key) or XK.string_to_keysym(key.capitalize())
        self.keycode = self._d.keysym_to_keycode(keysym) if keysym else 0
        if not self.keycode:
            raise X11GrabError(f"no key called {key!r} on this keyboard")
        self.mask = 0
        for m in mods:
            self.mask |= getattr(X, _MODIFIERS[m])
        self._X = X
        self._on_press, self._on_release = on_press, on_release
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down = False

    def start(self) -> None:
        from Xlib.error import CatchError

        X = self._X
        root = self._d.screen().root
        trap = CatchError()
        for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):  # CapsLock, NumLock
            root.grab_key(self.keycode, self.mask | extra, True, X.GrabModeAsync, X.GrabModeAsync, onerror=trap)
        self._d.sync()
        if trap.get_error():
            self._d.close()
            raise X11GrabError("another program already uses this hotkey; choose another in Settings")
        self._thread = threading.Thread(target=self._run, name="hark-hotkey", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None

    def _run(self) -> None:
        X, d = self._X, self._d
        try:
            while not self._stop.is_set():
                if not d.pending_events():
                    select.select([d.fileno()], [], [], 0.2)
                    continue
                ev = d.next_event()
                if getattr(ev, "detail", None) != self.keycode:
                    continue
                if ev.type == X.KeyPress and not self._down:
                    self._down = True
                    self._safe(self._on_press)
                elif ev.type == X.KeyRelease and self._down:
                    if self._is_autorepeat(ev):
                        continue
                    self._down = False
                    self._safe(self._on_release)
        finally:
            try:
                d.close()
            except Exception:
                pass

    def _is_autorepeat(self, release: KeyRelease) -> bool:
        """X repeats a held key as release+press pairs with the same time: not a real release.

        The press of the pair may not have been read yet: wait a moment for it.
        """
        d = self._d
        if not d.pending_events():
            select.select([d.fileno()], [], [], 0.05)
        if d.pending_events():
            nxt = d.next_event()
            if (
                nxt.type == self._X.KeyPress
                and getattr(nxt, "detail", None) == self.keycode
                and abs(nxt.time - release.time) <= 1
            ):
                return True
        return False

    @staticmethod
    def _safe(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            log.exception("hotkey handler failed")
