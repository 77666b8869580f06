"""Putting dictated text into the focused window of another program.

    injector = detect_injector()            # or detect_injector("x11")
    result = inject(injector, text, "auto")  # "auto" | "type" | "paste"

Blocking calls (a paste waits up to 1.5 s for the target to read): run them off the
Qt GUI thread. See base.py for how "auto" chooses, clipboard.py for how the user's
clipboard is kept, and each platform module for its tools.
"""

from app.injection.base import (
    AUTO_TYPE_MAX_CHARS,
    METHODS,
    ClipboardBusy,
    InjectionError,
    InjectionResult,
    InjectionUnavailable,
    Injector,
    choose_method,
    inject,
)
from app.injection.detect import detect_injector, session_kind

__all__ = [
    "AUTO_TYPE_MAX_CHARS",
    "METHODS",
    "ClipboardBusy",
    "InjectionError",
    "InjectionResult",
    "InjectionUnavailable",
    "Injector",
    "choose_method",
    "detect_injector",
    "inject",
    "session_kind",
]
