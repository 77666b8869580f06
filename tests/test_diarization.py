"""Diarization through the real pyannote.audio code, offline, with a pipeline of random weights built by our code.

Speaker labels from random weights mean nothing; what is tested is that the real
pipeline loads from a folder with no network, runs on the waveform, reports
progress, cancels, honours speaker counts, and that our speed-ups change nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from audio.decode import decode_audio
from audio.errors import Cancelled
from pipeline.errors import ModelError
from tests.conftest import PYANNOTE_SAMPLE

pytest.importorskip("pyannote.audio", reason="the diarize extra is not installed")

import itertools

from pipeline.speakers.diarization import (
    DiarizationOptions,
    Diarizer,
    check_pipeline_dir,
    resolve_pipeline_dir,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return decode_audio(PYANNOTE_SAMPLE).samples


@pytest.fixture(scope="module")
def diarizer(random_diarization_pipeline: Path) -> Diarizer:
    return Diarizer(random_diarization_pipeline, DiarizationOptions(threads=2))


@pytest.fixture(scope="module")
def run(diarizer: Diarizer, sample: np.ndarray):
    ticks: list[float] = []
    result = diarizer(sample, progress=ticks.append)
    return result, ticks


def test_the_pipeline_loads_and_runs_with_no_network_attempt(
    random_diarization_pipeline: Path, sample: np.ndarray, no_network: list[object]
) -> None:
    d = Diarizer(random_diarization_pipeline, DiarizationOptions(threads=2))
    result = d(sample[: 12 * 16000])
    assert no_network == []
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "false"
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert result.turns, "a random-weight pipeline still labels the speech"
    assert all(0.0 <= t.start < t.end <= 12.0 + 1e-6 for t in result.turns)


def test_turns_progress_and_exclusive_turns(run) -> None:
    result, ticks = run
    assert result.speakers and all(s.startswith("SPEAKER_") for s in result.speakers)
    assert {t.speaker for t in result.turns} == set(result.speakers)
    assert all(0.0 <= t.start < t.end <= 30.0 + 1e-6 for t in result.turns)
    ex = result.exclusive
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(ex)), "exclusive turns never overlap"
    assert ticks == sorted(ticks) and ticks[-1] == 1.0
    assert any(0.2 < f < 0.9 for f in ticks), "embedding batches report progress on the way"


def test_cancel_stops_during_embeddings(random_diarization_pipeline: Path, sample: np.ndarray) -> None:
    diarizer = Diarizer(random_diarization_pipeline, DiarizationOptions(embedding_batch_size=3, threads=2))
    cancel = threading.Event()
    seen: list[float] = []

    def tick(f: float) -> None:
        seen.append(f)
        if f > 0.15:  # inside the embeddings step
            cancel.set()

    with pytest.raises(Cancelled):
        diarizer(sample, progress=tick, cancel=cancel)
    assert max(seen) < 0.9


@pytest.mark.parametrize(
    "options, count", [({"num_speakers": 3}, 3), ({"min_speakers": 2}, 2), ({"max_speakers": 1}, 1)]
)
def test_speaker_counts_are_honoured(
    random_diarization_pipeline: Path, sample: np.ndarray, options: dict, count: int
) -> None:
    d = Diarizer(random_diarization_pipeline, DiarizationOptions(segmentation_step=0.5, threads=2, **options))
    assert len(d(sample).speakers) == count


def test_shared_trunk_gives_pyannotes_embeddings(random_diarization_pipeline: Path, sample: np.ndarray) -> None:
    """Our speed-up (the ResNet trunk once per chunk, NHWC weights) returns pyannote's own embeddings."""
    import torch

    plain = Diarizer(random_diarization_pipeline, DiarizationOptions(shared_trunk=False, threads=2))
    fast = Diarizer(random_diarization_pipeline, DiarizationOptions(shared_trunk=True, threads=2))
    assert type(fast._pipeline._embedding).__name__ == "SharedTrunkEmbedding"
    chunks = torch.from_numpy(np.stack([sample[i * 16000 : (i + 10) * 16000] for i in (0, 7, 19)]))[:, None]
    waveforms = chunks.repeat_interleave(3, dim=0)  # as pyannote batches them: a chunk per local speaker
    rng = np.random.default_rng(0)
    masks = torch.from_numpy((rng.random((9, 589)) > 0.4).astype(np.float32))
    want = plain._pipeline._embedding(waveforms, masks=masks)
    got = fast._pipeline._embedding(waveforms, masks=masks)
    assert fast._pipeline._embedding.trunk_runs == 3
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_shared_trunk_gives_the_same_diarization(random_diarization_pipeline: Path, sample: np.ndarray) -> None:
    clip = sample[: 15 * 16000]
    plain_opts = DiarizationOptions(shared_trunk=False, segmentation_step=0.5, threads=2)
    fast_opts = DiarizationOptions(shared_trunk=True, segmentation_step=0.5, threads=2)
    plain = Diarizer(random_diarization_pipeline, plain_opts)(clip)
    fast = Diarizer(random_diarization_pipeline, fast_opts)(clip)
    assert [(round(t.start, 3), round(t.end, 3), t.speaker) for t in fast.turns] == [
        (round(t.start, 3), round(t.end, 3), t.speaker) for t in plain.turns
    ]


def test_too_short_audio_has_no_speakers(diarizer: Diarizer) -> None:
    assert diarizer(np.zeros(4000, dtype=np.float32)).turns == []


def test_pipeline_folder_errors(
    tmp_path: Path, random_diarization_pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelError, match="not found"):
        check_pipeline_dir(tmp_path / "nope")
    with pytest.raises(ModelError, match="no config.yaml"):
        check_pipeline_dir(tmp_path)
    (tmp_path / "config.yaml").write_text("pipeline: {}\n")
    with pytest.raises(ModelError, match="incomplete: missing segmentation/pytorch_model.bin"):
        check_pipeline_dir(tmp_path)
    assert check_pipeline_dir(random_diarization_pipeline / "config.yaml") == random_diarization_pipeline
    with pytest.raises(ModelError, match="no speaker diarization model"):
        resolve_pipeline_dir(None, None, tmp_path / "not-downloaded")
    monkeypatch.setenv("HARK_DIARIZATION_MODEL", str(random_diarization_pipeline))
    assert resolve_pipeline_dir(None, "/elsewhere") == random_diarization_pipeline
    assert resolve_pipeline_dir(str(random_diarization_pipeline), None) == random_diarization_pipeline


def test_a_corrupt_checkpoint_is_a_model_error(tmp_path: Path, random_diarization_pipeline: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(random_diarization_pipeline, broken)
    (broken / "embedding" / "pytorch_model.bin").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="cannot load the diarization pipeline"):
        Diarizer(broken)


def test_without_pyannote_the_error_says_how_to_install(tmp_path: Path, random_diarization_pipeline: Path) -> None:
    """As on an install without the diarize extra: torch and pyannote cannot be imported."""
    code = (
        "import sys\n"
        "for m in ('torch', 'pyannote', 'pyannote.audio'): sys.modules[m] = None\n"
        "from app.cli.main import main\n"
        f"sys.exit(main(['transcribe', {str(PYANNOTE_SAMPLE)!r}, '--engine', 'sphinx', '--diarize',"
        f" '--diarization-model', {str(random_diarization_pipeline)!r}, '--out', {str(tmp_path)!r}, '-q']))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1], timeout=120
    )
    assert r.returncode == 1, r.stderr
    assert "pip install 'hark[diarize]'" in r.stderr
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == [], "fails before transcribing anything"
