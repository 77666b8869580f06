"""Where the app keeps its state. HARK_DATA_DIR moves all of it (tests use that)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    env = os.environ.get("HARK_DATA_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("hark", appauthor=False))


def queue_file() -> Path:
    return data_dir() / "queue.json"


def recent_file() -> Path:
    return data_dir() / "recent.json"


def default_projects_dir() -> Path:
    return data_dir() / "projects"
