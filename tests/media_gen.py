"""Test media whose content at every instant is known, and readers that recover it.

Audio: a sine tone whose frequency names the second it plays in (second k sounds at
BASE_HZ + STEP_HZ * k), generated with continuous phase so the source itself has no clicks.
Video: every frame shows its own index in binary as vertical stripes across the top half
(white = 1, black = 0); the bottom half is plain mid-grey, where burned captions show up.
Both survive lossy encoding, so after a render the tests can tell which source second and
which source frame ended up where.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from audio.ffmpeg_tools import find_tools

BASE_HZ = 400.0
STEP_HZ = 100.0
BITS = 11  # frame indices up to 2047 (81 s at 25 fps)
SIZE = (256, 144)  # width, height: small, so encoding takes milliseconds
GREY = 128


def ffmpeg_exe() -> str:
    return find_tools().ffmpeg


def _run(args: list[str], stdin: bytes | None = None) -> bytes:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    if stdin is not None:
        cmd.remove("-nostdin")
    run = subprocess.run(cmd, input=stdin, capture_output=True)
    if run.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {run.stderr.decode(errors='replace')[-2000:]}")
    return run.stdout


# --- audio ----------------------------------------------------------------------------
def tone_hz(second: int) -> float:
    return BASE_HZ + STEP_HZ * second


def tone_samples(seconds: float, sample_rate: int, amplitude: float = 0.5) -> np.ndarray:
    """The second-coded tone, phase-continuous across the frequency steps."""
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    freq = BASE_HZ + STEP_HZ * np.floor(t)
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    return (amplitude * np.sin(phase)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path


def make_audio(path: Path, seconds: float, sample_rate: int = 48_000) -> Path:
    """The tone as `path` (codec from the suffix: wav, flac, mp3, m4a, ...)."""
    path = Path(path)
    wav = path if path.suffix == ".wav" else path.with_name(path.stem + ".src.wav")
    write_wav(wav, tone_samples(seconds, sample_rate), sample_rate)
    if wav != path:
        _run(["-i", str(wav), str(path)])
        wav.unlink()
    return path


def decode_audio(path: Path, sample_rate: int = 48_000) -> np.ndarray:
    """Mono float32 samples of the first audio stream."""
    raw = _run(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "pipe:"])
    return np.frombuffer(raw, dtype="<f4")


def dominant_hz(samples: np.ndarray, sample_rate: int) -> float:
    window = samples * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(window, n=max(len(samples), sample_rate)))  # >= 1 Hz bins
    return float(np.argmax(spectrum) * sample_rate / max(len(samples), sample_rate))


def second_heard(samples: np.ndarray, sample_rate: int) -> int:
    """Which source second a stretch of output audio comes from."""
    return round((dominant_hz(samples, sample_rate) - BASE_HZ) / STEP_HZ)


# --- video ----------------------------------------------------------------------------
def frame_image(index: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    w, h = size
    img = np.full((h, w), GREY, dtype=np.uint8)
    stripe = w // BITS
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        img[: h // 2, bit * stripe : (bit + 1) * stripe] = 235 if on else 16
    return img


def frame_index(gray: np.ndarray) -> int:
    """Read back the index a frame shows (tolerant of compression noise)."""
    h, w = gray.shape
    stripe = w // BITS
    value = 0
    for bit in range(BITS):
        cell = gray[h // 8 : h // 2 - h // 8, bit * stripe + stripe // 4 : (bit + 1) * stripe - stripe // 4]
        value = (value << 1) | int(cell.mean() > GREY)
    return value


def make_video(
    path: Path,
    seconds: float,
    *,
    fps: int = 25,
    gop: int = 25,
    size: tuple[int, int] = SIZE,
    sample_rate: int = 48_000,
    audio: bool = True,
    bframes: int = 2,
) -> Path:
    """H.264 (+ AAC) with the frame-index picture and the second-coded tone.

    Keyframes fall exactly every `gop` frames (no scene-cut keyframes), so tests know them.
    """
    path = Path(path)
    n = round(seconds * fps)
    frames = b"".join(frame_image(i, size).tobytes() for i in range(n))
    args = ["-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "pipe:"]
    wav = path.with_name(path.stem + ".src.wav")
    if audio:
        write_wav(wav, tone_samples(seconds, sample_rate), sample_rate)
        args += ["-i", str(wav)]
    args += ["-map", "0:v"] + (["-map", "1:a", "-c:a", "aac", "-b:a", "128k"] if audio else [])
    args += [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-bf",
        str(bframes),
        str(path),
    ]
    try:
        _run(args, stdin=frames)
    finally:
        wav.unlink(missing_ok=True)
    return path


def decode_gray_frames(path: Path, size: tuple[int, int] = SIZE) -> np.ndarray:
    """Every decoded video frame as an (n, h, w) uint8 array."""
    w, h = size
    raw = _run(
        ["-i", str(path), "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "gray", "-fps_mode", "passthrough", "pipe:"]
    )
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w)


def make_testsrc_video(path: Path, seconds: float, size: tuple[int, int] = (640, 360), fps: int = 25) -> Path:
    """A bigger, busier video (ffmpeg's test pattern + a tone) for renders that must take a while."""
    _run(
        [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size[0]}x{size[1]}:rate={fps}",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            str(path),
        ]
    )
    return Path(path)
