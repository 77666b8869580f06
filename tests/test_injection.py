"""Text injection: real typing and pasting into another process's Qt field on Xvfb,
plus the pure parts of the Wayland, macOS and Windows backends (their OS calls are
replaced by recorders: those platforms are not available here)."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.injection import (
    ClipboardBusy,
    InjectionError,
    InjectionUnavailable,
    choose_method,
    detect_injector,
    inject,
    macos,
    session_kind,
    wayland,
    windows,
)
from app.injection.clipboard import X11Clipboard, client_bases, pick_target, text_targets
from app.injection.x11 import (
    CTRL_SHIFT_V,
    CTRL_V,
    SHIFT_INSERT_PRIMARY,
    X11Injector,
    batches,
    contiguous_runs,
    keysym_for,
    normalise_newlines,
    paste_keys_for,
)
from tests.target_field import TargetField, Xvfb

PLAIN = "hello world 123"
ACCENTED = "café – naïve 🙂"  # the emoji types and pastes fine through Xvfb
HARD = "réécrire ÆØÅ èèè œŒ 中文日本語 한국어 🙂😀👍 “quoted” — ok"

needs_x = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("Xvfb", "xdotool", "xclip")),
    reason="needs Xvfb, xdotool and xclip (sudo apt install xvfb xdotool xclip)",
)


# --- fixtures ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    if not all(shutil.which(t) for t in ("Xvfb", "xdotool", "xclip")):
        pytest.skip("needs Xvfb, xdotool and xclip")
    with Xvfb() as name:
        yield name


@pytest.fixture
def injector(display: str) -> Iterator[X11Injector]:
    inj = X11Injector(display)
    yield inj
    inj.close()


def _env(display: str) -> dict[str, str]:
    return dict(os.environ, DISPLAY=display)


def set_clipboard(display: str, data: bytes, target: str = "UTF8_STRING") -> None:
    """What a user's copy does; xclip keeps serving it in the background."""
    proc = subprocess.Popen(
        ["xclip", "-selection", "clipboard", "-t", target, "-i"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(display),
    )
    proc.communicate(data, timeout=5)
    deadline = time.monotonic() + 5
    while get_clipboard(display, target) != data:
        assert time.monotonic() < deadline, "xclip did not take the clipboard"
        time.sleep(0.01)


def get_clipboard(display: str, target: str = "UTF8_STRING") -> bytes:
    done = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o", "-t", target], capture_output=True, env=_env(display), timeout=5
    )
    return done.stdout if done.returncode == 0 else b""


def clipboard_owner(display: str) -> int:
    clip = X11Clipboard(display)
    try:
        return clip.owner()
    finally:
        clip.close()


def clear_clipboard(display: str) -> None:
    """Own the clipboard with a throw-away window, then destroy it: no owner left."""
    from Xlib import X
    from Xlib.display import Display

    d = Display(display)
    w = d.screen().root.create_window(0, 0, 1, 1, 0, 0, X.InputOnly, X.CopyFromParent)
    w.set_selection_owner(d.intern_atom("CLIPBOARD"), X.CurrentTime)
    d.sync()
    w.destroy()
    d.close()
    assert clipboard_owner(display) == 0


def helper_process(display: str, code: str) -> subprocess.Popen[str]:
    """A separate X client running ``code``; waits for it to print 'ready'."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=_env(display), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=5)
    for f in (proc.stdout, proc.stderr):
        if f:
            f.close()


# A clipboard manager: reads every new clipboard entry as soon as its owner changes,
# as Klipper, CopyQ or GPaste do. Its reads must not count as the paste.
CLIPBOARD_MANAGER = r"""
from Xlib import X, display
from Xlib.ext import xfixes
d = display.Display()
d.xfixes_query_version()
sel, utf8, prop = (d.intern_atom(n) for n in ("CLIPBOARD", "UTF8_STRING", "MANAGER_COPY"))
me = d.screen().root.create_window(0, 0, 1, 1, 0, 0, X.InputOnly, X.CopyFromParent)
d.xfixes_select_selection_input(d.screen().root, sel, xfixes.XFixesSetSelectionOwnerNotifyMask)
d.sync()
print("ready", flush=True)
while True:
    ev = d.next_event()
    if type(ev).__name__ == "SetSelectionOwnerNotify" and ev.owner:
        me.convert_selection(sel, utf8, prop, X.CurrentTime)  # read it at once
        d.flush()
    elif ev.type == X.SelectionNotify and ev.property:
        me.delete_property(prop)
"""

# An owner that never answers (a hung program).
HUNG_OWNER = r"""
import time
from Xlib import X, display
d = display.Display()
w = d.screen().root.create_window(0, 0, 1, 1, 0, 0, X.InputOnly, X.CopyFromParent)
w.set_selection_owner(d.intern_atom("CLIPBOARD"), X.CurrentTime)
d.sync()
print("ready", flush=True)
time.sleep(120)
"""


# --- X11: typing -----------------------------------------------------------------------
@needs_x
@pytest.mark.parametrize("text", [PLAIN, ACCENTED, HARD])
def test_type_text_is_exact(display: str, injector: X11Injector, text: str) -> None:
    with TargetField(display) as field:
        injector.type_text(text)
        field.wait_for_text(text)
        assert field.wait_stable(0.2) == text  # nothing more arrives later


@needs_x
def test_typing_leaves_the_keyboard_map_as_it_was(display: str, injector: X11Injector) -> None:
    before = injector.keymap()
    with TargetField(display) as field:
        injector.type_text(HARD)
        field.wait_for_text(HARD)
    assert injector.keymap() == before  # the spare key codes are free again
    with TargetField(display) as field:  # and no stale binding types a wrong character
        injector.type_text("café")
        field.wait_for_text("café")


@needs_x
def test_type_multiline(display: str, injector: X11Injector) -> None:
    with TargetField(display, multiline=True) as field:
        injector.type_text("line one\r\nline two\tend")
        field.wait_for_text("line one\nline two\tend")


@needs_x
def test_typing_waits_for_a_held_modifier(display: str, injector: X11Injector) -> None:
    with TargetField(display) as field:
        subprocess.run(["xdotool", "keydown", "ctrl"], env=_env(display), check=True)
        releaser = threading.Timer(
            0.2, lambda: subprocess.run(["xdotool", "keyup", "ctrl"], env=_env(display), check=True)
        )
        releaser.start()
        try:
            injector.type_text(PLAIN)  # with Ctrl down these would be shortcuts
        finally:
            releaser.join()
        field.wait_for_text(PLAIN)


@needs_x
def test_unicode_typing_releases_a_modifier_held_too_long(display: str, injector: X11Injector) -> None:
    with TargetField(display) as field:
        subprocess.run(["xdotool", "keydown", "ctrl"], env=_env(display), check=True)
        try:
            injector.type_text(ACCENTED)  # after MODIFIER_WAIT_S, released for the target
        finally:
            subprocess.run(["xdotool", "keyup", "ctrl"], env=_env(display), check=True)
        field.wait_for_text(ACCENTED)
    assert injector.held_modifiers() == []


@needs_x
def test_without_xdotool_pynput_types_and_xtest_presses(
    display: str, injector: X11Injector, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda t: None if t == "xdotool" else real_which(t))
    monkeypatch.setenv("DISPLAY", display)  # pynput connects on import
    assert injector.available()
    with TargetField(display) as field:
        injector.type_text(PLAIN)  # pynput
        field.wait_for_text(PLAIN)
        injector.paste_text(" " + ACCENTED)  # Ctrl+V through XTEST
        field.wait_for_text(PLAIN + " " + ACCENTED)


# --- X11: pasting ----------------------------------------------------------------------
@needs_x
@pytest.mark.parametrize("text", [PLAIN, ACCENTED, HARD])
def test_paste_is_exact_and_restores_the_clipboard(display: str, injector: X11Injector, text: str) -> None:
    users = "the user's own clipboard ✓".encode()
    set_clipboard(display, users)
    with TargetField(display) as field:
        injector.paste_text(text)
        field.wait_for_text(text)
        assert field.wait_stable(0.2) == text
    assert injector.last_paste is not None
    assert injector.last_paste.read and injector.last_paste.restored
    assert get_clipboard(display) == users


@needs_x
def test_paste_restores_an_image(display: str, injector: X11Injector) -> None:
    png = bytes.fromhex("89504e470d0a1a0a") + bytes(range(256)) * 40  # binary, ~10 KB
    set_clipboard(display, png, "image/png")
    with TargetField(display) as field:
        injector.paste_text(PLAIN)
        field.wait_for_text(PLAIN)
    assert get_clipboard(display, "image/png") == png


@needs_x
def test_paste_into_an_empty_clipboard_leaves_it_empty(display: str, injector: X11Injector) -> None:
    clear_clipboard(display)
    with TargetField(display) as field:
        injector.paste_text(PLAIN)
        field.wait_for_text(PLAIN)
    assert clipboard_owner(display) == 0  # our text does not linger
    assert get_clipboard(display) == b""


@needs_x
@pytest.mark.parametrize("tool", ["xlib", "xclip"])
def test_quick_pastes_never_paste_the_old_clipboard(display: str, tool: str) -> None:
    set_clipboard(display, b"OLD-CLIPBOARD")
    injector = X11Injector(display, offer_tool=tool)
    texts = [f"<{i}:{'é' * (i % 3)}>" for i in range(10)]
    try:
        with TargetField(display) as field:
            for t in texts:
                injector.paste_text(t)
            field.wait_for_text("".join(texts))
            assert "OLD" not in field.wait_stable(0.3)
    finally:
        injector.close()
    assert get_clipboard(display) == b"OLD-CLIPBOARD"


@needs_x
def test_a_clipboard_manager_reading_first_does_not_end_the_paste(display: str, injector: X11Injector) -> None:
    set_clipboard(display, b"OLD-CLIPBOARD")
    manager = helper_process(display, CLIPBOARD_MANAGER)
    try:
        texts = [f"[{i}]" for i in range(5)]
        other_reads = 0
        with TargetField(display) as field:
            for t in texts:
                injector.paste_text(t)
                assert injector.last_paste is not None and injector.last_paste.read
                other_reads += injector.last_paste.other_reads
            field.wait_for_text("".join(texts))
        assert other_reads >= 1  # the manager did read our entries, and it did not matter
    finally:
        stop(manager)
    assert get_clipboard(display) == b"OLD-CLIPBOARD"


@needs_x
def test_a_hung_clipboard_owner_stops_the_paste_and_auto_types(display: str, injector: X11Injector) -> None:
    hung = helper_process(display, HUNG_OWNER)
    try:
        with TargetField(display) as field:
            with pytest.raises(ClipboardBusy, match="did not answer"):
                injector.paste_text(ACCENTED)
            assert field.wait_stable(0.3) == ""  # nothing was pressed
            result = inject(injector, ACCENTED, "auto")
            assert result.method == "type"
            field.wait_for_text(ACCENTED)
    finally:
        stop(hung)


@needs_x
def test_inject_auto_types_short_plain_text_and_pastes_the_rest(display: str, injector: X11Injector) -> None:
    long_text = "a dictated sentence that is longer than forty characters, surely"
    with TargetField(display) as field:
        assert inject(injector, PLAIN, "auto").method == "type"
        assert inject(injector, " " + ACCENTED, "auto").method == "paste"
        assert inject(injector, " " + long_text, "auto").method == "paste"
        field.wait_for_text(f"{PLAIN} {ACCENTED} {long_text}")


@needs_x
def test_focused_window_class_picks_the_terminal_paste_key(display: str, injector: X11Injector) -> None:
    with TargetField(display, wm_class="kitty"):
        cls = injector.focused_class()
        assert cls is not None and cls[0] == "kitty"
        assert paste_keys_for(cls) == CTRL_SHIFT_V
    with TargetField(display):
        assert paste_keys_for(injector.focused_class()) == CTRL_V


@needs_x
def test_detect_injector_on_x11(display: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    inj = detect_injector()
    assert isinstance(inj, X11Injector) and inj.available()
    inj.close()


def test_x11_unavailable_says_why() -> None:
    assert "DISPLAY" in X11Injector("").why_not()
    inj = X11Injector(":59")  # no server there
    assert not inj.available()
    assert "Cannot connect" in inj.why_not()


# --- X11: pure parts ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("wm_class", "keys"),
    [
        (("xterm", "XTerm"), SHIFT_INSERT_PRIMARY),  # xterm pastes PRIMARY with Shift+Insert
        (("urxvt", "URxvt"), SHIFT_INSERT_PRIMARY),
        (("gnome-terminal-server", "Gnome-terminal"), CTRL_SHIFT_V),
        (("konsole", "konsole"), CTRL_SHIFT_V),
        (("Alacritty", "Alacritty"), CTRL_SHIFT_V),
        (("kitty", "kitty"), CTRL_SHIFT_V),
        (("xfce4-terminal", "Xfce4-terminal"), CTRL_SHIFT_V),
        (("some-new-terminal", "Some-new-terminal"), CTRL_SHIFT_V),
        (("st-256color", "St"), CTRL_SHIFT_V),
        (("navigator", "firefox"), CTRL_V),
        (("gedit", "Gedit"), CTRL_V),
        (("terminal-notes-app", "Notes"), CTRL_V),  # "terminal" must end the name
        (None, CTRL_V),
    ],
)
def test_paste_key_choice(wm_class: tuple[str, str] | None, keys: object) -> None:
    assert paste_keys_for(wm_class) == keys


def test_keysyms_batches_and_runs() -> None:
    assert keysym_for("a") == 0x61 and keysym_for("é") == 0xE9
    assert keysym_for("–") == 0x01002013 and keysym_for("🙂") == 0x0101F642
    assert keysym_for("\n") == 0xFF0D and keysym_for("\t") == 0xFF09
    assert normalise_newlines("a\r\nb\rc\x00d\x7f") == "a\nb\ncd"
    assert batches("abcabd", 3) == ["abcab", "d"]
    assert batches("", 3) == []
    assert contiguous_runs([15, 8, 9, 10, 14]) == [[8, 9, 10], [14, 15]]
    cmds = X11Injector(":0", type_delay_ms=3).xdotool_commands("-a\n\nb")
    assert cmds == [
        ["xdotool", "type", "--clearmodifiers", "--delay", "3", "--", "-a"],
        ["xdotool", "key", "--clearmodifiers", "Return"],
        ["xdotool", "key", "--clearmodifiers", "Return"],
        ["xdotool", "type", "--clearmodifiers", "--delay", "3", "--", "b"],
    ]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60), slots=st.integers(1, 8))
def test_batches_property(text: str, slots: int) -> None:
    parts = batches(text, slots)
    assert "".join(parts) == text
    assert all(0 < len(set(p)) <= slots for p in parts)


def test_clipboard_pure_parts() -> None:
    assert pick_target(["TARGETS", "image/png", "UTF8_STRING"]) == "UTF8_STRING"
    assert pick_target(["TARGETS", "text/html", "image/png"]) == "image/png"
    assert pick_target(["TARGETS", "image/x-custom"]) == "image/x-custom"
    assert pick_target(["x-special/gnome-copied-files", "text/uri-list"]) == "text/uri-list"
    assert pick_target(["TARGETS", "application/x-foo"]) is None
    served = text_targets("café")
    assert served["UTF8_STRING"] == ("UTF8_STRING", "café".encode())
    assert served["STRING"] == ("STRING", "café".encode("latin-1"))
    assert "text/plain" not in served  # only offered for ASCII
    assert "STRING" not in text_targets("🙂")  # not Latin-1
    assert client_bases([0x200007, 0x400001, 1, 0], 0x1FFFFF) == frozenset({0x200000, 0x400000})


@pytest.mark.parametrize(
    ("text", "method", "expected"),
    [
        ("hello", "auto", "type"),
        ("x" * 40, "auto", "type"),
        ("x" * 41, "auto", "paste"),
        ("café", "auto", "paste"),
        ("line\nbreak", "auto", "paste"),
        ("café", "type", "type"),
        ("hi", "paste", "paste"),
    ],
)
def test_choose_method(text: str, method: str, expected: str) -> None:
    assert choose_method(text, method) == expected


def test_choose_method_rejects_unknown() -> None:
    with pytest.raises(ValueError):
        choose_method("x", "shout")


# --- detection -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("platform", "env", "kind"),
    [
        ("darwin", {}, "macos"),
        ("win32", {}, "windows"),
        ("linux", {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "wayland"),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ("linux", {"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"}, "x11"),
        ("linux", {"DISPLAY": ":0"}, "x11"),
        ("linux", {"XDG_SESSION_TYPE": "x11", "WAYLAND_DISPLAY": "w", "DISPLAY": ":0"}, "x11"),
        ("linux", {"XDG_SESSION_TYPE": "tty"}, "none"),
    ],
)
def test_session_kind(platform: str, env: dict[str, str], kind: str) -> None:
    assert session_kind(platform, env) == kind


def test_detect_without_a_session(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(InjectionUnavailable, match="DISPLAY"):
        detect_injector()
    with pytest.raises(ValueError):
        detect_injector("beos")


def test_detect_wayland_names_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "sway")
    monkeypatch.setenv("PATH", str(tmp_path))  # none of the tools
    with pytest.raises(InjectionUnavailable) as err:
        detect_injector()
    assert "wtype" in str(err.value) and "wl-clipboard" in str(err.value)


# --- Wayland: command lines --------------------------------------------------------------------
def test_wayland_commands() -> None:
    assert wayland.wtype_type_command("-x é", 3) == ["wtype", "-d", "3", "--", "-x é"]
    assert wayland.ydotool_type_command("hi", 4) == ["ydotool", "type", "--key-delay", "4", "--", "hi"]
    assert wayland.wtype_key_command("ctrl+v") == ["wtype", "-M", "ctrl", "-k", "v", "-m", "ctrl"]
    assert wayland.wtype_key_command("ctrl+shift+v") == [
        "wtype",
        "-M",
        "ctrl",
        "-M",
        "shift",
        "-k",
        "v",
        "-m",
        "shift",
        "-m",
        "ctrl",
    ]
    assert wayland.ydotool_key_command("ctrl+v") == ["ydotool", "key", "29:1", "47:1", "47:0", "29:0"]
    assert wayland.ydotool_key_command("ctrl+shift+v") == [
        "ydotool",
        "key",
        "29:1",
        "42:1",
        "47:1",
        "47:0",
        "42:0",
        "29:0",
    ]
    assert wayland.wl_copy_command("text/plain;charset=utf-8", foreground=True, paste_once=True, sensitive=True) == [
        "wl-copy",
        "--foreground",
        "--paste-once",
        "--sensitive",
        "--type",
        "text/plain;charset=utf-8",
    ]
    assert wayland.wl_copy_command("image/png") == ["wl-copy", "--type", "image/png"]
    assert wayland.wl_copy_command(None, clear=True) == ["wl-copy", "--clear"]
    assert wayland.wl_paste_command(list_types=True) == ["wl-paste", "--list-types"]
    assert wayland.wl_paste_command("image/png") == ["wl-paste", "--no-newline", "--type", "image/png"]


def test_wayland_tool_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "sway")
    both = wayland.WaylandInjector(which=lambda t: f"/usr/bin/{t}")
    assert both.available()
    assert both.type_command("é")[0] == "wtype"
    assert both.key_command("ctrl+v")[0] == "wtype"
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")  # no virtual keyboard there
    gnome = wayland.WaylandInjector(which=lambda t: f"/usr/bin/{t}")
    assert gnome.type_command("hi")[0] == "ydotool"
    with pytest.raises(InjectionError, match="ASCII"):
        gnome.type_command("café")  # refused, not silently dropped
    none = wayland.WaylandInjector(which=lambda t: None)
    assert "ydotool" in none.why_not() and "wl-copy" in none.why_not()


# --- macOS: chunks and events ---------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=120), max_units=st.integers(2, 20))
def test_utf16_chunks_keep_pairs_whole(text: str, max_units: int) -> None:
    chunks = macos.utf16_chunks(text, max_units)
    assert "".join(chunks) == text
    for c in chunks:
        assert 0 < len(c.encode("utf-16-le")) // 2 <= max_units
        c.encode("utf-16-le").decode("utf-16-le")  # a split pair would not round-trip


def test_utf16_chunks_examples() -> None:
    assert macos.utf16_chunks("a" * 19 + "🙂") == ["a" * 19, "🙂"]  # the pair is not split
    assert macos.utf16_chunks("🙂" * 11) == ["🙂" * 10, "🙂"]
    assert macos.utf16_chunks("") == []


class FakeQuartz:
    """Records the ApplicationServices calls (the system edge)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self._next = 100

    def CGEventCreateKeyboardEvent(self, source: object, keycode: int, down: bool) -> int:
        self._next += 1
        self.calls.append(("create", self._next, keycode, down))
        return self._next

    def CGEventKeyboardSetUnicodeString(self, ev: int, n: int, buf: ctypes.Array) -> None:
        self.calls.append(("unicode", ev, list(buf[:n])))

    def CGEventSetFlags(self, ev: int, flags: int) -> None:
        self.calls.append(("flags", ev, flags))

    def CGEventPost(self, tap: int, ev: int) -> None:
        self.calls.append(("post", tap, ev))

    def CFRelease(self, ev: int) -> None:
        self.calls.append(("release", ev))


def test_macos_typing_posts_unicode_events() -> None:
    fake = FakeQuartz()
    inj = macos.MacInjector(macos.Quartz(fake, fake))
    inj.type_text("a" * 19 + "🙂\nb")
    posted = [c for c in fake.calls if c[0] == "post"]
    assert len(posted) == 2 * 4  # 'a'*19, '🙂', Return, 'b': a down and an up each
    unicode = [c[2] for c in fake.calls if c[0] == "unicode"]
    assert unicode[0] == [0x61] * 19 and unicode[1] == [0x61] * 19  # down and up
    assert unicode[2] == [0xD83D, 0xDE42]  # the surrogate pair in one event
    creates = [c for c in fake.calls if c[0] == "create"]
    assert (creates[4][2], creates[4][3]) == (macos.KEY_RETURN, True)
    assert all(c[2] == 0 for c in fake.calls if c[0] == "flags")  # held modifiers cleared
    assert sorted(c[1] for c in fake.calls if c[0] == "release") == sorted(c[1] for c in creates)
    assert macos.Stroke(macos.KEY_V, "", macos.FLAG_COMMAND) == macos.CMD_V


def test_macos_strokes() -> None:
    strokes = macos.plan_strokes("hi\tyou\r\n")
    assert strokes == [
        macos.Stroke(0, "hi"),
        macos.Stroke(macos.KEY_TAB),
        macos.Stroke(0, "you"),
        macos.Stroke(macos.KEY_RETURN),
    ]


# --- Windows: INPUT records and the clipboard dance -----------------------------------------------
def test_windows_input_records() -> None:
    if ctypes.sizeof(ctypes.c_void_p) == 8:
        assert ctypes.sizeof(windows.INPUT) == 40  # Windows x64 layout
    recs = windows.text_inputs("a😀\n")
    got = [(r.type, r.ki.wVk, r.ki.wScan, r.ki.dwFlags) for r in recs]
    U, UP = windows.KEYEVENTF_UNICODE, windows.KEYEVENTF_KEYUP
    assert got == [
        (1, 0, 0x61, U),
        (1, 0, 0x61, U | UP),
        (1, 0, 0xD83D, U),
        (1, 0, 0xD83D, U | UP),  # a surrogate pair: two events
        (1, 0, 0xDE00, U),
        (1, 0, 0xDE00, U | UP),
        (1, windows.VK_RETURN, 0, 0),
        (1, windows.VK_RETURN, 0, UP),
    ]
    ctrl_v = [(r.ki.wVk, r.ki.dwFlags) for r in windows.ctrl_v_inputs()]
    assert ctrl_v == [(0x11, 0), (0x56, 0), (0x56, UP), (0x11, UP)]
    assert windows.worth_saving(windows.CF_UNICODETEXT) and windows.worth_saving(0xC123)
    assert not windows.worth_saving(windows.CF_BITMAP)


class FakeWin32(windows.Win32):
    """The Win32 edge as an in-memory clipboard that records what was sent."""

    def __init__(self, formats: list[windows.SavedFormat]) -> None:
        self.board = list(formats)
        self.seq = 1
        self.sent: list[list[tuple[int, int]]] = []
        self.during_paste: list[windows.SavedFormat] = []
        self.copy_during_paste = False
        self.registered: dict[str, int] = {}

    def open(self) -> None: ...

    def close(self) -> None: ...

    def read_formats(self) -> list[windows.SavedFormat]:
        return [f for f in self.board if windows.worth_saving(f.fmt)]

    def write(self, formats: list[windows.SavedFormat]) -> None:
        self.board = list(formats)
        self.seq += 1

    def sequence(self) -> int:
        return self.seq

    def register(self, name: str) -> int:
        return self.registered.setdefault(name, 0xC000 + len(self.registered))

    def send(self, records: list[windows.INPUT]) -> None:
        self.sent.append([(r.ki.wVk, r.ki.dwFlags) for r in records])
        self.during_paste = list(self.board)
        if self.copy_during_paste:
            self.write([windows.SavedFormat(windows.CF_UNICODETEXT, b"n\0e\0w\0\0\0")])


def test_windows_paste_marks_and_restores() -> None:
    users = [
        windows.SavedFormat(windows.CF_UNICODETEXT, "mine\0".encode("utf-16-le")),
        windows.SavedFormat(0xC0FF, b"<html>mine</html>"),
        windows.SavedFormat(windows.CF_BITMAP, b"gdi handle"),
    ]
    api = FakeWin32(users)
    windows.WindowsInjector(api, settle_s=0).paste_text("hé🙂")
    assert api.sent == [[(0x11, 0), (0x56, 0), (0x56, 2), (0x11, 2)]]
    ours = {f.fmt: f.data for f in api.during_paste}
    assert ours[windows.CF_UNICODETEXT] == "hé🙂\0".encode("utf-16-le")
    for name in windows.PRIVACY_FORMATS:
        assert api.registered[name] in ours  # kept out of history and cloud sync
    assert api.board == users[:2]  # the user's text and HTML are back (a GDI bitmap is not)


def test_windows_paste_keeps_a_newer_copy() -> None:
    api = FakeWin32([windows.SavedFormat(windows.CF_UNICODETEXT, b"o\0l\0d\0\0\0")])
    api.copy_during_paste = True
    windows.WindowsInjector(api, settle_s=0).paste_text("x")
    assert api.board == [windows.SavedFormat(windows.CF_UNICODETEXT, b"n\0e\0w\0\0\0")]


# --- Wayland: the paste sequence, with stand-in tools on PATH ------------------------------------------
FAKE_WL_COPY = r"""
import os, sys, time
clip = os.environ["FAKE_CLIP"]
args = sys.argv[1:]
open(clip + ".log", "a").write(" ".join(args) + "\n")
if "--help" in args:
    print("  --sensitive  mark as sensitive"); sys.exit(0)
if "--clear" in args:
    for suffix in (".data", ".type"):
        if os.path.exists(clip + suffix): os.remove(clip + suffix)
    sys.exit(0)
mime = args[args.index("--type") + 1] if "--type" in args else "text/plain;charset=utf-8"
data = sys.stdin.buffer.read()
open(clip + ".data", "wb").write(data)
open(clip + ".type", "w").write(mime)
if "--foreground" in args:  # serve until someone else copies
    while open(clip + ".data", "rb").read() == data:
        time.sleep(0.01)
"""
FAKE_WL_PASTE = r"""
import os, sys
clip = os.environ["FAKE_CLIP"]
if not os.path.exists(clip + ".data"):
    print("Nothing is copied", file=sys.stderr); sys.exit(1)
mime = open(clip + ".type").read()
if "--list-types" in sys.argv:
    print(mime); sys.exit(0)
want = sys.argv[sys.argv.index("--type") + 1] if "--type" in sys.argv else mime
if want != mime:
    sys.exit(1)
sys.stdout.buffer.write(open(clip + ".data", "rb").read())
"""
FAKE_WTYPE = r"""
import os, sys
clip, field = os.environ["FAKE_CLIP"], os.environ["FAKE_FIELD"]
args = sys.argv[1:]
if args == ["-M", "ctrl", "-k", "v", "-m", "ctrl"]:  # the paste key: the target reads the clipboard
    open(field, "ab").write(open(clip + ".data", "rb").read())
elif "--" in args:
    open(field, "ab").write(args[args.index("--") + 1].encode())
"""


@pytest.fixture
def fake_wayland(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, code in (("wl-copy", FAKE_WL_COPY), ("wl-paste", FAKE_WL_PASTE), ("wtype", FAKE_WTYPE)):
        tool = bin_dir / name
        tool.write_text(f"#!{sys.executable}\n{code}")
        tool.chmod(0o755)
    paths = {"clip": tmp_path / "clip", "field": tmp_path / "field"}
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLIP", str(paths["clip"]))
    monkeypatch.setenv("FAKE_FIELD", str(paths["field"]))
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "sway")
    wayland.wl_copy_has_sensitive.cache_clear()
    yield paths
    wayland.wl_copy_has_sensitive.cache_clear()


def test_wayland_paste_sequence_restores_the_clipboard(fake_wayland: dict[str, Path]) -> None:
    clip, field = fake_wayland["clip"], fake_wayland["field"]
    subprocess.run(["wl-copy", "--type", "image/png"], input=b"\x89PNG old", check=True)
    inj = wayland.WaylandInjector(settle_s=0.05)
    assert inj.available()
    inj.paste_text(ACCENTED)
    assert field.read_bytes().decode() == ACCENTED
    assert clip.with_suffix(".data").read_bytes() == b"\x89PNG old"  # the user's image is back
    assert clip.with_suffix(".type").read_text() == "image/png"
    log = clip.with_suffix(".log").read_text()
    assert "--foreground --sensitive --type text/plain;charset=utf-8" in log
    inj.type_text(" " + PLAIN)
    assert field.read_bytes().decode() == f"{ACCENTED} {PLAIN}"


def test_wayland_paste_into_an_empty_clipboard_clears_it(fake_wayland: dict[str, Path]) -> None:
    clip, field = fake_wayland["clip"], fake_wayland["field"]
    wayland.WaylandInjector(settle_s=0.05).paste_text(PLAIN)
    assert field.read_bytes().decode() == PLAIN
    assert not clip.with_suffix(".data").exists()  # our text does not linger


@needs_x
def test_text_too_big_for_one_request_goes_through_xclip(display: str, injector: X11Injector) -> None:
    from app.injection.clipboard import MAX_XLIB_BYTES

    big = ("dictated words, " * (MAX_XLIB_BYTES // 16 + 100))[: MAX_XLIB_BYTES + 1000]
    set_clipboard(display, b"OLD-CLIPBOARD")
    with TargetField(display, multiline=True) as field:  # QLineEdit stops at 32767 characters
        injector.paste_text(big)
        field.wait_for_text(big, timeout=20)
    assert get_clipboard(display) == b"OLD-CLIPBOARD"
