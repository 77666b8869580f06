"""The X11 clipboard for pasting: save the user's entry, offer ours once, put theirs back.

Why each step is done this way:

* Save: ``xclip -o`` reads the owner's TARGETS and then the one most useful target
  (text first, else an image, else a file list); xclip handles INCR transfers of
  big images. A restore can serve one target, so one is all we keep: rich text and
  file copies come back as their plain text. If the owner does not answer within
  SAVE_TIMEOUT_S we raise ClipboardBusy and do not paste (a paste would lose it).
* Offer ours: an in-process selection owner (python-xlib, which pynput already
  needs on Linux). It offers UTF8_STRING, text/plain;charset=utf-8, TEXT (and
  STRING / text/plain when the text fits Latin-1 / ASCII) plus
  ``x-kde-passwordManagerHint = secret``, which Klipper and CopyQ honour by keeping
  the entry out of their history. It knows *who* reads: the paste counts as read
  only when the requesting window belongs to the same X client as the focused
  window. A clipboard manager that grabs every new entry would otherwise look
  like the paste (that is how ``xclip -loops 1`` or ``wl-copy --paste-once`` get
  fooled into restoring early, so the target pastes the *old* clipboard).
  ``XclipOffer`` (``xclip -loops 1``: it exits after the first content read) is
  kept for text too big for one X request (> MAX_XLIB_BYTES) and as a tool-only
  alternative; tested here, a manager that reads at once makes it exit before the
  paste key is even pressed.
* Restore: a background ``xclip -i`` with the saved target, started while we still
  own the selection, so there is never a moment with an empty clipboard. It
  outlives Hark and exits when someone else copies. If someone copied during the
  paste (we lost ownership) their new entry is left alone. When the clipboard was
  empty before, giving up our ownership empties it again: our text never lingers.

Call this off the Qt GUI thread: when Hark's own window owns the clipboard, Qt must
keep running to answer our read.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from app.injection.base import ClipboardBusy, InjectionUnavailable

log = logging.getLogger(__name__)

SAVE_TIMEOUT_S = 1.0  # an owner that takes longer is hung; do not paste over it
PASTE_TIMEOUT_S = 1.5  # no read by the focused client by then: restore anyway
READ_GRACE_S = 0.03  # keep serving briefly after the read (an app may ask twice)
OWN_TIMEOUT_S = 1.0  # for xclip to become the owner
MAX_XLIB_BYTES = 200_000  # one ChangeProperty request; bigger text goes through xclip (INCR)

SELECTIONS = {"clipboard": "CLIPBOARD", "primary": "PRIMARY"}
TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8", "STRING", "TEXT", "text/plain")
IMAGE_TARGETS = ("image/png", "image/jpeg", "image/bmp", "image/gif", "image/webp", "image/tiff")
FILE_TARGETS = ("text/uri-list",)
SECRET_HINT = "x-kde-passwordManagerHint"  # KeePassXC's convention; value b"secret"


@dataclass(frozen=True)
class Snapshot:
    """The part of the user's clipboard entry we can put back."""

    target: str  # an X selection target (MIME type or UTF8_STRING, ...)
    data: bytes


def pick_target(targets: Iterable[str], text_order: Sequence[str] = TEXT_TARGETS) -> str | None:
    """The one target worth saving: text, else an image, else a file list."""
    offered = list(targets)
    for group in (text_order, IMAGE_TARGETS, FILE_TARGETS):
        for t in group:
            if t in offered:
                return t
    for t in offered:  # an image type not in our list
        if t.startswith("image/"):
            return t
    return None


def text_targets(text: str) -> dict[str, tuple[str, bytes]]:
    """target -> (property type, bytes) that our offer serves for ``text``."""
    utf8 = text.encode("utf-8")
    served = {
        "UTF8_STRING": ("UTF8_STRING", utf8),
        "text/plain;charset=utf-8": ("text/plain;charset=utf-8", utf8),
        "TEXT": ("UTF8_STRING", utf8),  # ICCCM: the owner picks the encoding
    }
    try:
        served["STRING"] = ("STRING", text.encode("latin-1"))  # ICCCM: STRING is Latin-1
    except UnicodeEncodeError:
        pass
    if text.isascii():
        served["text/plain"] = ("text/plain", utf8)
    return served


class Offer(Protocol):
    """Our text on the selection until ``wait_read`` says the paste was read."""

    owner_id: int  # our owner window (0 when unknown)

    def wait_read(self, timeout: float) -> bool: ...

    def still_owner(self) -> bool: ...

    def close(self) -> None: ...


def _require_xlib() -> None:
    try:
        import Xlib.display  # noqa: F401  (python-xlib: a dependency of pynput on Linux)
    except ImportError as e:  # pragma: no cover
        raise InjectionUnavailable(
            "Pasting on X11 needs the Python package python-xlib (pip install python-xlib)."
        ) from e


class XlibOffer:
    """Owns a selection in this process and answers requests until the reader has read.

    ``reader_bases`` are X client id bases (window id & ~resource_id_mask) whose
    content requests count as the paste; an empty set means only the timeout ends it.
    """

    def __init__(
        self, display_name: str, selection: str, text: str, reader_bases: frozenset[int] = frozenset()
    ) -> None:
        _require_xlib()
        from Xlib import X, Xatom
        from Xlib.display import Display
        from Xlib.protocol import event

        self._X, self._Xatom, self._ev = X, Xatom, event
        self._d = Display(display_name)
        self._d.set_error_handler(self._x_error)  # a requestor may vanish mid-answer
        self.mask = self._d.display.info.resource_id_mask
        self.reader_bases = reader_bases
        atom = self._d.intern_atom
        self._sel = atom(SELECTIONS[selection])
        self._targets, self._timestamp = atom("TARGETS"), atom("TIMESTAMP")
        self._hint = atom(SECRET_HINT)
        self._data = {atom(t): (atom(kind), data) for t, (kind, data) in text_targets(text).items()}
        self._data[self._hint] = (self._hint, b"secret")
        root = self._d.screen().root
        self._win = root.create_window(0, 0, 1, 1, 0, 0, X.InputOnly, X.CopyFromParent, event_mask=X.PropertyChangeMask)
        self.owner_id: int = self._win.id
        self.read_by_reader = False
        self.other_reads = 0  # content reads by anyone else (clipboard managers)
        self.lost = False  # someone else took the selection
        self._time = self._server_time()
        self._win.set_selection_owner(self._sel, self._time)
        owner = self._d.get_selection_owner(self._sel)
        if getattr(owner, "id", owner) != self._win.id:
            self.close()
            raise ClipboardBusy("Could not take the clipboard to paste (another program holds it).")

    def __enter__(self) -> XlibOffer:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _x_error(self, err: object, request: object) -> None:
        log.debug("X error while answering a paste: %s", err)

    def _server_time(self) -> int:
        # ICCCM wants a real timestamp, not CurrentTime: get one from a property change.
        prop = self._d.intern_atom("_HARK_TIMESTAMP")
        self._win.change_property(prop, self._Xatom.STRING, 8, b"")
        self._d.flush()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            while self._d.pending_events():
                ev = self._d.next_event()
                if ev.type == self._X.PropertyNotify and ev.window.id == self._win.id:
                    return int(ev.time)
            select.select([self._d.fileno()], [], [], 0.05)
        return self._X.CurrentTime

    def still_owner(self) -> bool:
        owner = self._d.get_selection_owner(self._sel)
        return getattr(owner, "id", owner) == self._win.id

    def wait_read(self, timeout: float) -> bool:
        """Serve requests until the reader has read (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        grace_end: float | None = None
        while True:
            while self._d.pending_events():
                self._handle(self._d.next_event())
            now = time.monotonic()
            if self.read_by_reader and grace_end is None:
                grace_end = now + READ_GRACE_S
            if self.lost or (grace_end is not None and now >= grace_end) or now >= deadline:
                return self.read_by_reader
            end = grace_end if grace_end is not None else deadline
            select.select([self._d.fileno()], [], [], max(0.0, min(end - now, 0.05)))

    def _handle(self, ev: Any) -> None:
        X = self._X
        if ev.type == X.SelectionClear and ev.atom == self._sel:
            self.lost = True
        elif ev.type == X.SelectionRequest and ev.selection == self._sel:
            self._answer(ev)

    def _answer(self, ev: Any) -> None:
        req, target = ev.requestor, ev.target
        prop = ev.property or target  # obsolete clients send None: use the target
        content = False
        if target == self._targets:
            atoms = [self._targets, self._timestamp, *self._data]
            req.change_property(prop, self._Xatom.ATOM, 32, atoms)
        elif target == self._timestamp:
            req.change_property(prop, self._Xatom.INTEGER, 32, [self._time])
        elif target in self._data:
            kind, data = self._data[target]
            req.change_property(prop, kind, 8, data)
            content = target != self._hint
        else:
            prop = self._X.NONE  # refuse: MULTIPLE and anything we do not have
        self._ev_send(ev, prop)
        if content:
            if self.reader_bases and (req.id & ~self.mask) in self.reader_bases:
                self.read_by_reader = True
            else:
                self.other_reads += 1

    def _ev_send(self, ev: Any, prop: int) -> None:
        notify = self._ev.SelectionNotify(
            time=ev.time, requestor=ev.requestor, selection=ev.selection, target=ev.target, property=prop
        )
        ev.requestor.send_event(notify, event_mask=0)
        self._d.flush()

    def close(self) -> None:
        d = getattr(self, "_d", None)
        if d is None:
            return
        try:
            while d.pending_events():  # answer late requests: never leave a requestor waiting
                self._handle(d.next_event())
        except Exception:
            log.debug("answering late paste requests", exc_info=True)
        self._d = None
        try:
            self._win.destroy()  # gives up the selection if we still hold it
            d.close()
        except Exception:  # the connection may already be gone
            log.debug("closing the paste offer", exc_info=True)


class XclipOffer:
    """``xclip -loops 1``: serves our text until its first content read, then exits.

    It cannot tell the target from a clipboard manager, so it is only the fallback.
    """

    def __init__(self, display_name: str, selection: str, text: str, previous_owner: int, owner_of: Any) -> None:
        xclip = shutil.which("xclip")
        if xclip is None:
            raise InjectionUnavailable("Pasting on X11 needs xclip (sudo apt install xclip).")
        env = dict(os.environ, DISPLAY=display_name)
        # -quiet keeps it in the foreground, so its exit tells us the paste was read.
        self._proc = subprocess.Popen(
            [xclip, "-selection", selection, "-loops", "1", "-quiet"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self._proc.stdin is not None
        self._proc.stdin.write(text.encode("utf-8"))
        self._proc.stdin.close()
        self.owner_id = 0
        self._owner_of = owner_of
        deadline = time.monotonic() + OWN_TIMEOUT_S
        while time.monotonic() < deadline:  # wait until xclip owns the selection
            owner = owner_of()
            if owner and owner != previous_owner:
                self.owner_id = owner
                return
            if self._proc.poll() is not None:
                break
            time.sleep(0.002)
        self.close()
        # Typically a clipboard manager read it first and -loops 1 let xclip exit.
        raise ClipboardBusy("Could not put the text on the clipboard (xclip did not keep it).")

    def __enter__(self) -> XclipOffer:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def still_owner(self) -> bool:
        """Nobody else took the selection (xclip leaves it empty once read)."""
        return self._owner_of() in (0, self.owner_id)

    def wait_read(self, timeout: float) -> bool:
        try:
            self._proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


class X11Clipboard:
    """Save, offer and restore one X selection ("clipboard" or "primary") on a display."""

    def __init__(self, display_name: str, selection: str = "clipboard") -> None:
        if selection not in SELECTIONS:
            raise ValueError(f"unknown selection {selection!r}")
        self.display_name = display_name
        self.selection = selection
        self._env = dict(os.environ, DISPLAY=display_name)
        self._d: Any = None

    # -- who owns it -----------------------------------------------------------------
    def owner(self) -> int:
        """The owner window's id, 0 when the selection is empty."""
        if self._d is None:
            _require_xlib()
            from Xlib.display import Display

            self._d = Display(self.display_name)
        owner = self._d.get_selection_owner(self._d.intern_atom(SELECTIONS[self.selection]))
        return int(getattr(owner, "id", owner) or 0)

    def close(self) -> None:
        if self._d is not None:
            self._d.close()
            self._d = None

    # -- save ------------------------------------------------------------------------
    def _xclip_out(self, target: str) -> bytes:
        xclip = shutil.which("xclip")
        if xclip is None:
            raise InjectionUnavailable("Pasting on X11 needs xclip (sudo apt install xclip).")
        try:
            done = subprocess.run(
                [xclip, "-selection", self.selection, "-o", "-t", target],
                capture_output=True,
                env=self._env,
                timeout=SAVE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as e:
            raise ClipboardBusy(
                "The program that owns the clipboard did not answer, so Hark did not paste "
                "(it would have lost your clipboard)."
            ) from e
        if done.returncode != 0:
            return b""
        return done.stdout

    def save(self) -> Snapshot | None:
        """The user's entry (one target), or None when the selection is empty."""
        if self.owner() == 0:
            return None
        targets = self._xclip_out("TARGETS").decode("utf-8", "replace").split()
        target = pick_target(targets) if targets else "UTF8_STRING"  # owners without TARGETS
        if target is None:
            log.info("clipboard holds only %s; it cannot be restored after the paste", targets)
            return None
        data = self._xclip_out(target)
        return Snapshot(target, data) if data else None

    # -- ours ------------------------------------------------------------------------
    def offer(self, text: str, reader_bases: frozenset[int] = frozenset(), *, tool: str = "xlib") -> Offer:
        """Own the selection with ``text``; ``tool`` "xlib" (default) or "xclip"."""
        if tool == "xlib" and len(text.encode("utf-8")) <= MAX_XLIB_BYTES:
            return XlibOffer(self.display_name, self.selection, text, reader_bases)
        return XclipOffer(self.display_name, self.selection, text, self.owner(), self.owner)

    # -- restore -----------------------------------------------------------------------
    def restore(self, snap: Snapshot | None, offer: Offer) -> bool:
        """Put ``snap`` back while ``offer`` still owns the selection, then drop the offer.

        Returns False when someone else copied meanwhile (their entry is kept) or
        the restore did not take.
        """
        try:
            if not offer.still_owner():
                log.info("the clipboard changed during the paste; keeping the new entry")
                return False
            if snap is None:
                return True  # closing the offer empties the selection again
            return self._serve_in_background(snap, offer.owner_id)
        finally:
            offer.close()

    def _serve_in_background(self, snap: Snapshot, ours: int) -> bool:
        xclip = shutil.which("xclip")
        if xclip is None:
            raise InjectionUnavailable("Pasting on X11 needs xclip (sudo apt install xclip).")
        # xclip forks and keeps serving until someone else copies; its stdout must not be
        # a pipe of ours (the daemon would hold it open), and it gets its own session.
        proc = subprocess.Popen(
            [xclip, "-selection", self.selection, "-t", snap.target, "-i"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self._env,
            start_new_session=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(snap.data)
        proc.stdin.close()
        deadline = time.monotonic() + OWN_TIMEOUT_S
        while time.monotonic() < deadline:
            owner = self.owner()
            if owner and owner != ours:
                try:
                    proc.wait(timeout=OWN_TIMEOUT_S)  # the parent exits once it has forked
                except subprocess.TimeoutExpired:
                    pass
                return True
            time.sleep(0.002)
        log.warning("could not restore the clipboard (xclip did not take it)")
        return False


def client_bases(window_ids: Sequence[int], mask: int) -> frozenset[int]:
    """The X client id bases of these windows (resource ids share their client's base)."""
    return frozenset(w & ~mask for w in window_ids if w > 1)
