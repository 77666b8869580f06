"""Timeline geometry without Qt: time <-> x, lanes, ruler ticks, waveform columns, hit-testing.

x is in viewport pixels: x = t * pps - offset, where offset is the horizontal
scroll position in pixels.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from ui.timeline.timeline_data import BlockTrack

RULER_H = 22
WAVE_MIN_H = 40
CAPTION_H = 30
WORD_H = 26
EDGE_GRAB_PX = 5  # how close to a block's edge the pointer must be to drag it

# (major, minor) tick spacings in seconds, finest first.
_TICKS = (
    (0.05, 0.01),
    (0.1, 0.02),
    (0.2, 0.05),
    (0.5, 0.1),
    (1, 0.2),
    (2, 0.5),
    (5, 1),
    (10, 2),
    (15, 5),
    (30, 5),
    (60, 10),
    (120, 30),
    (300, 60),
    (600, 120),
    (900, 300),
    (1800, 300),
    (3600, 600),
    (7200, 1800),
    (14400, 3600),
)


@dataclass(frozen=True)
class Scale:
    pps: float  # pixels per second
    offset: float  # scroll position in pixels

    def x_of(self, t: float) -> float:
        return t * self.pps - self.offset

    def t_of(self, x: float) -> float:
        return (x + self.offset) / self.pps


class LaneKind(enum.Enum):
    RULER = "ruler"
    WAVE = "waveform"
    CAPTIONS = "captions"
    WORDS = "words"


@dataclass(frozen=True)
class Lane:
    kind: LaneKind
    top: int
    height: int
    index: int = 0  # word lane number

    @property
    def bottom(self) -> int:  # exclusive
        return self.top + self.height


def layout_lanes(height: int, n_word_lanes: int) -> list[Lane]:
    """Ruler, waveform (takes the spare height), captions, then one lane per speaker."""
    fixed = RULER_H + CAPTION_H + WORD_H * n_word_lanes
    wave_h = max(WAVE_MIN_H, height - fixed)
    lanes = [
        Lane(LaneKind.RULER, 0, RULER_H),
        Lane(LaneKind.WAVE, RULER_H, wave_h),
        Lane(LaneKind.CAPTIONS, RULER_H + wave_h, CAPTION_H),
    ]
    top = RULER_H + wave_h + CAPTION_H
    lanes += [Lane(LaneKind.WORDS, top + i * WORD_H, WORD_H, i) for i in range(n_word_lanes)]
    return lanes


def lane_at(lanes: list[Lane], y: float) -> Lane | None:
    for lane in lanes:
        if lane.top <= y < lane.bottom:
            return lane
    return None


def preferred_height(n_word_lanes: int, wave_h: int = 72) -> int:
    return RULER_H + wave_h + CAPTION_H + WORD_H * n_word_lanes


# --- ruler ------------------------------------------------------------------------------------
def tick_spacing(pps: float, min_label_px: float = 70) -> tuple[float, float]:
    """The finest (major, minor) spacing whose labels are at least `min_label_px` apart."""
    for major, minor in _TICKS:
        if major * pps >= min_label_px:
            return major, minor
    return _TICKS[-1]


def ticks(t0: float, t1: float, major: float, minor: float) -> tuple[np.ndarray, np.ndarray]:
    """Times of the minor ticks in [t0, t1] and a mask of which are major (exact: integer steps)."""
    k0, k1 = math.ceil(max(0.0, t0) / minor - 1e-9), math.floor(t1 / minor + 1e-9)
    k = np.arange(k0, max(k0, k1 + 1))
    per_major = round(major / minor)
    return k * minor, k % per_major == 0


def format_tick(t: float, major: float) -> str:
    """m:ss (h:mm:ss past an hour), with tenths or hundredths when ticks are that fine."""
    decimals = 0 if major >= 1 else (1 if major >= 0.1 else 2)
    scale = 10**decimals
    total = round(t * scale)
    whole, frac = divmod(total, scale)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return f"{text}.{frac:0{decimals}d}" if decimals else text


def format_time(t: float) -> str:
    """A precise time for tooltips: m:ss.cc."""
    return format_tick(t, 0.01)


# --- waveform ---------------------------------------------------------------------------------
def waveform_columns(
    peaks: np.ndarray, per_second: float, scale: Scale, x0: int, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min and max of the peaks under each pixel column x0 .. x0+n-1, and which columns have data.

    Zoomed out a column spans many peaks (reduced with min/max); zoomed in a peak spans many
    columns (each takes the peak under it). All numpy: no loop over peaks or pixels.
    """
    lo = np.zeros(n, dtype=np.float32)
    hi = np.zeros(n, dtype=np.float32)
    if len(peaks) == 0 or n <= 0:
        return lo, hi, np.zeros(n, dtype=bool)
    cols = np.arange(x0, x0 + n + 1, dtype=np.float64)
    idx = np.floor((cols + scale.offset) / scale.pps * per_second).astype(np.int64)
    first, nxt = idx[:-1], idx[1:]
    valid = (first >= 0) & (first < len(peaks))
    if not valid.any():
        return lo, hi, valid
    starts = first[valid]
    end = int(min(len(peaks), max(nxt[valid][-1], starts[-1] + 1)))
    lo[valid] = np.minimum.reduceat(peaks[:end, 0], starts)
    hi[valid] = np.maximum.reduceat(peaks[:end, 1], starts)
    return lo, hi, valid


# --- blocks -----------------------------------------------------------------------------------
def merge_spans(x0: np.ndarray, x1: np.ndarray, gap: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Merge pixel spans (sorted by x0) closer than `gap` pixels: zoomed out, thousands of
    one-pixel words become a few hundred rectangles that look the same."""
    if len(x0) == 0:
        return x0, x1
    reach = np.maximum.accumulate(x1)
    new = np.empty(len(x0), dtype=bool)
    new[0] = True
    new[1:] = x0[1:] >= reach[:-1] + gap
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(x0) - 1)
    return x0[first], reach[last]


def coverage(starts: np.ndarray, ends: np.ndarray, scale: Scale, x0: int, n: int) -> np.ndarray:
    """Which of the pixel columns x0 .. x0+n-1 any of the ranges touches (difference array, no loop)."""
    diff = np.zeros(n + 1, dtype=np.int32)
    a = np.clip(np.floor(starts * scale.pps - scale.offset).astype(np.int64) - x0, 0, n)
    b = np.clip(np.maximum(np.ceil(ends * scale.pps - scale.offset).astype(np.int64) - x0, a + 1), 0, n)
    np.add.at(diff, a, 1)
    np.add.at(diff, b, -1)
    return np.cumsum(diff[:n]) > 0


class Edge(enum.Enum):
    BODY = 0
    LEFT = 1
    RIGHT = 2


@dataclass(frozen=True)
class Hit:
    k: int  # row in the track
    edge: Edge


def hit_block(track: BlockTrack, lane_index: int, scale: Scale, x: float) -> Hit | None:
    """The block of lane `lane_index` under x, and whether x is on one of its edges.

    Inside a block its own edges win (the grab zone shrinks on narrow blocks so the body stays
    clickable); in a gap, the nearest edge within EDGE_GRAB_PX.
    """
    t_lo, t_hi = scale.t_of(x - EDGE_GRAB_PX), scale.t_of(x + EDGE_GRAB_PX)
    i0, i1 = track.visible(t_lo, t_hi)
    if i0 >= i1:
        return None
    ks = np.arange(i0, i1)[track.lanes[i0:i1] == lane_index]
    if not len(ks):
        return None
    xs0 = track.starts[ks] * scale.pps - scale.offset
    xs1 = track.ends[ks] * scale.pps - scale.offset
    inside = np.flatnonzero((xs0 <= x) & (x < np.maximum(xs1, xs0 + 1)))
    if len(inside):
        j = inside[-1]  # the latest-starting block wins where blocks overlap
        zone = min(EDGE_GRAB_PX, (xs1[j] - xs0[j]) / 3)
        edge = Edge.LEFT if x - xs0[j] <= zone else Edge.RIGHT if xs1[j] - x <= zone else Edge.BODY
        return Hit(int(ks[j]), edge)
    d0, d1 = np.abs(xs0 - x), np.abs(xs1 - x)
    j0, j1 = int(np.argmin(d0)), int(np.argmin(d1))
    if min(d0[j0], d1[j1]) > EDGE_GRAB_PX:
        return None
    return Hit(int(ks[j0]), Edge.LEFT) if d0[j0] < d1[j1] else Hit(int(ks[j1]), Edge.RIGHT)
