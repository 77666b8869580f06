"""The global dictation hotkey under a real X server: press and release of a key combination."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from app.dictation import hotkeys
from tests.target_field import Xvfb


@pytest.fixture(scope="module")
def display():
    with Xvfb() as d:
        yield d


def xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display}, check=True, timeout=20)


def wait_for(events: list[str], n: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(events) < n and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize("combo,keys", [("<ctrl>+<alt>+space", "ctrl+alt+space"), ("ctrl+shift+d", "ctrl+shift+d")])
def test_press_and_release_of_the_combination(display, monkeypatch, combo, keys):
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    events: list[str] = []
    lock = threading.Lock()

    def record(name: str) -> Callable[[], None]:  # the callbacks come from pynput's thread
        def callback() -> None:
            with lock:
                events.append(name)

        return callback

    hk = hotkeys.GlobalHotkey(combo, record("press"), record("release"))
    hk.start()
    try:
        xdotool(display, "key", "a")  # other keys do nothing
        xdotool(display, "keydown", keys)
        wait_for(events, 1)
        assert events == ["press"]
        xdotool(display, "keyup", keys)
        wait_for(events, 2)
        assert events == ["press", "release"]
        xdotool(display, "key", keys)  # a tap: press then release again
        wait_for(events, 4)
        assert events == ["press", "release", "press", "release"]
    finally:
        hk.stop()


def test_wayland_is_refused_with_the_alternative(monkeypatch):
    monkeypatch.setattr(hotkeys.sys, "platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    ok, why = hotkeys.global_hotkeys_supported()
    assert not ok and "hark dictate --toggle" in why
    with pytest.raises(hotkeys.HotkeyError, match="hark dictate --toggle"):
        hotkeys.GlobalHotkey("<ctrl>+<alt>+space", lambda: None, lambda: None)


def test_bad_combinations_are_explained(display, monkeypatch):
    monkeypatch.setenv("DISPLAY", display)
    with pytest.raises(hotkeys.HotkeyError, match="not a key combination"):
        hotkeys.parse_hotkey("<nosuchkey>+x")
    assert len(hotkeys.parse_hotkey("ctrl+alt+space")) == 3


def test_the_hotkey_never_reaches_the_focused_app(display, monkeypatch):
    from tests.target_field import TargetField

    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    events: list[str] = []
    hk = hotkeys.GlobalHotkey("<ctrl>+<alt>+space", lambda: events.append("press"), lambda: events.append("release"))
    hk.start()
    try:
        with TargetField(display) as field:
            xdotool(display, "type", "ab")
            xdotool(display, "key", "ctrl+alt+space")  # grabbed: no space typed into the field
            xdotool(display, "type", "c")
            wait_for(events, 2)
            assert field.wait_stable(quiet_s=0.3) == "abc"
            assert events == ["press", "release"]
    finally:
        hk.stop()
