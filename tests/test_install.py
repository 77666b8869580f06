"""The install recipe holds on this machine: CPU-only PyTorch, and pyannote's stack importable.

`make test` runs packaging/setup-dev.sh first (on CI, a fresh clone and a fresh .venv), so these
check what that recipe really installed.
"""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _version(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def test_no_cuda_package_was_installed() -> None:
    names = sorted(d.metadata["Name"].lower() for d in md.distributions())
    assert not [n for n in names if n.startswith(("nvidia-", "triton", "cuda-"))]


def test_torch_is_the_cpu_build_and_the_decoders_are_cpu_builds() -> None:
    pytest.importorskip("torch")
    import torch

    assert torch.version.cuda is None
    torch_version, torchcodec_version = _version("torch"), _version("torchcodec")
    assert torch_version is not None and torch_version.endswith("+cpu")
    assert torchcodec_version is not None
    major, minor = (int(x) for x in torchcodec_version.split(".")[:2])
    assert (major, minor) < (0, 14), "torchcodec 0.14+ on PyPI are CUDA builds"


def test_torchaudio_imports_without_its_cuda_libraries() -> None:
    """pyannote needs torchaudio's pure-Python parts; the CUDA-linked native libraries are gone."""
    pytest.importorskip("torch")
    code = (
        "import torchaudio, torchaudio.compliance.kaldi as k, torch; "
        "print(k.fbank(torch.randn(1, 16000), num_mel_bins=80).shape)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "torch.Size([98, 80])" in r.stdout
    again = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "strip_torchaudio_native.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and again.stderr == "", "idempotent: nothing left to remove"


def test_pyannote_imports_with_telemetry_off() -> None:
    code = (
        "from pipeline.speakers.diarization import pyannote_env\n"
        "with pyannote_env():\n"
        "    import pyannote.audio, os\n"
        "print(os.environ['PYANNOTE_METRICS_ENABLED'], os.environ['HF_HUB_OFFLINE'])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["false", "1"]


def test_the_extra_and_the_constraints_agree() -> None:
    text = (ROOT / "constraints.txt").read_text()
    assert "torch==2.13.0+cpu" in text and "torchcodec==0.13.0" in text
    extra = md.metadata("hark").get_all("Requires-Dist")
    assert extra is not None
    assert any(r.startswith("pyannote.audio") and 'extra == "diarize"' in r for r in extra)
