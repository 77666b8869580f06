"""Typed errors shared by every layer.

They live in the bottom layer (audio/) so that pipeline/ and app/ can catch them
without any import pointing upwards. Each message is one line meant for a user.
"""

from __future__ import annotations


class HarkError(Exception):
    """Base for every error Hark reports to a user as one clear line."""


class Cancelled(HarkError):
    """The user (or the caller) cancelled the job."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


class MediaError(HarkError):
    """Input media that cannot be used. `path` names the file."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class MediaNotFoundError(MediaError):
    def __init__(self, path: object) -> None:
        super().__init__(path, "no such file")


class NotMediaError(MediaError):
    def __init__(self, path: object, detail: str = "") -> None:
        reason = "not an audio or video file ffmpeg can read"
        super().__init__(path, f"{reason} ({detail})" if detail else reason)


class NoAudioStreamError(MediaError):
    def __init__(self, path: object) -> None:
        super().__init__(path, "has no audio track")


class EmptyMediaError(MediaError):
    def __init__(self, path: object) -> None:
        super().__init__(path, "contains no audio (zero length)")


class SilentMediaError(MediaError):
    def __init__(self, path: object) -> None:
        super().__init__(path, "the audio is silent; there is nothing to transcribe")


class FfmpegMissingError(HarkError):
    def __init__(self) -> None:
        super().__init__(
            "ffmpeg was not found: install it (Debian: apt-get install ffmpeg; macOS: brew install ffmpeg) "
            "or reinstall Hark so its bundled ffmpeg (imageio-ffmpeg) is present"
        )
