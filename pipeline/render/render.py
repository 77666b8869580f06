"""Trimmed export: write the media with everything outside the keep-ranges removed.

This module holds `render_trimmed`, which checks the request, chooses between
re-encoding and stream-copying the video, and runs ONE ffmpeg process with one filter
graph. The parts live in their own modules, and the names callers use are re-exported here:

- pipeline.render.media_facts: what the source holds (probe_media, scan_packets, keyframe_times)
- pipeline.render.render_plan: pure planning (cut list, crossfades, trim windows, filter graphs,
  output formats, stream-copy packet selection); its docstring explains both paths
- pipeline.render.ffmpeg_run: running ffmpeg (progress, cancel, errors, temporary output)
- pipeline.render.render_errors: RenderError, RenderCancelled, CopyNotPossible
- pipeline.render.render_options: RenderOptions, RenderResult and their literal types

Writes go to a temporary file in the output folder that is renamed over the output
only on success; the source is never written.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from audio.ffmpeg_tools import FfmpegTools, find_tools
from pipeline.render.ffmpeg_run import (
    GRAPH_SLOT,
    SCRIPT_THRESHOLD,
    ProgressFn,
    discard_output,
    ffmpeg_features,
    finish_output,
    has_libass,
    run_with_graph,
    temp_output,
)
from pipeline.render.media_facts import MediaFacts, Packets, keyframe_times, probe_media, scan_packets
from pipeline.render.render_errors import CopyNotPossible, RenderCancelled, RenderError
from pipeline.render.render_options import DEFAULT_CROSSFADE, Mode, Quality, RenderOptions, RenderResult, VideoOutcome
from pipeline.render.render_plan import (
    AUDIO_CODECS,
    MIN_FADE,
    MP4_FAMILY,
    QUALITY_PRESETS,
    VIDEO_SUFFIXES,
    CopyPlan,
    Range,
    audio_graph,
    audio_plan,
    copy_refusal,
    escape_filter_path,
    normalize_keep,
    plan_copy,
    video_graph,
    video_plan,
)

__all__ = [
    "AUDIO_CODECS",
    "DEFAULT_CROSSFADE",
    "MIN_FADE",
    "QUALITY_PRESETS",
    "SCRIPT_THRESHOLD",
    "VIDEO_SUFFIXES",
    "CopyNotPossible",
    "CopyPlan",
    "MediaFacts",
    "Mode",
    "Packets",
    "ProgressFn",
    "Quality",
    "Range",
    "RenderCancelled",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "audio_graph",
    "audio_plan",
    "copy_refusal",
    "escape_filter_path",
    "has_libass",
    "keyframe_times",
    "normalize_keep",
    "plan_copy",
    "probe_media",
    "render_trimmed",
    "scan_packets",
    "video_graph",
    "video_plan",
]


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


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
    cmd = [
        tools.ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-y",
        "-v",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-stats_period",
        "0.25",
    ]
    if copy_plan is not None:
        cmd.append("-copyts")
    cmd += ["-i", str(job.src), GRAPH_SLOT] + maps + codec_args + ["-map_metadata", "0", "-map_chapters", "-1"]
    if suffix in MP4_FAMILY or suffix in (".m4a", ".m4b"):
        cmd += ["-movflags", "+faststart"]
    cmd.append(str(job.tmp))
    return cmd, ";".join(chains)


def _encode(
    job: _Job,
    copy_plan: CopyPlan | None,
    tools: FfmpegTools,
    total: float,
    progress: ProgressFn | None,
    cancel: threading.Event | None,
) -> None:
    """Run one ffmpeg writing job.tmp; the filter graph goes through a file when it is long."""
    cmd, graph = _command(job, copy_plan, tools)
    run_with_graph(cmd, graph, total=total, progress=progress, cancel=cancel)


_DEFAULT_OPTIONS = RenderOptions()  # frozen: one shared default is safe


def render_trimmed(
    media: str | Path,
    keep: list[Range],
    out: str | Path,
    options: RenderOptions = _DEFAULT_OPTIONS,
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
        if not ffmpeg_features(tools.ffmpeg)[0]:
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

    job = _Job(src, temp_output(out), suffix, facts, ranges, options, subs, video_out)
    try:
        if copy_plan is not None:
            _encode(job, copy_plan, tools, total, report, cancel)
            # Check the result: how ffmpeg builds time stamps for the bitstream filters differs
            # between versions and containers (ffmpeg 5.1 into Matroska), and a wrong guess must not pass.
            written = scan_packets(job.tmp, tools, cancel)
            if len(written.pts) != copy_plan.packets or written.key[:1] != [True]:
                if options.mode == "copy":
                    raise CopyNotPossible(
                        f"cannot copy the video: this ffmpeg did not cut it exactly into a {suffix} "
                        "file (re-encode, or keep the source's file type)"
                    )
                note = "video re-encoded: the stream copy did not pass verification with this ffmpeg"
                copy_plan = None
        if copy_plan is None:
            _encode(job, None, tools, total, report, cancel)
        finish_output(job.tmp, out)
    except BaseException:  # error, cancel, KeyboardInterrupt, SystemExit
        discard_output(job.tmp)
        raise
    report(1.0)
    video: VideoOutcome = "none" if not video_out else ("copied" if copy_plan else "reencoded")
    return RenderResult(
        path=out, duration=total, video=video, ranges=len(ranges), elapsed=time.perf_counter() - t0, note=note
    )
