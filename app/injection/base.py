"""What every text injector offers, the errors it raises, and how the method is chosen.

Two ways to put dictated text into the focused window:

* "type": synthesise one key event per character. Leaves the clipboard alone and
  works in fields that refuse pastes, but it is slower (hundreds of characters a
  second) and, on X11, characters missing from the keyboard map need a temporary
  remap (see x11.py).
* "paste": put the text on the clipboard, press the paste key, wait until the
  target has read it, then put the user's previous clipboard back. Constant time
  for any length and exact for any Unicode.

"auto" (the default) types short plain-ASCII text (at most AUTO_TYPE_MAX_CHARS:
a few words take tens of milliseconds and never touch the clipboard) and pastes
everything else (long text, accents, emoji, other scripts: faster and exact).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Method = Literal["auto", "type", "paste"]
METHODS: tuple[str, ...] = ("auto", "type", "paste")
AUTO_TYPE_MAX_CHARS = 40
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F))  # printable ASCII: every layout types it


class InjectionError(RuntimeError):
    """Text could not be put into the focused window. The message is for the user."""


class InjectionUnavailable(InjectionError):
    """The tools this platform needs are missing; the message says what to install."""


class ClipboardBusy(InjectionError):
    """The clipboard could not be read or opened, so nothing was pasted (nor pressed)."""


@runtime_checkable
class Injector(Protocol):
    name: str

    def available(self) -> bool:
        """True when this injector can work in the current session."""
        ...

    def why_not(self) -> str:
        """Why available() is False, and what to install or change ("" when available)."""
        ...

    def type_text(self, text: str) -> None:
        """Send text as key events to the focused window. Raises InjectionError."""
        ...

    def paste_text(self, text: str) -> None:
        """Paste text into the focused window and restore the user's clipboard."""
        ...


@dataclass(frozen=True)
class InjectionResult:
    backend: str  # Injector.name
    method: Literal["type", "paste"]
    chars: int
    seconds: float


def choose_method(text: str, method: str = "auto") -> Literal["type", "paste"]:
    """The concrete method for ``text`` under the "auto" | "type" | "paste" setting."""
    if method == "type":
        return "type"
    if method == "paste":
        return "paste"
    if method != "auto":
        raise ValueError(f"unknown insert method {method!r}; expected one of {METHODS}")
    if len(text) <= AUTO_TYPE_MAX_CHARS and all(ch in _PLAIN for ch in text):
        return "type"
    return "paste"


def inject(injector: Injector, text: str, method: str = "auto") -> InjectionResult:
    """Put ``text`` into the focused window with the chosen method; time it.

    Under "auto", a paste refused because the clipboard could not be saved is typed.
    """
    chosen = choose_method(text, method)
    start = time.monotonic()
    if text:
        if chosen == "type":
            injector.type_text(text)
        else:
            try:
                injector.paste_text(text)
            except ClipboardBusy:
                if method != "auto":
                    raise
                chosen = "type"  # nothing was pasted, so typing cannot double the text
                injector.type_text(text)
    return InjectionResult(injector.name, chosen, len(text), time.monotonic() - start)
