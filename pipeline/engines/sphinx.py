"""Offline English recognition with PocketSphinx, whose wheel carries the model.

Less accurate than whisper, but it needs no download: the engine of last
resort, and the one tests use to get real words from real speech. Audio is cut
into utterances by PocketSphinx's own endpointer and each utterance is decoded
whole, which lets cepstral mean normalisation see all of it (much better words
than streaming it in pieces).
"""
from __future__ import annotations

import importlib.metadata
import io
import re
import threading

import numpy as np

from audio.errors import Cancelled
from pipeline.engines.base import EngineResult, EngineWord, ProgressFn, TranscribeOptions
from pipeline.errors import EngineError

SAMPLE_RATE = 16_000
_ALT_PRONUNCIATION = re.compile(r"\(\d+\)$")


class SphinxEngine:
    name = "pocketsphinx"
    model_name = "en-us (bundled)"

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.version = importlib.metadata.version("pocketsphinx")
        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._frame_rate = int(self._decoder.config["frate"])
        self._lock = threading.Lock()

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
            for utt in Segmenter(sample_rate=SAMPLE_RATE).segment(io.BytesIO(pcm.tobytes())):
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                words.extend(self._decode(utt.pcm, utt.start_time))
                if progress is not None and total > 0:
                    progress(min(1.0, utt.end_time / total))
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
