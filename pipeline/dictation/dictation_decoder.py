"""Speech to text for live dictation: one short utterance at a time, fast, never invented.

- Final decode of a finished utterance: silence trimmed by the VAD (silence in,
  empty text out: whisper never sees nothing and makes something up), and for
  whisper an encoder context sized to the utterance (`audio_ctx`): the encoder
  otherwise always works through 30 s, mostly padding (whisper.cpp #137, #1855).
- Partial decodes while the user speaks: the growing buffer is re-decoded
  (the caller calls about every second) and LocalAgreement-2 decides which
  words are settled, so what the overlay shows as settled never changes.
  The final text keeps those settled words.
- Custom vocabulary through whisper's initial prompt.
- One decode at a time; a final decode cancels a running partial and waits for
  it to stop. Partials never queue: a busy decoder answers with the last partial.

Works with any Engine (whisper.cpp, PocketSphinx); engines ignore options they
do not have (PocketSphinx has no prompt and no audio_ctx).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from audio.errors import Cancelled
from audio.vad import CHUNK as VAD_FRAME
from audio.vad import SileroVad, VadParams, VadStream, regions_from_probabilities
from pipeline.dictation.local_agreement import AgreementState, agree, align, rebase
from pipeline.engines.base import Engine, EngineWord, TranscribeOptions
from pipeline.transcription.chunking import SILENT_PEAK, compact
from pipeline.transcripts.transcript import join_words

SAMPLE_RATE = 16_000
ENCODER_POSITIONS = 1500  # whisper's encoder: 1500 positions per 30 s window (20 ms each)
WINDOW_SECONDS = 30.0
# Context after the speech: with too little, whisper does not see the end and repeats itself
# (whisper.cpp #1855 measured base.en with +128 at no loss of accuracy).
AUDIO_CTX_MARGIN = 128
# Dictation pauses are short and the first word must not lose its onset: a little more padding.
DICTATION_VAD = VadParams(min_silence=0.4, pad=0.25)
PROMPT_MAX_CHARS = 600  # whisper keeps at most ~224 prompt tokens; stay well under


def audio_ctx_for(seconds: float, *, floor: int = 256, margin: int = AUDIO_CTX_MARGIN) -> int:
    """Encoder positions for `seconds` of audio: 0 (whisper's full 30 s) from 30 s on."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"audio length must be a finite number of seconds >= 0, not {seconds!r}")
    if seconds >= WINDOW_SECONDS:
        return 0
    ctx = max(floor, math.ceil(seconds / WINDOW_SECONDS * ENCODER_POSITIONS) + margin)
    return 0 if ctx >= ENCODER_POSITIONS else ctx


def vocabulary_prompt(vocabulary: Sequence[str], base: str | None = None) -> str | None:
    """Initial prompt carrying the user's words (names, jargon) so whisper spells them that way.

    Whisper continues the style of its prompt, so the words go in as a plain
    comma-separated list after any prompt the user set; duplicates and blanks dropped,
    cut to whole words below the prompt limit.
    """
    seen: set[str] = set()
    terms: list[str] = []
    for v in vocabulary:
        term = " ".join(v.split())
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    parts = [base.strip()] if base and base.strip() else []
    if terms:
        listed = ""
        for t in terms:
            nxt = f"{listed}, {t}" if listed else t
            if len(nxt) + sum(len(p) + 1 for p in parts) > PROMPT_MAX_CHARS:
                break
            listed = nxt
        if listed:
            parts.append(listed + ".")
    return " ".join(parts) or None


@dataclass(frozen=True)
class DictationResult:
    text: str
    words: list[EngineWord]  # times in seconds from the start of the samples given
    seconds: float  # length of the audio given
    decode_ms: float  # trim + decode + join
    language: str | None = None


@dataclass(frozen=True)
class PartialText:
    committed: str = ""  # settled: never changes for this utterance
    tentative: str = ""  # may still change


@dataclass
class _Track:
    """What partial decodes learned about the utterance being recorded."""

    head: np.ndarray  # its first samples, to recognise the same utterance grown longer
    fed: int = 0  # samples seen
    edge: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # last samples seen
    vad: VadStream | None = None
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    window: int = 0  # first sample partial decodes look at (moves on past settled words)
    agreement: AgreementState = field(default_factory=AgreementState)
    committed_words: list[EngineWord] = field(default_factory=list)
    last: PartialText = PartialText()
    language: str | None = None

    def follows(self, samples: np.ndarray) -> bool:
        """True when `samples` is this utterance, the same or longer."""
        if len(samples) < self.fed:
            return False
        k = len(self.head)
        if not np.array_equal(samples[:k], self.head):
            return False
        e = len(self.edge)
        return np.array_equal(samples[self.fed - e : self.fed], self.edge)

    def feed(self, samples: np.ndarray) -> None:
        new = samples[self.fed :]
        if self.vad is not None and len(new):
            self.probs = np.concatenate([self.probs, self.vad.feed(new)])
        self.fed = len(samples)
        self.edge = samples[max(0, self.fed - VAD_FRAME) : self.fed].copy()


class DictationDecoder:
    def __init__(
        self,
        engine: Engine,
        options: TranscribeOptions,
        *,
        vad: SileroVad | None = None,
        vocabulary: Sequence[str] = (),
        agreement: int = 2,
        vad_params: VadParams = DICTATION_VAD,
        max_partial_seconds: float = 20.0,
        audio_ctx: bool = True,
    ) -> None:
        """max_partial_seconds: past this much audio, partials stop re-decoding settled speech.
        audio_ctx: size whisper's encoder to the utterance (off: always the full 30 s; for a
        fine-tuned model that misbehaves with a short context)."""
        self.engine = engine
        self._use_audio_ctx = audio_ctx
        self._options = options
        self._vad = vad
        self._vad_params = vad_params
        self._n = agreement
        self._max_partial = int(max_partial_seconds * SAMPLE_RATE)
        self._prompt = vocabulary_prompt(vocabulary, options.initial_prompt)
        self._vocabulary = tuple(vocabulary)
        self._decode_lock = threading.Lock()  # one decode at a time
        self._flag_lock = threading.Lock()  # guards the two fields below
        self._finals_waiting = 0
        self._partial_cancel: threading.Event | None = None
        self._track: _Track | None = None
        self._warm = False

    # --- settings -----------------------------------------------------------
    @property
    def vocabulary(self) -> tuple[str, ...]:
        return self._vocabulary

    def set_vocabulary(self, vocabulary: Sequence[str]) -> None:
        self._vocabulary = tuple(vocabulary)
        self._prompt = vocabulary_prompt(vocabulary, self._options.initial_prompt)

    def options_for(self, seconds: float) -> TranscribeOptions:
        """What the engine is given for `seconds` of (trimmed) audio."""
        ctx = audio_ctx_for(seconds) if self._use_audio_ctx else 0
        return replace(self._options, initial_prompt=self._prompt, audio_ctx=ctx, fallback=False)

    # --- decoding -----------------------------------------------------------
    def warm_up(self) -> None:
        """Decode 1 s of silence once, so the first real utterance does not pay for page faults,
        thread start-up and first-call allocations."""
        with self._decode_lock:
            if self._warm:
                return
            self.engine.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), self.options_for(1.0))
            self._warm = True

    def reset(self) -> None:
        """Forget the utterance partials were following (e.g. its recording was discarded).
        A partial still running finishes on the forgotten track, harmlessly."""
        self._track = None

    def final(self, samples: np.ndarray) -> DictationResult:
        """The text of a finished utterance (16 kHz mono float32)."""
        t0 = time.perf_counter()
        audio = np.asarray(samples, dtype=np.float32)
        with self._flag_lock:
            self._finals_waiting += 1
            if self._partial_cancel is not None:
                self._partial_cancel.set()
        try:
            self._decode_lock.acquire()
        finally:
            with self._flag_lock:
                self._finals_waiting -= 1
        try:
            track = self._track if self._track is not None and self._track.follows(audio) else None
            if track is not None:
                self._track = None  # this utterance is over
                track.feed(audio)
                probs = np.concatenate([track.probs, track.vad.flush()]) if track.vad is not None else None
                window, state, settled = track.window, track.agreement, track.committed_words
            else:
                probs = self._vad.probabilities(audio) if self._vad is not None else None
                window, state, settled = 0, AgreementState(n=self._n), []
            words, language = self._decode(audio, window, probs, None)
            texts = [w.text for w in words]
            start = align(state.committed[state.base :], texts)
            words = [*settled, *words[start:]]
        finally:
            self._decode_lock.release()
        text = join_words([w.text for w in words], language)
        return DictationResult(
            text=text,
            words=words,
            seconds=len(audio) / SAMPLE_RATE,
            decode_ms=(time.perf_counter() - t0) * 1000.0,
            language=language,
        )

    def partial(self, samples_so_far: np.ndarray) -> PartialText:
        """Settled and unsettled text of the utterance so far. Never blocks on another decode:
        while one runs (or a final waits) the last partial comes back unchanged."""
        audio = np.asarray(samples_so_far, dtype=np.float32)
        if not self._decode_lock.acquire(blocking=False):
            return self._last_for(audio)
        try:
            with self._flag_lock:
                if self._finals_waiting:
                    return self._last_for(audio)
                cancel = threading.Event()
                self._partial_cancel = cancel
            track = self._track if self._track is not None and self._track.follows(audio) else None
            if track is None:
                track = _Track(
                    head=audio[:VAD_FRAME].copy(),
                    vad=self._vad.stream() if self._vad else None,
                    agreement=AgreementState(n=self._n),
                )
                self._track = track
            track.feed(audio)
            self._move_window(track, len(audio))
            try:
                words, language = self._decode(audio, track.window, track.probs if track.vad else None, cancel)
            except Cancelled:
                return track.last
            before = len(track.agreement.committed)
            track.agreement = agree(track.agreement, [w.text for w in words])
            added = len(track.agreement.committed) - before
            end = track.agreement.tail_start
            track.committed_words.extend(words[end - added : end])
            track.language = language
            track.last = PartialText(
                join_words(list(track.agreement.committed), language),
                join_words(list(track.agreement.tentative), language),
            )
            return track.last
        finally:
            with self._flag_lock:
                self._partial_cancel = None
            self._decode_lock.release()

    def _last_for(self, audio: np.ndarray) -> PartialText:
        track = self._track
        return track.last if track is not None and track.follows(audio) else PartialText()

    def _move_window(self, track: _Track, n: int) -> None:
        # Long dictation: re-decoding everything each second would grow without bound. Once the
        # window is long, partials start after the last settled word (whisper_streaming trims its
        # buffer the same way).
        if n - track.window <= self._max_partial or not track.committed_words:
            return
        cut = int(track.committed_words[-1].end * SAMPLE_RATE) // VAD_FRAME * VAD_FRAME
        if cut > track.window:
            track.window = cut
            track.agreement = rebase(track.agreement)

    def _decode(
        self, audio: np.ndarray, window: int, probs: np.ndarray | None, cancel: threading.Event | None
    ) -> tuple[list[EngineWord], str | None]:
        """Trim silence from audio[window:], decode, and map word times back to `audio`."""
        part = audio[window:]
        total = len(part) / SAMPLE_RATE
        if len(part) == 0 or float(np.max(np.abs(part))) < SILENT_PEAK:
            return [], self._options.language
        if probs is not None:
            regions = regions_from_probabilities(probs[window // VAD_FRAME :], self._vad_params, total=total)
        else:
            regions = [(0.0, total)]
        if not regions:
            return [], self._options.language
        speech, timemap = compact(part, regions, window / SAMPLE_RATE)
        if len(speech) == 0:
            return [], self._options.language
        result = self.engine.transcribe(speech, self.options_for(len(speech) / SAMPLE_RATE), cancel=cancel)
        words = []
        for w in result.words:
            start, end = timemap.span_to_source(w.start, w.end)
            words.append(EngineWord(text=w.text, start=start, end=end, probability=w.probability))
        return words, result.language
