"""File extensions Hark offers to open (ffmpeg reads many more; this is for folders)."""

from __future__ import annotations

from pathlib import Path

AUDIO_EXTENSIONS = frozenset(
    [
        ".wav",
        ".mp3",
        ".m4a",
        ".aac",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".wma",
        ".aif",
        ".aiff",
        ".amr",
        ".ac3",
        ".caf",
        ".mka",
        ".weba",
    ]
)
VIDEO_EXTENSIONS = frozenset(
    [".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".wmv", ".flv", ".mpg", ".mpeg", ".ts", ".mts", ".3gp", ".ogv"]
)
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS


def is_media_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MEDIA_EXTENSIONS


def expand_inputs(paths: list[str | Path]) -> list[Path]:
    """Files as given; folders become the media files inside them, recursively, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and is_media_name(f)))
        else:
            out.append(p)
    return out
