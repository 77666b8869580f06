"""Diarize a media file and put the speakers on a transcript's words.

Shared by `hark transcribe --diarize`, `hark eval diarization` and the app's job
runner, so that they all decode, diarize and merge the same way.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

from audio.decode import decode_audio
from pipeline.captions.captions import CaptionRules
from pipeline.speakers.diarization import SAMPLE_RATE, Diarization, Diarizer
from pipeline.speakers.speaker_merge import diarize_transcript
from pipeline.transcripts.transcript import Transcript

ProgressFn = Callable[[float], None]
_DECODE_SHARE = 0.03  # decoding is ~3000x real time; diarization ~10x


def diarize_media(
    path: str | Path, diarizer: Diarizer, *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
) -> Diarization:
    """Decode `path` to 16 kHz mono and diarize it. Media errors are audio.errors.MediaError."""

    def decode_tick(f: float) -> None:
        if progress is not None:
            progress(_DECODE_SHARE * f)

    def diarize_tick(f: float) -> None:
        if progress is not None:
            progress(_DECODE_SHARE + (1 - _DECODE_SHARE) * f)

    audio = decode_audio(path, sample_rate=SAMPLE_RATE, progress=decode_tick, cancel=cancel)
    return diarizer(audio.samples, progress=diarize_tick, cancel=cancel)


def add_speakers(
    t: Transcript, diarization: Diarization, diarizer: Diarizer | None = None, rules: CaptionRules = CaptionRules()
) -> Transcript:
    """The transcript with a speaker on every word (pyannote's exclusive turns: one speaker at a time),
    captions split at speaker changes, and what diarized it recorded in the provenance."""
    turns = diarization.exclusive or diarization.turns
    out = diarize_transcript(t, turns, rules)
    record = dict(out.provenance.options)
    record["diarization"] = {
        "pipeline": diarizer.path.name if diarizer is not None else None,
        "speakers": len(diarization.speakers),
        **(
            {k: v for k, v in dataclasses.asdict(diarizer.options).items() if v is not None}
            if diarizer is not None
            else {}
        ),
    }
    return dataclasses.replace(out, provenance=dataclasses.replace(out.provenance, options=record))
