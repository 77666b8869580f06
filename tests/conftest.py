"""Shared test set-up: where ../shared is, and an isolated models folder for every test."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("HARK_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATA = SHARED / "data"
JFK_WAV = DATA / "whisper.cpp" / "jfk.wav"
JFK_MP3 = DATA / "whisper.cpp" / "jfk.mp3"
SILERO = SHARED / "models" / "silero-vad" / "silero_vad.onnx"
FOR_TESTS_TINY_EN = SHARED / "models" / "whisper.cpp-for-tests" / "for-tests-ggml-tiny.en.bin"
FOR_TESTS_TINY = SHARED / "models" / "whisper.cpp-for-tests" / "for-tests-ggml-tiny.bin"
PYANNOTE_SAMPLE = DATA / "pyannote" / "sample.wav"
PYANNOTE_SAMPLE_RTTM = DATA / "pyannote" / "sample.rttm"


def pytest_configure(config: pytest.Config) -> None:
    if not DATA.is_dir():
        raise pytest.UsageError(f"shared test data not found at {SHARED}; set HARK_SHARED")
    # The app's settings (QSettings) of whoever runs the tests must not leak in: the command line
    # reads the Settings' diarization folder, for one. Set before Qt reads it, once per session.
    import tempfile

    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="hark-test-config-")


@pytest.fixture(autouse=True)
def isolated_models(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the user's real model folder."""
    root = tmp_path_factory.mktemp("models")
    monkeypatch.setenv("HARK_MODELS_DIR", str(root))
    for var in ("HARK_MODEL", "HARK_MODEL_MIRROR", "HARK_VAD_MODEL", "HARK_FFMPEG", "HARK_DIARIZATION_MODEL"):
        monkeypatch.delenv(var, raising=False)
    return root


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def random_tiny_en(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ggml model with the real tiny.en shapes and random weights, made by our own tool."""
    from pipeline.ggml_file import write_random_model

    out = tmp_path_factory.mktemp("random-model") / "random-tiny.en.bin"
    write_random_model(FOR_TESTS_TINY_EN, out, kind="tiny", seed=1)
    return out


@pytest.fixture(scope="session")
def random_diarization_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An offline pyannote pipeline folder: segmentation-3.0 PyanNet, WeSpeaker ResNet34 and a PLDA with
    the real shapes and random weights, written by our own code (pipeline.diarization_random)."""
    pytest.importorskip("pyannote.audio", reason="the diarize extra is not installed")
    from pipeline.diarization_random import write_random_pipeline

    return write_random_pipeline(tmp_path_factory.mktemp("diarization") / "random-community-1", seed=3)


class NetworkAttempt(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fail on any attempt to reach a non-loopback address (pyannote and huggingface_hub must stay offline).
    Returns the list of attempted addresses."""
    import socket

    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_create = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def loopback(host: object) -> bool:
        return str(host) in {"127.0.0.1", "::1", "localhost"} or str(host).startswith("/")

    def connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if not loopback(host):
            attempts.append(address)
            raise NetworkAttempt(f"network attempt to {address!r}")
        return real_connect(self, address)

    def create_connection(address: tuple[str, int], *a: object, **k: object) -> object:
        if not loopback(address[0]):
            attempts.append(address)
            raise NetworkAttempt(f"network attempt to {address!r}")
        return real_create(address, *a, **k)

    def getaddrinfo(host: object, *a: object, **k: object) -> object:
        if host is not None and not loopback(host):
            attempts.append(host)
            raise NetworkAttempt(f"name lookup of {host!r}")
        return real_getaddrinfo(host, *a, **k)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def copy_shared(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copyfile(src, dst)
    return dst
