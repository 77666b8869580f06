"""Write an offline pyannote pipeline folder with the real architectures and random weights.

No trained diarization weights can be had offline, but the pipeline's cost and
every code path (loading, segmentation, embeddings, PLDA + VBx clustering) do not
depend on the weight values. Tests and benchmarks build such a folder with this
module; it has the same layout as pyannote's speaker-diarization-community-1:

    config.yaml
    segmentation/pytorch_model.bin   PyanNet as in segmentation-3.0 (1.47 M parameters)
    embedding/pytorch_model.bin      WeSpeaker ResNet34 (6.6 M parameters, 256-d)
    plda/xvec_transform.npz, plda/plda.npz   x-vector LDA to 128-d, PLDA

Needs the `diarize` extra (torch, pyannote.audio).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.speakers.diarization import pyannote_env

if TYPE_CHECKING:
    from pyannote.audio import Model as PyannoteModel
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

EMBEDDING_DIM = 256
LDA_DIM = 128

CONFIG_YAML = """\
# Written by Hark's bench.random_diarization: real architectures, RANDOM weights.
# Speaker labels from this pipeline are meaningless; it is for tests and benchmarks.
dependencies:
  pyannote.audio: {version}
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    embedding: $model/embedding
    embedding_batch_size: 32
    embedding_exclude_overlap: true
    plda: $model/plda
    segmentation: $model/segmentation
    segmentation_batch_size: 32
params:
  clustering:
    threshold: 0.6
    Fa: 0.07
    Fb: 0.8
  segmentation:
    min_duration_off: 0.0
"""


def _save_model(model: PyannoteModel, folder: Path) -> None:
    """The checkpoint layout `pyannote.audio.Model.from_pretrained` reads (a Lightning checkpoint)."""
    import lightning
    import torch
    from pyannote.audio import __version__

    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
        "pyannote.audio": {
            "versions": {"pyannote.audio": __version__},
            "architecture": {"module": type(model).__module__, "class": type(model).__name__},
            "specifications": model.specifications,
        },
    }
    torch.save(checkpoint, folder / "pytorch_model.bin")


def _segmentation(seed: int) -> PyanNet:
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(seed)
    model = PyanNet(
        sincnet={"stride": 10},
        lstm={"hidden_size": 128, "num_layers": 4, "bidirectional": True, "monolithic": True, "dropout": 0.5},
        linear={"hidden_size": 128, "num_layers": 2},
    )
    model.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        warm_up=(0.0, 0.0),
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    model.build()
    with torch.no_grad():
        # Powerset classes: silence, speakers 1-3 alone, then pairs. Random weights would mostly
        # say "silence"; leaning towards single speakers makes every later stage (embeddings,
        # clustering) do its full work, as it does on real speech. Cost is unchanged.
        model.classifier.bias.copy_(torch.tensor([-1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0]))
    return model


def _embedding(seed: int) -> WeSpeakerResNet34:
    import torch
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34

    torch.manual_seed(seed + 1)
    model = WeSpeakerResNet34()
    model.specifications = Specifications(problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0)
    return model


def _plda(folder: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lda, _ = np.linalg.qr(rng.standard_normal((EMBEDDING_DIM, EMBEDDING_DIM)))
    np.savez(
        folder / "xvec_transform.npz",
        mean1=rng.standard_normal(EMBEDDING_DIM) * 0.1,
        mean2=rng.standard_normal(LDA_DIM) * 0.1,
        lda=lda[:, :LDA_DIM],
    )
    tr, _ = np.linalg.qr(rng.standard_normal((LDA_DIM, LDA_DIM)))
    np.savez(
        folder / "plda.npz",
        mu=rng.standard_normal(LDA_DIM) * 0.1,
        tr=tr,
        psi=np.sort(rng.uniform(0.5, 20.0, LDA_DIM))[::-1].copy(),
    )


def write_random_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """Create (or replace) the pipeline folder and return it."""
    folder = Path(folder)
    with pyannote_env():
        from pyannote.audio import __version__

        _save_model(_segmentation(seed), folder / "segmentation")
        _save_model(_embedding(seed), folder / "embedding")
    _plda(folder / "plda", seed)
    (folder / "config.yaml").write_text(CONFIG_YAML.format(version=__version__), encoding="utf-8")
    return folder
