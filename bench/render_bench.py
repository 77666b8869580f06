"""Trimmed-export benchmark: 20 cuts out of a 10-minute 1280x720 H.264+AAC file.

Baseline, measured in the same run: ONE plain ffmpeg re-encode of the whole file with
the same x264 preset and CRF (what any exporter pays at least once). Reported:
  re-encode  - render_trimmed(mode="reencode"): wall time, x real time (output seconds
               per second), ratio to the baseline
  copy       - render_trimmed(mode="copy") on the same cut pattern moved onto keyframes
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Final

MINUTES = 10
SIZE = "1280x720"
FPS = 25
GOP = 50  # a keyframe every 2 s, no scene-cut keyframes: the copy case knows where they are
QUALITY: Final = "fast"  # pipeline.render.render.QUALITY_PRESETS: x264 veryfast, CRF 23
CUTS = 20
CUT_LENGTH = 6.0  # seconds removed per cut


def source(out_dir: Path) -> Path:
    """The 10-minute test file, generated once and cached."""
    from audio.ffmpeg_tools import find_tools

    path = out_dir / f"render-{MINUTES}min-720p.mp4"
    if path.exists():
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    seconds = MINUTES * 60
    subprocess.run(
        [
            find_tools().ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={SIZE}:rate={FPS}",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:sample_rate=48000",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-g",
            str(GOP),
            "-keyint_min",
            str(GOP),
            "-sc_threshold",
            "0",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-ac",
            "2",
            str(tmp),
        ],
        check=True,
    )
    tmp.replace(path)
    return path


def cut_list(total: float, *, on_keyframes: bool) -> list[tuple[float, float]]:
    """21 keep-ranges around 20 evenly spread cuts; starts off keyframes unless asked."""
    step = total / (CUTS + 1)
    keep: list[tuple[float, float]] = []
    start = 0.0
    for i in range(1, CUTS + 1):
        cut_at = i * step + 0.37  # mid-GOP on purpose
        keep.append((start, cut_at))
        start = cut_at + CUT_LENGTH
        if on_keyframes:
            start = round(start / (GOP / FPS)) * (GOP / FPS)
    keep.append((start, total))
    return keep


def run(runs: int) -> None:
    from audio.ffmpeg_tools import find_tools
    from bench.common import OUT, medians
    from pipeline.render.render import QUALITY_PRESETS, RenderOptions, probe_media, render_trimmed

    src = source(OUT)
    total = probe_media(src).duration or MINUTES * 60.0
    reencode_keep = cut_list(total, on_keyframes=False)
    copy_keep = cut_list(total, on_keyframes=True)
    preset, crf = QUALITY_PRESETS[QUALITY]
    ffmpeg = find_tools().ffmpeg
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        work = Path(tmp)

        def plain() -> None:
            subprocess.run(
                [
                    ffmpeg,
                    "-v",
                    "error",
                    "-y",
                    "-i",
                    str(src),
                    "-c:v",
                    "libx264",
                    "-preset",
                    preset,
                    "-crf",
                    str(crf),
                    "-pix_fmt",
                    "yuv420p",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "192k",
                    str(work / "plain.mp4"),
                ],
                check=True,
            )

        def ours_reencode() -> None:
            render_trimmed(src, reencode_keep, work / "cut.mp4", RenderOptions(mode="reencode", quality=QUALITY))

        def ours_copy() -> None:
            render_trimmed(src, copy_keep, work / "copy.mp4", RenderOptions(mode="copy"))

        base, reencode, copy = medians([plain, ours_reencode, ours_copy], runs)
    kept_re = sum(b - a for a, b in reencode_keep)
    kept_copy = sum(b - a for a, b in copy_keep)
    print(f"render: {MINUTES} min {SIZE} H.264+AAC, {CUTS} cuts, x264 {preset} crf {crf}, median of {runs}")
    print(f"  plain ffmpeg re-encode, whole file  {base:7.1f} s  ({total / base:5.2f}x real time)")
    print(
        f"  trimmed export, re-encode ({kept_re:.0f} s kept) {reencode:7.1f} s  ({kept_re / reencode:5.2f}x real time)"
        f"  ratio to plain {reencode / base:5.3f}"
    )
    print(
        f"  trimmed export, video copy ({kept_copy:.0f} s kept) {copy:7.1f} s  ({kept_copy / copy:6.1f}x real time)"
        f"  ratio to plain {copy / base:5.3f}"
    )


if __name__ == "__main__":
    import sys

    run(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
