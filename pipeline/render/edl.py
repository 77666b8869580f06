"""CMX 3600 edit decision list of a cut list, for finishing the edit in an NLE.

Each keep-range becomes one cut event: source in/out on the media's own timecode and
record in/out on a continuous timeline. Layout per event (columns as in CMX 3600):

    001  AX       AA/V  C        00:00:01:00 00:00:03:08 01:00:00:00 01:00:02:08
    * FROM CLIP NAME: interview.mp4

event number (3), 2 spaces, reel (8), space, channels (5), space, transition "C",
8 spaces, then four 11-character timecodes separated by single spaces. Timecodes are
non-drop-frame at the nominal integer rate (24, 25, 30, ...; 29.97 counts as 30).
Frame numbers are rounded once per edge, and each event's record duration equals its
source duration, so the record durations add up exactly to the record timeline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from pipeline.atomic_write import write_text_atomic

Range = tuple[float, float]

MAX_EVENTS = 999  # event numbers have three digits
DEFAULT_FPS = 25  # audio-only media have no frame rate; 25 is a common EDL default
RECORD_START = 3600.0  # timecode seconds: the record timeline starts at 01:00:00:00, as NLEs do by default


class EdlError(ValueError):
    pass


@dataclass(frozen=True)
class EdlEvent:
    number: int
    source_in: int  # frames
    source_out: int
    record_in: int
    record_out: int


def timecode(frames: int, base: int) -> str:
    """HH:MM:SS:FF, non-drop-frame, at `base` frames per second."""
    if frames < 0:
        raise EdlError("timecodes cannot be negative")
    ff = frames % base
    s = frames // base
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{ff:02d}"


def nominal_rate(fps: float | Fraction | None) -> tuple[float, int]:
    """(true frame rate, integer timecode base): 29.97 runs at 29.97 but counts frames as 30."""
    if fps is None:
        return float(DEFAULT_FPS), DEFAULT_FPS
    rate = float(fps)
    if not rate > 0:
        raise EdlError(f"invalid frame rate {fps}")
    return rate, max(1, round(rate))


def reel_name(name: str) -> str:
    """Up to 8 characters from A-Z, 0-9 and _ (what CMX reels allow); AX if nothing is left."""
    cleaned = re.sub(r"[^A-Z0-9_]", "", name.upper())[:8]
    return cleaned or "AX"


def _frame(t: float, rate: float) -> int:
    return math.floor(t * rate + 0.5)  # half up, not to even: the same edge always lands the same way


def edl_events(
    keep: Sequence[Range], fps: float | Fraction | None, record_start: float = RECORD_START, source_start: int = 0
) -> list[EdlEvent]:
    """Events in frames; `source_start` is the frame number of the media's first frame (its start timecode)."""
    rate, base = nominal_rate(fps)
    rec = _frame(record_start, base)  # a timecode: counted at the nominal base (01:00:00:00 stays 01:00:00:00)
    events: list[EdlEvent] = []
    for a, b in keep:
        if b < a:
            raise EdlError(f"keep-range ends before it starts: ({a}, {b})")
        src_in, src_out = source_start + _frame(a, rate), source_start + _frame(b, rate)
        if src_out <= src_in:
            continue  # shorter than a frame at this rate
        events.append(EdlEvent(len(events) + 1, src_in, src_out, rec, rec + src_out - src_in))
        rec += src_out - src_in
    if len(events) > MAX_EVENTS:
        raise EdlError(f"a CMX 3600 EDL holds at most {MAX_EVENTS} events; this cut list has {len(events)}")
    return events


def to_edl(
    keep: Sequence[Range],
    *,
    fps: float | Fraction | None,
    clip_name: str,
    title: str | None = None,
    reel: str = "AX",
    has_video: bool = True,
    channels: int = 2,
    record_start: float = RECORD_START,
    source_timecode: str | None = None,
) -> str:
    """The EDL text. `fps` None (audio-only media) uses 25; `channels` picks A or AA.

    Source timecodes count from 00:00:00:00 at the start of the file, or from
    `source_timecode` (the media's embedded start timecode, HH:MM:SS:FF) when given.
    """
    _, base = nominal_rate(fps)
    start = parse_timecode(source_timecode.replace(";", ":"), base) if source_timecode else 0
    audio = "AA" if channels >= 2 else "A"
    track = f"{audio}/V" if has_video and channels > 0 else ("V" if has_video else audio)
    name = clip_name.replace("\n", " ").strip()
    heading = (title or Path(name).stem or "Hark export").replace("\n", " ").strip()
    lines = [f"TITLE: {heading[:70]}", "FCM: NON-DROP FRAME", ""]
    for ev in edl_events(keep, fps, record_start, start):
        tcs = " ".join(timecode(f, base) for f in (ev.source_in, ev.source_out, ev.record_in, ev.record_out))
        lines.append(f"{ev.number:03d}  {reel_name(reel):8} {track:5} C        {tcs}")
        lines.append(f"* FROM CLIP NAME: {name}")
        lines.append("")
    return "\n".join(lines)


def write_edl(
    path: str | Path,
    keep: Sequence[Range],
    *,
    fps: float | Fraction | None,
    media: str | Path,
    title: str | None = None,
    has_video: bool = True,
    channels: int = 2,
    source_timecode: str | None = None,
) -> Path:
    """Write the EDL of `keep` for `media` (atomically); returns the path."""
    text = to_edl(
        keep,
        fps=fps,
        clip_name=Path(media).name,
        title=title,
        has_video=has_video,
        channels=channels,
        source_timecode=source_timecode,
    )
    return write_text_atomic(path, text + "\n")


def parse_timecode(tc: str, base: int) -> int:
    """Frames of an HH:MM:SS:FF timecode (the inverse of `timecode`)."""
    try:
        h, m, s, f = (int(x) for x in tc.strip().split(":"))
    except ValueError:
        raise EdlError(f"invalid timecode {tc!r}: expected HH:MM:SS:FF") from None
    if f >= base or m >= 60 or s >= 60:
        raise EdlError(f"invalid timecode {tc} at {base} fps")
    return ((h * 60 + m) * 60 + s) * base + f
