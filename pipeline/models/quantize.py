"""ggml's q8_0 and q5_0 block quantisation in numpy, bit for bit as ggml's reference code.

Both cut a row into blocks of 32 values with one float16 scale per block:

* q8_0 (34 bytes a block): d = max|x| / 127, q = round(x / d) as int8; x ~ q * d.
* q5_0 (22 bytes a block): d = m / -16, where m is the value of largest
  magnitude (its sign kept); q = min(31, trunc(x / d + 16.5)), stored as four
  low bits per value (two to a byte: value j and j + 16) and the fifth bits in
  a little-endian u32; x ~ (q - 16) * d.

The arithmetic is float32 like ggml's ``quantize_row_*_ref``, so a model
quantised here holds the bytes whisper.cpp's own ``quantize`` tool would write.
"""

from __future__ import annotations

import numpy as np

QK = 32  # values per block, both types
Q8_0 = np.dtype([("d", "<f2"), ("qs", "i1", QK)])
Q5_0 = np.dtype([("d", "<f2"), ("qh", "<u4"), ("qs", "u1", QK // 2)])
assert Q8_0.itemsize == 34 and Q5_0.itemsize == 22

_F32 = np.float32


def _blocks(x: np.ndarray) -> np.ndarray:
    v = np.ascontiguousarray(x, dtype=_F32).reshape(-1)
    if v.size % QK:
        raise ValueError(f"{v.size} values is not a whole number of {QK}-value blocks")
    return v.reshape(-1, QK)


def _inverse(d: np.ndarray) -> np.ndarray:
    out = np.zeros_like(d)
    np.divide(_F32(1.0), d, out=out, where=d != 0)
    return out


def quantize_q8_0(x: np.ndarray) -> bytes:
    b = _blocks(x)
    d = (np.abs(b).max(axis=1) / _F32(127)).astype(_F32)
    scaled = (b * _inverse(d)[:, None]).astype(np.float64)  # float32 product, rounded exactly below
    out = np.empty(len(b), dtype=Q8_0)
    with np.errstate(over="ignore"):  # a scale past float16's range becomes inf, as in ggml
        out["d"] = d.astype(np.float16)
    out["qs"] = np.where(scaled >= 0, np.floor(scaled + 0.5), np.ceil(scaled - 0.5))  # C's roundf
    return out.tobytes()


def quantize_q5_0(x: np.ndarray) -> bytes:
    b = _blocks(x)
    rows = np.arange(len(b))
    mag = np.abs(b)
    peak = b[rows, mag.argmax(axis=1)]  # first value of largest magnitude, as ggml's strict '<'
    peak[mag.max(axis=1) == 0] = 0.0  # ggml starts from +0: a block of -0s scales by -0, not +0
    d = (peak / _F32(-16)).astype(_F32)
    shifted = (b * _inverse(d)[:, None]).astype(_F32) + _F32(16.5)
    q = np.minimum(31, shifted.astype(np.int8)).astype(np.uint32)  # the cast truncates, as C's (int8_t)
    half = QK // 2
    out = np.empty(len(b), dtype=Q5_0)
    with np.errstate(over="ignore"):
        out["d"] = d.astype(np.float16)
    out["qs"] = (q[:, :half] & 0x0F) | ((q[:, half:] & 0x0F) << 4)
    bits = (q >> 4) & 1
    out["qh"] = (bits << np.arange(QK, dtype=np.uint32)).sum(axis=1, dtype=np.uint32)
    return out.tobytes()


def dequantize_q8_0(raw: bytes) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=Q8_0)
    return (blocks["qs"].astype(_F32) * blocks["d"].astype(_F32)[:, None]).reshape(-1)


def dequantize_q5_0(raw: bytes) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=Q5_0)
    half = QK // 2
    low = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.int32)
    high = ((blocks["qh"][:, None] >> np.arange(QK, dtype=np.uint32)) & 1).astype(np.int32)
    q = low | (high << 4)
    assert q.shape[1] == 2 * half
    return ((q - 16).astype(_F32) * blocks["d"].astype(_F32)[:, None]).reshape(-1)


QUANTIZERS = {"q8_0": quantize_q8_0, "q5_0": quantize_q5_0}
