"""Synthesised speech whose word boundaries are known to the sample (libespeak-ng through ctypes).

espeak-ng reports each word's sample position as it speaks it (WORD events). A word starts at the
first audible sample from its event on and ends at the last audible sample before the next word's
event: synthetic silence is digital, so "audible" is exact, and sentences joined with pauses of
known length give a timing test set with exact truth. Test support, not product code.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from tests import media_gen

RATE = 16_000
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_EVENT_WORD = 1
_AUDIBLE = 1e-3  # |sample| above this is sound (espeak's pauses are exact zeros)


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def available() -> bool:
    try:
        ctypes.CDLL("libespeak-ng.so.1")
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class TimedText:
    samples: np.ndarray  # float32 at RATE
    words: list[tuple[str, float, float]]  # text, start, end in seconds


class _Espeak:
    _lib: ctypes.CDLL | None = None
    _rate = 0

    @classmethod
    def lib(cls) -> ctypes.CDLL:
        if cls._lib is None:
            lib = ctypes.CDLL("libespeak-ng.so.1")
            cls._rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0)
            lib.espeak_SetVoiceByName(b"en-us")
            cls._lib = lib
        return cls._lib


def speak(text: str, *, words_per_minute: int = 160) -> TimedText:
    """One utterance: its samples at 16 kHz and each word's exact start and end."""
    lib = _Espeak.lib()
    lib.espeak_SetParameter(1, words_per_minute, 0)  # espeakRATE
    chunks: list[np.ndarray] = []
    events: list[tuple[int, int, int]] = []  # text position (1-based), length, sample

    def callback(wav: ctypes._Pointer, n: int, ev: ctypes._Pointer) -> int:
        if n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while ev[i].type != 0:
            if ev[i].type == _EVENT_WORD:
                events.append((ev[i].text_position, ev[i].length, ev[i].sample))
            i += 1
        return 0

    cb = _Callback(callback)
    lib.espeak_SetSynthCallback(cb)
    data = text.encode()
    lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
    lib.espeak_Synchronize()
    raw = np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros(0, np.float32)
    native = _Espeak._rate
    audible = np.abs(raw) > _AUDIBLE
    words: list[tuple[str, float, float]] = []
    encoded = text.encode()
    for k, (pos, length, sample) in enumerate(events):
        nxt = events[k + 1][2] if k + 1 < len(events) else len(raw)
        on = np.flatnonzero(audible[sample:nxt])
        if len(on) == 0:
            continue
        word = encoded[pos - 1 : pos - 1 + length].decode(errors="replace")
        words.append((word, (sample + on[0]) / native, (sample + on[-1] + 1) / native))
    samples = resample_poly(raw, RATE, native).astype(np.float32)
    return TimedText(samples, words)


def joined(sentences: list[str], pauses: list[float], *, lead: float = 0.5) -> TimedText:
    """Sentences one after another with the given pauses (s) between them, `lead` s of silence first."""
    parts = [np.zeros(int(lead * RATE), np.float32)]
    words: list[tuple[str, float, float]] = []
    t = lead
    for k, sentence in enumerate(sentences):
        s = speak(sentence)
        words += [(w, a + t, b + t) for w, a, b in s.words]
        parts.append(s.samples)
        t += len(s.samples) / RATE
        pause = pauses[k] if k < len(pauses) else 0.5
        parts.append(np.zeros(int(pause * RATE), np.float32))
        t += int(pause * RATE) / RATE
    return TimedText(np.concatenate(parts), words)


def write_wav(path: Path, samples: np.ndarray, *, noise_db: float | None = -60.0, seed: int = 0) -> Path:
    """16-bit mono WAV; a faint noise floor by default, so the silence is not digital zero."""
    x = samples.astype(np.float64)
    if noise_db is not None:
        x = x + np.random.default_rng(seed).normal(0, 10 ** (noise_db / 20), len(x))
    return media_gen.write_wav(path, np.clip(x, -1, 1), RATE)


SENTENCES = [
    "Please call Stella and ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.",
    "We also need a small plastic snake and a big toy frog for the kids.",
    "She can scoop these things into three red bags, and we will go meet her Wednesday at the train station.",
    "In 1961 the president asked what you could do for your country.",
    "Thanks Alice, that was exactly what we needed.",
]
PAUSES = [0.8, 0.35, 1.5, 0.6, 1.0]
