"""whisper.cpp in-process through pywhispercpp's low-level bindings.

Why the low-level API: pywhispercpp's Model keeps parameters between calls,
downloads a model when given a name, and shells out to ffmpeg when given a
path. Here the context is created once from a full path, every call builds
fresh parameters from whisper.cpp's defaults, and audio is always a float32
numpy array. One lock guards the context: whisper.cpp contexts are not
re-entrant.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _pywhispercpp as pw
import numpy as np

from audio.errors import Cancelled
from pipeline.engines.base import EngineResult, EngineWord, ProgressFn, TranscribeOptions
from pipeline.engines.segment_checks import is_wordless, suspect_reason
from pipeline.engines.whisper_native import NativeContext
from pipeline.engines.word_grouping import Token, group_tokens, make_monotonic
from pipeline.errors import EngineError, ModelError
from pipeline.models.ggml_file import GgmlFormatError, model_kind, problems, read_header
from pipeline.transcripts.transcript import NO_SPACE_LANGUAGES

if TYPE_CHECKING:
    from pywhispercpp.model import ContextParams

log = logging.getLogger(__name__)
SAMPLE_RATE = 16_000

# DTW alignment-head presets per model shape; DTW needs flash attention off.
_DTW_PRESETS = {
    "tiny.en": pw.WHISPER_AHEADS_TINY_EN,
    "tiny": pw.WHISPER_AHEADS_TINY,
    "base.en": pw.WHISPER_AHEADS_BASE_EN,
    "base": pw.WHISPER_AHEADS_BASE,
    "small.en": pw.WHISPER_AHEADS_SMALL_EN,
    "small": pw.WHISPER_AHEADS_SMALL,
    "medium.en": pw.WHISPER_AHEADS_MEDIUM_EN,
    "medium": pw.WHISPER_AHEADS_MEDIUM,
    "large-v1": pw.WHISPER_AHEADS_LARGE_V1,
    "large-v2": pw.WHISPER_AHEADS_LARGE_V2,
    "large-v3": pw.WHISPER_AHEADS_LARGE_V3,
    "large-v3-turbo": pw.WHISPER_AHEADS_LARGE_V3_TURBO,
}

_log_routed = False


def known_language(code: str) -> bool:
    """Whether whisper knows this language code (en, de, yue, ...)."""
    _route_whisper_logs()  # else whisper.cpp prints its own "unknown language" line beside ours
    return pw.whisper_lang_id(code) >= 0


def context_overrides(kind: str, dtw: bool) -> ContextParams:
    """Context parameters that differ from whisper.cpp's defaults: DTW word timing where a preset exists."""
    preset = _DTW_PRESETS.get(kind) if dtw else None
    if preset is None:
        return {}
    # whisper.cpp silently skips DTW with flash attention on
    return {"flash_attn": False, "dtw_token_timestamps": True, "dtw_aheads_preset": preset}


def _route_whisper_logs() -> None:
    """Send whisper.cpp's chatter to logging instead of the user's terminal."""
    global _log_routed
    if _log_routed:
        return

    def sink(level: int, text: str) -> None:
        log.debug("whisper.cpp: %s", text.rstrip())

    pw.whisper_log_set(sink)
    # The sink must be gone before the interpreter is: a late log line would crash it.
    atexit.register(pw.whisper_log_set, None)
    _log_routed = True


class WhisperCppEngine:
    name = "whisper.cpp"

    def __init__(self, model_path: str | Path, *, model_name: str | None = None, dtw: bool = False) -> None:
        """dtw: word times from DTW over the alignment heads instead of whisper's token timestamps.
        Token timestamps are the default: on the human-timed TextGrids with the trained tiny.en and VAD
        they are unbiased (median start error -28 ms) where DTW lags by +352 ms at the same spread, and
        without DTW whisper.cpp keeps flash attention on (a faster encoder)."""
        path = Path(model_path).expanduser().resolve()
        if not path.is_file():
            raise ModelError(f"whisper model not found: {path}")
        try:
            header = read_header(path)
        except GgmlFormatError as e:
            raise ModelError(f"{path} is not a usable whisper.cpp model: {e}") from e
        found = problems(header)
        # A header-only file (whisper.cpp's own test fixtures) loads as an empty model: allowed, but said.
        self.has_weights = bool(header.tensors)
        if not self.has_weights:
            log.warning("%s has no weights: it will transcribe nothing", path.name)
        elif found:
            raise ModelError(f"{path} cannot be used by whisper.cpp: {found[0]}")
        self.model_path = path
        self.model_name = model_name or path.name
        self.kind = model_kind(header)  # e.g. "tiny.en", "large-v3"
        if self.kind == "large":  # v1 and v2 share their shapes; the name may tell them apart
            self.kind = next((k for k in ("large-v1", "large-v2") if k in self.model_name), "large")
        self.multilingual = header.is_multilingual
        self.version = importlib.metadata.version("pywhispercpp")
        # Public so that a baseline (pipeline.engines.bare_whisper) can load the model the same way.
        self.context_overrides = context_overrides(self.kind, dtw)
        self.timestamps = "dtw" if self.context_overrides else "token"
        cparams = pw.whisper_context_default_params()
        for key, value in self.context_overrides.items():
            setattr(cparams, key, value)
        _route_whisper_logs()
        self._ctx = pw.whisper_init_from_file_with_params(str(path), cparams)
        self._native = NativeContext.open(self._ctx)  # no-speech probabilities, where they can be read
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._ctx is not None:
                self._native = None
                pw.whisper_free(self._ctx)
                self._ctx = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def options_record(self, options: TranscribeOptions) -> dict[str, object]:
        record: dict[str, object] = {
            "language": options.language or "auto",
            "translate": options.translate,
            "initial_prompt": options.initial_prompt,
            "threads": options.threads,
            "timestamps": self.timestamps,
            "model_kind": self.kind,
        }
        if options.audio_ctx:  # only short-utterance decodes set it; file transcripts stay as they were
            record["audio_ctx"] = options.audio_ctx
        if not options.fallback:
            record["fallback"] = False
        return record

    def _params(self, options: TranscribeOptions) -> object:
        p = pw.whisper_full_default_params(pw.WHISPER_SAMPLING_GREEDY)
        # Every parameter we care about is set on every call, from whisper.cpp's defaults.
        p.n_threads = max(1, options.threads)
        p.language = options.language or ("auto" if self.multilingual else "en")
        p.detect_language = False  # True would mean "detect only, then stop"
        p.translate = bool(options.translate)
        p.initial_prompt = options.initial_prompt or ""
        p.no_context = True
        p.no_timestamps = False
        p.single_segment = False
        p.token_timestamps = True
        p.max_len = 0
        p.split_on_word = False
        p.print_progress = False
        p.print_realtime = False
        p.print_timestamps = False
        p.print_special = False
        p.suppress_blank = True
        p.suppress_nst = True  # no "[MUSIC]"-style tokens in captions
        p.temperature = 0.0
        p.temperature_inc = 0.2 if options.fallback else 0.0
        p.entropy_thold = 2.4
        p.logprob_thold = -1.0
        p.no_speech_thold = 0.6
        p.vad = False  # silence is trimmed before the engine sees the audio
        # Set on every call, 0 included: a short-utterance value kept into a long-form call
        # would make whisper see only the first seconds of each 30 s window.
        p.audio_ctx = max(0, int(options.audio_ctx))
        return p

    def transcribe(
        self,
        samples: np.ndarray,
        options: TranscribeOptions,
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> EngineResult:
        if options.language and options.language != "en" and not self.multilingual:
            raise EngineError(
                f"{self.model_name} is English-only; choose a multilingual model for {options.language!r}"
            )
        if options.language and pw.whisper_lang_id(options.language) < 0:
            raise EngineError(f"unknown language code {options.language!r}")
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if len(audio) == 0:
            return EngineResult(words=[], language=options.language)
        params = self._params(options)
        if progress is not None:
            pw.assign_progress_callback(params, _progress_adapter(progress))
        if cancel is not None:
            pw.assign_abort_callback(params, cancel.is_set)
        with self._lock:
            if self._ctx is None:
                raise EngineError("the engine was closed")
            rc = pw.whisper_full(self._ctx, params, audio, len(audio))
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if rc != 0:
                raise EngineError(f"whisper.cpp failed (code {rc})")
            language = pw.whisper_lang_str(pw.whisper_full_lang_id(self._ctx))
            words = self._collect_words(language, len(audio) / SAMPLE_RATE)
        if progress is not None:
            progress(1.0)
        return EngineResult(words=words, language=language)

    def _collect_words(self, language: str | None, duration: float) -> list[EngineWord]:
        ctx = self._ctx
        eot = pw.whisper_token_eot(ctx)
        use_dtw = self.timestamps == "dtw"
        no_speech = self._native.no_speech_probs() if self._native is not None else None
        words: list[EngineWord] = []
        for i in range(pw.whisper_full_n_segments(ctx)):
            seg_end = pw.whisper_full_get_segment_t1(ctx, i) / 100.0
            data = [pw.whisper_full_get_token_data(ctx, i, j) for j in range(pw.whisper_full_n_tokens(ctx, i))]
            text_idx = [j for j, d in enumerate(data) if d.id < eot]
            tokens: list[Token] = []
            for k, j in enumerate(text_idx):
                d = data[j]
                if use_dtw and d.t_dtw >= 0:
                    start = d.t_dtw / 100.0
                    # A token lasts until the next one begins (or the segment ends).
                    nxt = data[text_idx[k + 1]].t_dtw if k + 1 < len(text_idx) else -1
                    end = nxt / 100.0 if nxt >= 0 else max(seg_end, start)
                else:
                    start, end = d.t0 / 100.0, d.t1 / 100.0
                tokens.append(Token(pw.whisper_token_to_bytes(ctx, d.id), start, end, float(d.p)))
            text = b"".join(t.data for t in tokens).decode("utf-8", "replace")
            if is_wordless(text):  # "." or "..." over noise: no word to show, cut or caption
                continue
            reason = suspect_reason(text, [t.probability for t in tokens], no_speech[i] if no_speech else None)
            for w in group_tokens(tokens, no_space=(language or "") in NO_SPACE_LANGUAGES):
                w.suspect = reason
                words.append(w)
        return make_monotonic(words, duration)


def _progress_adapter(progress: ProgressFn) -> Callable[..., None]:
    # The binding calls back with whisper.cpp's integer percent as the last argument.
    def cb(*args: Any) -> None:
        try:
            progress(min(1.0, max(0.0, float(args[-1]) / 100.0)))
        except (TypeError, ValueError):
            pass

    return cb
