"""Trimmed export: write the media with everything outside the keep-ranges removed.

Re-encode path: ONE ffmpeg process, one filter graph. Video: trim + setpts per range,
concat, libx264. Audio: atrim + asetpts per range, joined by short crossfades that
do not change the length: each inner edge of a range is extended by half the fade
and the overlap of the extended pieces is crossfaded, so the audio stays exactly as
long as the video (sum of the keep-ranges).

Stream-copy path (video untouched, audio still re-encoded with crossfades): allowed
when every range starts on a video keyframe. ffmpeg's concat demuxer cannot do this
exactly: it ends a segment on the first packet of ANY stream past the outpoint, and
by decode time, so B-frames spill into the next segment. Instead we read the packet
table (framecrc: dts, pts, key flag; no decoding), pick per range the packets from
the keyframe up to the first packet shown at or after the range's end, drop all
others with the `noise` bitstream filter and close the gaps with `setts`. A range
ending mid-GOP may lose up to the B-frame depth of frames at its very end (the
previous frame stays on screen that long); timing and A/V sync are unaffected.

Writes go to a temporary file in the output folder that is renamed over the output
only on success; the source is never written.
"""
from __future__ import annotations

import collections
import errno
import functools
import math
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from audio.errors import Cancelled, HarkError, NotMediaError
from audio.ffmpeg_tools import FfmpegTools, find_tools
from audio.probe import check_path, parse_banner

Range = tuple[float, float]
Mode = Literal["auto", "reencode", "copy"]
Quality = Literal["fast", "balanced", "quality"]
ProgressFn = Callable[[float], None]

# x264 preset and constant-quality factor per quality choice.
QUALITY_PRESETS: dict[str, tuple[str, int]] = {
    "fast": ("veryfast", 23),
    "balanced": ("medium", 20),
    "quality": ("slow", 18),
}
DEFAULT_CROSSFADE = 0.020
MIN_FADE = 0.001  # shorter joins are plain cuts
# Filter graphs longer than this go through a script file (argv has per-argument limits).
SCRIPT_THRESHOLD = 8_000

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv"})
_MP4_FAMILY = frozenset({".mp4", ".m4v", ".mov"})
# Audio-only output: suffix -> encoder arguments.
AUDIO_CODECS: dict[str, list[str]] = {
    ".wav": ["-c:a", "pcm_s16le"],
    ".flac": ["-c:a", "flac"],
    ".mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    ".m4a": ["-c:a", "aac", "-b:a", "192k"],
    ".m4b": ["-c:a", "aac", "-b:a", "192k"],
    ".aac": ["-c:a", "aac", "-b:a", "192k"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "5"],
    ".oga": ["-c:a", "libvorbis", "-q:a", "5"],
    ".opus": ["-c:a", "libopus", "-b:a", "128k"],
}


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


@dataclass(frozen=True)
class RenderOptions:
    mode: Mode = "auto"
    quality: Quality = "balanced"
    crossfade: float = DEFAULT_CROSSFADE  # seconds at every join; 0 = hard cuts
    burn_subtitles: Path | None = None  # SRT/VTT/ASS already in OUTPUT time
    audio_bitrate: str = "192k"  # for AAC in video outputs


@dataclass(frozen=True)
class RenderResult:
    path: Path
    duration: float  # seconds of output: the sum of the keep-ranges
    video: Literal["reencoded", "copied", "none"]
    ranges: int
    elapsed: float
    note: str = ""  # e.g. why auto mode did not copy


# --- what the source holds --------------------------------------------------------------
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
_NTSC = {23.98: Fraction(24000, 1001), 29.97: Fraction(30000, 1001), 47.95: Fraction(48000, 1001),
         59.94: Fraction(60000, 1001), 119.88: Fraction(120000, 1001)}


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
    run = subprocess.run([tools.ffmpeg, "-hide_banner", "-nostdin", "-i", str(p)],
                         capture_output=True, text=True, errors="replace")
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


# --- the cut list -----------------------------------------------------------------------
def normalize_keep(keep: list[Range], duration: float | None) -> list[Range]:
    """Validated keep-ranges: clamped to the media, empty ones dropped, touching ones merged."""
    out: list[Range] = []
    prev_end = float("-inf")
    for a, b in keep:
        a, b = float(a), float(b)
        if not (math.isfinite(a) and math.isfinite(b)):
            raise RenderError(f"invalid keep-range ({a}, {b})")
        if b < a:
            raise RenderError(f"keep-range ends before it starts: {a:.3f} s to {b:.3f} s")
        if a < prev_end - 1e-6:
            raise RenderError("keep-ranges must be sorted and must not overlap")
        prev_end = b
        a = max(0.0, a)
        if duration is not None:
            b = min(b, duration)
        if b - a <= 1e-6:
            continue
        if out and a - out[-1][1] <= 1e-3:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    if not out:
        raise RenderError("nothing to export: every part of the media was cut")
    return out


def audio_plan(keep: list[Range], crossfade: float, duration: float | None) -> tuple[list[Range], list[float]]:
    """Source pieces to take (extended at inner edges) and the fade at each join.

    Piece i is keep[i] grown by half of each adjacent fade; overlapping the pieces by the
    fade gives back exactly the sum of the keep-ranges. A fade is shortened where a range is
    shorter than it or the media ends, and dropped (plain cut) below MIN_FADE.
    """
    end = duration if duration is not None else float("inf")
    fades: list[float] = []
    for (a0, b0), (a1, b1) in zip(keep, keep[1:]):
        f = min(crossfade, b0 - a0, b1 - a1, 2 * (end - b0), 2 * a1)
        fades.append(f if f >= MIN_FADE else 0.0)
    pieces = []
    for i, (a, b) in enumerate(keep):
        left = fades[i - 1] / 2 if i > 0 else 0.0
        right = fades[i] / 2 if i < len(fades) else 0.0
        pieces.append((a - left, b + right))
    return pieces, fades


def video_plan(keep: list[Range], fps: Fraction | None) -> list[Range]:
    """Trim windows that give each range a whole number of frames without drift.

    Output frame counts follow the rounded running total of the range lengths, so the
    video ends within half a frame of the audio and every join is within a frame of it.
    Windows are placed between frame times, immune to timestamp jitter.
    """
    if fps is None:
        return list(keep)
    rate = float(fps)
    out: list[Range] = []
    t = 0.0
    for a, b in keep:
        n = round((t + b - a) * rate) - round(t * rate)
        t += b - a
        if n <= 0:
            continue  # shorter than a frame: the audio keeps it, the video skips it
        k = round(a * rate)
        out.append((max(0.0, (k - 0.5) / rate), (k + n - 0.5) / rate))
    return out


# --- filter graph -----------------------------------------------------------------------
def _t(x: float) -> str:
    return f"{x:.6f}"


def escape_filter_path(path: str | Path) -> str:
    """A file name as a filter option value inside a filter graph.

    Two levels: the option parser treats \\ ' : specially; the graph parser \\ ' [ ] , ;.
    """
    level1 = re.sub(r"([\\':])", r"\\\1", str(path))
    return re.sub(r"([\\'\[\],;])", r"\\\1", level1)


def audio_graph(pieces: list[Range], fades: list[float], src: str = "[0:a:0]", out: str = "[aout]") -> list[str]:
    n = len(pieces)
    chains = [f"{src}asplit={n}" + "".join(f"[as{i}]" for i in range(n))] if n > 1 else []
    for i, (a, b) in enumerate(pieces):
        inp = f"[as{i}]" if n > 1 else src
        chains.append(f"{inp}atrim=start={_t(a)}:end={_t(b)},asetpts=PTS-STARTPTS" + (f"[a{i}]" if n > 1 else out))
    prev = "[a0]"
    for i in range(1, n):
        label = out if i == n - 1 else f"[ax{i}]"
        f = fades[i - 1]
        join = f"acrossfade=d={_t(f)}:c1=tri:c2=tri" if f > 0 else "concat=n=2:v=0:a=1"
        chains.append(f"{prev}[a{i}]{join}{label}")
        prev = label
    return chains


def video_graph(windows: list[Range], subtitles: Path | None, src: str = "[0:v:0]", out: str = "[vout]") -> list[str]:
    n = len(windows)
    chains = [f"{src}split={n}" + "".join(f"[vs{i}]" for i in range(n))] if n > 1 else []
    for i, (a, b) in enumerate(windows):
        inp = f"[vs{i}]" if n > 1 else src
        chains.append(f"{inp}trim=start={_t(a)}:end={_t(b)},setpts=PTS-STARTPTS[v{i}]")
    tail = f",subtitles=filename={escape_filter_path(subtitles)}" if subtitles else ""
    if n > 1:
        chains.append("".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0{tail}{out}")
    else:
        chains.append(f"[v0]null{tail}{out}")
    return chains


# --- stream copy ------------------------------------------------------------------------
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
    cmd = [tools.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-copyts", "-i", str(media),
           "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]
    lines: list[str] = []
    _run_ffmpeg(cmd, total=None, progress=None, cancel=cancel, stdout_lines=lines)
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


@dataclass(frozen=True)
class CopyPlan:
    drop: str  # noise bsf expression: nonzero = drop the packet
    shift: str  # setts expression for the new timestamp (in seconds, before /TB)
    packets: int  # how many video packets the output must hold (checked after the copy)


def plan_copy(keep: list[Range], packets: Packets, start: float, fps: Fraction | None) -> CopyPlan | str:
    """The packets to keep and their new timestamps, or the reason a copy is not exact."""
    n = len(packets.pts)
    if n == 0:
        return "the video stream has no packets"
    tb = packets.tb
    if fps:
        frame = 1 / fps
    else:  # the typical frame duration: the median step between presentation times
        shown = sorted(packets.pts)
        gaps = sorted(b - a for a, b in zip(shown, shown[1:]))
        frame = gaps[len(gaps) // 2] * tb if gaps else Fraction(1, 25)
    keys = [i for i in range(n) if packets.key[i]]
    if not keys:
        return "the video stream has no keyframes"
    segments: list[tuple[int, int, int, Fraction]] = []  # first, last (decode order), key pts, shift
    out_t = Fraction(0)
    for a, b in keep:
        target = Fraction(start + a).limit_denominator(10**9) / tb
        k = min(keys, key=lambda i: abs(packets.pts[i] - target))
        if abs(packets.pts[k] - target) * tb > frame / 2 + Fraction(1, 10**6):
            return (f"the range starting at {a:.3f} s does not start on a keyframe "
                    f"(nearest at {float(packets.pts[k] * tb) - start:.3f} s)")
        length = Fraction(b - a).limit_denominator(10**9)
        end_pts = packets.pts[k] + length / tb
        stop = next((i for i in range(k + 1, n) if packets.pts[i] >= end_pts), n)
        shift = packets.pts[k] * tb - out_t
        segments.append((k, stop - 1, packets.pts[k], shift))
        out_t += length
    # Decode times must rise across joins: trim the end of a segment (decode order) if not.
    fixed: list[tuple[int, int, int, Fraction]] = []
    for idx, (first, last, kpts, shift) in enumerate(segments):
        if idx + 1 < len(segments):
            nxt_first, _, _, nxt_shift = segments[idx + 1]
            nxt_dts = packets.dts[nxt_first] * tb - nxt_shift
            while last > first and packets.dts[last] * tb - shift >= nxt_dts:
                last -= 1
            if packets.dts[last] * tb - shift >= nxt_dts:
                return "two ranges are too close together to copy the video"
        if fixed and first <= fixed[-1][1]:
            return "two ranges are too close together to copy the video"
        fixed.append((first, last, kpts, shift))
    half_tick = tb / 2
    keep_terms = []
    shift_terms = [_t9(fixed[0][3])]
    for idx, (first, last, kpts, shift) in enumerate(fixed):
        lo, hi, p0 = packets.dts[first] * tb - half_tick, packets.dts[last] * tb + half_tick, kpts * tb - half_tick
        keep_terms.append(f"gte(dts*tb,{_t9(lo)})*lte(dts*tb,{_t9(hi)})*gte(pts*tb,{_t9(p0)})")
        if idx:
            shift_terms.append(f"gte(DTS*TB,{_t9(lo)})*{_t9(shift - fixed[idx - 1][3])}")
    kept = sum(1 for first, last, kpts, _ in fixed for i in range(first, last + 1) if packets.pts[i] >= kpts)
    return CopyPlan(drop="not(" + "+".join(keep_terms) + ")", shift="+".join(shift_terms), packets=kept)


def _t9(x: Fraction | float) -> str:
    return f"{float(x):.9f}"


def copy_refusal(media: MediaFacts, out: Path, options: RenderOptions) -> str | None:
    """Why the video cannot be stream-copied into `out`, before looking at keyframes."""
    if not media.has_video:
        return "the media has no video to copy"
    if options.burn_subtitles is not None:
        return "burned-in captions need the video re-encoded"
    src, dst = media.path.suffix.lower(), out.suffix.lower()
    if not (dst == src or dst == ".mkv" or (dst in _MP4_FAMILY and src in _MP4_FAMILY)):
        return f"the {media.video_codec or 'source'} video cannot be copied into a {dst} file (use {src} or .mkv)"
    return None


# --- running ffmpeg ---------------------------------------------------------------------
_NO_SPACE = "No space left on device"


def _run_ffmpeg(
    cmd: list[str],
    *,
    total: float | None,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
    stdout_lines: list[str] | None = None,
) -> None:
    """Run ffmpeg; report -progress out_time as 0..1 of `total`; kill it promptly on cancel."""
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace")
    except OSError as e:
        raise RenderError(f"could not start ffmpeg: {e.strerror or e}") from e
    errors: collections.deque[str] = collections.deque(maxlen=20)
    latest = [0.0]

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            if stdout_lines is not None:
                stdout_lines.append(line)
            elif line.startswith("out_time_us=") and total:
                try:
                    latest[0] = max(latest[0], min(1.0, int(line[12:]) / 1e6 / total))
                except ValueError:
                    pass  # "N/A" before the first frame

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.strip():
                errors.append(line.strip())

    readers = [threading.Thread(target=fn, daemon=True) for fn in (read_stdout, read_stderr)]
    for r in readers:
        r.start()
    reported = -1.0
    try:
        while proc.poll() is None:
            if cancel is not None and cancel.wait(0.05):
                raise RenderCancelled()
            if cancel is None:
                time.sleep(0.05)
            if progress is not None and latest[0] > reported:
                reported = latest[0]
                progress(reported)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for r in readers:
            r.join(timeout=5)
    if cancel is not None and cancel.is_set():
        raise RenderCancelled()
    if proc.returncode != 0:
        lines = list(errors)
        if any(_NO_SPACE in ln for ln in lines):
            raise RenderError("the disk is full: free some space and export again", lines)
        last = lines[-1] if lines else f"ffmpeg exited with status {proc.returncode}"
        raise RenderError(f"the export failed: {last}", lines)


@functools.cache
def _ffmpeg_features(ffmpeg: str) -> tuple[bool, bool]:
    """(has the subtitles filter i.e. libass, takes -filter_complex_script)."""
    filters = subprocess.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True, text=True, errors="replace")
    has_subs = re.search(r"^\s*\S+\s+subtitles\s", filters.stdout, re.M) is not None
    helptext = subprocess.run([ffmpeg, "-hide_banner", "-h", "long"], capture_output=True, text=True, errors="replace")
    return has_subs, "filter_complex_script" in helptext.stdout


def has_libass(tools: FfmpegTools | None = None) -> bool:
    return _ffmpeg_features((tools or find_tools()).ffmpeg)[0]


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _temp_output(out: Path) -> Path:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".part{out.suffix}", dir=out.parent)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise RenderError("the disk is full: free some space and export again") from e
        raise RenderError(f"cannot write to {out.parent}: {e.strerror or e}") from e
    os.close(fd)
    return Path(name)


def _finish(tmp: Path, out: Path) -> None:
    try:
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise RenderError("the disk is full: free some space and export again") from e
        raise RenderError(f"could not write {out}: {e.strerror or e}") from e


# --- the export -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    src: Path
    tmp: Path
    suffix: str
    facts: MediaFacts
    ranges: list[Range]
    options: RenderOptions
    subs: Path | None
    video_out: bool


def _command(job: _Job, copy_plan: CopyPlan | None, tools: FfmpegTools) -> tuple[list[str], str]:
    """The ffmpeg command and its filter graph (the caller decides how the graph is passed)."""
    facts, options, suffix = job.facts, job.options, job.suffix
    # In copy mode timestamps are kept as stored (-copyts), so audio cuts count from the stored start.
    origin = facts.start if copy_plan else 0.0
    chains: list[str] = []
    maps: list[str] = []
    codec_args: list[str] = []
    if facts.has_audio:
        pieces, fades = audio_plan(job.ranges, options.crossfade, facts.duration)
        chains += audio_graph([(a + origin, b + origin) for a, b in pieces], fades)
        maps += ["-map", "[aout]"]
        # AAC in video containers (also when the source has no picture and the file is audio-only)
        codec_args += AUDIO_CODECS.get(suffix) or ["-c:a", "aac", "-b:a", options.audio_bitrate]
    if job.video_out and copy_plan is None:
        chains += video_graph(video_plan(job.ranges, facts.fps), job.subs)
        preset, crf = QUALITY_PRESETS[options.quality]
        maps += ["-map", "[vout]"]
        codec_args += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
    elif copy_plan is not None:
        # pts and dts get their own expressions: setts' shared `ts` does not keep them apart everywhere.
        shift = copy_plan.shift
        bsf = f"noise=drop='{copy_plan.drop}',setts=pts='PTS-({shift})/TB':dts='DTS-({shift})/TB'"
        maps += ["-map", "0:v:0"]
        codec_args += ["-c:v", "copy", "-bsf:v", bsf]
    cmd = [tools.ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error", "-nostats",
           "-progress", "pipe:1", "-stats_period", "0.25"]
    if copy_plan is not None:
        cmd.append("-copyts")
    cmd += ["-i", str(job.src), "GRAPH"] + maps + codec_args + ["-map_metadata", "0", "-map_chapters", "-1"]
    if suffix in _MP4_FAMILY or suffix in (".m4a", ".m4b"):
        cmd += ["-movflags", "+faststart"]
    cmd.append(str(job.tmp))
    return cmd, ";".join(chains)


def _encode(job: _Job, copy_plan: CopyPlan | None, tools: FfmpegTools, total: float,
            progress: ProgressFn | None, cancel: threading.Event | None) -> None:
    """Run one ffmpeg writing job.tmp; the filter graph goes through a file when it is long."""
    cmd, graph = _command(job, copy_plan, tools)
    at = cmd.index("GRAPH")
    script: Path | None = None
    try:
        if len(graph) > SCRIPT_THRESHOLD:
            fd, name = tempfile.mkstemp(prefix="hark-graph-", suffix=".txt")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(graph)
            script = Path(name)
            # ffmpeg 7 replaced -filter_complex_script by the generic "-/option file" form.
            flag = "-filter_complex_script" if _ffmpeg_features(tools.ffmpeg)[1] else "-/filter_complex"
            cmd[at:at + 1] = [flag, str(script)]
        else:
            cmd[at:at + 1] = ["-filter_complex", graph]
        _run_ffmpeg(cmd, total=total, progress=progress, cancel=cancel)
    finally:
        if script is not None:
            script.unlink(missing_ok=True)


def render_trimmed(
    media: str | Path,
    keep: list[Range],
    out: str | Path,
    options: RenderOptions = RenderOptions(),
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    tools: FfmpegTools | None = None,
) -> RenderResult:
    """Write `out` holding only the `keep` ranges (source seconds) of `media`.

    `progress` gets 0..1 on the calling thread (this function blocks: run it on a worker);
    setting `cancel` kills ffmpeg within ~50 ms. Raises MediaError for unusable input,
    RenderError (CopyNotPossible for an impossible mode="copy") for everything else,
    RenderCancelled when cancelled. On any error neither `out` nor a temporary file is left
    behind. Audio-only outputs ignore `mode`: audio is always re-encoded (the crossfades need it).
    """
    t0 = time.perf_counter()
    src, out = Path(media), Path(out)
    if _same_file(src, out):
        raise RenderError("the export would overwrite the source media: choose another file name")
    if out.is_dir():
        raise RenderError(f"{out} is a folder: choose a file name")
    if options.mode not in ("auto", "reencode", "copy"):
        raise RenderError(f"unknown mode {options.mode!r}: choose auto, reencode or copy")
    if options.quality not in QUALITY_PRESETS:
        raise RenderError(f"unknown quality {options.quality!r}: choose one of {', '.join(QUALITY_PRESETS)}")
    if not 0 <= options.crossfade <= 0.5:
        raise RenderError("the crossfade must be between 0 and 0.5 seconds")
    tools = tools or find_tools()
    facts = probe_media(src, tools)
    ranges = normalize_keep(keep, facts.duration)
    total = sum(b - a for a, b in ranges)

    suffix = out.suffix.lower()
    video_out = facts.has_video and suffix in VIDEO_SUFFIXES
    if suffix not in VIDEO_SUFFIXES and suffix not in AUDIO_CODECS:
        choices = " ".join(sorted(VIDEO_SUFFIXES | AUDIO_CODECS.keys()))
        raise RenderError(f"cannot write {suffix or 'a file without extension'}: use one of {choices}")
    if not facts.has_audio and not video_out:
        raise RenderError("the media has no audio to export as an audio file")
    subs = options.burn_subtitles
    if subs is not None:
        if not video_out:
            raise RenderError("captions can only be burned into a video export")
        if not Path(subs).is_file():
            raise RenderError(f"caption file not found: {subs}")
        if not _ffmpeg_features(tools.ffmpeg)[0]:
            raise RenderError("this ffmpeg cannot burn in captions (it was built without libass)")
        subs = Path(subs).resolve()  # str accepted too

    copy_plan: CopyPlan | None = None
    note = ""
    if video_out and options.mode in ("auto", "copy"):
        reason = copy_refusal(facts, out, options)
        if reason is None:
            plan = plan_copy(ranges, scan_packets(src, tools, cancel), facts.start, facts.fps)
            reason, copy_plan = (plan, None) if isinstance(plan, str) else (None, plan)
        if reason is not None:
            if options.mode == "copy":
                raise CopyNotPossible(f"cannot copy the video: {reason}")
            note = f"video re-encoded: {reason}"
    if video_out and copy_plan is None and not video_plan(ranges, facts.fps):
        raise RenderError("the kept parts are shorter than one video frame")

    best = [0.0]  # progress never goes back, not even when a copy falls back to re-encoding

    def report(fraction: float) -> None:
        if progress is not None and fraction >= best[0]:
            best[0] = fraction
            progress(fraction)

    job = _Job(src, _temp_output(out), suffix, facts, ranges, options, subs, video_out)
    try:
        if copy_plan is not None:
            _encode(job, copy_plan, tools, total, report, cancel)
            # Check the result: how ffmpeg builds time stamps for the bitstream filters differs
            # between versions and containers (ffmpeg 5.1 into Matroska), and a wrong guess must not pass.
            written = scan_packets(job.tmp, tools, cancel)
            if len(written.pts) != copy_plan.packets or not written.key[:1] == [True]:
                if options.mode == "copy":
                    raise CopyNotPossible(f"cannot copy the video: this ffmpeg did not cut it exactly into a {suffix} "
                                          "file (re-encode, or keep the source's file type)")
                note = "video re-encoded: the stream copy did not pass verification with this ffmpeg"
                copy_plan = None
        if copy_plan is None:
            _encode(job, None, tools, total, report, cancel)
        _finish(job.tmp, out)
    except BaseException:
        job.tmp.unlink(missing_ok=True)
        raise
    report(1.0)
    video = "none" if not video_out else ("copied" if copy_plan else "reencoded")
    return RenderResult(path=out, duration=total, video=video, ranges=len(ranges),
                        elapsed=time.perf_counter() - t0, note=note)
