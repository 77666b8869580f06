"""A whisper.cpp ggml file as a ``ModelSource``: copied as it is, or re-typed (f16 -> q8_0, ...)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.models.ggml_file import (
    FTYPE_WEIGHT_TYPE,
    GGML_TYPES,
    TYPE_F16,
    TYPE_F32,
    GgmlFormatError,
    TensorInfo,
    problems,
    read_header,
)
from pipeline.models.ggml_writer import ModelSource, ModelSourceError, SourceTensor


def is_ggml_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"lmgg"
    except OSError:
        return False


def _reader(path: Path, t: TensorInfo) -> tuple[Callable[[int, int], np.ndarray], Callable[[int, int], bytes]]:
    def raw(offset: int, count: int) -> bytes:
        with path.open("rb") as f:
            f.seek(t.data_offset + offset)
            b = f.read(count)
        if len(b) != count:
            raise ModelSourceError(f"{path.name} is truncated inside {t.name}")
        return b

    def values(start: int, count: int) -> np.ndarray:
        if t.ttype not in (TYPE_F16, TYPE_F32):
            raise ModelSourceError(
                f"{path.name} is already quantised ({GGML_TYPES[t.ttype][0]} tensors): quantise the f16 model instead"
            )
        size = 2 if t.ttype == TYPE_F16 else 4
        data = np.frombuffer(raw(start * size, count * size), dtype="<f2" if size == 2 else "<f4")
        return data.astype(np.float32)

    return values, raw


def load_ggml(path: Path) -> ModelSource:
    try:
        header = read_header(path)
    except GgmlFormatError as e:
        raise ModelSourceError(str(e)) from e
    found = problems(header)
    if found:
        raise ModelSourceError(f"{path.name} cannot be used by whisper.cpp: {found[0]}")
    tensors: dict[str, SourceTensor] = {}
    for t in header.tensors:
        values, raw = _reader(path, t)
        tensors[t.name] = SourceTensor(t.name, t.ne, values, raw_type=t.ttype, read_raw=raw)
    wtype = FTYPE_WEIGHT_TYPE[header.hparams.weight_ftype]
    dtype = {TYPE_F32: "float32", TYPE_F16: "float16"}.get(wtype, GGML_TYPES[wtype][0])
    return ModelSource(
        format="ggml", hparams=header.hparams, mel=header.mel, vocab=header.vocab, tensors=tensors, dtype=dtype
    )
