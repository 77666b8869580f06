"""`hark dictate --toggle|--start|--stop|--cancel`: drive dictation in the running app.

Where global hotkeys are not available to apps (Wayland), bind these commands
in the desktop's keyboard-shortcut settings; they reach the running Hark over
its local socket, so they act at once (no model is loaded here).
"""

from __future__ import annotations

import argparse
import sys

ACTIONS = {
    "toggle": "dictate-toggle",
    "start": "dictate-start",
    "stop": "dictate-stop",
    "cancel": "dictate-cancel",
    "history": "show-history",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser(
        "dictate",
        help="start/stop dictation in the running app (for desktop shortcuts, e.g. on Wayland)",
        description="Control dictation in the running Hark window. Bind these to keys in your desktop's "
        "shortcut settings where Hark's own hotkey cannot work (Wayland): --toggle for one key, or "
        "--start and --stop on press and release.",
    )
    g = d.add_mutually_exclusive_group(required=True)
    for action in ACTIONS:
        help_text = {
            "toggle": "start dictating, or stop and insert the text",
            "start": "start dictating (does nothing if already listening)",
            "stop": "stop and insert the text",
            "cancel": "stop and throw the recording away",
            "history": "show the dictation history window",
        }[action]
        g.add_argument(f"--{action}", dest="action", action="store_const", const=action, help=help_text)
    d.set_defaults(func=cmd_dictate)


def cmd_dictate(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QCoreApplication

    from app.system.single_instance import send_command

    _app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    if send_command(ACTIONS[args.action]):
        return 0
    print("hark: error: Hark is not running; start it first (run: hark), then use hark dictate", file=sys.stderr)
    return 1
