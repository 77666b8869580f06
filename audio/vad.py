"""Voice activity detection with Silero VAD (ONNX, run by onnxruntime).

The model file arrives as a path from the caller (the model manager lives in
pipeline/). Silero is a small recurrent model deciding every 32 ms chunk; a
VadStream carries its state and the last samples across blocks, so long files
are processed block by block in constant memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.errors import HarkError

SAMPLE_RATE = 16_000
CHUNK = 512  # samples per decision at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous chunk the model sees with each chunk
FRAME_SECONDS = CHUNK / SAMPLE_RATE


class VadModelError(HarkError):
    pass


@dataclass(frozen=True)
class VadParams:
    threshold: float = 0.5  # speech starts above this probability
    neg_threshold: float | None = None  # ... and ends below this (default threshold - 0.15)
    min_speech: float = 0.25  # s; shorter blips are dropped
    min_silence: float = 0.5  # s; shorter pauses do not split speech
    pad: float = 0.2  # s kept on both sides of each region


Region = tuple[float, float]


class SileroVad:
    """A loaded Silero model; create one VadStream per audio stream."""

    def __init__(self, model_path: str | Path) -> None:
        import onnxruntime as ort

        path = Path(model_path)
        if not path.is_file():
            raise VadModelError(f"VAD model not found: {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors
            raise VadModelError(f"cannot load VAD model {path}: {e}") from e
        self.path = path
        self.lock = threading.Lock()  # the session is shared; runs are serialised

    def stream(self) -> VadStream:
        return VadStream(self)

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        s = self.stream()
        return np.concatenate([s.feed(samples), s.flush()])

    def speech_regions(self, samples: np.ndarray, params: VadParams = VadParams()) -> list[Region]:
        return regions_from_probabilities(self.probabilities(samples), params, total=len(samples) / SAMPLE_RATE)


class VadStream:
    """Speech probability per 32 ms chunk for audio fed in blocks of any size."""

    def __init__(self, vad: SileroVad) -> None:
        self._vad = vad
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)

    def feed(self, block: np.ndarray) -> np.ndarray:
        data = np.concatenate([self._pending, block.astype(np.float32, copy=False)])
        n = len(data) // CHUNK
        self._pending = data[n * CHUNK :]
        return self._run(data[: n * CHUNK])

    def flush(self) -> np.ndarray:
        """Decide the last partial chunk (zero-padded)."""
        if len(self._pending) == 0:
            return np.zeros(0, dtype=np.float32)
        last = np.zeros(CHUNK, dtype=np.float32)
        last[: len(self._pending)] = self._pending
        self._pending = np.zeros(0, dtype=np.float32)
        return self._run(last)

    def _run(self, data: np.ndarray) -> np.ndarray:
        n = len(data) // CHUNK
        out = np.empty(n, dtype=np.float32)
        x = np.empty((1, CONTEXT + CHUNK), dtype=np.float32)
        session = self._vad._session
        with self._vad.lock:
            for i in range(n):
                x[0, :CONTEXT] = self._context
                x[0, CONTEXT:] = data[i * CHUNK : (i + 1) * CHUNK]
                prob, self._state = session.run(None, {"input": x, "state": self._state, "sr": self._sr})
                out[i] = prob[0, 0]
                self._context = x[0, -CONTEXT:].copy()
        return out


def regions_from_probabilities(probs: np.ndarray, params: VadParams, *, total: float) -> list[Region]:
    """Turn per-chunk speech probabilities into padded, merged (start, end) seconds."""
    off = params.neg_threshold if params.neg_threshold is not None else max(0.01, params.threshold - 0.15)
    raw: list[Region] = []
    start: int | None = None
    silence_from: int | None = None
    min_silence_chunks = max(1, round(params.min_silence / FRAME_SECONDS))
    for i, p in enumerate(probs):
        if start is None:
            if p >= params.threshold:
                start, silence_from = i, None
            continue
        if p >= off:
            silence_from = None
        elif silence_from is None:
            silence_from = i
        elif i - silence_from >= min_silence_chunks:
            raw.append((start * FRAME_SECONDS, silence_from * FRAME_SECONDS))
            start, silence_from = None, None
    if start is not None:
        end = silence_from if silence_from is not None else len(probs)
        raw.append((start * FRAME_SECONDS, end * FRAME_SECONDS))
    kept = [(a, min(b, total)) for a, b in raw if b - a >= params.min_speech]
    merged: list[Region] = []
    for a, b in kept:
        a, b = max(0.0, a - params.pad), min(total, b + params.pad)
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
