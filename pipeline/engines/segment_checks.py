"""Whisper's own tests of a decoded segment, used here to flag text the model may have invented.

OpenAI's whisper re-decodes (temperature fallback) or drops a segment when its text compresses too
well (a repetition loop), its tokens are unlikely on average, or the model itself says there was no
speech. whisper.cpp applies them while decoding; what still comes out past a threshold is kept, but
marked, so the user can check it: over white noise tiny.en writes "I'm going to do that." with VAD off.
Segments with no letters or digits at all ("." over noise) are not words and are dropped.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

# whisper's defaults (transcribe.py): compression_ratio_threshold, logprob_threshold, no_speech_threshold
COMPRESSION_MAX = 2.4
LOGPROB_MIN = -1.0
NO_SPEECH_MIN = 0.6


def compression_ratio(text: str) -> float:
    """As whisper computes it: UTF-8 length over zlib-compressed length."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def average_logprob(probabilities: Sequence[float]) -> float:
    return sum(math.log(max(p, 1e-12)) for p in probabilities) / len(probabilities) if probabilities else 0.0


def is_wordless(text: str) -> bool:
    """Nothing a person would call a word: only punctuation, symbols or space."""
    return not any(ch.isalnum() for ch in text)


def suspect_reason(text: str, probabilities: Sequence[float], no_speech_prob: float | None) -> str | None:
    """Why this segment may be invented, in words for the user, or None when it passes whisper's tests."""
    reasons = []
    if no_speech_prob is not None and no_speech_prob > NO_SPEECH_MIN:
        reasons.append(f"the model heard no speech here (no-speech probability {no_speech_prob:.2f})")
    ratio = compression_ratio(text)
    if ratio > COMPRESSION_MAX:
        reasons.append(f"the text repeats itself (compression ratio {ratio:.1f})")
    logprob = average_logprob(probabilities)
    if logprob < LOGPROB_MIN:
        reasons.append(f"the model was unsure of it (average log-probability {logprob:.2f})")
    return "; ".join(reasons) or None
