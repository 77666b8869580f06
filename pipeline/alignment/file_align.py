"""Forced alignment of a whole file's words, in source time, with memory that stays flat.

The words are cut into sections at long pauses (by their rough times) and at most SECTION_MAX
seconds; each section is aligned against its own slice of the source audio, read once, in order,
from a second decode of the file. Sections align in the source's own time (real pauses
included), which aligns better than the VAD-compacted audio the recogniser heard.

`align_file` does it in one go (the editor's re-alignment); `BackgroundAligner` does it on its own
thread, section by section as recognition finishes them, so that on a machine with a core to spare
alignment adds little to a file job's wall time (whisper.cpp computes without Python's lock).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from audio.decode import AudioStream
from audio.errors import Cancelled
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
            self._buf = self._buf[a - self._offset :]
            self._offset = a
        got = self._buf[: max(0, b - self._offset)]
        return got, self._offset / SAMPLE_RATE


def align_file(
    path: str | Path,
    words: Sequence[WordSpan],
    aligner: Aligner,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[Timed]:
    """Aligned (or rough, fitted) times for `words`, whose rough times are in source seconds."""
    out: list[Timed] = []
    parts = sections(words)
    stream = AudioStream(Path(path), cancel=cancel)
    try:
        window = _Window(iter(stream))
        for n, r in enumerate(parts):
            out.extend(_align_section(window, [words[i] for i in r], aligner, cancel))
            if progress is not None:
                progress((n + 1) / len(parts))
    finally:
        stream.close()
    return out


def _align_section(
    window: _Window, span: list[WordSpan], aligner: Aligner, cancel: threading.Event | None
) -> list[Timed]:
    samples, t0 = window.take(span[0].start - MARGIN[0], span[-1].end + MARGIN[1])
    local = [WordSpan(w.text, w.start - t0, w.end - t0) for w in span]
    return [
        Timed(t.start + t0, t.end + t0, t.rough) for t in align_engine_words(samples, local, aligner, cancel=cancel)
    ]


class BackgroundAligner:
    """Aligns sections handed to it, in order, on its own thread, reading the file once as it goes.

    `add` each finished section (words in source time, none before the last section's); `finish`
    waits for the rest and returns one Timed per word added, in order; `abort` stops it (errors and
    cancels of the recognition). A cancel given here is noticed while it works and while `finish`
    waits."""

    def __init__(self, path: str | Path, aligner: Aligner, cancel: threading.Event | None = None) -> None:
        self._cancel = cancel
        self._stop = threading.Event()  # ours: set by abort, or when the caller's cancel is seen
        self._todo: queue.SimpleQueue[list[WordSpan] | None] = queue.SimpleQueue()
        self._out: list[Timed] = []
        self._error: BaseException | None = None
        self.added = 0
        self.aligned = 0  # words done so far (for progress)
        self._thread = threading.Thread(target=self._run, args=(Path(path), aligner), name="hark-align", daemon=True)
        self._thread.start()

    def add(self, span: list[WordSpan]) -> None:
        if span:
            self.added += len(span)
            self._todo.put(span)

    def _run(self, path: Path, aligner: Aligner) -> None:
        try:
            stream = AudioStream(path, cancel=self._stop)
            try:
                window = _Window(iter(stream))
                while (span := self._todo.get()) is not None and not self._stop.is_set():
                    self._out.extend(_align_section(window, span, aligner, self._stop))
                    self.aligned += len(span)
            finally:
                stream.close()
        except BaseException as e:  # handed to the caller by finish()
            self._error = e

    def finish(self, progress: Callable[[float], None] | None = None) -> list[Timed]:
        self._todo.put(None)
        while self._thread.is_alive():
            self._thread.join(0.1)
            if self._cancel is not None and self._cancel.is_set():
                self._stop.set()
            if progress is not None and self.added:
                progress(self.aligned / self.added)
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled()
        if self._error is not None:
            raise self._error
        return self._out

    def abort(self) -> None:
        self._stop.set()
        self._todo.put(None)
        self._thread.join(10)
