"""Retiming a block by dragging one of its edges: the pure state of one drag, no Qt."""

from __future__ import annotations

from dataclasses import dataclass

from ui.timeline.timeline_data import BlockTrack

MIN_WORD_S = 0.05
MIN_CAPTION_S = 0.2


@dataclass
class EdgeDrag:
    captions: bool  # which track
    k: int  # row in the track
    right: bool  # which edge
    lo: float  # where the edge may go
    hi: float
    grab: float  # pointer time minus edge time at press: the edge does not jump to the pointer
    start: float  # the block's times as previewed
    end: float
    moved: bool = False

    @classmethod
    def begin(
        cls, track: BlockTrack, captions: bool, k: int, right: bool, pointer_t: float, duration: float
    ) -> EdgeDrag:
        start, end = float(track.starts[k]), float(track.ends[k])
        lo, hi = track.edge_bounds(k, right, MIN_CAPTION_S if captions else MIN_WORD_S, duration)
        return cls(captions, k, right, lo, hi, pointer_t - (end if right else start), start, end)

    def move(self, pointer_t: float) -> None:
        t = min(self.hi, max(self.lo, pointer_t - self.grab))
        self.start, self.end = (self.start, t) if self.right else (t, self.end)
        self.moved = True

    def result(self, track: BlockTrack) -> tuple[int, float, float] | None:
        """(key, start, end) to emit on release; None when the block's times did not change."""
        if not self.moved or (self.start, self.end) == (float(track.starts[self.k]), float(track.ends[self.k])):
            return None
        return int(track.keys[self.k]), self.start, self.end
