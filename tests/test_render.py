"""Trimmed export with real ffmpeg on media whose content at every instant is known.

The source's picture shows its own frame number and its tone names the second, so after
a render we can tell exactly which frames and which seconds survived, and where.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from audio.errors import MediaNotFoundError, NotMediaError
from audio.ffmpeg_tools import find_tools
from pipeline.render.render import (
    SCRIPT_THRESHOLD,
    CopyNotPossible,
    RenderCancelled,
    RenderError,
    RenderOptions,
    audio_graph,
    audio_plan,
    has_libass,
    keyframe_times,
    normalize_keep,
    probe_media,
    render_trimmed,
    video_plan,
)
from tests.media_gen import (
    decode_audio,
    decode_gray_frames,
    frame_index,
    make_audio,
    make_testsrc_video,
    make_video,
    second_heard,
    tone_samples,
)

FPS = 25
SR = 48_000
ROOT = Path(__file__).resolve().parents[1]
OFF_KEY = [(0.52, 3.31), (4.97, 8.73), (12.07, 15.5), (17.2, 20.0)]  # starts between keyframes
ON_KEY = [(1.0, 3.3), (5.0, 8.72), (12.0, 15.5)]  # starts on keyframes (one per second)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("src") / "source.mp4", 20, fps=FPS, gop=FPS)


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_audio(tmp_path_factory.mktemp("src") / "tone.wav", 20, sample_rate=SR)


def total(keep: list[tuple[float, float]]) -> float:
    return sum(b - a for a, b in keep)


def leftovers(folder: Path, keep: Collection[str] = frozenset()) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def check_video(path: Path, keep: list[tuple[float, float]], *, frozen_ok: int = 0) -> list[int]:
    """Which source frames the output shows, checked against the keep-ranges."""
    idx = [frame_index(f) for f in decode_gray_frames(path)]
    assert abs(len(idx) - total(keep) * FPS) <= 1, (len(idx), total(keep) * FPS)
    runs: list[list[int]] = [[idx[0]]]
    for i in idx[1:]:
        if i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    assert len(runs) == len(keep), [(r[0], r[-1]) for r in runs]
    for run, (a, b) in zip(runs, keep):
        assert abs(run[0] - a * FPS) <= 1  # starts on the frame at the range start
        last = math.ceil(b * FPS - 1e-9) - 1  # the last frame that begins before the range ends
        assert last - 1 - frozen_ok <= run[-1] <= last, (run[-1], last)
    return idx


def check_audio(path: Path, keep: list[tuple[float, float]], sample_rate: int = SR) -> np.ndarray:
    """Length equals the kept time (within a frame); every kept second sounds where it should."""
    x = decode_audio(path, sample_rate)
    assert abs(len(x) / sample_rate - total(keep)) <= 1 / FPS, (len(x) / sample_rate, total(keep))
    t_out = 0.0
    heard = 0
    for a, b in keep:
        for second in range(math.floor(a), math.ceil(b)):
            lo, hi = max(a, second) + 0.06, min(b, second + 1) - 0.06
            if hi - lo < 0.1:
                continue
            mid = t_out + (lo + hi) / 2 - a
            seg = x[int((mid - 0.05) * sample_rate) : int((mid + 0.05) * sample_rate)]
            assert second_heard(seg, sample_rate) == second, (a, b, second)
            heard += 1
        t_out += b - a
    assert heard >= len(keep)
    return x


# --- re-encode ------------------------------------------------------------------------
def test_reencode_keeps_exactly_the_ranges(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.mp4"
    result = render_trimmed(video, OFF_KEY, out, RenderOptions(quality="fast"))
    assert result.video == "reencoded" and "keyframe" in result.note
    assert result.duration == pytest.approx(total(OFF_KEY)) and result.ranges == 4
    idx = check_video(out, OFF_KEY)
    check_audio(out, OFF_KEY)
    # frame by frame: output frame j shows the source frame at the matching source time (+-1)
    starts = np.cumsum([0.0] + [b - a for a, b in OFF_KEY])
    for j, shown in enumerate(idx):
        t = j / FPS
        i = max(k for k in range(len(OFF_KEY)) if starts[k] <= t + 1e-9)
        assert abs(shown - (OFF_KEY[i][0] + t - starts[i]) * FPS) <= 1, (j, shown)
    # ffmpeg's own description agrees (no ffprobe involved)
    assert probe_media(out).duration == pytest.approx(total(OFF_KEY), abs=1 / FPS)
    assert leftovers(tmp_path) == ["cut.mp4"]


def test_progress_rises_to_one(video: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    render_trimmed(
        video, OFF_KEY, tmp_path / "p.mp4", RenderOptions(mode="reencode", quality="fast"), progress=seen.append
    )
    assert seen[-1] == 1.0 and len(seen) >= 2
    assert all(0.0 <= a <= b <= 1.0 for a, b in itertools.pairwise(seen))


# --- audio only -----------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus"])
def test_audio_only_media_gives_audio_only_output(tone: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"cut{suffix}"
    result = render_trimmed(tone, OFF_KEY, out)
    assert result.video == "none"
    check_audio(out, OFF_KEY)
    assert not probe_media(out).has_video


def test_audio_only_media_into_a_video_container(tone: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.mp4"
    assert render_trimmed(tone, OFF_KEY, out).video == "none"
    check_audio(out, OFF_KEY)
    facts = probe_media(out)
    assert not facts.has_video and facts.has_audio


def test_audio_export_from_a_video(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "sound.m4a"
    assert render_trimmed(video, OFF_KEY, out).video == "none"
    check_audio(out, OFF_KEY)
    assert not probe_media(out).has_video


def test_crossfade_leaves_no_click(tone: Path, tmp_path: Path) -> None:
    keep = [(0.5, 2.013), (3.3775, 5.2), (7.6125, 9.0)]  # cuts land mid-cycle, far from zero crossings
    src = tone_samples(10, SR)
    bound = np.abs(np.diff(src)).max() + 2 / 32768  # the steepest step the content itself has
    jumps = [abs(src[round(a1 * SR)] - src[round(b0 * SR) - 1]) for (_, b0), (a1, _) in itertools.pairwise(keep)]
    assert min(jumps) > 4 * bound  # butt-joined, these cuts would click
    smooth = decode_audio(render_trimmed(tone, keep, tmp_path / "smooth.wav").path, SR)
    hard = decode_audio(render_trimmed(tone, keep, tmp_path / "hard.wav", RenderOptions(crossfade=0)).path, SR)
    assert np.abs(np.diff(smooth)).max() <= bound * 1.05
    assert np.abs(np.diff(hard)).max() >= 0.9 * max(jumps)  # and without the fades they do
    for x in (smooth, hard):
        assert abs(len(x) - round(total(keep) * SR)) <= len(keep)


@pytest.mark.parametrize("fade", [0.0, 0.01, 0.03, 0.2])
def test_crossfades_never_change_the_length(tone: Path, tmp_path: Path, fade: float) -> None:
    keep = [(0.0, 0.004), (1.0, 1.5), (2.0, 2.006), (3.0, 5.0), (19.99, 20.0)]  # tiny ranges, both media ends
    x = decode_audio(render_trimmed(tone, keep, tmp_path / "x.wav", RenderOptions(crossfade=fade)).path, SR)
    assert abs(len(x) - round(total(keep) * SR)) <= len(keep)


@pytest.mark.parametrize("binary", ["system", "bundled"])
def test_hundreds_of_ranges_go_through_a_script_file(
    tone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, binary: str
) -> None:
    if binary == "bundled":
        monkeypatch.setenv("HARK_FFMPEG", "bundled")  # ffmpeg 9 without ffprobe: "-/filter_complex"
    keep = [(i * 0.06, i * 0.06 + 0.03) for i in range(320)]
    pieces, fades = audio_plan(keep, 0.02, 20.0)
    assert len(";".join(audio_graph(pieces, fades))) > SCRIPT_THRESHOLD
    x = decode_audio(render_trimmed(tone, keep, tmp_path / "many.wav").path, SR)
    assert abs(len(x) - round(total(keep) * SR)) <= len(keep)
    assert leftovers(tmp_path) == ["many.wav"]


# --- stream copy ----------------------------------------------------------------------
def test_keyframes_are_found(video: Path) -> None:
    assert keyframe_times(video) == pytest.approx([float(s) for s in range(20)], abs=1e-6)


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_stream_copy_when_every_range_starts_on_a_keyframe(video: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"copy{suffix}"
    result = render_trimmed(video, ON_KEY, out)  # auto picks copy
    assert result.video == "copied" and result.note == ""
    # B-frames: a range ending mid-GOP may show its last frame up to 2 frames longer
    check_video(out, ON_KEY, frozen_ok=2)
    check_audio(out, ON_KEY)
    assert probe_media(out).duration == pytest.approx(total(ON_KEY), abs=1 / FPS)


def test_copy_into_another_container_is_verified(video: Path, tmp_path: Path) -> None:
    # ffmpeg 5.1 hands the bitstream filters Matroska's timestamps with the source's time base, so
    # an MP4 -> MKV copy comes out wrong there; the check after the copy catches it and re-encodes.
    result = render_trimmed(video, ON_KEY, tmp_path / "copy.mkv")
    assert result.video in ("copied", "reencoded")
    if result.video == "reencoded":
        assert "verification" in result.note
    check_video(tmp_path / "copy.mkv", ON_KEY, frozen_ok=2)
    check_audio(tmp_path / "copy.mkv", ON_KEY)
    assert leftovers(tmp_path) == ["copy.mkv"]


def test_matroska_to_matroska_copy(video: Path, tmp_path: Path) -> None:
    mkv = tmp_path / "source.mkv"
    subprocess.run([find_tools().ffmpeg, "-v", "error", "-i", str(video), "-c", "copy", str(mkv)], check=True)
    keys = keyframe_times(mkv)  # the remux shifts the video a little: use its own keyframe times
    keep = [(keys[1], keys[1] + 2.3), (keys[5], keys[5] + 3.72), (keys[12], keys[12] + 3.5)]
    assert render_trimmed(mkv, keep, tmp_path / "cut.mkv").video == "copied"
    check_video(tmp_path / "cut.mkv", keep, frozen_ok=2)
    check_audio(tmp_path / "cut.mkv", keep)


def test_copy_mode_refuses_with_a_reason(video: Path, tmp_path: Path) -> None:
    with pytest.raises(CopyNotPossible, match="keyframe"):
        render_trimmed(video, OFF_KEY, tmp_path / "x.mp4", RenderOptions(mode="copy"))
    subs = tmp_path / "c.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    with pytest.raises(CopyNotPossible, match="captions"):
        render_trimmed(video, ON_KEY, tmp_path / "x.mp4", RenderOptions(mode="copy", burn_subtitles=subs))
    mkv = tmp_path / "source.mkv"
    subprocess.run([find_tools().ffmpeg, "-v", "error", "-i", str(video), "-c", "copy", str(mkv)], check=True)
    with pytest.raises(CopyNotPossible, match="cannot be copied into a .mp4"):
        render_trimmed(mkv, ON_KEY, tmp_path / "x.mp4", RenderOptions(mode="copy"))
    assert leftovers(tmp_path) == ["c.srt", "source.mkv"]
    # re-encode mode never copies, even where it could
    assert (
        render_trimmed(video, ON_KEY, tmp_path / "r.mp4", RenderOptions(mode="reencode", quality="fast")).video
        == "reencoded"
    )


def test_bundled_ffmpeg_without_ffprobe(video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARK_FFMPEG", "bundled")
    assert find_tools().ffprobe is None
    assert render_trimmed(video, ON_KEY, tmp_path / "c.mp4").video == "copied"
    check_video(tmp_path / "c.mp4", ON_KEY, frozen_ok=2)
    assert render_trimmed(video, OFF_KEY, tmp_path / "r.mp4", RenderOptions(quality="fast")).video == "reencoded"
    check_video(tmp_path / "r.mp4", OFF_KEY)
    check_audio(tmp_path / "r.mp4", OFF_KEY)


# --- burned-in captions ---------------------------------------------------------------
@pytest.mark.slow
def test_burned_captions_change_the_bottom_of_the_picture(video: Path, tmp_path: Path) -> None:
    assert has_libass()
    folder = tmp_path / "it's [a] folder, with; odd:chars"
    folder.mkdir()
    subs = folder / "caption's, [1]; x:y.srt"  # every character the filter-graph escaping must handle
    subs.write_text("1\n00:00:00,500 --> 00:00:02,500\nHELLO CAPTIONS\n", encoding="utf-8")
    plain = render_trimmed(video, OFF_KEY, tmp_path / "plain.mp4", RenderOptions(quality="fast")).path
    burned = render_trimmed(
        video, OFF_KEY, tmp_path / "burned.mp4", RenderOptions(quality="fast", burn_subtitles=subs)
    ).path
    check_video(burned, OFF_KEY)  # the frame code in the top half is untouched
    a, b = decode_gray_frames(plain).astype(int), decode_gray_frames(burned).astype(int)
    changed = (np.abs(a - b) > 40)[:, a.shape[1] // 2 :, :].sum(axis=(1, 2))  # bottom half only
    assert changed[int(1.5 * FPS)] > 100  # the caption shows at 1.5 s (output time) ...
    assert changed[int(4.0 * FPS)] == 0  # ... and is gone at 4 s
    top = (np.abs(a - b) > 40)[:, : a.shape[1] // 2, :].sum()
    assert top == 0


def test_caption_problems_are_clear(video: Path, tone: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="caption file not found"):
        render_trimmed(video, OFF_KEY, tmp_path / "x.mp4", RenderOptions(burn_subtitles=tmp_path / "nope.srt"))
    subs = tmp_path / "c.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    with pytest.raises(RenderError, match="video export"):
        render_trimmed(tone, OFF_KEY, tmp_path / "x.wav", RenderOptions(burn_subtitles=subs))
    assert leftovers(tmp_path) == ["c.srt"]


# --- safety ---------------------------------------------------------------------------
def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_never_overwrites_the_source(video: Path, tmp_path: Path) -> None:
    src = tmp_path / "source.mp4"
    shutil.copyfile(video, src)
    before = sha(src)
    os.link(src, tmp_path / "hardlink.mp4")
    (tmp_path / "symlink.mp4").symlink_to(src)
    for target in (src, tmp_path / "hardlink.mp4", tmp_path / "symlink.mp4", tmp_path / "." / "source.mp4"):
        with pytest.raises(RenderError, match="overwrite the source"):
            render_trimmed(src, OFF_KEY, target)
    assert sha(src) == before
    assert leftovers(tmp_path) == ["hardlink.mp4", "source.mp4", "symlink.mp4"]


def test_missing_or_corrupt_input(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError):
        render_trimmed(tmp_path / "nope.mp4", [(0, 1)], tmp_path / "out.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(NotMediaError):
        render_trimmed(bad, [(0, 1)], tmp_path / "out.mp4")
    assert leftovers(tmp_path) == ["bad.mp4"]


def test_bad_requests_get_clear_errors(video: Path, tmp_path: Path) -> None:
    cases = [
        ([], tmp_path / "o.mp4", RenderOptions(), "nothing to export"),
        ([(25.0, 30.0)], tmp_path / "o.mp4", RenderOptions(), "nothing to export"),  # all beyond the end
        ([(1.0, 3.0), (2.0, 4.0)], tmp_path / "o.mp4", RenderOptions(), "overlap"),
        ([(3.0, 1.0)], tmp_path / "o.mp4", RenderOptions(), "ends before"),
        ([(float("nan"), 1.0)], tmp_path / "o.mp4", RenderOptions(), "invalid"),
        (OFF_KEY, tmp_path / "o.xyz", RenderOptions(), "cannot write .xyz"),
        (OFF_KEY, tmp_path, RenderOptions(), "is a folder"),
        (OFF_KEY, tmp_path / "o.mp4", RenderOptions(crossfade=2.0), "crossfade"),
        (OFF_KEY, tmp_path / "o.mp4", RenderOptions(mode="fastest"), "unknown mode"),  # type: ignore[arg-type]  # on purpose
        (OFF_KEY, tmp_path / "o.mp4", RenderOptions(quality="ultra"), "unknown quality"),  # type: ignore[arg-type]  # on purpose
        ([(1.0, 1.01)], tmp_path / "o.mp4", RenderOptions(mode="reencode"), "shorter than one video frame"),
    ]
    for keep, out, options, message in cases:
        with pytest.raises(RenderError, match=message):
            render_trimmed(video, keep, out, options)
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_cancel_stops_ffmpeg_promptly_and_leaves_nothing(tmp_path: Path) -> None:
    src = make_testsrc_video(tmp_path / "big.mp4", 60)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cancel = threading.Event()
    cancelled_at: list[float] = []

    def on_progress(fraction: float) -> None:
        if fraction > 0 and not cancel.is_set():
            cancelled_at.append(time.perf_counter())
            cancel.set()

    with pytest.raises(RenderCancelled):
        render_trimmed(
            src,
            [(0.0, 25.0), (30.0, 60.0)],
            out_dir / "cut.mp4",
            RenderOptions(quality="quality"),
            progress=on_progress,
            cancel=cancel,
        )
    assert cancelled_at, "the render finished before reporting progress"
    assert time.perf_counter() - cancelled_at[0] < 2.0  # ffmpeg is killed, not awaited
    assert leftovers(out_dir) == []


@pytest.mark.slow
def test_full_disk_is_reported_and_cleaned_up(video: Path, tmp_path: Path) -> None:
    """A real full disk: a tiny tmpfs mounted in a private mount namespace (skipped where not allowed)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not available")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    script = f"""
import json, os, subprocess, sys
sys.path.insert(0, {str(ROOT)!r})
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", {str(mnt)!r}], check=True)
from pipeline.render.render import RenderError, RenderOptions, render_trimmed
try:
    render_trimmed({str(video)!r}, [(0.0, 20.0)], os.path.join({str(mnt)!r}, "cut.mp4"),
                   RenderOptions(mode="reencode", quality="fast"))
    error = None
except RenderError as e:
    error = str(e)
print(json.dumps({{"error": error, "left": os.listdir({str(mnt)!r})}}))
"""
    run = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if run.returncode != 0 and ("unshare" in run.stderr or "mount" in run.stderr):
        pytest.skip(f"cannot mount a private tmpfs here: {run.stderr.strip()[-200:]}")
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["error"] is not None and "disk is full" in report["error"]
    assert report["left"] == []


# --- the plans, without ffmpeg --------------------------------------------------------
def test_audio_plan_keeps_the_length_and_shortens_fades() -> None:
    keep = [(0.0, 0.004), (1.0, 1.5), (2.0, 2.006), (3.0, 5.0), (19.99, 20.0)]
    pieces, fades = audio_plan(keep, 0.02, 20.0)
    assert sum(b - a for a, b in pieces) - sum(fades) == pytest.approx(total(keep), abs=1e-12)
    assert fades[0] == pytest.approx(0.004) and fades[1] == pytest.approx(0.006)
    assert fades[2] == pytest.approx(0.006) and fades[3] == pytest.approx(0.01)  # last range: only 10 ms left
    assert pieces[0][0] == 0.0 and pieces[-1][1] == 20.0  # outer edges never extended
    pieces, fades = audio_plan([(1.0, 2.0), (3.0, 4.0)], 0.0, None)
    assert fades == [0.0] and pieces == [(1.0, 2.0), (3.0, 4.0)]


def test_video_plan_follows_the_running_total() -> None:
    keep = [(0.33, 1.01), (2.017, 2.03), (3.5, 4.26), (7.0, 7.013)]
    windows = video_plan(keep, Fraction(FPS))
    frames = sum(round((b - a) * FPS) for a, b in windows)
    assert frames == round(total(keep) * FPS)
    for (_a, b), (c, _) in itertools.pairwise(windows):
        assert b <= c


def test_normalize_keep_clamps_merges_and_drops() -> None:
    assert normalize_keep([(-1.0, 2.0), (2.0005, 3.0), (4.0, 4.0), (5.0, 99.0)], 10.0) == [(0.0, 3.0), (5.0, 10.0)]
