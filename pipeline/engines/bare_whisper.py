"""Bare pywhispercpp: its own `Model` API, as someone using the library directly would call it.

The baseline of `hark eval asr`: the same model file, loaded the same way, decoding the same audio
with the same parameters as Hark's engine, but with none of Hark's pipeline around it (no chunking,
no VAD, no word grouping). Whatever error Hark has beyond this one, its pipeline added.

Three pywhispercpp habits are steered around (see docs in PLATFORM.md): keywords passed to
`transcribe()` persist into later calls, so every parameter is passed on every call; a model
name that is not a file is downloaded, so only a full path is accepted; a path to audio is
decoded by shelling out to ffmpeg, so only a float32 16 kHz numpy array is passed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import _pywhispercpp as pw
import numpy as np

from pipeline.engines.base import TranscribeOptions
from pipeline.errors import ModelError

if TYPE_CHECKING:
    from pywhispercpp.model import ContextParams


def known_language(code: str) -> bool:
    return pw.whisper_lang_id(code) >= 0


def decode_params(options: TranscribeOptions, *, multilingual: bool) -> dict[str, Any]:
    """The decoding parameters of Hark's engine (WhisperCppEngine._params), as pywhispercpp keywords.

    Written out rather than copied from the engine, so the baseline states what it runs;
    tests/test_eval_asr.py checks that the two stay equal, parameter by parameter.
    """
    return {
        "n_threads": max(1, options.threads),
        "language": options.language or ("auto" if multilingual else "en"),
        "detect_language": False,
        "translate": bool(options.translate),
        "initial_prompt": options.initial_prompt or "",
        "no_context": True,
        "no_timestamps": False,
        "single_segment": False,
        "token_timestamps": True,
        "max_len": 0,
        "split_on_word": False,
        "print_progress": False,
        "print_realtime": False,
        "print_timestamps": False,
        "print_special": False,
        "suppress_blank": True,
        "suppress_nst": True,
        "temperature": 0.0,
        "temperature_inc": 0.2 if options.fallback else 0.0,
        "entropy_thold": 2.4,
        "logprob_thold": -1.0,
        "no_speech_thold": 0.6,
        "vad": False,
        "audio_ctx": max(0, int(options.audio_ctx)),
    }


class BareWhisper:
    """pywhispercpp.model.Model on one model file; `transcribe` returns the text of its segments."""

    def __init__(self, model_path: Path, *, multilingual: bool, context_overrides: ContextParams | None = None) -> None:
        from pywhispercpp.model import Model

        path = Path(model_path).expanduser()
        if not path.is_file():  # a name that is not a file would be downloaded
            raise ModelError(f"whisper model not found: {path}")
        self.multilingual = multilingual
        # Same context as Hark's engine (flash attention off where it uses DTW word timing), so that
        # both run the very same kernels; redirect None keeps whisper.cpp's loading chatter off stderr.
        self._model = Model(
            str(path.resolve()),
            redirect_whispercpp_logs_to=None,
            context_params=context_overrides.copy() if context_overrides else {},
        )

    def transcribe(self, samples: np.ndarray, options: TranscribeOptions, cancel: threading.Event | None = None) -> str:
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        if len(audio) == 0:
            return ""
        segments = self._model.transcribe(
            audio,
            abort_callback=cancel.is_set if cancel is not None else None,
            **decode_params(options, multilingual=self.multilingual),
        )
        return " ".join(s.text.strip() for s in segments if s.text.strip())
