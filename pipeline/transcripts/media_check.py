"""Is the media at a project's path still the file it was transcribed from?

A project's word times are only true of the exact bytes that were transcribed. A clip re-exported
under the same name keeps its path but not its timing, and a cut rendered from it would remove the
wrong words. The size is compared first (free), then the sha256 (one read of the file).
"""

from __future__ import annotations

from pathlib import Path

from audio.errors import MediaError
from pipeline.models.store import sha256_file
from pipeline.transcripts.transcript import MediaRef


class MediaChangedError(MediaError):
    """The file at the project's media path is not the one the project was made from."""


def media_changed(ref: MediaRef, path: str | Path | None = None) -> str | None:
    """Why the file at `path` (default: the project's media path) differs from `ref`, or None when it is
    the same file. A project written without a hash (older or hand-made) is taken as it is."""
    p = Path(path if path is not None else ref.path)
    size = p.stat().st_size
    if ref.size is not None and size != ref.size:
        return f"its size is {size:,} bytes, not {ref.size:,}"
    if ref.sha256 and sha256_file(p) != ref.sha256:
        return "its content differs (sha256)"
    return None


def check_media_unchanged(ref: MediaRef, path: str | Path | None = None, *, hint: str = "") -> None:
    """Raise MediaChangedError naming the file and how it differs; `hint` says what the user can do."""
    p = Path(path if path is not None else ref.path)
    why = media_changed(ref, p)
    if why is not None:
        raise MediaChangedError(p, f"changed since the project was made ({why}){'; ' + hint if hint else ''}")
