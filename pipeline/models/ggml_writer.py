"""Write a whisper.cpp ggml model from any source of tensors, streaming, optionally quantised.

A ``ModelSource`` (a CTranslate2 folder, a ggml file, an OpenAI checkpoint)
names every ggml tensor and reads slices of it; ``write_ggml`` writes the
header, then each tensor a few hundred rows at a time, converting to f16/f32 or
quantising to q8_0/q5_0 on the way. Peak memory is a few megabytes whatever
the model's size.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import numpy as np

from audio.errors import Cancelled
from pipeline.errors import ModelError
from pipeline.models.ggml_file import (
    FTYPE_F16,
    FTYPE_F32,
    FTYPE_Q5_0,
    FTYPE_Q8_0,
    GGML_TYPES,
    QNT_VERSION,
    QNT_VERSION_FACTOR,
    TYPE_F16,
    TYPE_F32,
    TYPE_Q5_0,
    TYPE_Q8_0,
    HParams,
    MelFilters,
    TensorSpec,
    tensor_specs,
    write_header,
)
from pipeline.models.quantize import quantize_q5_0, quantize_q8_0

# What a user may ask for, and the header ftype each means.
FTYPES: dict[str, int] = {"f32": FTYPE_F32, "f16": FTYPE_F16, "q8_0": FTYPE_Q8_0, "q5_0": FTYPE_Q5_0}
FTYPE_NAMES = {v: k for k, v in FTYPES.items()}
_CHUNK = 1 << 18  # elements per slice read from the source: 1 MiB as float32, ~10 MiB while quantising

ProgressFn = Callable[[int, int], None]  # (bytes written, bytes in all)


@dataclass(frozen=True)
class SourceTensor:
    """One ggml tensor as the source holds it."""

    name: str  # ggml name, e.g. "encoder.blocks.0.attn.query.weight"
    ne: tuple[int, ...]  # ggml order (fastest-varying first)
    read: Callable[[int, int], np.ndarray]  # (first element, count) -> float32 values
    raw_type: int | None = None  # the ggml type of read_raw's bytes, when the source is ggml already
    read_raw: Callable[[int, int], bytes] | None = None  # (byte offset in the tensor, count) -> bytes

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.ne, dtype=np.int64))


class ModelSourceError(ModelError):
    """The source is not a model Hark can convert; the message says why, in one sentence."""


@dataclass
class ModelSource:
    format: str  # "ctranslate2" | "ggml" | "openai-checkpoint"
    hparams: HParams  # ftype is the source's own (informational)
    mel: MelFilters
    vocab: list[bytes]
    tensors: dict[str, SourceTensor]
    dtype: str  # the source's weight type, e.g. "float16"
    notes: dict[str, object] = field(default_factory=dict)  # provenance details for the store


def plan(source: ModelSource, ftype: int) -> list[TensorSpec]:
    """The tensors to write, checked against what whisper.cpp will expect; ModelSourceError if they differ."""
    specs = tensor_specs(replace(source.hparams, ftype=ftype))
    want = {s.name for s in specs}
    have = set(source.tensors)
    if want - have:
        missing = sorted(want - have)
        raise ModelSourceError(f"the model lacks {len(missing)} of whisper's tensors (e.g. {missing[0]})")
    if have - want:
        extra = sorted(have - want)
        raise ModelSourceError(f"the model has {len(extra)} tensors whisper does not (e.g. {extra[0]})")
    for s in specs:
        t = source.tensors[s.name]
        if t.ne != s.ne:
            raise ModelSourceError(f"tensor {s.name} has shape {t.ne}, whisper.cpp expects {s.ne}")
        if s.ttype in (TYPE_Q8_0, TYPE_Q5_0) and s.ne[0] % 32:
            raise ModelSourceError(f"tensor {s.name} has rows of {s.ne[0]} values: cannot be quantised")
    return specs


def output_size(source: ModelSource, specs: list[TensorSpec]) -> int:
    header = 4 + 11 * 4 + 8 + source.mel.data.size * 4 + 4 + sum(4 + len(t) for t in source.vocab)
    return header + sum(12 + 4 * len(s.ne) + len(s.name.encode()) + s.nbytes for s in specs)


class _HashingWriter:
    def __init__(self, f: BinaryIO) -> None:
        self.f, self.sha, self.written = f, hashlib.sha256(), 0

    def write(self, b: bytes) -> int:
        self.f.write(b)
        self.sha.update(b)
        self.written += len(b)
        return len(b)


def _encode(values: np.ndarray, ttype: int) -> bytes:
    if ttype == TYPE_F32:
        return values.astype("<f4").tobytes()
    if ttype == TYPE_F16:
        return values.astype("<f2").tobytes()
    if ttype == TYPE_Q8_0:
        return quantize_q8_0(values)
    if ttype == TYPE_Q5_0:
        return quantize_q5_0(values)
    raise ModelSourceError(f"cannot write ggml type {GGML_TYPES[ttype][0]}")


def write_ggml(
    source: ModelSource,
    f: BinaryIO,
    ftype: int,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """Write the whole model to `f`; return the sha256 of what was written."""
    specs = plan(source, ftype)
    total = output_size(source, specs)
    out = _HashingWriter(f)
    hp = replace(source.hparams, ftype=ftype + (QNT_VERSION * QNT_VERSION_FACTOR if ftype > FTYPE_F16 else 0))
    write_header(out, hp, source.mel, source.vocab)
    for spec in specs:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        t = source.tensors[spec.name]
        name = spec.name.encode()
        out.write(np.array([len(spec.ne), len(name), spec.ttype, *spec.ne], dtype="<i4").tobytes())
        out.write(name)
        if t.read_raw is not None and t.raw_type == spec.ttype:  # already in the wanted type: copied
            for first in range(0, spec.nbytes, 4 * _CHUNK):
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                out.write(t.read_raw(first, min(4 * _CHUNK, spec.nbytes - first)))
                if progress is not None:
                    progress(out.written, total)
        else:
            row = spec.ne[0]
            rows_per_chunk = max(1, _CHUNK // row)
            for first in range(0, t.n_elements, rows_per_chunk * row):
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                values = t.read(first, min(rows_per_chunk * row, t.n_elements - first))
                if not np.isfinite(values).all():
                    raise ModelSourceError(f"tensor {spec.name} holds NaN or infinite values: the model is corrupt")
                out.write(_encode(values, spec.ttype))
                if progress is not None:
                    progress(out.written, total)
        if progress is not None:
            progress(out.written, total)
    if out.written != total:  # a logic error, never a user's: the file would not load
        raise AssertionError(f"wrote {out.written} bytes, planned {total}")
    return out.sha.hexdigest()
