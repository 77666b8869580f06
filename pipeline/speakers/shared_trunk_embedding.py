"""Speaker embeddings that run the ResNet trunk once per audio chunk, not once per speaker.

pyannote's SpeakerDiarization embeds every (chunk, local speaker) pair: the same
10 s of audio goes through WeSpeaker's ResNet34 three times (segmentation-3.0
has three local speakers), and only the statistics pooling differs, weighted by
each speaker's mask. The trunk is 99% of the cost, so this wrapper runs it once
per distinct chunk in a batch and pools each mask over the shared frames. The
output equals pyannote's to float rounding (tested); with NHWC convolution
weights it is about 5x faster on 2 CPU cores.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch


def supports_shared_trunk(embedding: Any) -> bool:
    model = getattr(embedding, "model_", None)
    return hasattr(model, "forward_frames") and hasattr(model, "forward_embedding")


def _groups(waveforms: torch.Tensor) -> list[tuple[int, int]]:
    """Runs [start, stop) of identical consecutive waveforms (pyannote yields a chunk's speakers together)."""
    import torch

    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, waveforms.shape[0] + 1):
        if i == waveforms.shape[0] or not torch.equal(waveforms[i], waveforms[start]):
            runs.append((start, i))
            start = i
    return runs


class SharedTrunkEmbedding:
    """Drop-in for pyannote's PyannoteAudioPretrainedSpeakerEmbedding (same call, same result)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        import torch

        # oneDNN's convolutions run ~1.5x faster on CPU with NHWC weights (same values).
        inner.model_.to(memory_format=torch.channels_last)
        self.trunk_runs = 0  # how many chunks went through the trunk (for tests and benchmarks)

    def __getattr__(self, name: str) -> Any:  # sample_rate, dimension, metric, min_num_samples, ...
        return getattr(self._inner, name)

    def __call__(self, waveforms: torch.Tensor, masks: torch.Tensor | None = None) -> np.ndarray:
        if masks is None:
            return self._inner(waveforms)
        import torch

        model = self._inner.model_
        device = self._inner.device
        out: list[torch.Tensor] = []
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pooling over an all-zero mask warns; pyannote silences it too
            runs = _groups(waveforms)
            firsts = torch.stack([waveforms[a] for a, _ in runs]).to(device)
            frames = model.forward_frames(firsts)  # fbank + ResNet trunk
            self.trunk_runs += len(runs)
            for k, (a, b) in enumerate(runs):
                weights = masks[a:b].to(device)[None]  # (1, speakers, frames)
                emb = model.forward_embedding(frames[k : k + 1], weights=weights)
                out.append(emb.reshape(b - a, -1))
        return torch.cat(out).cpu().numpy()
