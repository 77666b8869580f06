"""Scoring a diarization against reference turns: DER (pyannote.metrics) and UEM regions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.speakers.diarization import pyannote_env
from pipeline.speakers.speaker_turns import RttmError, Turn

if TYPE_CHECKING:
    from pyannote.core import Annotation


@dataclass(frozen=True)
class DerResult:
    der: float  # (missed + false alarm + confusion) / total
    missed: float  # seconds of reference speech with no hypothesis speaker
    false_alarm: float  # seconds of hypothesis speech where the reference has none
    confusion: float  # seconds attributed to the wrong speaker (after the optimal mapping)
    total: float  # seconds of reference speech scored


def read_uem(path: str | Path, file_id: str | None = None) -> list[tuple[float, float]]:
    """Scored regions of `file_id` from a UEM file (`FILE CHANNEL START END` per line)."""
    src = str(path)
    regions: list[tuple[float, float]] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 4:
            raise RttmError(src, n, "a UEM line has 4 fields: FILE CHANNEL START END")
        if file_id is not None and parts[0] != file_id:
            continue
        try:
            start, end = float(parts[2]), float(parts[3])
        except ValueError:
            raise RttmError(src, n, "start and end must be numbers") from None
        if end < start:
            raise RttmError(src, n, "end is before start")
        regions.append((start, end))
    return regions


def _annotation(turns: list[Turn]) -> Annotation:
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for i, t in enumerate(turns):
        if t.end > t.start:
            ann[Segment(t.start, t.end), i] = t.speaker
    return ann


def diarization_error(
    reference: list[Turn],
    hypothesis: list[Turn],
    *,
    uem: list[tuple[float, float]] | None = None,
    collar: float = 0.0,
    skip_overlap: bool = False,
) -> DerResult:
    """DER as pyannote.metrics computes it (no collar and overlap scored, unless asked)."""
    with pyannote_env():
        from pyannote.core import Segment, Timeline
        from pyannote.metrics.diarization import DiarizationErrorRate

        metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
        region = Timeline([Segment(a, b) for a, b in uem]) if uem else None
        ref, hyp = _annotation(reference), _annotation(hypothesis)
        if region is None:  # score where either side has something to say
            region = (ref.get_timeline() | hyp.get_timeline()).extent()
            region = Timeline([region]) if region else Timeline()
        parts = metric(ref, hyp, uem=region, detailed=True)
    total = float(parts["total"])
    return DerResult(
        der=float(parts["diarization error rate"]) if total else 0.0,
        missed=float(parts["missed detection"]),
        false_alarm=float(parts["false alarm"]),
        confusion=float(parts["confusion"]),
        total=total,
    )
