"""Forced alignment with PocketSphinx's English acoustic model (it ships inside the wheel).

Aligning a whole file at once fails on the first misheard word ("does not match the
grammar"), and aligning each caption inside its rough whisper window fails where the rough
times are off by more than the padding. So the words are aligned in order, each window
starting where the last trusted word ended (an anchor, exact) and reaching past the rough end
of the chunk's last word:

- a complete alignment is kept, except its last word when speech runs on to the window's end
  (its end may be stretched): that word starts the next chunk;
- a partial alignment (the search ran out of audio or of matching text) keeps the words up to
  its first pause, never the last one it reached;
- a word placed much further from its rough time than the others in its window was lost: the
  alignment is cut there;
- nothing aligned: the chunk is halved, a single word gets a wider window, and a word that still
  will not align is left to the caller (None) while the words after it go on from its rough time.

Between words the decoder puts silence (kept as gaps) and the model's noise fillers. A spoken
"uh" that the transcript leaves out is not modelled: it is absorbed into a neighbouring word or
silence, one of the two main sources of error left (the other: words the recogniser misheard).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from audio.errors import Cancelled
from pipeline.alignment.pronounce import Spoken, spoken_tokens
from pipeline.alignment.types import AlignedTime, WordSpan

SAMPLE_RATE = 16_000
FRAME = 0.01  # PocketSphinx's frame, s
MAX_CHUNK = 12  # words per alignment window
LEAD = 0.4  # s before a chunk's rough start when there is no anchor
TAILS = (0.6, 1.6)  # s after a chunk's rough end: first try, then a wider retry
TRAILING_SILENCE = 0.04  # s of silence after the last word that make its end trustworthy
PRIME_SECONDS = 3
MAX_DRIFT = 0.8  # s a word's shift from its rough time may differ from its window's median shift
MAX_SHIFT = 5.0  # s an aligned start may lie from the recogniser's at most
PAUSE = 0.1  # s of silence that make a pause
_ALT = re.compile(r"\(\d+\)$")
_FILLERS = ("uh", "um", "ah", "er", "hmm", "mm")


@dataclass(frozen=True)
class _Seg:
    word: str
    start: float
    end: float


class SphinxAligner:
    name = "pocketsphinx"

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("pocketsphinx") is not None

    @staticmethod
    def supports_language(language: str | None) -> bool:
        return (language or "en").split("-")[0] == "en"

    def supports(self, language: str | None) -> bool:
        return self.supports_language(language)

    def __init__(self, **decoder_options: object) -> None:
        from pocketsphinx import Decoder

        self.version = importlib.metadata.version("pocketsphinx")
        # PocketSphinx's default beams and filler/silence probabilities: wider beams and cheaper fillers
        # were tried and let words drift seconds late, fillers swallowing the speech before them.
        # bestpath off: word times come from the Viterbi search's own backtrace, not from a best path
        # rescored over the word lattice built from it (issue 13, measured: cold_corpus 73 % -> 79 % of
        # words within 100 ms at both ends, boundary F1 0.72 -> 0.76; espeak set 90 % -> 91 %; decodes 32 -> 26).
        options: dict[str, object] = {"bestpath": False}
        options.update(decoder_options)
        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", **options)
        self._added: set[str] = set()
        self._lock = threading.Lock()

    # --- one window ---------------------------------------------------------
    def _tokens(self, text: str) -> list[str]:
        return [self._ensure(s) for s in spoken_tokens(text, self._decoder.lookup_word)]

    def _ensure(self, s: Spoken) -> str:
        if s.phones is None:
            return s.word
        name = re.sub(r"[^a-z0-9']", "", s.word) or "unk"
        name = f"{name}__hark"  # never shadows a real dictionary entry
        if name not in self._added:
            self._decoder.add_word(name, s.phones, True)
            self._added.add(name)
        return name

    def _prime(self, pcm: np.ndarray) -> None:
        """Decode a few seconds of this audio before its first window. A fresh decoder's first utterance
        failed to align where the same window aligned on the second try, and state carried over from
        another recording made the first windows worse (measured; setting the cepstral mean did not help)."""
        d = self._decoder
        n = min(len(pcm), PRIME_SECONDS * SAMPLE_RATE)
        a = (len(pcm) - n) // 2
        try:
            d.set_align_text("a")
            d.start_utt()
            d.process_raw(pcm[a : a + n].tobytes(), full_utt=True)
            d.end_utt()
        except RuntimeError:
            pass

    def _decode(self, pcm: np.ndarray, t0: float, t1: float, tokens: list[str]) -> list[_Seg] | None:
        a, b = int(t0 * SAMPLE_RATE), int(t1 * SAMPLE_RATE)
        if b - a < int(0.1 * SAMPLE_RATE):
            return None
        d = self._decoder
        try:
            d.set_align_text(" ".join(tokens))
            d.start_utt()
            d.process_raw(pcm[a:b].tobytes(), full_utt=True)
            d.end_utt()
            return [
                _Seg(_ALT.sub("", s.word), t0 + s.start_frame * FRAME, t0 + (s.end_frame + 1) * FRAME) for s in d.seg()
            ]
        except (RuntimeError, TypeError):  # no hypothesis at all (TypeError: seg() of None)
            return None

    # --- the whole sequence -------------------------------------------------
    def align(
        self, samples: np.ndarray, words: Sequence[WordSpan], *, cancel: threading.Event | None = None
    ) -> list[AlignedTime | None]:
        total = len(samples) / SAMPLE_RATE
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
        out: list[AlignedTime | None] = [None] * len(words)
        with self._lock:
            tokens = [self._tokens(w.text) for w in words]
            if words:
                self._prime(pcm)
            anchor: float | None = None  # end of the last word whose end is trusted
            floor = 0.0  # nothing may start before this
            i = 0
            while i < len(words):
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if not tokens[i]:  # nothing to say ("—"): left to the caller to fit between its neighbours
                    i += 1
                    continue
                size = _chunk_size(words, i)
                done = 0
                while size > 0 and done == 0:  # halve on failure; a wider window only for a single word
                    for tail in TAILS if size == 1 else TAILS[:1]:
                        done, next_anchor = self._try(pcm, words, tokens, i, size, anchor, floor, tail, total, out)
                        if done:
                            break
                    if done == 0:
                        size //= 2
                if done == 0:  # this word will not align: leave it rough, go on after it from the anchor
                    anchor = None
                    i += 1
                    continue
                anchor = next_anchor
                last = out[i + done - 1]
                assert last is not None
                floor = last.end
                i += done
        return out

    def _try(
        self,
        pcm: np.ndarray,
        words: Sequence[WordSpan],
        tokens: list[list[str]],
        i: int,
        size: int,
        anchor: float | None,
        floor: float,
        tail: float,
        total: float,
        out: list[AlignedTime | None],
    ) -> tuple[int, float | None]:
        """Align words[i:i+size]; on success fill `out` and return (words kept, the new anchor)."""
        idx = [j for j in range(i, min(len(words), i + size)) if tokens[j]]
        if not idx:
            return 0, anchor
        start = anchor if anchor is not None else max(floor, words[i].start - LEAD)
        start = max(0.0, start - 0.02)
        end = min(total, max(words[idx[-1]].end, start) + tail)
        segs = self._decode(pcm, start, end, [t for j in idx for t in tokens[j]])
        if segs is None:
            return 0, anchor
        placed = _place(segs, [tokens[j] for j in idx])
        # The recogniser's times may be off, but by about the same amount for neighbouring words: a word
        # placed much further from its rough time than the others in the window was lost, not found.
        shifts = [p[0] - words[idx[k]].start for k, p in enumerate(placed) if p is not None]
        typical = float(np.median(shifts)) if shifts else 0.0
        for k, p in enumerate(placed):
            shift = p[0] - words[idx[k]].start if p is not None else 0.0
            if p is not None and (abs(shift - typical) > MAX_DRIFT or abs(shift) > MAX_SHIFT):
                placed[k:] = [None] * (len(placed) - k)
                break
        reached = next((k for k, p in enumerate(placed) if p is None), len(placed))
        if reached == 0:
            return 0, anchor
        final = idx[-1] == len(words) - 1 or end >= total
        keep = reached
        if reached < len(placed):
            # A partial alignment (the search lost the path): words just before where it was lost are
            # often misplaced, so trust only those up to the first pause, never the last word reached.
            keep = min(reached - 1, _before_first_pause(segs, placed[:reached]))
        elif not final and not _silence_after(segs, placed[-1], end):
            keep = reached - 1  # speech runs on to the window's end: its end is not known yet
        if keep <= 0:
            if len(idx) == 1 and reached == 1:  # one word, heard: the best this window can do
                keep = 1
            else:
                return 0, anchor
        for k in range(keep):
            p = placed[k]
            assert p is not None
            out[idx[k]] = AlignedTime(max(p[0], floor), max(p[1], p[0], floor))
        last = placed[keep - 1]
        assert last is not None  # keep <= reached
        return idx[keep - 1] - i + 1, last[1]


def _chunk_size(words: Sequence[WordSpan], i: int) -> int:
    """Up to MAX_CHUNK words, ending early after a sentence's end or before a rough pause."""
    n = 1
    while i + n < len(words) and n < MAX_CHUNK:
        if words[i + n - 1].text.rstrip().endswith((".", "?", "!")) and n >= 4:
            break
        if words[i + n].start - words[i + n - 1].end > 0.5 and n >= 4:
            break
        n += 1
    return n


def _place(segs: list[_Seg], expected: list[list[str]]) -> list[tuple[float, float] | None]:
    """Each expected word's (start, end) from the decoder's segments, in order; None from the first
    word the alignment did not reach."""
    spoken = [s for s in segs if not s.word.startswith(("<", "[", "+")) and s.end > s.start]
    out: list[tuple[float, float] | None] = []
    k = 0
    for toks in expected:
        got: list[_Seg] = []
        for t in toks:
            while k < len(spoken) and spoken[k].word != t and spoken[k].word in _FILLERS and t not in _FILLERS:
                k += 1
            if k < len(spoken) and spoken[k].word == t:
                got.append(spoken[k])
                k += 1
            else:
                break
        if len(got) < len(toks):
            out.extend([None] * (len(expected) - len(out)))
            break
        out.append((got[0].start, got[-1].end))
    return out


def _before_first_pause(segs: list[_Seg], placed: list[tuple[float, float] | None]) -> int:
    pauses = [s.start for s in segs if s.word == "<sil>" and s.end - s.start >= PAUSE]
    for k, p in enumerate(placed):
        if p is not None and any(abs(t - p[1]) < 0.015 for t in pauses):
            return k + 1
    return len(placed)


def _silence_after(segs: list[_Seg], placed: tuple[float, float] | None, window_end: float) -> bool:
    if placed is None:
        return False
    after = [s for s in segs if s.start >= placed[1] - 1e-6]
    quiet = sum(s.end - s.start for s in after if s.word.startswith(("<sil", "</s", "[")))
    return quiet >= TRAILING_SILENCE or (
        window_end - placed[1] >= 0.3 and not any(not s.word.startswith(("<", "[", "+")) for s in after)
    )
