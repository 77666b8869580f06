"""Typing and pasting into the focused X11 window.

Typing. Text whose characters all sit on the current keyboard map (plain and
shifted levels) goes through ``xdotool type --clearmodifiers`` (pynput when xdotool
is missing). Anything else (accents on a US map, dashes, emoji, CJK) goes through
``UnicodeTyper``: measured here, xdotool 3.20160805 and pynput lose such characters
(xdotool remaps one spare key per character and reverts it before the target has
translated the event: "caf  nave" at --delay 0-1, a doubled "éé" lost and "Æ" typed
as "æ" even at 12-25 ms; pynput typed a stale "👍" for "é"). UnicodeTyper binds
each distinct character to its own spare key code (same keysym on every level, so
Shift cannot change it), types a batch, and remaps (next batch) or reverts only once
the target has handled those keys: it answers a _NET_WM_PING from its event loop,
after the keys queued before it (a fixed 50 ms pause was not enough for Qt on a busy
machine). Targets that do not answer pings get a BATCH_SETTLE_S pause instead.

Pasting: see clipboard.py. The paste key depends on the focused window's WM_CLASS:
Ctrl+V, Ctrl+Shift+V in terminals, and Shift+Insert with the PRIMARY selection in
xterm/urxvt (their default bindings paste PRIMARY; they have no clipboard key).
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.injection.base import InjectionError, InjectionUnavailable
from app.injection.clipboard import PASTE_TIMEOUT_S, X11Clipboard, client_bases

log = logging.getLogger(__name__)

TYPE_DELAY_MS = 4  # xdotool --delay: 0 works on Xvfb, but real apps may fall behind
MODIFIER_WAIT_S = 0.5  # the dictation hotkey may still be held when the text is ready
BATCH_SETTLE_S = 0.3  # before a spare key is remapped or reverted, if the target cannot be pinged
PING_TIMEOUT_S = 2.0  # a target that answers _NET_WM_PING, but slowly (busy)

# WM_CLASS names (instance or class, lower case) of terminal emulators.
TERMINALS = frozenset(
    {
        "alacritty",
        "kitty",
        "konsole",
        "gnome-terminal",
        "gnome-terminal-server",
        "kgx",
        "org.gnome.console",
        "org.gnome.ptyxis",
        "ptyxis",
        "xfce4-terminal",
        "mate-terminal",
        "lxterminal",
        "qterminal",
        "terminator",
        "tilix",
        "terminology",
        "sakura",
        "guake",
        "yakuake",
        "tilda",
        "wezterm",
        "org.wezfurlong.wezterm",
        "foot",
        "st",
        "st-256color",
        "cool-retro-term",
        "hyper",
        "tabby",
        "deepin-terminal",
        "contour",
        "blackbox",
        "com.raggesilver.blackbox",
        "ghostty",
        "com.mitchellh.ghostty",
        "rio",
        "eterm",
        "aterm",
        "roxterm",
        "termite",
        "lxqt-terminal",
        "io.elementary.terminal",
    }
)
# Their stock bindings paste PRIMARY with Shift+Insert and have no CLIPBOARD paste key.
PRIMARY_TERMINALS = frozenset({"xterm", "uxterm", "urxvt", "rxvt", "rxvt-unicode", "urxvt-unicode"})


@dataclass(frozen=True)
class PasteKeys:
    combo: str  # xdotool key syntax
    selection: str  # "clipboard" | "primary"


CTRL_V = PasteKeys("ctrl+v", "clipboard")
CTRL_SHIFT_V = PasteKeys("ctrl+shift+v", "clipboard")
SHIFT_INSERT_PRIMARY = PasteKeys("shift+Insert", "primary")


def paste_keys_for(wm_class: tuple[str, str] | None) -> PasteKeys:
    """The paste key for a window with this WM_CLASS (instance, class)."""
    names = {n.lower() for n in wm_class or () if n}
    if names & PRIMARY_TERMINALS:
        return SHIFT_INSERT_PRIMARY
    if names & TERMINALS or any(n.endswith(("terminal", "-term")) for n in names):
        return CTRL_SHIFT_V
    return CTRL_V


def keysym_for(ch: str) -> int:
    """The X keysym that produces ``ch`` (Latin-1 keysyms equal the code point)."""
    if ch == "\n":
        return 0xFF0D  # Return
    if ch == "\t":
        return 0xFF09  # Tab
    c = ord(ch)
    if 0x20 <= c <= 0x7E or 0xA0 <= c <= 0xFF:
        return c
    return 0x01000000 | c


def normalise_newlines(text: str) -> str:
    """CR LF and lone CR become LF; other control characters cannot be typed: dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))


def batches(text: str, slots: int) -> list[str]:
    """Split ``text`` into runs with at most ``slots`` distinct characters each."""
    if slots < 1:
        raise ValueError("need at least one spare key code")
    out: list[str] = []
    start, seen = 0, set[str]()
    for i, ch in enumerate(text):
        if ch not in seen and len(seen) == slots:
            out.append(text[start:i])
            start, seen = i, set()
        seen.add(ch)
    if start < len(text):
        out.append(text[start:])
    return out


def contiguous_runs(codes: list[int]) -> list[list[int]]:
    """[8, 9, 10, 14, 15] -> [[8, 9, 10], [14, 15]]: one keymap change per run."""
    runs: list[list[int]] = []
    for c in sorted(codes):
        if runs and c == runs[-1][-1] + 1:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


class UnicodeTyper:
    """Types any text through spare key codes bound to the needed keysyms (XTEST).

    ``wait_handled`` returns once the target has handled the keys sent so far (True),
    or False when it cannot tell; then we sleep ``settle_s`` instead.
    """

    def __init__(
        self, display: Any, settle_s: float = BATCH_SETTLE_S, wait_handled: Callable[[], bool] | None = None
    ) -> None:
        self._d = display
        self.settle_s = settle_s
        self.wait_handled = wait_handled or (lambda: False)

    def spare_keycodes(self) -> tuple[list[int], int]:
        info = self._d.display.info
        lo, hi = info.min_keycode, info.max_keycode
        rows = self._d.get_keyboard_mapping(lo, hi - lo + 1)
        return [lo + i for i, row in enumerate(rows) if not any(row)], len(rows[0])

    def type(self, text: str) -> None:
        from Xlib import X
        from Xlib.ext import xtest

        spare, width = self.spare_keycodes()
        if not spare:
            raise InjectionError("No free key code to type this text with; use paste instead.")
        used: set[int] = set()
        try:
            for run in batches(text, len(spare)):
                chars = list(dict.fromkeys(run))
                code = dict(zip(chars, spare))
                self._bind({code[ch]: keysym_for(ch) for ch in chars}, width)
                used.update(code.values())
                for ch in run:
                    xtest.fake_input(self._d, X.KeyPress, code[ch])
                    xtest.fake_input(self._d, X.KeyRelease, code[ch])
                self._d.sync()
                # A target translates a key with the map current when it handles it, which
                # may be long after we sent it (measured: Qt >50 ms behind on a busy
                # machine): keep the map until it has, before the next batch or the revert.
                if not self.wait_handled():
                    time.sleep(self.settle_s)
        finally:
            if used:
                self._bind(dict.fromkeys(used, 0), width)

    def _bind(self, syms: dict[int, int], width: int) -> None:
        for run in contiguous_runs(list(syms)):
            self._d.change_keyboard_mapping(run[0], [[syms[c]] * width for c in run])
        self._d.sync()


@dataclass
class PasteReport:
    read: bool  # the focused client read our text (False: we waited the full timeout)
    restored: bool  # the user's clipboard is back (or was empty and is empty again)
    seconds: float
    keys: str
    other_reads: int = 0  # reads by other clients (clipboard managers), not counted as the paste


class X11Injector:
    """xdotool / XTEST typing and clipboard paste on an X display."""

    name = "x11"

    def __init__(
        self,
        display: str | None = None,
        *,
        type_delay_ms: int = TYPE_DELAY_MS,
        paste_timeout_s: float = PASTE_TIMEOUT_S,
        paste_keys: PasteKeys | None = None,
        offer_tool: str = "xlib",
    ) -> None:
        self.display = display if display is not None else os.environ.get("DISPLAY", "")
        self.type_delay_ms = type_delay_ms
        self.paste_timeout_s = paste_timeout_s
        self.paste_keys = paste_keys  # None: chosen from the focused window
        self.offer_tool = offer_tool  # "xlib" or "xclip" (clipboard.py)
        self.last_paste: PasteReport | None = None
        self._d: Any = None
        self._env = dict(os.environ, DISPLAY=self.display)

    # -- availability ---------------------------------------------------------------
    def why_not(self) -> str:
        if not self.display:
            return "No X display (DISPLAY is not set)."
        try:
            import Xlib  # noqa: F401
        except ImportError:
            return "Typing on X11 needs the Python package python-xlib (pip install python-xlib)."
        if shutil.which("xclip") is None:  # xdotool is optional: pynput / XTEST stand in
            return "Pasting on X11 needs xclip (sudo apt install xclip xdotool)."
        try:
            self._display()
        except InjectionError as e:
            return str(e)
        return ""

    def available(self) -> bool:
        return self.why_not() == ""

    def close(self) -> None:
        if self._d is not None:
            self._d.close()
            self._d = None

    # -- the display ------------------------------------------------------------------
    def _display(self) -> Any:
        if self._d is None:
            try:
                from Xlib import error as xerror
                from Xlib.display import Display
            except ImportError as e:
                raise InjectionUnavailable(self.why_not()) from e
            try:
                self._d = Display(self.display)
            except (xerror.DisplayError, OSError) as e:
                raise InjectionUnavailable(f"Cannot connect to the X display {self.display!r}: {e}") from e
            if not self._d.has_extension("XTEST"):
                raise InjectionUnavailable("The X server lacks the XTEST extension needed to type.")
        return self._d

    def focused_windows(self) -> list[int]:
        """The input-focus window and _NET_ACTIVE_WINDOW (when a window manager sets it)."""
        d = self._display()
        ids = []
        focus = d.get_input_focus().focus
        if hasattr(focus, "id"):
            ids.append(focus.id)
        active = d.screen().root.get_full_property(d.intern_atom("_NET_ACTIVE_WINDOW"), 0)
        if active is not None and len(active.value) and int(active.value[0]) not in ids:
            ids.append(int(active.value[0]))
        return [w for w in ids if w > 1]

    def window_class(self, window_id: int) -> tuple[str, str] | None:
        """WM_CLASS of the window or of its nearest ancestor / first descendant that has one."""
        d = self._display()
        root = d.screen().root.id
        win = d.create_resource_object("window", window_id)
        try:
            node = win
            while node.id != root:  # toolkits often focus a child of the top-level window
                cls = node.get_wm_class()
                if cls:
                    return (cls[0], cls[1])
                node = node.query_tree().parent
            frontier = list(win.query_tree().children)  # a WM frame: the client is inside
            for _ in range(3):
                for child in frontier:
                    cls = child.get_wm_class()
                    if cls:
                        return (cls[0], cls[1])
                frontier = [g for c in frontier for g in c.query_tree().children]
        except Exception:  # the window went away while we looked
            log.debug("WM_CLASS lookup failed", exc_info=True)
        return None

    def focused_class(self) -> tuple[str, str] | None:
        for w in self.focused_windows():
            cls = self.window_class(w)
            if cls:
                return cls
        return None

    def ping_focused(self, timeout: float = PING_TIMEOUT_S) -> bool:
        """Round trip through the focused app's event loop (_NET_WM_PING, EWMH).

        The app answers from its event queue, after every event queued before the ping:
        our key presses and the keymap change. False when it does not support the ping.
        """
        from Xlib import X
        from Xlib.protocol import event

        d = self._display()
        ping, protocols = d.intern_atom("_NET_WM_PING"), d.intern_atom("WM_PROTOCOLS")
        target = None
        for w in self.focused_windows():
            node = d.create_resource_object("window", w)
            try:
                while node.id != d.screen().root.id:  # the top-level that takes pings
                    if ping in (node.get_wm_protocols() or []):
                        target = node
                        break
                    node = node.query_tree().parent
            except Exception:
                log.debug("looking for a window to ping", exc_info=True)
            if target is not None:
                break
        if target is None:
            return False
        root = d.screen().root
        self._ping_serial = getattr(self, "_ping_serial", 0) + 1
        stamp = self._ping_serial
        # The pong goes to root: Qt sends it with StructureNotify, GTK with SubstructureNotify.
        root.change_attributes(event_mask=X.StructureNotifyMask | X.SubstructureNotifyMask)
        try:
            msg = event.ClientMessage(window=target, client_type=protocols, data=(32, [ping, stamp, target.id, 0, 0]))
            target.send_event(msg, event_mask=0)
            d.flush()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                while d.pending_events():
                    ev = d.next_event()
                    if (
                        ev.type == X.ClientMessage
                        and ev.client_type == protocols
                        and list(ev.data[1][:2]) == [ping, stamp]
                    ):
                        return True
                select.select([d.fileno()], [], [], 0.01)
            log.info("the focused window did not answer a ping in %.1f s", timeout)
            return False
        finally:
            root.change_attributes(event_mask=0)
            d.sync()

    def held_modifiers(self) -> list[int]:
        d = self._display()
        keys = d.query_keymap()
        mods = {kc for row in d.get_modifier_mapping() for kc in row if kc}
        return sorted(kc for kc in mods if keys[kc // 8] & (1 << (kc % 8)))

    def wait_modifiers_released(self, timeout: float = MODIFIER_WAIT_S) -> bool:
        """Wait until no modifier key is down (a held Ctrl turns text into shortcuts)."""
        deadline = time.monotonic() + timeout
        while self.held_modifiers():
            if time.monotonic() >= deadline:
                log.info("modifier keys still held after %.1f s", timeout)
                return False
            time.sleep(0.01)
        return True

    def release_modifiers(self) -> None:
        """Release still-held modifiers for the target (xdotool --clearmodifiers does
        this too, but presses them again afterwards, which leaves them stuck when the
        user let go meanwhile; we do not)."""
        from Xlib import X
        from Xlib.ext import xtest

        d = self._display()
        for kc in self.held_modifiers():
            xtest.fake_input(d, X.KeyRelease, kc)
        d.sync()

    def keymap(self) -> dict[int, int]:
        """keysym -> key code for the plain and shifted levels of the current map.

        Read fresh each time: python-xlib's cache only follows MappingNotify events we
        never process, and the user may switch layouts while Hark runs.
        """
        d = self._display()
        while d.pending_events():  # MappingNotify goes to every client; do not let them pile up
            d.next_event()
        info = d.display.info
        rows = d.get_keyboard_mapping(info.min_keycode, info.max_keycode - info.min_keycode + 1)
        found: dict[int, int] = {}
        for i, row in enumerate(rows):
            for sym in row[:2]:
                if sym:
                    found.setdefault(sym, info.min_keycode + i)
        return found

    def on_keymap(self, text: str) -> bool:
        """True when every character has a key on the current map (no remapping needed)."""
        syms = self.keymap()
        return all(keysym_for(ch) in syms for ch in set(text))

    # -- typing ------------------------------------------------------------------------
    def xdotool_commands(self, text: str) -> list[list[str]]:
        """xdotool runs that type ``text``: new lines as the Return key (xdotool 3.2016
        types "\n" as Linefeed, which Qt ignores)."""
        cmds: list[list[str]] = []
        for i, line in enumerate(text.split("\n")):
            if i:
                cmds.append(["xdotool", "key", "--clearmodifiers", "Return"])
            if line:
                cmds.append(["xdotool", "type", "--clearmodifiers", "--delay", str(self.type_delay_ms), "--", line])
        return cmds

    def type_text(self, text: str) -> None:
        text = normalise_newlines(text)
        if not text:
            return
        self.wait_modifiers_released()  # then xdotool --clearmodifiers / release_modifiers
        if self.on_keymap(text):
            if shutil.which("xdotool"):
                for cmd in self.xdotool_commands(text):
                    self._run(cmd, "xdotool")
                return
            self._pynput_type(text)
            return
        self.release_modifiers()
        UnicodeTyper(self._display(), wait_handled=self.ping_focused).type(text)

    def _pynput_type(self, text: str) -> None:
        os.environ.setdefault("DISPLAY", self.display)  # pynput connects on import
        try:
            from pynput.keyboard import Controller
        except ImportError as e:
            raise InjectionUnavailable("Typing on X11 needs xdotool (sudo apt install xdotool).") from e
        Controller().type(text)

    def _run(self, cmd: list[str], what: str, timeout: float = 60.0) -> None:
        try:
            done = subprocess.run(cmd, env=self._env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise InjectionError(f"{what} did not finish in {timeout:.0f} s.") from e
        if done.returncode != 0:
            raise InjectionError(f"{what} failed: {done.stderr.strip() or done.returncode}")

    # -- pasting -----------------------------------------------------------------------
    def press(self, combo: str) -> None:
        """Press a key combination (xdotool syntax) on the focused window."""
        if shutil.which("xdotool"):
            self._run(["xdotool", "key", "--clearmodifiers", combo], "xdotool key", timeout=10)
            return
        from Xlib import XK, X
        from Xlib.ext import xtest

        d = self._display()
        syms = self.keymap()
        names = {"ctrl": "Control_L", "shift": "Shift_L", "alt": "Alt_L", "super": "Super_L"}
        codes = []
        for part in combo.split("+"):
            code = syms.get(XK.string_to_keysym(names.get(part.lower(), part)))
            if not code:
                raise InjectionError(f"No key for {part!r} on this keyboard map.")
            codes.append(code)
        for c in codes:
            xtest.fake_input(d, X.KeyPress, c)
        for c in reversed(codes):
            xtest.fake_input(d, X.KeyRelease, c)
        d.sync()

    def paste_text(self, text: str) -> None:
        if not text:
            return
        if shutil.which("xclip") is None:
            raise InjectionUnavailable("Pasting on X11 needs xclip (sudo apt install xclip).")
        start = time.monotonic()
        d = self._display()
        windows = self.focused_windows()
        keys = self.paste_keys or paste_keys_for(self.focused_class())
        readers = client_bases(windows, d.display.info.resource_id_mask)
        clip = X11Clipboard(self.display, keys.selection)
        try:
            self.wait_modifiers_released()
            saved = clip.save()  # raises ClipboardBusy before anything is changed
            offer = clip.offer(text, readers, tool=self.offer_tool)
            try:
                try:
                    self.press(keys.combo)
                except BaseException:
                    clip.restore(saved, offer)
                    raise
                read = offer.wait_read(self.paste_timeout_s)
                others = getattr(offer, "other_reads", 0)
                restored = clip.restore(saved, offer)
            finally:
                offer.close()
        finally:
            clip.close()
        self.last_paste = PasteReport(read, restored, time.monotonic() - start, keys.combo, others)
        if not read:
            log.warning("the focused window did not read the paste within %.1f s", self.paste_timeout_s)
