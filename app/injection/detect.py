"""Pick the injector for this platform and session."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from app.injection.base import InjectionUnavailable, Injector

PREFERENCES = ("auto", "x11", "wayland", "macos", "windows")


def session_kind(platform: str = sys.platform, env: Mapping[str, str] | None = None) -> str:
    """ "macos", "windows", "wayland", "x11" or "none" (no graphical session)."""
    env = os.environ if env is None else env
    if platform == "darwin":
        return "macos"
    if platform.startswith("win"):
        return "windows"
    session = env.get("XDG_SESSION_TYPE", "").lower()
    # XWayland sets DISPLAY too, but X11 events reach only XWayland windows there.
    if session == "wayland" or (env.get("WAYLAND_DISPLAY") and session != "x11"):
        return "wayland"
    if env.get("DISPLAY"):
        return "x11"
    return "none"


def make_injector(kind: str) -> Injector:
    if kind == "x11":
        from app.injection.x11 import X11Injector

        return X11Injector()
    if kind == "wayland":
        from app.injection.wayland import WaylandInjector

        return WaylandInjector()
    if kind == "macos":
        from app.injection.macos import MacInjector

        return MacInjector()
    if kind == "windows":
        from app.injection.windows import WindowsInjector

        return WindowsInjector()
    raise ValueError(f"unknown injector {kind!r}; expected one of {PREFERENCES}")


def detect_injector(preference: str = "auto") -> Injector:
    """The injector to use, checked; InjectionUnavailable says what to install."""
    if preference not in PREFERENCES:
        raise ValueError(f"unknown injector {preference!r}; expected one of {PREFERENCES}")
    kind = session_kind() if preference == "auto" else preference
    if kind == "none":
        raise InjectionUnavailable("No graphical session to type into (neither WAYLAND_DISPLAY nor DISPLAY is set).")
    injector = make_injector(kind)
    reason = injector.why_not()
    if reason:
        raise InjectionUnavailable(reason)
    return injector
