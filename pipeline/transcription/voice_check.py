"""Flag captions with no voice under them: text the recogniser wrote over noise, music or silence.

Used when silence trimming is off (`--no-vad`, Settings: Skip silence off): whisper then decodes
everything, and over noise tiny.en writes confident sentences ("I'm going to do that." at a no-speech
probability of 0.49 and an average log-probability of -0.26, which pass all of whisper's own tests).
The speech detector still runs, only to check: a caption under which it hears (almost) no voice is
marked suspect, word by word, and kept for the user to judge.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.transcripts.transcript import Caption, Word

FRAME = 512 / 16_000  # s per speech-probability frame (Silero at 16 kHz)
# Measured on the 60 shared English clips (--no-vad, aligned): whispered and creaky speech keeps 17-38 % of
# its frames above 0.1 within half a second, white noise 0 %; 3 of 450 real words (clip-initial "But", "You"
# and a last "Word.") still fall below 10 %. At the file VAD's own 0.35 whispered speech was flagged.
VOICED = 0.1  # a frame counts as voice above this probability
MIN_VOICED = 0.1  # captions with less of their time voiced than this are flagged
PAD = 0.5  # s around a caption that still count (a word's edge may lie outside the voice)
REASON = "no voice was detected under it (the speech detector heard noise, music or silence)"


def voiced_share(probs: np.ndarray, start: float, end: float) -> float:
    a = max(0, int((start - PAD) / FRAME))
    b = max(a + 1, int(np.ceil((end + PAD) / FRAME)))
    span = probs[a:b]
    return float(np.mean(span > VOICED)) if len(span) else 0.0


def flag_unvoiced(words: Sequence[Word], captions: Sequence[Caption], probs: np.ndarray) -> int:
    """Mark the words of each caption with almost no voice under it as suspect; returns how many were marked."""
    by_id = {w.id: w for w in words}
    marked = 0
    for c in captions:
        if voiced_share(probs, c.start, c.end) >= MIN_VOICED:
            continue
        for i in c.word_ids:
            w = by_id.get(i)
            if w is None:
                continue
            w.suspect = REASON if not w.suspect else f"{w.suspect}; {REASON}"
            marked += 1
    return marked
