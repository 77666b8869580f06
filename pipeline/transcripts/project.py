"""A Hark project: one transcript, the media it came from, and the settings that made it.

Stored as versioned JSON (the transcript object of docs/transcript-format.md,
wrapped with settings), written atomically so an autosave never leaves half a
file. Media that moved is found again by its content hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.atomic_write import write_text_atomic
from pipeline.models.store import sha256_file
from pipeline.transcripts import json_guard, transcript_json
from pipeline.transcripts.transcript import Transcript
from pipeline.transcripts.transcript_json import TranscriptFormatError

FORMAT = "hark-project"
VERSION = 1
SUFFIX = ".hark"


class ProjectFormatError(TranscriptFormatError):
    pass


@dataclass
class Project:
    transcript: Transcript
    settings: dict[str, Any] = field(default_factory=dict)  # engine, model, language, ... as used
    path: Path | None = None  # where it is saved; None until it is

    @property
    def media_path(self) -> Path:
        return Path(self.transcript.media.path)

    @property
    def title(self) -> str:
        return self.media_path.name


def to_dict(p: Project) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "settings": p.settings,
        "transcript": transcript_json.to_dict(p.transcript),
    }


def save(p: Project, path: str | Path | None = None) -> Path:
    target = Path(path) if path is not None else p.path
    if target is None:
        raise ValueError("the project has no file yet: give a path")
    text = json.dumps(to_dict(p), ensure_ascii=False, indent=1, allow_nan=False)
    p.path = write_text_atomic(target, text + "\n")
    return p.path


def load(path: str | Path) -> Project:
    """The project in `path`; ProjectFormatError, one line naming the bad field, for any malformed file."""
    src = Path(path)
    try:
        text = json_guard.read_text(src)
    except FileNotFoundError as e:
        raise ProjectFormatError(f"{src}: no such project") from e
    except json_guard.JsonInputError as e:
        raise ProjectFormatError(f"{src}: not a Hark project ({e})") from None
    except OSError as e:
        raise ProjectFormatError(f"{src}: cannot read the project ({e})") from e
    try:
        data = json_guard.parse(text)
    except json.JSONDecodeError as e:
        raise ProjectFormatError(f"{src}: not a Hark project (invalid JSON: {e})") from None
    except json_guard.JsonInputError as e:
        raise ProjectFormatError(f"{src}: not a Hark project ({e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProjectFormatError(f"{src}: not a Hark project")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectFormatError(f"{src}: bad project version {json_guard.show(version)}")
    if version > VERSION:
        raise ProjectFormatError(f"{src}: written by a newer Hark (project version {json_guard.show(version)})")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise ProjectFormatError(f"{src}: project settings are malformed (settings should be an object)")
    try:
        json_guard.check_value(settings, "settings")
    except json_guard.JsonValueError as e:
        raise ProjectFormatError(f"{src}: project settings are malformed: {e}") from None
    try:
        transcript = transcript_json.from_dict(data.get("transcript"))
    except TranscriptFormatError as e:
        raise ProjectFormatError(f"{src}: {e}") from None
    return Project(transcript=transcript, settings=settings, path=src)


def media_missing(p: Project) -> bool:
    return not p.media_path.is_file()


def relink_media(p: Project, candidate: str | Path, *, check_hash: bool = True) -> bool:
    """Point the project at `candidate` if it is the same media (same content hash).

    Returns False, changing nothing, when the file differs from the one transcribed.
    """
    c = Path(candidate).expanduser().resolve()
    if not c.is_file():
        return False
    if check_hash and p.transcript.media.sha256 and sha256_file(c) != p.transcript.media.sha256:
        return False
    p.transcript.media.path = str(c)
    return True


def find_moved_media(p: Project, folders: list[Path]) -> Path | None:
    """Look for the media by name, then by size and hash, in `folders` (not recursive)."""
    want = p.transcript.media
    for folder in folders:
        named = folder / p.media_path.name
        if named.is_file() and sha256_file(named) == want.sha256:
            return named
    for folder in folders:
        try:
            files = [f for f in folder.iterdir() if f.is_file()]
        except OSError:
            continue
        for f in files:
            if want.size is not None and f.stat().st_size != want.size:
                continue
            if sha256_file(f) == want.sha256:
                return f
    return None


def project_name_for(media: Path, folder: Path) -> Path:
    """A new, unused project file name in `folder` for `media`."""
    stem = media.stem or "project"
    candidate = folder / f"{stem}{SUFFIX}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{SUFFIX}"
        n += 1
    return candidate
