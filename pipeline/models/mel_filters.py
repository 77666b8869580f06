"""The mel filter bank whisper was trained with, computed rather than shipped.

OpenAI's ``mel_filters.npz`` holds ``librosa.filters.mel(sr=16000, n_fft=400,
n_mels=80 or 128)``: Slaney's mel scale with Slaney's area normalisation. A
ggml file carries the bank in its header and whisper.cpp uses it as it is, so
a converted model must carry these exact values (the tests compare them with
the bank inside whisper.cpp's own model files).
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 400

_F_SP = 200.0 / 3  # Hz per mel below 1 kHz
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    mel = hz / _F_SP
    log = hz >= _MIN_LOG_HZ
    mel[log] = _MIN_LOG_MEL + np.log(hz[log] / _MIN_LOG_HZ) / _LOGSTEP
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    hz = _F_SP * mel
    log = mel >= _MIN_LOG_MEL
    hz[log] = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel[log] - _MIN_LOG_MEL))
    return hz


def mel_filters(n_mels: int, *, sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT) -> np.ndarray:
    """Triangular filters, shape (n_mels, 1 + n_fft // 2), float32, as librosa computes them."""
    fft_freqs = np.linspace(0.0, sample_rate / 2, 1 + n_fft // 2)
    lo, hi = _hz_to_mel(np.array([0.0, sample_rate / 2]))
    edges = _mel_to_hz(np.linspace(lo, hi, n_mels + 2))
    widths = np.diff(edges)
    ramps = np.subtract.outer(edges, fft_freqs)
    # float32 before the normalisation, as librosa rounds: the result then matches OpenAI's to the bit
    weights = np.maximum(0.0, np.minimum(-ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]))
    out = weights.astype(np.float32)
    out *= (2.0 / (edges[2:] - edges[:-2]))[:, None]  # each filter has unit area
    return out
