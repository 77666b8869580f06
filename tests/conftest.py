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


def pytest_configure(config: pytest.Config) -> None:
    if not DATA.is_dir():
        raise pytest.UsageError(f"shared test data not found at {SHARED}; set HARK_SHARED")


@pytest.fixture(autouse=True)
def isolated_models(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the user's real model folder."""
    root = tmp_path_factory.mktemp("models")
    monkeypatch.setenv("HARK_MODELS_DIR", str(root))
    for var in ("HARK_MODEL", "HARK_MODEL_MIRROR", "HARK_VAD_MODEL", "HARK_FFMPEG"):
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


def copy_shared(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copyfile(src, dst)
    return dst
