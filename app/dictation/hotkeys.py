"""The global dictation hotkey (pynput: X11, macOS, Windows), with press and release.

Push-to-talk needs the release too, which pynput's GlobalHotKeys does not
report, so a Listener tracks the combination itself. Callbacks arrive on
pynput's thread: the owner must hand them to its own thread (a Qt signal).
Wayland does not let apps see global keys: there, `hark dictate --toggle` is
bound in the desktop's shortcut settings instead.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pynput.keyboard import Listener

    from app.dictation.hotkey_x11 import X11KeyGrab

log = logging.getLogger(__name__)
DEFAULT_HOTKEY = "<ctrl>+<alt>+space"


class HotkeyError(Exception):
    """The hotkey cannot work here; the message says what to do instead."""


def global_hotkeys_supported() -> tuple[bool, str]:
    """Whether this session lets an app see global keys, and why not."""
    if sys.platform.startswith("linux"):
        if os.environ.get("WAYLAND_DISPLAY") or os.environ.get("XDG_SESSION_TYPE") == "wayland":
            return False, (
                "Wayland does not let apps watch the keyboard: bind 'hark dictate --toggle' to a key in "
                "your desktop's keyboard shortcut settings"
            )
        if not os.environ.get("DISPLAY"):
            return False, "no X display to watch the keyboard on"
    return True, ""


def _keyboard() -> ModuleType:
    try:
        from pynput import keyboard
    except ImportError as e:  # pynput connects to the display on import
        raise HotkeyError(f"the keyboard cannot be watched here: {str(e).splitlines()[0]}") from e
    return keyboard


def parse_hotkey(text: str) -> frozenset[object]:
    """The keys of a combination such as '<ctrl>+<alt>+space' (pynput's syntax), checked."""
    keyboard = _keyboard()

    spec = text.strip()
    # pynput wants named keys in brackets; accept the common spelling without them too.
    parts = [p.strip() for p in spec.split("+") if p.strip()]
    fixed = "+".join(p if (p.startswith("<") or len(p) == 1) else f"<{p.lower()}>" for p in parts)
    try:
        keys = keyboard.HotKey.parse(fixed)
    except (ValueError, AttributeError, KeyError) as e:
        raise HotkeyError(f"not a key combination Hark understands: {text!r} (e.g. {DEFAULT_HOTKEY})") from e
    if not keys:
        raise HotkeyError("the hotkey is empty")
    return frozenset(keys)


class GlobalHotkey:
    """Calls `on_press` when the whole combination goes down and `on_release` when it comes apart."""

    def __init__(self, combo: str, on_press: Callable[[], None], on_release: Callable[[], None]) -> None:
        ok, why = global_hotkeys_supported()
        if not ok:
            raise HotkeyError(why)
        self.combo = combo
        self.keys = parse_hotkey(combo)
        self._on_press, self._on_release = on_press, on_release
        self._down: set[object] = set()
        self._active = False
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self._grab: X11KeyGrab | None = None

    def start(self) -> None:
        if sys.platform.startswith("linux"):
            from app.dictation.hotkey_x11 import X11GrabError, X11KeyGrab

            try:  # a grab: the keys never reach the focused app (no stray space in the user's text)
                self._grab = X11KeyGrab(self.combo, self._on_press, self._on_release)
                self._grab.start()
                return
            except X11GrabError as e:
                raise HotkeyError(str(e)) from e
        keyboard = _keyboard()

        self._listener = keyboard.Listener(on_press=self._press, on_release=self._release)
        self._listener.daemon = True
        self._listener.start()
        self._listener.wait()  # ready: keys pressed from now on are seen

    def stop(self) -> None:
        if self._grab is not None:
            self._grab.stop()
            self._grab = None
        if self._listener is not None:
            self._listener.stop()
            self._listener.join(2)  # its X connection closes before the display may go away
            self._listener = None

    def _canonical(self, key: object) -> object:
        return self._listener.canonical(key) if self._listener is not None else key

    def _press(self, key: object) -> None:
        k = self._canonical(key)
        with self._lock:
            self._down.add(k)
            fire = not self._active and self.keys <= self._down
            if fire:
                self._active = True
        if fire:
            self._safe(self._on_press)

    def _release(self, key: object) -> None:
        k = self._canonical(key)
        with self._lock:
            self._down.discard(k)
            fire = self._active and k in self.keys
            if fire:
                self._active = False
        if fire:
            self._safe(self._on_release)

    @staticmethod
    def _safe(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a failing handler must not kill the keyboard listener
            log.exception("hotkey handler failed")
