"""Pure planning for a trimmed export (no ffmpeg runs here): the validated cut list, the
audio pieces and crossfades, the video trim windows, the filter graphs, the output
formats, and the packet selection for a stream copy.

Re-encode: video is trim + setpts per range, concat, libx264. Audio is atrim + asetpts
per range, joined by short crossfades that do not change the length: each inner edge of
a range is extended by half the fade and the overlap of the extended pieces is
crossfaded, so the audio stays exactly as long as the video (sum of the keep-ranges).

Stream copy (video untouched, audio still re-encoded with crossfades): allowed when
every range starts on a video keyframe. ffmpeg's concat demuxer cannot do this exactly:
it ends a segment on the first packet of ANY stream past the outpoint, and by decode
time, so B-frames spill into the next segment. Instead plan_copy takes the packet table
(framecrc: dts, pts, key flag; no decoding), picks per range the packets from the
keyframe up to the first packet shown at or after the range's end, drops all others
with the `noise` bitstream filter and closes the gaps with `setts`. A range ending
mid-GOP may lose up to the B-frame depth of frames at its very end (the previous frame
stays on screen that long); timing and A/V sync are unaffected.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.render.media_facts import MediaFacts, Packets
from pipeline.render.render_errors import RenderError

if TYPE_CHECKING:
    from pipeline.render.render_options import RenderOptions

Range = tuple[float, float]

# x264 preset and constant-quality factor per quality choice.
QUALITY_PRESETS: dict[str, tuple[str, int]] = {
    "fast": ("veryfast", 23),
    "balanced": ("medium", 20),
    "quality": ("slow", 18),
}
MIN_FADE = 0.001  # shorter joins are plain cuts

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv"})
MP4_FAMILY = frozenset({".mp4", ".m4v", ".mov"})
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
    for (a0, b0), (a1, b1) in itertools.pairwise(keep):
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
        gaps = sorted(b - a for a, b in itertools.pairwise(shown))
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
            return (
                f"the range starting at {a:.3f} s does not start on a keyframe "
                f"(nearest at {float(packets.pts[k] * tb) - start:.3f} s)"
            )
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
    if not (dst == src or dst == ".mkv" or (dst in MP4_FAMILY and src in MP4_FAMILY)):
        return f"the {media.video_codec or 'source'} video cannot be copied into a {dst} file (use {src} or .mkv)"
    return None
