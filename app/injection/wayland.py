"""Typing and pasting on Wayland through command-line tools (not testable on these machines).

* Typing: ``wtype`` (virtual-keyboard protocol: wlroots compositors, KDE; any
  Unicode, it uploads its own keymap), else ``ydotool`` (uinput, works on GNOME too,
  needs the ydotoold daemon; types only what a US keyboard has, so other text is
  refused rather than silently dropped).
* Pasting: ``wl-copy --foreground`` serves our text (``--sensitive`` where wl-copy
  has it, wl-clipboard >= 2.3: the x-kde-passwordManagerHint convention), the paste
  key goes through wtype or ydotool, then the saved entry (``wl-paste``) is put back
  with ``wl-copy`` (or cleared). ``--paste-once`` is off by default: a clipboard
  manager's read counts as the one paste (wl-clipboard issue #249) and we would
  restore before the target read, so we wait PASTE_SETTLE_S instead.
* Terminal detection needs the focused window's app id, which Wayland does not
  give to clients: set ``paste_keys`` to "ctrl+shift+v" for a terminal.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from functools import cache

from app.injection.base import ClipboardBusy, InjectionError, InjectionUnavailable
from app.injection.clipboard import Snapshot, pick_target

log = logging.getLogger(__name__)

TYPE_DELAY_MS = 4
PASTE_SETTLE_S = 0.4  # no read notification we can trust: wait this long before restoring
SAVE_TIMEOUT_S = 1.0
TEXT_MIME = "text/plain;charset=utf-8"
# MIME names first: wl-copy offers the X11-style aliases itself when given a text type.
WAYLAND_TEXT = (TEXT_MIME, "text/plain", "UTF8_STRING", "STRING", "TEXT")
INSTALL_HINT = (
    "Install wtype and wl-clipboard (e.g. sudo apt install wtype wl-clipboard); "
    "on GNOME install ydotool and start ydotoold instead of wtype."
)
# Linux input event codes (linux/input-event-codes.h), for ydotool's key command.
EVDEV_KEYS = {"ctrl": 29, "shift": 42, "alt": 56, "super": 125, "v": 47, "insert": 110}


def wtype_type_command(text: str, delay_ms: int = TYPE_DELAY_MS) -> list[str]:
    return ["wtype", "-d", str(delay_ms), "--", text]


def ydotool_type_command(text: str, delay_ms: int = TYPE_DELAY_MS) -> list[str]:
    return ["ydotool", "type", "--key-delay", str(delay_ms), "--", text]


def wtype_key_command(combo: str) -> list[str]:
    """'ctrl+shift+v' -> wtype -M ctrl -M shift -k v -m shift -m ctrl."""
    *mods, key = combo.lower().split("+")
    cmd = ["wtype"]
    for m in mods:
        cmd += ["-M", m]
    cmd += ["-k", "Insert" if key == "insert" else key]
    for m in reversed(mods):
        cmd += ["-m", m]
    return cmd


def ydotool_key_command(combo: str) -> list[str]:
    """'ctrl+v' -> ydotool key 29:1 47:1 47:0 29:0 (ydotool >= 1.0 syntax)."""
    parts = combo.lower().split("+")
    try:
        codes = [EVDEV_KEYS[p] for p in parts]
    except KeyError as e:
        raise ValueError(f"no evdev code for {e.args[0]!r}") from None
    return ["ydotool", "key", *[f"{c}:1" for c in codes], *[f"{c}:0" for c in reversed(codes)]]


def wl_copy_command(
    mime: str | None,
    *,
    foreground: bool = False,
    paste_once: bool = False,
    sensitive: bool = False,
    clear: bool = False,
) -> list[str]:
    if clear:
        return ["wl-copy", "--clear"]
    cmd = ["wl-copy"]
    if foreground:
        cmd.append("--foreground")
    if paste_once:
        cmd.append("--paste-once")
    if sensitive:
        cmd.append("--sensitive")
    if mime:
        cmd += ["--type", mime]
    return cmd


def wl_paste_command(mime: str | None = None, *, list_types: bool = False) -> list[str]:
    if list_types:
        return ["wl-paste", "--list-types"]
    cmd = ["wl-paste", "--no-newline"]
    if mime:
        cmd += ["--type", mime]
    return cmd


@cache
def wl_copy_has_sensitive() -> bool:
    try:
        out = subprocess.run(["wl-copy", "--help"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--sensitive" in out.stdout + out.stderr


class WaylandInjector:
    name = "wayland"

    def __init__(
        self,
        *,
        type_delay_ms: int = TYPE_DELAY_MS,
        paste_keys: str = "ctrl+v",
        paste_once: bool = False,
        settle_s: float = PASTE_SETTLE_S,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        self.type_delay_ms = type_delay_ms
        self.paste_keys = paste_keys
        self.paste_once = paste_once
        self.settle_s = settle_s
        self._which = which
        # GNOME's compositor has no virtual-keyboard protocol: wtype cannot work there.
        self.prefer_ydotool = "gnome" in os.environ.get("XDG_CURRENT_DESKTOP", "").lower()

    def typer(self) -> str | None:
        order = ("ydotool", "wtype") if self.prefer_ydotool else ("wtype", "ydotool")
        return next((t for t in order if self._which(t)), None)

    def why_not(self) -> str:
        if not os.environ.get("WAYLAND_DISPLAY"):
            return "No Wayland display (WAYLAND_DISPLAY is not set)."
        missing = []
        if self.typer() is None:
            missing.append("ydotool" if self.prefer_ydotool else "wtype")
        missing += [t for t in ("wl-copy", "wl-paste") if not self._which(t)]
        if missing:
            return f"Typing on Wayland needs {', '.join(missing)}. {INSTALL_HINT}"
        return ""

    def available(self) -> bool:
        return self.why_not() == ""

    def type_command(self, text: str) -> list[str]:
        tool = self.typer()
        if tool is None:
            raise InjectionUnavailable(f"No typing tool found. {INSTALL_HINT}")
        if tool == "ydotool":
            if not text.isascii():
                raise InjectionError("ydotool can only type plain ASCII; use paste for this text.")
            return ydotool_type_command(text, self.type_delay_ms)
        return wtype_type_command(text, self.type_delay_ms)

    def key_command(self, combo: str) -> list[str]:
        tool = self.typer()
        if tool is None:
            raise InjectionUnavailable(f"No key tool found. {INSTALL_HINT}")
        return ydotool_key_command(combo) if tool == "ydotool" else wtype_key_command(combo)

    def _run(self, cmd: list[str], data: bytes | None = None, timeout: float = 30, forks: bool = False) -> bytes:
        # A tool that forks a server (wl-copy) must not inherit our pipes: reading them
        # would wait for the server to exit.
        out = subprocess.DEVNULL if forks else subprocess.PIPE
        try:
            done = subprocess.run(cmd, input=data, stdout=out, stderr=out, timeout=timeout, start_new_session=forks)
        except subprocess.TimeoutExpired as e:
            raise InjectionError(f"{cmd[0]} did not finish in {timeout:.0f} s.") from e
        if done.returncode != 0:
            msg = (done.stderr or b"").decode(errors="replace").strip()
            if "virtual keyboard" in msg.lower():
                msg += " (this compositor has no virtual-keyboard protocol: install ydotool)"
            raise InjectionError(f"{cmd[0]} failed: {msg or done.returncode}")
        return done.stdout or b""

    def type_text(self, text: str) -> None:
        if text:
            self._run(self.type_command(text))

    def _paste_out(self, cmd: list[str]) -> bytes | None:
        """wl-paste's output; None when it has nothing; ClipboardBusy when it hangs."""
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=SAVE_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise ClipboardBusy(
                "The program that owns the clipboard did not answer, so Hark "
                "did not paste (it would have lost your clipboard)."
            ) from e
        return done.stdout if done.returncode == 0 else None  # "Nothing is copied"

    def save(self) -> Snapshot | None:
        types = (self._paste_out(wl_paste_command(list_types=True)) or b"").decode().split()
        target = pick_target(types, WAYLAND_TEXT)
        if target is None:
            return None
        data = self._paste_out(wl_paste_command(target))
        return Snapshot(target, data) if data else None

    def _wait_offered(self, text: str) -> None:
        """Until wl-copy serves our text (it has no ready signal); a read we can afford
        unless --paste-once, where a fixed pause has to do."""
        if self.paste_once:
            time.sleep(0.05)
            return
        want = text.encode("utf-8")
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if self._paste_out(wl_paste_command(TEXT_MIME)) == want:
                return
            time.sleep(0.01)
        raise InjectionError("Could not put the text on the clipboard (wl-copy did not take it).")

    def restore(self, saved: Snapshot | None) -> None:
        if saved is None:
            self._run(wl_copy_command(None, clear=True), timeout=5)  # ours must not linger
        else:
            self._run(wl_copy_command(saved.target), saved.data, timeout=5, forks=True)

    def paste_text(self, text: str) -> None:
        if not text:
            return
        if not (self._which("wl-copy") and self._which("wl-paste")):
            raise InjectionUnavailable(f"Pasting on Wayland needs wl-clipboard. {INSTALL_HINT}")
        saved = self.save()  # raises ClipboardBusy before anything changes
        ours = subprocess.Popen(
            wl_copy_command(TEXT_MIME, foreground=True, paste_once=self.paste_once, sensitive=wl_copy_has_sensitive()),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert ours.stdin is not None
        ours.stdin.write(text.encode("utf-8"))
        ours.stdin.close()
        try:
            self._wait_offered(text)
            self._run(self.key_command(self.paste_keys), timeout=10)
            try:
                ours.wait(timeout=self.settle_s)  # paste-once: exits after the read
            except subprocess.TimeoutExpired:
                pass
        finally:
            self.restore(saved)  # also when the key failed: the user's entry comes back
            if ours.poll() is None:
                ours.terminate()
                ours.wait(timeout=5)
