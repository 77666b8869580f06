"""What a media file holds: duration and its first audio stream.

Uses ffprobe's JSON when there is an ffprobe; otherwise parses the banner that
`ffmpeg -i FILE` prints, which carries the same facts we need.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from audio import child_process
from audio.errors import EmptyMediaError, MediaError, MediaNotFoundError, NoAudioStreamError, NotMediaError
from audio.ffmpeg_tools import FfmpegTools, find_tools


@dataclass(frozen=True)
class MediaInfo:
    path: str
    duration: float | None  # seconds; None when the container does not say
    format_name: str
    has_audio: bool
    has_video: bool
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


def probe(path: str | Path, tools: FfmpegTools | None = None) -> MediaInfo:
    """Describe `path`, raising a MediaError subclass for unusable input."""
    p = Path(path)
    check_path(p)
    tools = tools or find_tools()
    info = _probe_ffprobe(p, tools.ffprobe) if tools.ffprobe else _probe_ffmpeg(p, tools.ffmpeg)
    if not info.has_audio:
        raise NoAudioStreamError(p)
    return info


def check_path(p: Path) -> None:
    """The checks that need no ffmpeg: exists, is a file, is not empty."""
    if not p.exists():
        raise MediaNotFoundError(p)
    if p.is_dir():
        raise NotMediaError(p, "it is a folder")
    if p.stat().st_size == 0:
        raise EmptyMediaError(p)
    try:
        with open(p, "rb"):
            pass
    except PermissionError:  # else ffmpeg's "Permission denied" would read as "not a media file"
        raise MediaError(p, "permission denied: this user may not read it") from None


def _first_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    # ffmpeg prefixes lines with the file name; keep the part that explains.
    return lines[-1].split(": ", 1)[-1] if lines else "unknown error"


def _probe_ffprobe(p: Path, ffprobe: str) -> MediaInfo:
    cmd = [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(p)]
    run = child_process.run(cmd, capture_output=True, text=True, errors="replace")
    if run.returncode != 0:
        raise NotMediaError(p, _first_error_line(run.stderr))
    data = json.loads(run.stdout or "{}")
    streams = data.get("streams", [])
    fmt = data.get("format", {})
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    # Cover art in audio files shows up as a video stream flagged attached_pic.
    has_video = any(
        s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic") for s in streams
    )
    duration = _float_or_none(fmt.get("duration"))
    if audio is not None and duration is None:
        duration = _float_or_none(audio.get("duration"))
    return MediaInfo(
        path=str(p),
        duration=duration,
        format_name=fmt.get("format_name", ""),
        has_audio=audio is not None,
        has_video=has_video,
        audio_codec=audio.get("codec_name") if audio else None,
        sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        channels=audio.get("channels") if audio else None,
    )


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_INPUT = re.compile(r"Input #0, ([^,]+(?:,[^,]+)*?), from")
_AUDIO = re.compile(r"Stream #0:\d+.*?: Audio: (\w+)[^,]*, (\d+) Hz, ([^,]+)")
_VIDEO = re.compile(r"Stream #0:\d+.*?: Video: .*")
_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def _probe_ffmpeg(p: Path, ffmpeg: str) -> MediaInfo:
    # `ffmpeg -i FILE` with no output exits 1 by design; the banner is what we want.
    run = child_process.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(p)], capture_output=True, text=True, errors="replace"
    )
    return parse_banner(p, run.stderr)


def parse_banner(p: Path, err: str) -> MediaInfo:
    """MediaInfo from the input description ffmpeg prints on stderr (`Input #0, ...`).

    Only the input part is read: the output streams that follow must not count.
    Raises NotMediaError when ffmpeg could not open the file as media.
    """
    if "Input #0" not in err:
        raise NotMediaError(p, _first_error_line(err))
    err = re.split(r"^.*(?:Output #0|Stream mapping:)", err, maxsplit=1, flags=re.M)[0]
    m = _DURATION.search(err)
    duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None
    a = _AUDIO.search(err)
    videos = [ln for ln in _VIDEO.findall(err) if "attached pic" not in ln]
    fmt = _INPUT.search(err)
    channels = None
    if a:
        layout = a.group(3).strip()
        channels = _CHANNELS.get(layout) or _int_prefix(layout)
    return MediaInfo(
        path=str(p),
        duration=duration,
        format_name=fmt.group(1) if fmt else "",
        has_audio=a is not None,
        has_video=bool(videos),
        audio_codec=a.group(1) if a else None,
        sample_rate=int(a.group(2)) if a else None,
        channels=channels,
    )


def _int_prefix(text: str) -> int | None:
    m = re.match(r"(\d+) channels", text)
    return int(m.group(1)) if m else None


def _float_or_none(v: object) -> float | None:
    if not isinstance(v, (str, int, float)):  # ffprobe's JSON: a string, a number, or missing
        return None
    try:
        f = float(v)
    except ValueError:
        return None
    return f if f >= 0 else None
