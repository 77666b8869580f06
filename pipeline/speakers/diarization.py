"""Who spoke when: pyannote.audio's SpeakerDiarization, offline and on the CPU.

The pipeline is loaded from a local folder (config.yaml with `$model/...` paths,
as pyannote's speaker-diarization-community-1 ships), never from the network:
`HF_HUB_OFFLINE=1` and `PYANNOTE_METRICS_ENABLED=false` (no telemetry) are set
before pyannote is imported. Audio goes in as an in-memory waveform.

torch and pyannote.audio are an optional part of the install (the `diarize`
extra); without them `DiarizationUnavailable` says how to add them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audio.errors import Cancelled, HarkError
from pipeline.errors import ModelError
from pipeline.speakers.shared_trunk_embedding import SharedTrunkEmbedding, supports_shared_trunk
from pipeline.speakers.speaker_turns import Turn

if TYPE_CHECKING:
    from pyannote.core import Annotation

log = logging.getLogger(__name__)

ENV_MODEL = "HARK_DIARIZATION_MODEL"
SAMPLE_RATE = 16000
# pyannote's default hop between 10 s segmentation windows is 1 s (step 0.1), and
# every window costs one speaker embedding per local speaker (~95% of the time):
# 9 of 10 embeddings are of audio already covered. The presets trade looks per
# instant for speed; "balanced" (a 3 s hop, every instant still seen 3-4 times)
# is the default. RTF on 2 cores with the trunk shared: 0.09 / 0.14 / 0.5.
PYANNOTE_SEGMENTATION_STEP = 0.1
SPEED_PRESETS = {"fast": 0.5, "balanced": 0.3, "accurate": PYANNOTE_SEGMENTATION_STEP}
DEFAULT_PRESET = "balanced"
TUNED_SEGMENTATION_STEP = SPEED_PRESETS[DEFAULT_PRESET]
PipelineProgress = Callable[[float], None]


class DiarizationUnavailable(HarkError):
    """torch / pyannote.audio are not installed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "speaker diarization needs PyTorch and pyannote.audio, which this install leaves out; "
            "add them with: pip install 'hark[diarize]'" + (f" ({detail})" if detail else "")
        )


def _set_env() -> None:
    # Always: no usage telemetry, and no hub access (our own downloader fetches models).
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    os.environ["HF_HUB_OFFLINE"] = "1"


@contextlib.contextmanager
def pyannote_env() -> Iterator[None]:
    """Import pyannote only inside this: the environment is set first, and a missing
    install becomes `DiarizationUnavailable` instead of an ImportError."""
    _set_env()
    try:
        yield
    except ImportError as e:
        if e.name and e.name.split(".")[0] in {"torch", "torchaudio", "torchcodec", "pyannote", "lightning"}:
            raise DiarizationUnavailable(f"no module {e.name}") from e
        raise


def diarization_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "pyannote"))


def check_pipeline_dir(path: str | Path) -> Path:
    """The folder, or a ModelError saying what is wrong with it."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(f"diarization model folder not found: {p}")
    if p.is_file() and p.name == "config.yaml":
        p = p.parent
    if not (p / "config.yaml").is_file():
        raise ModelError(f"not a diarization pipeline folder (no config.yaml): {p}")
    missing = [
        s
        for s in (
            "segmentation/pytorch_model.bin",
            "embedding/pytorch_model.bin",
            "plda/plda.npz",
            "plda/xvec_transform.npz",
        )
        if not (p / s).is_file()
    ]
    if missing:
        raise ModelError(f"diarization pipeline folder {p} is incomplete: missing {', '.join(missing)}")
    return p


DOWNLOADED_PIPELINE = "speaker-diarization-community-1"


def downloaded_pipeline_dir(models_root: Path) -> Path:
    """Where the model manager puts the pipeline it downloads from the hub."""
    return Path(models_root) / "diarization" / DOWNLOADED_PIPELINE


def resolve_pipeline_dir(
    explicit: str | Path | None = None, configured: str | Path | None = None, downloaded: Path | None = None
) -> Path:
    """Where the pipeline comes from: the command line, then $HARK_DIARIZATION_MODEL, then the
    folder chosen in Settings, then the one downloaded by the model manager."""
    for source in (explicit, os.environ.get(ENV_MODEL) or None, configured or None):
        if source:
            return check_pipeline_dir(source)
    if downloaded is not None and (downloaded / "config.yaml").is_file():
        return check_pipeline_dir(downloaded)
    raise ModelError(
        "no speaker diarization model: download one with 'hark models download diarization' or in "
        "Tools → Models (needs a Hugging Face token), "
        f"choose its folder in Settings, or pass --diarization-model DIR (or set {ENV_MODEL})"
    )


@dataclass(frozen=True)
class DiarizationOptions:
    """How to diarize; `for_preset` builds one from a speed preset name."""

    num_speakers: int | None = None  # exactly this many, when known
    min_speakers: int | None = None
    max_speakers: int | None = None
    segmentation_step: float = TUNED_SEGMENTATION_STEP  # fraction of the 10 s window
    embedding_batch_size: int = 12  # 4 chunks x 3 local speakers: progress and cancel every ~2 s
    segmentation_batch_size: int = 32
    threads: int | None = None  # torch intra-op threads; None leaves torch's default
    shared_trunk: bool = True  # embed each chunk once for all its speakers (same result, ~3x faster)

    def __post_init__(self) -> None:
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ValueError("min_speakers is more than max_speakers")
        if not 0.01 <= self.segmentation_step <= 1.0:
            raise ValueError("segmentation_step must be within 0.01..1")

    @classmethod
    def for_preset(cls, preset: str = DEFAULT_PRESET, **kw: Any) -> DiarizationOptions:
        """kw: the other fields (num_speakers=..., threads=...)."""
        if preset not in SPEED_PRESETS:
            raise ValueError(f"unknown speed preset {preset!r}; choose from {', '.join(SPEED_PRESETS)}")
        return cls(segmentation_step=SPEED_PRESETS[preset], **kw)


@dataclass
class Diarization:
    turns: list[Turn]  # may overlap (two people at once)
    exclusive: list[Turn]  # one speaker at a time: what words are assigned from
    speakers: list[str] = field(default_factory=list)


# Share of the work per pyannote step, for one progress value (measured on 2 cores:
# embeddings dominate).
_STEP_SPAN = {
    "segmentation": (0.0, 0.12),
    "speaker_counting": (0.12, 0.12),
    "embeddings": (0.12, 0.97),
    "discrete_diarization": (0.99, 0.99),
}


def _annotation_turns(annotation: Annotation, duration: float) -> list[Turn]:
    """pyannote's turns as ours, clipped to the audio (its last window is padded past the end)."""
    out = [
        Turn(max(0.0, float(seg.start)), min(duration, float(seg.end)), str(label))
        for seg, _, label in annotation.itertracks(yield_label=True)
        if min(duration, seg.end) > seg.start
    ]
    out.sort(key=lambda t: (t.start, t.end, t.speaker))
    return out


class Diarizer:
    """A loaded pipeline; call it on 16 kHz mono samples. Not thread-safe: one call at a time."""

    def __init__(self, pipeline_dir: str | Path, options: DiarizationOptions = DiarizationOptions()) -> None:
        self.path = check_pipeline_dir(pipeline_dir)
        self.options = options
        with pyannote_env():
            import torch
            from pyannote.audio import Pipeline

            if options.threads:
                torch.set_num_threads(options.threads)
            try:
                pipeline = Pipeline.from_pretrained(self.path)
            except HarkError:
                raise
            except Exception as e:
                raise ModelError(f"cannot load the diarization pipeline in {self.path}: {e}") from e
        if pipeline is None:
            raise ModelError(f"cannot load the diarization pipeline in {self.path}")
        # A SpeakerDiarization, tuned through its internals (_segmentation, ...): typed loosely.
        self._pipeline: Any = pipeline
        self._apply_options()

    def _apply_options(self) -> None:
        p, o = self._pipeline, self.options
        seg = p._segmentation  # the Inference object reads its step at call time
        seg.step = o.segmentation_step * seg.duration
        p.segmentation_step = o.segmentation_step
        p.segmentation_batch_size = o.segmentation_batch_size
        p.embedding_batch_size = o.embedding_batch_size
        if o.shared_trunk and supports_shared_trunk(p._embedding):
            p._embedding = SharedTrunkEmbedding(p._embedding)

    def __call__(
        self, samples: np.ndarray, *, progress: PipelineProgress | None = None, cancel: threading.Event | None = None
    ) -> Diarization:
        if samples.ndim != 1:
            raise ValueError("expected mono samples")
        if samples.size < SAMPLE_RATE // 2:  # shorter than pyannote's receptive field can say anything about
            return Diarization([], [], [])
        import torch

        last = [0.0]

        def hook(
            step: str,
            artifact: object = None,
            file: object = None,
            total: int | None = None,
            completed: int | None = None,
        ) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if progress is None:
                return
            lo, hi = _STEP_SPAN.get(step, (last[0], last[0]))
            f = lo + (hi - lo) * min(1.0, completed / total) if total and completed is not None else hi
            if f > last[0]:  # steps report out of order at their ends; the bar only moves forward
                last[0] = f
                progress(f)

        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
        o = self.options
        with torch.inference_mode(), warnings.catch_warnings():
            # Known noise: pooling over a speaker mask of one frame, and numpy means of empty
            # clusters, both handled by pyannote; nothing for a user to act on.
            warnings.filterwarnings("ignore", message=r"std\(\): degrees of freedom")
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"numpy\..*")
            # A clip too short for the asked number of speakers: pyannote returns fewer, as we do.
            warnings.filterwarnings("ignore", message=r"\s*The detected number of speakers")
            out = self._pipeline(
                {"waveform": waveform, "sample_rate": SAMPLE_RATE, "uri": "hark"},
                num_speakers=o.num_speakers,
                min_speakers=o.min_speakers,
                max_speakers=o.max_speakers,
                hook=hook,
            )
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        duration = samples.size / SAMPLE_RATE
        turns = _annotation_turns(out.speaker_diarization, duration)
        exclusive = _annotation_turns(out.exclusive_speaker_diarization, duration)
        if progress is not None:
            progress(1.0)
        return Diarization(turns, exclusive, sorted({t.speaker for t in turns}))
