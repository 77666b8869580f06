"""What every speech-to-text engine offers, whatever runs underneath."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

ProgressFn = Callable[[float], None]


def default_threads() -> int:
    # whisper.cpp scales poorly past 8 threads; leave one core for the UI.
    return max(1, min(8, (os.cpu_count() or 2) - 1 if (os.cpu_count() or 2) > 2 else (os.cpu_count() or 2)))


@dataclass(frozen=True)
class TranscribeOptions:
    language: str | None = None  # ISO code; None detects it
    translate: bool = False  # into English
    initial_prompt: str | None = None  # vocabulary and style hints
    threads: int = field(default_factory=default_threads)
    # whisper encoder positions (1500 = 30 s); 0 = whisper's default. Short dictation
    # sets it to the utterance's length (see pipeline.dictation.dictation_decoder.audio_ctx_for).
    audio_ctx: int = 0
    # Re-decode at higher temperatures when a result looks wrong (whisper's fallback). Dictation turns
    # it off: one greedy pass keeps the latency bounded; a file transcript keeps it for quality.
    fallback: bool = True


@dataclass
class EngineWord:
    text: str
    start: float  # seconds from the start of the audio the engine was given
    end: float
    probability: float | None = None
    suspect: str | None = None  # why the segment it came from may be invented (pipeline.engines.segment_checks)


@dataclass
class EngineResult:
    words: list[EngineWord]
    language: str | None


class Engine(Protocol):
    name: str
    version: str
    model_name: str

    def transcribe(
        self,
        samples: np.ndarray,
        options: TranscribeOptions,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> EngineResult: ...

    def options_record(self, options: TranscribeOptions) -> dict[str, object]:
        """The settings that shaped a result, for the transcript's provenance."""
        ...
