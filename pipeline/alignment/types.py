"""The types an aligner and its callers share: words with rough times in, aligned times out.

Re-exported by pipeline.alignment.aligner (where callers import them); kept apart so that the
implementations (sphinx_aligner, isolated) need not import the module that picks among them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class WordSpan:
    text: str  # as written in the transcript
    start: float  # rough times, seconds into the samples given
    end: float


@dataclass(frozen=True)
class AlignedTime:
    start: float
    end: float


class Aligner(Protocol):
    name: str
    version: str

    def supports(self, language: str | None) -> bool: ...

    def align(
        self, samples: np.ndarray, words: Sequence[WordSpan], *, cancel: threading.Event | None = None
    ) -> list[AlignedTime | None]:
        """One result per word, in order: its times, or None where the audio could not be matched
        to the text (the caller keeps rough times for those). Times never go backwards."""
        ...
