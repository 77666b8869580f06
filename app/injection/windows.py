"""Typing and pasting on Windows (not testable on these machines; the records are tested).

* Typing: SendInput with KEYEVENTF_UNICODE, one down/up pair per UTF-16 code unit
  (a character outside the BMP is its two surrogates, as Windows expects); Newline
  and Tab are sent as VK_RETURN / VK_TAB. SendInput inserts a whole batch without
  user input in between; if fewer events go in than sent, the target is elevated
  (UIPI) and we say so.
* Pasting: the Win32 clipboard. Every HGLOBAL format of the user's entry is saved
  (text, DIB images, file lists, registered formats like HTML Format / PNG); ours is
  CF_UNICODETEXT plus ExcludeClipboardContentFromMonitorProcessing,
  CanIncludeInClipboardHistory = 0 and CanUploadToCloudClipboard = 0 (history and
  cloud sync skip it). Ctrl+V goes through SendInput; after PASTE_SETTLE_S the saved
  formats are written back, unless the clipboard sequence number moved (someone
  copied meanwhile).

Structures use fixed-width fields (not ctypes.wintypes, whose DWORD is 8 bytes on
64-bit Linux) so their layout is Windows x64's on any host: sizeof(INPUT) == 40.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

from app.injection.base import ClipboardBusy, InjectionError, InjectionUnavailable

log = logging.getLogger(__name__)

INPUT_KEYBOARD = 1
KEYEVENTF_KEYUP = 0x0002
KEYEVENTF_UNICODE = 0x0004
VK_RETURN, VK_TAB, VK_CONTROL, VK_V = 0x0D, 0x09, 0x11, 0x56
CF_TEXT, CF_BITMAP, CF_DIB, CF_UNICODETEXT, CF_HDROP, CF_DIBV5 = 1, 2, 8, 13, 15, 17
GMEM_MOVEABLE = 0x0002
BATCH = 500  # INPUT records per SendInput call
PASTE_SETTLE_S = 0.3  # Windows tells no one when the clipboard is read
OPEN_RETRIES = 20  # another program may hold the clipboard open for a moment
SAVED_STANDARD = (CF_UNICODETEXT, CF_DIB, CF_DIBV5, CF_HDROP)  # HGLOBAL formats worth saving
MAX_SAVE_BYTES = 64 << 20
PRIVACY_FORMATS = {  # registered format -> DWORD value
    "ExcludeClipboardContentFromMonitorProcessing": 0,
    "CanIncludeInClipboardHistory": 0,
    "CanUploadToCloudClipboard": 0,
}


class KEYBDINPUT(ctypes.Structure):
    _fields_ = [
        ("wVk", ctypes.c_uint16),
        ("wScan", ctypes.c_uint16),
        ("dwFlags", ctypes.c_uint32),
        ("time", ctypes.c_uint32),
        ("dwExtraInfo", ctypes.c_size_t),
    ]


class MOUSEINPUT(ctypes.Structure):
    _fields_ = [
        ("dx", ctypes.c_int32),
        ("dy", ctypes.c_int32),
        ("mouseData", ctypes.c_uint32),
        ("dwFlags", ctypes.c_uint32),
        ("time", ctypes.c_uint32),
        ("dwExtraInfo", ctypes.c_size_t),
    ]


class HARDWAREINPUT(ctypes.Structure):
    _fields_ = [("uMsg", ctypes.c_uint32), ("wParamL", ctypes.c_uint16), ("wParamH", ctypes.c_uint16)]


class _INPUTUNION(ctypes.Union):
    _fields_ = [("mi", MOUSEINPUT), ("ki", KEYBDINPUT), ("hi", HARDWAREINPUT)]


class INPUT(ctypes.Structure):
    _anonymous_ = ("u",)
    _fields_ = [("type", ctypes.c_uint32), ("u", _INPUTUNION)]


def key_input(vk: int = 0, scan: int = 0, flags: int = 0) -> INPUT:
    return INPUT(type=INPUT_KEYBOARD, ki=KEYBDINPUT(wVk=vk, wScan=scan, dwFlags=flags))


def text_inputs(text: str) -> list[INPUT]:
    """The INPUT records that type ``text``."""
    records: list[INPUT] = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch in "\n\t":
            vk = VK_RETURN if ch == "\n" else VK_TAB
            records += [key_input(vk), key_input(vk, flags=KEYEVENTF_KEYUP)]
            continue
        raw = ch.encode("utf-16-le")
        for i in range(0, len(raw), 2):  # one unit, or a surrogate pair as two
            unit = int.from_bytes(raw[i : i + 2], "little")
            records += [
                key_input(scan=unit, flags=KEYEVENTF_UNICODE),
                key_input(scan=unit, flags=KEYEVENTF_UNICODE | KEYEVENTF_KEYUP),
            ]
    return records


def ctrl_v_inputs() -> list[INPUT]:
    return [
        key_input(VK_CONTROL),
        key_input(VK_V),
        key_input(VK_V, flags=KEYEVENTF_KEYUP),
        key_input(VK_CONTROL, flags=KEYEVENTF_KEYUP),
    ]


def worth_saving(fmt: int) -> bool:
    """HGLOBAL formats we can copy byte for byte; GDI handles (bitmaps, metafiles) are not."""
    return fmt in SAVED_STANDARD or 0xC000 <= fmt <= 0xFFFF  # registered formats


@dataclass(frozen=True)
class SavedFormat:
    fmt: int
    data: bytes


class Win32:
    """user32/kernel32 calls, typed; a test passes stand-ins."""

    def __init__(self, user32: Any = None, kernel32: Any = None) -> None:
        if user32 is None:
            if sys.platform != "win32":
                raise InjectionUnavailable("The Windows injector works only on Windows.")
            user32 = ctypes.WinDLL("user32", use_last_error=True)
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            h = ctypes.c_void_p
            user32.SendInput.argtypes = [ctypes.c_uint, ctypes.POINTER(INPUT), ctypes.c_int]
            user32.SendInput.restype = ctypes.c_uint
            user32.OpenClipboard.argtypes = [h]
            user32.GetClipboardData.restype = h
            user32.GetClipboardData.argtypes = [ctypes.c_uint]
            user32.SetClipboardData.restype = h
            user32.SetClipboardData.argtypes = [ctypes.c_uint, h]
            user32.EnumClipboardFormats.argtypes = [ctypes.c_uint]
            user32.EnumClipboardFormats.restype = ctypes.c_uint
            user32.RegisterClipboardFormatW.argtypes = [ctypes.c_wchar_p]
            user32.RegisterClipboardFormatW.restype = ctypes.c_uint
            user32.GetClipboardSequenceNumber.restype = ctypes.c_uint32
            kernel32.GlobalAlloc.restype = h
            kernel32.GlobalAlloc.argtypes = [ctypes.c_uint, ctypes.c_size_t]
            kernel32.GlobalLock.restype = h
            kernel32.GlobalLock.argtypes = [h]
            kernel32.GlobalUnlock.argtypes = [h]
            kernel32.GlobalSize.restype = ctypes.c_size_t
            kernel32.GlobalSize.argtypes = [h]
            kernel32.GlobalFree.argtypes = [h]
        self.user32, self.kernel32 = user32, kernel32

    def send(self, records: list[INPUT]) -> None:
        for i in range(0, len(records), BATCH):
            batch = records[i : i + BATCH]
            arr = (INPUT * len(batch))(*batch)
            sent = self.user32.SendInput(len(batch), arr, ctypes.sizeof(INPUT))
            if sent != len(batch):
                raise InjectionError(
                    "Windows blocked the key events: the focused program probably runs as "
                    "administrator (run Hark as administrator to type into it)."
                )

    # -- clipboard -------------------------------------------------------------------
    def open(self) -> None:
        for _ in range(OPEN_RETRIES):
            if self.user32.OpenClipboard(None):
                return
            time.sleep(0.01)
        raise ClipboardBusy("Another program is holding the clipboard; could not paste.")

    def close(self) -> None:
        self.user32.CloseClipboard()

    def read_formats(self) -> list[SavedFormat]:
        saved, total, fmt = [], 0, 0
        while True:
            fmt = self.user32.EnumClipboardFormats(fmt)
            if not fmt:
                break
            if not worth_saving(fmt):
                continue
            handle = self.user32.GetClipboardData(fmt)
            if not handle:
                continue
            size = self.kernel32.GlobalSize(handle)
            ptr = self.kernel32.GlobalLock(handle)
            if not ptr:
                continue
            try:
                total += size
                if total > MAX_SAVE_BYTES:
                    log.info("clipboard entry too large to save in full")
                    break
                saved.append(SavedFormat(fmt, ctypes.string_at(ptr, size)))
            finally:
                self.kernel32.GlobalUnlock(handle)
        return saved

    def put(self, fmt: int, data: bytes) -> None:
        handle = self.kernel32.GlobalAlloc(GMEM_MOVEABLE, max(1, len(data)))
        if not handle:
            raise InjectionError("Out of memory for the clipboard.")
        ptr = self.kernel32.GlobalLock(handle)
        ctypes.memmove(ptr, data, len(data))
        self.kernel32.GlobalUnlock(handle)
        if not self.user32.SetClipboardData(fmt, handle):  # the system owns it on success
            self.kernel32.GlobalFree(handle)
            raise InjectionError("Could not put the text on the clipboard.")

    def write(self, formats: list[SavedFormat]) -> None:
        self.user32.EmptyClipboard()
        for f in formats:
            self.put(f.fmt, f.data)

    def sequence(self) -> int:
        return int(self.user32.GetClipboardSequenceNumber())

    def register(self, name: str) -> int:
        return int(self.user32.RegisterClipboardFormatW(name))


def our_formats(text: str, register: Any) -> list[SavedFormat]:
    """CF_UNICODETEXT (NUL-terminated UTF-16) plus the privacy markers."""
    formats = [SavedFormat(CF_UNICODETEXT, (text + "\0").encode("utf-16-le"))]
    for name, value in PRIVACY_FORMATS.items():
        formats.append(SavedFormat(register(name), value.to_bytes(4, "little")))
    return formats


class WindowsInjector:
    name = "windows"

    def __init__(self, api: Win32 | None = None, settle_s: float = PASTE_SETTLE_S) -> None:
        self._api = api
        self.settle_s = settle_s

    def api(self) -> Win32:
        if self._api is None:
            self._api = Win32()
        return self._api

    def why_not(self) -> str:
        try:
            self.api()
        except InjectionError as e:
            return str(e)
        return ""

    def available(self) -> bool:
        return self.why_not() == ""

    def type_text(self, text: str) -> None:
        if text:
            self.api().send(text_inputs(text))

    def paste_text(self, text: str) -> None:
        if not text:
            return
        api = self.api()
        api.open()
        try:
            saved = api.read_formats()
            api.write(our_formats(text, api.register))
        finally:
            api.close()
        ours = api.sequence()
        api.send(ctrl_v_inputs())
        time.sleep(self.settle_s)
        if api.sequence() != ours:
            log.info("the clipboard changed during the paste; keeping the new entry")
            return
        try:
            api.open()
        except ClipboardBusy:  # already pasted: must not look like "nothing happened"
            log.warning("could not reopen the clipboard to restore it")
            return
        try:
            api.write(saved)  # an empty list empties it: our text does not linger
        finally:
            api.close()
