"""Where speech starts and stops, for live dictation.

`Endpointer` follows a live stream (blocks from MicCapture.on_block) and says
when speech started and when it has been followed by `silence_after` seconds
of non-speech: toggle mode uses that to stop by itself. `trim_silence` cuts
leading and trailing non-speech off a finished utterance before decoding, and
returns nothing for an utterance without speech, so the decoder is never
asked to transcribe silence (where Whisper invents "Thank you.").

Both use Silero VAD (audio.vad) with its hysteresis: speech begins above
`threshold`, and only probabilities below `neg_threshold` count as silence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from audio.vad import FRAME_SECONDS, SAMPLE_RATE, SileroVad, VadParams, regions_from_probabilities

EventKind = Literal["speech_start", "speech_end"]


@dataclass(frozen=True)
class EndpointEvent:
    kind: EventKind
    t: float  # s of audio since reset(): where speech started / where the final silence began
    detected_at: float  # s of audio since reset() when the event was decided (t + min_speech / + silence_after)


class Endpointer:
    """Speech start/end events for 16 kHz mono float32 blocks of any size.

    Not thread-safe: feed it from one thread (MicCapture's audio thread).
    A speech run shorter than `min_speech` (a click, a cough) raises no event;
    pauses shorter than `silence_after` do not end speech. After speech_end
    it listens for the next speech_start.
    """

    def __init__(
        self,
        vad: SileroVad,
        silence_after: float = 1.0,
        min_speech: float = 0.25,
        threshold: float = 0.5,
        neg_threshold: float | None = None,
    ) -> None:
        if silence_after <= 0 or min_speech < 0:
            raise ValueError("silence_after must be > 0 and min_speech >= 0")
        self._vad = vad
        self.silence_after = silence_after
        self.min_speech = min_speech
        self.threshold = threshold
        self.neg_threshold = neg_threshold if neg_threshold is not None else max(0.01, threshold - 0.15)
        # ceil: an event never comes before the promised min_speech / silence_after
        self._min_speech_chunks = max(1, math.ceil(min_speech / FRAME_SECONDS - 1e-9))
        self._silence_chunks = max(1, math.ceil(silence_after / FRAME_SECONDS - 1e-9))
        self.reset()

    def reset(self) -> None:
        self._stream = self._vad.stream()
        self._chunk = 0  # index of the next chunk to be decided
        self._start: int | None = None  # first chunk of the current speech run
        self._confirmed = False  # speech_start emitted for the current run
        self._silence_from: int | None = None

    @property
    def in_speech(self) -> bool:
        return self._confirmed

    @property
    def position(self) -> float:
        """Seconds of audio decided so far."""
        return self._chunk * FRAME_SECONDS

    def feed(self, block: np.ndarray) -> list[EndpointEvent]:
        """Events decided by this block (usually none); blocks may have any length."""
        return self.feed_probabilities(self._stream.feed(np.asarray(block, dtype=np.float32).reshape(-1)))

    def feed_probabilities(self, probs: np.ndarray) -> list[EndpointEvent]:
        """The same, for a caller that already ran Silero (one probability per 32 ms chunk)."""
        events: list[EndpointEvent] = []
        for p in probs:
            event = self._step(float(p))
            if event is not None:
                events.append(event)
        return events

    def _step(self, p: float) -> EndpointEvent | None:
        i = self._chunk
        self._chunk += 1
        now = self._chunk * FRAME_SECONDS
        if self._start is None:
            if p >= self.threshold:
                self._start, self._silence_from = i, None
                return self._confirm(now)
            return None
        if p >= self.neg_threshold:
            self._silence_from = None
            return self._confirm(now)
        if not self._confirmed:  # a blip shorter than min_speech: forget it
            self._start = None
            return None
        if self._silence_from is None:
            self._silence_from = i
        if self._chunk - self._silence_from >= self._silence_chunks:
            event = EndpointEvent("speech_end", self._silence_from * FRAME_SECONDS, now)
            self._start, self._silence_from, self._confirmed = None, None, False
            return event
        return None

    def _confirm(self, now: float) -> EndpointEvent | None:
        assert self._start is not None
        if not self._confirmed and self._chunk - self._start >= self._min_speech_chunks:
            self._confirmed = True
            return EndpointEvent("speech_start", self._start * FRAME_SECONDS, now)
        return None


def speech_bounds(
    samples: np.ndarray, vad: SileroVad, pad: float = 0.15, *, min_speech: float = 0.1
) -> tuple[int, int] | None:
    """(first, end) sample indices of the speech with `pad` s around it; None when there is none."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {x.shape}")
    if len(x) == 0:
        return None
    total = len(x) / SAMPLE_RATE
    params = VadParams(min_speech=min_speech, pad=pad)
    regions = regions_from_probabilities(vad.probabilities(x), params, total=total)
    if not regions:
        return None
    first = max(0, int(regions[0][0] * SAMPLE_RATE))
    end = min(len(x), int(np.ceil(regions[-1][1] * SAMPLE_RATE)))
    return first, end


def trim_silence(samples: np.ndarray, vad: SileroVad, pad: float = 0.15, *, min_speech: float = 0.1) -> np.ndarray:
    """Samples without leading/trailing non-speech (pauses inside are kept); empty if no speech.

    `min_speech` is lower than the Endpointer's: a one-syllable "yes" must
    survive, and what is kept here only costs a decode.
    """
    bounds = speech_bounds(samples, vad, pad, min_speech=min_speech)
    if bounds is None:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(samples, dtype=np.float32)[bounds[0] : bounds[1]]
