"""What the source holds: duration, start, streams, frame rate and timecode from ffmpeg's
banner (probe_media), and the video packet table (scan_packets, keyframe_times)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from audio import child_process
from audio.errors import NotMediaError
from audio.ffmpeg_tools import FfmpegTools, find_tools
from audio.probe import check_path, parse_banner
from pipeline.render.ffmpeg_run import run_ffmpeg


@dataclass(frozen=True)
class MediaFacts:
    path: Path
    duration: float | None
    start: float  # container start time; keep-ranges count from here
    has_audio: bool
    has_video: bool
    fps: Fraction | None  # nominal video frame rate
    video_codec: str | None
    timecode: str | None = None  # embedded start timecode (HH:MM:SS:FF), if the file has one


_START = re.compile(r"Duration:.*?start:\s*(-?\d+(?:\.\d+)?)")
_TIMECODE = re.compile(r"^\s*timecode\s*:\s*(\d\d:\d\d:\d\d[:;]\d\d)", re.M)
_VIDEO_LINE = re.compile(r"Stream #0:\d+.*?: Video: (\w+)(.*)")
_RATE = re.compile(r"(\d+(?:\.\d+)?)(k?) (fps|tbr)")
_NTSC = {
    23.98: Fraction(24000, 1001),
    29.97: Fraction(30000, 1001),
    47.95: Fraction(48000, 1001),
    59.94: Fraction(60000, 1001),
    119.88: Fraction(120000, 1001),
}


def _parse_rate(text: str) -> Fraction | None:
    rates = {kind: float(num) * (1000 if k else 1) for num, k, kind in _RATE.findall(text)}
    value = rates.get("fps") or rates.get("tbr")
    if not value:
        return None
    return _NTSC.get(round(value, 2)) or Fraction(value).limit_denominator(1001)


def probe_media(path: str | Path, tools: FfmpegTools | None = None) -> MediaFacts:
    """Duration, start, streams and frame rate, from ffmpeg's own description (no ffprobe needed)."""
    p = Path(path)
    check_path(p)  # MediaNotFoundError, EmptyMediaError, ...
    tools = tools or find_tools()
    run = child_process.run(
        [tools.ffmpeg, "-hide_banner", "-nostdin", "-i", str(p)], capture_output=True, text=True, errors="replace"
    )
    info = parse_banner(p, run.stderr)  # NotMediaError when ffmpeg cannot read it
    head = re.split(r"^.*(?:Output #0|Stream mapping:)", run.stderr, maxsplit=1, flags=re.M)[0]
    start = _START.search(head)
    video = next((m for m in _VIDEO_LINE.finditer(head) if "attached pic" not in m.group(0)), None)
    if not info.has_audio and video is None:
        raise NotMediaError(p, "it has neither audio nor video")
    return MediaFacts(
        path=p,
        duration=info.duration,
        start=float(start.group(1)) if start else 0.0,
        has_audio=info.has_audio,
        has_video=video is not None,
        fps=_parse_rate(video.group(2)) if video else None,
        video_codec=video.group(1) if video else None,
        timecode=tc.group(1) if (tc := _TIMECODE.search(head)) else None,
    )


# --- the video packet table -------------------------------------------------------------
@dataclass(frozen=True)
class Packets:
    """The video stream's packets in decode order (timestamps in ticks of `tb`, as stored)."""

    dts: list[int]
    pts: list[int]
    key: list[bool]
    tb: Fraction

    def keyframe_times(self) -> list[float]:
        return sorted(float(p * self.tb) for p, k in zip(self.pts, self.key) if k)


_FLAGS = re.compile(r"F=0x([0-9a-fA-F]+)")


def scan_packets(media: Path, tools: FfmpegTools, cancel: threading.Event | None = None) -> Packets:
    """Read the video packet table with framecrc (-c copy: nothing is decoded)."""
    cmd = [
        tools.ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-copyts",
        "-i",
        str(media),
        "-map",
        "0:v:0",
        "-c",
        "copy",
        "-f",
        "framecrc",
        "-",
    ]
    lines: list[str] = []
    run_ffmpeg(cmd, total=None, progress=None, cancel=cancel, stdout_lines=lines)
    tb = Fraction(1, 1)
    dts: list[int] = []
    pts: list[int] = []
    key: list[bool] = []
    for line in lines:
        if line.startswith("#tb 0:"):
            tb = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            f = line.split(",")
            dts.append(int(f[1]))
            pts.append(int(f[2]))
            flags = _FLAGS.search(line)  # printed only when they differ from "keyframe"
            key.append(flags is None or bool(int(flags.group(1), 16) & 1))
    return Packets(dts, pts, key, tb)


def keyframe_times(media: str | Path, tools: FfmpegTools | None = None) -> list[float]:
    """Seconds (from the media start) of the video keyframes: where a stream copy can cut."""
    tools = tools or find_tools()
    facts = probe_media(media, tools)
    if not facts.has_video:
        return []
    return [t - facts.start for t in scan_packets(Path(media), tools).keyframe_times()]
