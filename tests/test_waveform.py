"""Waveform peaks from real media through real ffmpeg, and their .npz cache."""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path

import numpy as np
import pytest

from audio.decode import decode_audio
from audio.errors import Cancelled, MediaNotFoundError, NotMediaError
from pipeline.render.waveform import (
    CACHE_VERSION,
    WaveformCancelled,
    WaveformError,
    compute_peaks,
    load_or_compute_peaks,
)
from tests.conftest import DATA, JFK_MP3, JFK_WAV, copy_shared, ffmpeg

COLD = DATA / "mfa" / "cold_corpus.wav"  # 25.72 s: three 10 s blocks
BUNNY = DATA / "lhotse" / "big_buck_bunny_small.mp4"  # H.264 + AAC
STEREO_48K_MP3 = DATA / "mfa" / "common_voice_en_22058264.mp3"  # 4.11 s, 48 kHz
SHA_A, SHA_B = "a" * 64, "b" * 64


def _abs_peak(p: np.ndarray, t0: float, t1: float, per_second: float = 100) -> float:
    return float(np.abs(p[int(t0 * per_second) : int(t1 * per_second)]).max())


@pytest.mark.parametrize(
    "path", [JFK_WAV, JFK_MP3, BUNNY, STEREO_48K_MP3, COLD], ids=["wav", "mp3", "mp4", "mp3-48k", "wav-25s"]
)
def test_peaks_cover_the_media_within_full_scale(path: Path) -> None:
    duration = decode_audio(path).duration
    p = compute_peaks(path)
    assert p.dtype == np.float32 and p.ndim == 2 and p.shape[1] == 2
    assert abs(len(p) - duration * 100) <= 1
    assert p.min() >= -1.0 and p.max() <= 1.0
    assert (p[:, 0] <= p[:, 1]).all()
    assert p[:, 1].max() > 0.1  # real audio, not zeros


def test_peaks_equal_min_max_of_the_decoded_samples() -> None:
    s = decode_audio(JFK_WAV).samples
    p = compute_peaks(JFK_WAV, per_second=100)
    bins = s[: len(s) // 160 * 160].reshape(-1, 160)
    assert np.array_equal(p[: len(bins), 0], bins.min(axis=1))
    assert np.array_equal(p[: len(bins), 1], bins.max(axis=1))


def test_fractional_bin_sizes_do_not_drift() -> None:
    s = decode_audio(COLD).samples
    p = compute_peaks(COLD, per_second=30)  # 533.33 samples per bin, bins spanning the 10 s blocks
    assert abs(len(p) - len(s) / 16000 * 30) <= 1
    edges = np.round(np.arange(len(p) + 1) * (16000 / 30)).astype(int)
    edges[-1] = len(s)
    for i in (0, 299, 300, 301, len(p) - 1):  # around the first block boundary (10 s = bin 300) and the end
        assert p[i, 0] == s[edges[i] : edges[i + 1]].min() and p[i, 1] == s[edges[i] : edges[i + 1]].max()


def test_pauses_are_low_and_speech_is_high() -> None:
    p = compute_peaks(JFK_WAV)
    assert _abs_peak(p, 2.3, 3.2) < 0.05  # "...Americans, [pause] ask not"
    assert _abs_peak(p, 0.3, 1.9) > 0.5


def test_generated_silence_is_low_between_tones(tmp_path: Path) -> None:
    media = tmp_path / "tone-silence-tone.m4a"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=16000:cl=mono",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=1",
        "-filter_complex",
        "[1:a]atrim=duration=2[s];[0:a][s][2:a]concat=n=3:v=0:a=1,aresample=16000",
        "-c:a",
        "aac",
        str(media),
    )
    p = compute_peaks(media, per_second=50)
    assert abs(len(p) - 4 * 50) <= 2
    assert _abs_peak(p, 1.3, 2.7, 50) < 0.01
    # lavfi's sine has amplitude 1/8
    assert _abs_peak(p, 0.2, 0.8, 50) > 0.1 and _abs_peak(p, 3.2, 3.8, 50) > 0.1


def test_progress_rises_to_one() -> None:
    seen: list[float] = []
    compute_peaks(COLD, progress=seen.append)
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0


def test_cancel_raises_a_typed_error() -> None:
    cancel = threading.Event()
    seen: list[float] = []

    def progress(f: float) -> None:
        seen.append(f)
        cancel.set()  # after the first block

    with pytest.raises(WaveformCancelled) as e:
        compute_peaks(COLD, progress=progress, cancel=cancel)
    assert isinstance(e.value, Cancelled) and "cancelled" in str(e.value)
    assert seen and seen[-1] < 1.0
    cancel2 = threading.Event()
    cancel2.set()
    with pytest.raises(WaveformCancelled):
        compute_peaks(JFK_MP3, cancel=cancel2)


def test_bad_input_gets_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError):
        compute_peaks(tmp_path / "missing.wav")
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n" * 50)
    with pytest.raises(NotMediaError):
        compute_peaks(text)
    for bad in (0, -5, float("nan"), 10**6):
        with pytest.raises(WaveformError, match="peaks per second"):
            compute_peaks(JFK_WAV, per_second=bad)


# --- cache -------------------------------------------------------------------------------------
def test_cache_hit_needs_no_media(tmp_path: Path) -> None:
    media = copy_shared(JFK_MP3, tmp_path)
    cache = tmp_path / "talk.hark.peaks.npz"
    first = load_or_compute_peaks(media, cache, SHA_A)
    assert cache.is_file() and list(tmp_path.glob(".*.tmp")) == []  # written atomically, no leftovers
    media.unlink()  # a second call that decoded anything would raise MediaNotFoundError
    again = load_or_compute_peaks(media, cache, SHA_A)
    assert np.array_equal(first, again) and again.dtype == np.float32
    with np.load(cache) as z:
        assert str(z["sha256"]) == SHA_A and float(z["per_second"]) == 100 and int(z["version"]) == CACHE_VERSION


def test_stale_sha_or_rate_recomputes(tmp_path: Path) -> None:
    media = copy_shared(JFK_WAV, tmp_path)
    cache = tmp_path / "p.peaks.npz"
    load_or_compute_peaks(media, cache, SHA_A)
    # Other media bytes: the cache must not be trusted, so the media is decoded again.
    progress: list[float] = []
    p = load_or_compute_peaks(media, cache, SHA_B, progress=progress.append)
    assert len(progress) >= 2  # decode progress, not just the cache hit's single 1.0
    with np.load(cache) as z:
        assert str(z["sha256"]) == SHA_B
    assert len(p) == 1100
    p50 = load_or_compute_peaks(media, cache, SHA_B, per_second=50)
    assert len(p50) == 550
    media.unlink()
    with pytest.raises(MediaNotFoundError):  # stale again (other rate): recompute is attempted
        load_or_compute_peaks(media, cache, SHA_B, per_second=100)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong-shape"])
def test_corrupt_cache_recomputes_and_is_replaced(tmp_path: Path, damage: str) -> None:
    media = copy_shared(JFK_WAV, tmp_path)
    cache = tmp_path / "p.peaks.npz"
    good = load_or_compute_peaks(media, cache, SHA_A)
    raw = cache.read_bytes()
    if damage == "garbage":
        cache.write_bytes(b"\x00\xffnot a zip" * 100)
    elif damage == "truncated":
        cache.write_bytes(raw[: len(raw) // 2])
    elif damage == "empty":
        cache.write_bytes(b"")
    else:
        np.savez(
            cache,
            version=np.int64(CACHE_VERSION),
            sha256=np.str_(SHA_A),
            per_second=np.float64(100),
            peaks=np.zeros((10, 3), dtype=np.float32),
        )
    again = load_or_compute_peaks(media, cache, SHA_A)
    assert np.array_equal(good, again)
    with np.load(cache) as z:  # repaired
        assert np.array_equal(z["peaks"], good)


def test_unwritable_cache_still_returns_peaks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache's folder should be")
    with caplog.at_level(logging.WARNING, logger="pipeline.render.waveform"):
        p = load_or_compute_peaks(JFK_WAV, blocker / "p.peaks.npz", SHA_A)
    assert math.isclose(len(p), 1100, abs_tol=1)
    assert "could not write waveform cache" in caplog.text
