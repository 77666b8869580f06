"""The options and the result of a trimmed export (re-exported by pipeline.render.render, where callers import them).

Kept apart from pipeline.render.render so that pipeline.render.render_plan can take the options without
importing the module that runs the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Mode = Literal["auto", "reencode", "copy"]
Quality = Literal["fast", "balanced", "quality"]
VideoOutcome = Literal["reencoded", "copied", "none"]

DEFAULT_CROSSFADE = 0.020


@dataclass(frozen=True)
class RenderOptions:
    mode: Mode = "auto"
    quality: Quality = "balanced"
    crossfade: float = DEFAULT_CROSSFADE  # seconds at every join; 0 = hard cuts
    burn_subtitles: Path | None = None  # SRT/VTT/ASS already in OUTPUT time
    audio_bitrate: str = "192k"  # for AAC in video outputs


@dataclass(frozen=True)
class RenderResult:
    path: Path
    duration: float  # seconds of output: the sum of the keep-ranges
    video: VideoOutcome
    ranges: int
    elapsed: float
    note: str = ""  # e.g. why auto mode did not copy
