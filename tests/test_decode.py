"""Decoding real files from ../shared through real ffmpeg, and every bad-input case."""

from __future__ import annotations

import subprocess
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from audio.decode import SAMPLE_RATE, AudioStream, _Decoder, decode_audio
from audio.errors import (
    Cancelled,
    EmptyMediaError,
    MediaNotFoundError,
    NoAudioStreamError,
    NotMediaError,
)
from audio.ffmpeg_tools import find_tools
from audio.formats import expand_inputs
from audio.probe import probe
from tests.conftest import DATA, JFK_MP3, JFK_WAV, copy_shared, ffmpeg

FORMATS = [
    ("whisper.cpp/jfk.mp3", 11.0),  # mp3
    ("mfa/61-70968-0000.flac", 4.91),  # flac
    ("mfa/13697_11991_000000.opus", 14.85),  # opus in ogg
    ("mfa/cold_corpus_24bit.wav", 25.72),  # 24-bit PCM
    ("mfa/cold_corpus_32bit_float.wav", 25.72),  # float WAV
    ("lhotse/LJ002-0020.wav", 1.54),  # 22.05 kHz
    ("mfa/common_voice_en_22058264.mp3", 4.11),  # 48 kHz mp3
    ("faster-whisper/stereo_diarization.wav", 5.0),  # stereo
    ("lhotse/big_buck_bunny_small.mp4", 5.31),  # H.264 + AAC 5.1 video
]


@pytest.mark.parametrize("rel,seconds", FORMATS)
def test_decodes_every_shared_format(rel: str, seconds: float) -> None:
    got = decode_audio(DATA / rel)
    assert got.sample_rate == SAMPLE_RATE
    assert got.samples.dtype == np.float32 and got.samples.ndim == 1
    assert got.duration == pytest.approx(seconds, abs=0.06)
    assert 0.01 < float(np.max(np.abs(got.samples))) <= 1.0
    assert got.warnings == []


@pytest.mark.parametrize("rel,seconds", FORMATS)
def test_decoder_describes_its_input_as_ffprobe_does(rel: str, seconds: float) -> None:
    # The decoding ffmpeg's own banner replaces a second (ffprobe) process.
    ours, reference = AudioStream(DATA / rel).info, probe(DATA / rel)
    assert reference.duration is not None and ours.duration == pytest.approx(reference.duration, abs=0.02)
    assert (ours.has_audio, ours.has_video, ours.sample_rate, ours.channels, ours.audio_codec) == (
        reference.has_audio,
        reference.has_video,
        reference.sample_rate,
        reference.channels,
        reference.audio_codec,
    )


def _ffmpeg_of(stream: AudioStream) -> subprocess.Popen:
    """The ffmpeg process a stream of a compressed file reads from (the stream itself is not kept)."""
    dec = stream._dec
    assert isinstance(dec, _Decoder)
    return dec.proc


def test_a_stream_dropped_unread_stops_its_ffmpeg() -> None:
    stream = AudioStream(JFK_MP3)
    stream.close()
    assert _ffmpeg_of(stream).poll() is not None


def test_a_stream_forgotten_without_close_stops_its_ffmpeg() -> None:
    """Nine ffmpeg processes of a test run sat blocked on a full pipe until the run ended."""
    import gc

    proc = _ffmpeg_of(AudioStream(JFK_MP3, block_samples=1000))
    gc.collect()
    assert proc.wait(timeout=10) is not None


def test_decoded_samples_match_the_source_pcm() -> None:
    with wave.open(str(JFK_WAV)) as w:
        ref = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    got = decode_audio(JFK_WAV).samples
    assert len(got) == len(ref)
    assert float(np.max(np.abs(got - ref))) < 1e-4


def test_24bit_and_float_wav_decode_to_the_same_signal() -> None:
    a = decode_audio(DATA / "mfa/cold_corpus_24bit.wav").samples
    b = decode_audio(DATA / "mfa/cold_corpus_32bit_float.wav").samples
    assert len(a) == len(b)
    assert np.corrcoef(a, b)[0, 1] > 0.999


def test_progress_is_reported_and_reaches_one() -> None:
    seen: list[float] = []
    decode_audio(DATA / "mfa/cold_corpus.wav", progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_streaming_blocks_equal_whole_decode() -> None:
    whole = decode_audio(JFK_MP3).samples
    stream = AudioStream(JFK_MP3, block_samples=7000)
    blocks = list(stream)
    assert all(len(b) == 7000 for b in blocks[:-1])
    assert np.array_equal(np.concatenate(blocks), whole)
    assert stream.samples_read == len(whole) and stream.warnings == []


def test_bundled_ffmpeg_without_ffprobe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARK_FFMPEG", "bundled")
    tools = find_tools()
    assert tools.ffprobe is None and "imageio_ffmpeg" in tools.ffmpeg
    info = probe(DATA / "lhotse/big_buck_bunny_small.mp4", tools)
    assert info.has_audio and info.has_video and info.duration == pytest.approx(5.31, abs=0.05)
    assert info.sample_rate == 48000 and info.channels == 6
    bundled = decode_audio(JFK_MP3, tools=tools).samples
    monkeypatch.delenv("HARK_FFMPEG")
    system = decode_audio(JFK_MP3).samples
    n = min(len(bundled), len(system))
    assert abs(len(bundled) - len(system)) < SAMPLE_RATE // 100
    assert np.corrcoef(bundled[:n], system[:n])[0, 1] > 0.99


def test_bundled_probe_rejects_non_media(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARK_FFMPEG", "bundled")
    bad = tmp_path / "notes.mp3"
    bad.write_text("this is not audio\n" * 50)
    with pytest.raises(NotMediaError):
        decode_audio(bad)


# --- bad input ------------------------------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError, match="no such file"):
        decode_audio(tmp_path / "missing.wav")


def test_text_file_is_not_media(tmp_path: Path) -> None:
    bad = tmp_path / "talk.mp4"
    bad.write_text("hello, I am a text file\n" * 100)
    with pytest.raises(NotMediaError, match="not an audio or video file"):
        decode_audio(bad)


def test_folder_is_not_media(tmp_path: Path) -> None:
    with pytest.raises(NotMediaError, match="folder"):
        decode_audio(tmp_path)


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(EmptyMediaError):
        decode_audio(empty)


def test_wav_with_no_samples(tmp_path: Path) -> None:
    p = tmp_path / "nothing.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    with pytest.raises(EmptyMediaError, match="zero length"):
        decode_audio(p)


def test_video_without_audio_track(tmp_path: Path) -> None:
    p = tmp_path / "silent-film.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=10", "-an", "-pix_fmt", "yuv420p", str(p))
    with pytest.raises(NoAudioStreamError, match="no audio track"):
        decode_audio(p)


def test_truncated_flac_returns_what_decoded_with_a_warning(tmp_path: Path) -> None:
    src = DATA / "mfa/cold_corpus.wav"
    flac = tmp_path / "cold.flac"
    ffmpeg("-i", str(src), str(flac))
    data = flac.read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    got = decode_audio(cut)
    assert 8.0 < got.duration < 18.0
    assert got.warnings and "truncated" in got.warnings[0]


def test_truncated_wav_warns(tmp_path: Path) -> None:
    src = copy_shared(DATA / "mfa/cold_corpus.wav", tmp_path)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 3])  # header still claims 25.7 s
    got = decode_audio(src)
    assert got.duration == pytest.approx(25.72 / 3, abs=0.2)
    assert got.warnings and "truncated" in got.warnings[0]


def test_corrupt_middle_of_mp4_still_decodes(tmp_path: Path) -> None:
    src = copy_shared(DATA / "lhotse/big_buck_bunny_small.mp4", tmp_path)
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(0)
    mid = len(data) // 2
    data[mid : mid + 40_000] = rng.integers(0, 256, 40_000, dtype=np.uint8).tobytes()
    src.write_bytes(bytes(data))
    got = decode_audio(src)
    assert got.duration > 1.0  # what survived is returned


def test_cancel_stops_decoding() -> None:
    ev = threading.Event()
    ev.set()
    with pytest.raises(Cancelled):
        decode_audio(DATA / "mfa/cold_corpus.wav", cancel=ev)


def test_expand_inputs_finds_media_in_folders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    copy_shared(JFK_MP3, tmp_path / "sub")
    (tmp_path / "readme.txt").write_text("x")
    found = expand_inputs([tmp_path])
    assert [p.name for p in found] == ["jfk.mp3"]


def test_plain_16k_wav_is_read_without_ffmpeg_and_matches_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import audio.decode as decode_mod

    def no_ffmpeg() -> None:
        raise AssertionError("ffmpeg was started for a 16 kHz mono PCM WAV")

    monkeypatch.setattr(decode_mod, "find_tools", no_ffmpeg)
    direct = decode_audio(JFK_WAV)
    streamed = np.concatenate(list(AudioStream(JFK_WAV, block_samples=7000)))
    monkeypatch.undo()
    monkeypatch.setattr(decode_mod._WavReader, "open", classmethod(lambda cls, p, sr: None))
    via_ffmpeg = decode_audio(JFK_WAV)
    assert np.array_equal(direct.samples, via_ffmpeg.samples) and np.array_equal(streamed, direct.samples)
    assert direct.info.duration == pytest.approx(via_ffmpeg.info.duration, abs=0.001)
    assert direct.info.sample_rate == 16000 and direct.info.channels == 1 and direct.warnings == []
