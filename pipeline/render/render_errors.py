"""The errors a trimmed export raises (re-exported by pipeline.render.render, where callers import them)."""

from __future__ import annotations

from audio.errors import Cancelled, HarkError


class RenderError(HarkError):
    """The export could not be made; the message says why in one line."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = details or []  # ffmpeg's last stderr lines, for a log


class RenderCancelled(Cancelled):
    def __init__(self) -> None:
        super().__init__("export cancelled")


class CopyNotPossible(RenderError):
    """mode="copy" was asked for but the video cannot be copied exactly."""
