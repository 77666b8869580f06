"""Where ffmpeg and ffprobe are.

The system ffmpeg is preferred (it comes with ffprobe); otherwise the static
ffmpeg bundled by imageio-ffmpeg is used, which has no ffprobe. HARK_FFMPEG may
name an ffmpeg binary, or "bundled" to force the imageio-ffmpeg one.
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from audio.errors import FfmpegMissingError


@dataclass(frozen=True)
class FfmpegTools:
    ffmpeg: str
    ffprobe: str | None  # None: probe with ffmpeg itself


@functools.cache
def _bundled_ffmpeg() -> str | None:
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None


def find_tools() -> FfmpegTools:
    choice = os.environ.get("HARK_FFMPEG", "").strip()
    if choice == "bundled":
        exe = _bundled_ffmpeg()
        if exe is None:
            raise FfmpegMissingError()
        return FfmpegTools(exe, None)
    if choice:
        if not Path(choice).is_file():
            raise FfmpegMissingError()
        probe = Path(choice).with_name("ffprobe")
        return FfmpegTools(choice, str(probe) if probe.is_file() else None)
    system = shutil.which("ffmpeg")
    if system:
        return FfmpegTools(system, shutil.which("ffprobe"))
    exe = _bundled_ffmpeg()
    if exe is None:
        raise FfmpegMissingError()
    return FfmpegTools(exe, None)
