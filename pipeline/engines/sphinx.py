"""Offline English recognition with PocketSphinx, whose wheel carries the model.

Less accurate than whisper, but it needs no download: the engine of last
resort, and the one tests use to get real words from real speech. Audio is cut
into utterances by PocketSphinx's own endpointer and each utterance is decoded
whole, which lets cepstral mean normalisation see all of it (much better words
than streaming it in pieces).
"""

from __future__ import annotations

import concurrent.futures
import importlib.metadata
import io
import multiprocessing
import re
import threading

import numpy as np

from audio.errors import Cancelled
from pipeline.engines.base import EngineResult, EngineWord, ProgressFn, TranscribeOptions
from pipeline.errors import EngineError
from pipeline.process_pool import exit_with_parent, stop_now

SAMPLE_RATE = 16_000
_ALT_PRONUNCIATION = re.compile(r"\(\d+\)$")


# In a worker process (see `isolate`): its own decoder, built once.
_worker_engine: SphinxEngine | None = None


FRAME = 0.03  # s per loudness frame


def _frame_db(samples: np.ndarray) -> np.ndarray:
    n = int(FRAME * SAMPLE_RATE)
    frames = samples[: len(samples) // n * n].reshape(-1, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)


def loud_seconds(samples: np.ndarray, above_floor_db: float = 12.0) -> float:
    """Seconds clearly louder than the recording's noise floor (its 10th-percentile frame)."""
    db = _frame_db(samples)
    if len(db) == 0:
        return 0.0
    return float(np.sum(db > np.percentile(db, 10) + above_floor_db)) * FRAME


def loud_regions(
    samples: np.ndarray, *, above_floor_db: float = 12.0, bridge: float = 0.5, pad: float = 0.2, longest: float = 20.0
) -> list[tuple[float, float]]:
    """Stretches louder than the noise floor, pauses under `bridge` joined, padded, none over `longest` s
    (split at their quietest frame): what to decode when the engine's own VAD hears nothing."""
    db = _frame_db(samples)
    if len(db) == 0:
        return []
    loud = db > np.percentile(db, 10) + above_floor_db
    regions: list[list[int]] = []
    for i in np.flatnonzero(loud).tolist():  # plain ints
        if regions and i - regions[-1][1] <= bridge / FRAME:
            regions[-1][1] = i
        else:
            regions.append([i, i])
    total = len(samples) / SAMPLE_RATE
    out: list[tuple[float, float]] = []
    for a, b in regions:
        start = max(0.0, a * FRAME - pad)
        if out and start < out[-1][1]:  # padding made it touch the one before: one region
            start = out.pop()[0]
        out.append((start, min(total, (b + 1) * FRAME + pad)))
    pieces: list[tuple[float, float]] = []
    for s, e in out:  # too long for one decode: split at the quietest moment of its middle half
        todo = [(s, e)]
        while todo:
            lo, hi = todo.pop(0)
            if hi - lo <= longest:
                pieces.append((lo, hi))
                continue
            f0, f1 = int((lo + (hi - lo) / 4) / FRAME), int((hi - (hi - lo) / 4) / FRAME)
            cut = (f0 + int(np.argmin(db[f0:f1]))) * FRAME
            todo[:0] = [(lo, cut), (cut, hi)]
    return pieces


def _worker_init() -> None:
    global _worker_engine
    exit_with_parent()  # a Hark killed with -9 must not leave its engine running
    _worker_engine = SphinxEngine()


def _worker_decode(pcm: bytes, offset: float) -> list[EngineWord]:
    assert _worker_engine is not None
    return _worker_engine._decode(pcm, offset)


class SphinxEngine:
    """`isolate=True` decodes in a child process: PocketSphinx holds the GIL for
    a whole utterance (over a second), which would freeze a GUI in this process."""

    name = "pocketsphinx"
    model_name = "en-us (bundled)"

    def __init__(self, *, isolate: bool = False) -> None:
        self.version = importlib.metadata.version("pocketsphinx")
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        if isolate:
            ctx = multiprocessing.get_context("spawn")  # no fork of a process that runs Qt and threads
            self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx, initializer=_worker_init)
            return
        from pocketsphinx import Decoder

        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._frame_rate = int(self._decoder.config["frate"])

    def close(self) -> None:
        """Stops the child at once: a decode still running there was cancelled (quitting, or another engine
        chosen), and letting it finish kept a quitting app alive for seconds."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            stop_now(pool)

    def _decode_isolated(self, pcm: bytes, offset: float, cancel: threading.Event | None) -> list[EngineWord]:
        assert self._pool is not None
        try:
            future = self._pool.submit(_worker_decode, pcm, offset)
            while True:  # waiting here releases the GIL; a cancel is noticed within 0.1 s
                try:
                    return future.result(timeout=0.1)
                except concurrent.futures.TimeoutError:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled() from None
        except concurrent.futures.process.BrokenProcessPool as e:
            self._pool = None
            raise EngineError("the offline engine's worker process stopped unexpectedly") from e

    def options_record(self, options: TranscribeOptions) -> dict[str, object]:
        return {"language": "en"}

    def transcribe(
        self,
        samples: np.ndarray,
        options: TranscribeOptions,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> EngineResult:
        from pocketsphinx import Segmenter

        if options.language not in (None, "en"):
            raise EngineError(f"the offline engine knows only English, not {options.language!r}; use a whisper model")
        total = len(samples) / SAMPLE_RATE
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
        words: list[EngineWord] = []
        with self._lock:
            if self._pool is None and not hasattr(self, "_decoder"):
                raise EngineError("the engine was closed")
            pieces = [
                (u.start_time, u.end_time, u.pcm)
                for u in Segmenter(sample_rate=SAMPLE_RATE).segment(io.BytesIO(pcm.tobytes()))
            ]
            if total > 5 and sum(e - s for s, e, _ in pieces) < 0.25 * loud_seconds(samples):
                # PocketSphinx's own VAD misses quiet or noisy speech (a meeting recorded from across
                # the room): go by loudness instead.
                pieces = [
                    (s, e, pcm[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)].tobytes()) for s, e in loud_regions(samples)
                ]
            for start, end, chunk in pieces:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if self._pool is not None:
                    words.extend(self._decode_isolated(chunk, start, cancel))
                else:
                    words.extend(self._decode(chunk, start))
                if progress is not None and total > 0:
                    progress(min(1.0, end / total))
        if progress is not None:
            progress(1.0)
        return EngineResult(words=words, language="en")

    def _decode(self, pcm: bytes, offset: float) -> list[EngineWord]:
        d = self._decoder
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        logmath = d.get_logmath()
        out: list[EngineWord] = []
        for seg in d.seg():
            token = _ALT_PRONUNCIATION.sub("", seg.word)
            if not token or token[0] in "<[":  # <s>, </s>, <sil>, [NOISE], ...
                continue
            text = "I" if token == "i" else token.replace("i'", "I'") if token.startswith("i'") else token
            out.append(
                EngineWord(
                    text=text,
                    start=offset + seg.start_frame / self._frame_rate,
                    end=offset + (seg.end_frame + 1) / self._frame_rate,
                    probability=float(min(1.0, max(0.0, logmath.exp(seg.prob)))) if seg.prob <= 0 else float(seg.prob),
                )
            )
        return out
