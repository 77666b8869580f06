"""What a forced aligner is to its callers: words with rough times in, exact times (or None) out.

Callers (the file pipeline, the editor's re-alignment after a correction, `hark eval timing`)
see only `Aligner` and `align_words`; PocketSphinx is one implementation, and a CTC model for
other languages would be another, plugged in through `aligner_for`. The types themselves live in
pipeline.alignment.types (the implementations import them from there) and are re-exported here.
"""

from __future__ import annotations

import threading

from pipeline.alignment.types import SAMPLE_RATE, AlignedTime, Aligner, WordSpan

__all__ = ["SAMPLE_RATE", "AlignedTime", "Aligner", "LazyAligner", "WordSpan", "aligner_for", "can_align"]


class LazyAligner:
    """An aligner loaded on first use, from whichever thread uses it first, then shared (the model
    takes ~0.4 s to load: never on a GUI thread). A plain object, safe to hand to worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._aligners: dict[str | None, Aligner | None] = {}
        self._closed = False

    def get(self, language: str | None) -> Aligner | None:
        """None for a language no aligner knows, and after close()."""
        with self._lock:
            if self._closed:
                return None
            if language not in self._aligners:
                self._aligners[language] = aligner_for(language)
            return self._aligners[language]

    def close(self) -> None:
        """Stop what was loaded (an isolated aligner's child process)."""
        with self._lock:
            loaded, self._aligners, self._closed = list(self._aligners.values()), {}, True
        for a in loaded:
            close = getattr(a, "close", None)
            if close is not None:
                close()


def can_align(language: str | None) -> bool:
    """Whether `aligner_for(language)` would give an aligner; cheap (loads no model)."""
    from pipeline.alignment.sphinx_aligner import SphinxAligner

    return SphinxAligner.available() and SphinxAligner.supports_language(language)


def aligner_for(language: str | None, *, isolate: bool = True) -> Aligner | None:
    """The best aligner installed for `language`, or None (then whisper's own times stand, marked rough).

    isolate: run it in a child process (pipeline.alignment.isolated), so that it neither stalls a GUI
    nor holds up the recogniser's Python side; False runs it here (loads its model, ~0.4 s)."""
    import importlib.metadata

    from pipeline.alignment.isolated import IsolatedAligner
    from pipeline.alignment.sphinx_aligner import SphinxAligner

    if not can_align(language):
        return None
    if not isolate:
        return SphinxAligner()
    return IsolatedAligner(
        SphinxAligner, SphinxAligner.name, importlib.metadata.version("pocketsphinx"), SphinxAligner.supports_language
    )
