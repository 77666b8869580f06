"""Forced alignment of a whole file's words, in source time, with memory that stays flat.

The words are cut into sections at long pauses (by their rough times) and at most SECTION_MAX
seconds; each section is aligned against its own slice of the source audio, read once, in order,
from a second decode of the file. Sections align in the source's own time (real pauses
included), which aligns better than the VAD-compacted audio the recogniser heard.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from audio.decode import AudioStream
from pipeline.alignment.aligner import Aligner, WordSpan
from pipeline.alignment.apply import Timed, align_engine_words

SAMPLE_RATE = 16_000
SECTION_GAP = 1.0  # s of rough silence between words that start a new section
SECTION_MAX = 60.0  # s: longer sections are split at their widest gap
MARGIN = (1.0, 2.0)  # s of audio before a section's first rough start and after its last rough end


def sections(words: Sequence[WordSpan]) -> list[range]:
    """Consecutive word index ranges, split at pauses of SECTION_GAP and kept under SECTION_MAX."""
    out: list[range] = []
    start = 0
    for i in range(1, len(words) + 1):
        if i == len(words) or words[i].start - words[i - 1].end >= SECTION_GAP:
            out.extend(_split_long(words, start, i))
            start = i
    return out


def _split_long(words: Sequence[WordSpan], a: int, b: int) -> list[range]:
    if b - a < 2 or words[b - 1].end - words[a].start <= SECTION_MAX:
        return [range(a, b)]
    gaps = [(words[i].start - words[i - 1].end, i) for i in range(a + 1, b)]
    mid = words[a].start + (words[b - 1].end - words[a].start) / 2
    # the widest gap, ties to the one nearest the middle
    _, cut = max(gaps, key=lambda g: (round(g[0], 2), -abs(words[g[1]].start - mid)))
    return _split_long(words, a, cut) + _split_long(words, cut, b)


class _Window:
    """The source audio from a point onward, kept only as far back as still needed."""

    def __init__(self, blocks: Iterator[np.ndarray]) -> None:
        self._blocks = blocks
        self._buf = np.zeros(0, dtype=np.float32)
        self._offset = 0  # sample index of _buf[0]
        self._done = False

    def take(self, start: float, end: float) -> tuple[np.ndarray, float]:
        a, b = max(0, int(start * SAMPLE_RATE)), int(end * SAMPLE_RATE)
        have = self._offset + len(self._buf)
        more: list[np.ndarray] = []
        while not self._done and have < b:
            block = next(self._blocks, None)
            if block is None:
                self._done = True
                break
            more.append(block)
            have += len(block)
        if more:  # one copy per section, not one per block
            self._buf = np.concatenate([self._buf, *more])
        if a > self._offset:  # nothing before `a` is needed again: sections come in order
            self._buf = self._buf[a - self._offset:]
            self._offset = a
        got = self._buf[: max(0, b - self._offset)]
        return got, self._offset / SAMPLE_RATE


def align_file(path: str | Path, words: Sequence[WordSpan], aligner: Aligner, *,
               cancel: threading.Event | None = None,
               progress: Callable[[float], None] | None = None) -> list[Timed]:
    """Aligned (or rough, fitted) times for `words`, whose rough times are in source seconds."""
    out: list[Timed] = []
    parts = sections(words)
    stream = AudioStream(Path(path), cancel=cancel)
    try:
        window = _Window(iter(stream))
        for n, r in enumerate(parts):
            span = [words[i] for i in r]
            samples, t0 = window.take(span[0].start - MARGIN[0], span[-1].end + MARGIN[1])
            local = [WordSpan(w.text, w.start - t0, w.end - t0) for w in span]
            out.extend(Timed(t.start + t0, t.end + t0, t.rough)
                       for t in align_engine_words(samples, local, aligner, cancel=cancel))
            if progress is not None:
                progress((n + 1) / len(parts))
    finally:
        stream.close()
    return out
