"""Read a CTranslate2 ``model.bin`` (the format faster-whisper loads) without CTranslate2.

Layout (little-endian), as written by CTranslate2's ``ModelSpec.save``:

    u32 binary version (6)      string spec name ("WhisperSpec")     u32 spec revision
    u32 variable count, then per variable:
        string name, u8 rank, u32 x rank dims, u8 dtype, u32 byte count, raw bytes
    u32 alias count, then (alias, target) string pairs

A string is a u16 length that counts a trailing NUL, then the bytes. Rank-0
variables (``decoder/num_heads``, ``decoder/activation``) are configuration.
Only the index is read up front; tensor data is read on demand, in slices, so
a converter can stream a model of any size through a few megabytes.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

SUPPORTED_VERSIONS = (5, 6)
# CTranslate2's DataType enum.
DTYPES: dict[int, str] = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
_NUMPY = {0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2", 5: "<u2"}
_ITEMSIZE = {0: 4, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2}
_MAX_VARIABLES = 100_000
_MAX_RANK = 8


class Ct2FormatError(ValueError):
    """The file is not a CTranslate2 model this reader understands."""


@dataclass(frozen=True)
class Ct2Variable:
    name: str
    shape: tuple[int, ...]  # row-major, as PyTorch would have it
    dtype: int  # key of DTYPES
    offset: int  # absolute file offset of the raw data
    nbytes: int

    @property
    def dtype_name(self) -> str:
        return DTYPES[self.dtype]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


@dataclass(frozen=True)
class Ct2Index:
    path: Path
    version: int
    spec: str
    revision: int
    variables: dict[str, Ct2Variable]  # aliases resolved to their targets
    scalars: dict[str, int | float]
    aliases: dict[str, str]

    def get(self, name: str) -> Ct2Variable | None:
        return self.variables.get(self.aliases.get(name, name))

    def read(self, var: Ct2Variable, start: int = 0, count: int | None = None) -> np.ndarray:
        """Elements [start, start + count) of `var`, flattened, as float32 (or the integer type)."""
        count = var.size - start if count is None else count
        if start < 0 or count < 0 or start + count > var.size:
            raise ValueError(f"{var.name}: slice {start}+{count} outside {var.size} elements")
        item = _ITEMSIZE[var.dtype]
        with self.path.open("rb") as f:
            f.seek(var.offset + start * item)
            raw = f.read(count * item)
        if len(raw) != count * item:
            raise Ct2FormatError(f"{self.path.name}: file is truncated inside {var.name}")
        return decode(raw, var.dtype)


def decode(raw: bytes, dtype: int) -> np.ndarray:
    arr = np.frombuffer(raw, dtype=_NUMPY[dtype])
    if dtype == 5:  # bfloat16: the high half of a float32
        return (arr.astype(np.uint32) << 16).view(np.float32)
    if dtype in (0, 4):
        return arr.astype(np.float32)
    return arr


class _Reader:
    def __init__(self, f: BinaryIO, path: Path, size: int) -> None:
        self.f, self.path, self.size = f, path, size

    def read(self, n: int, what: str) -> bytes:
        b = self.f.read(n)
        if len(b) != n:
            raise Ct2FormatError(f"{self.path.name} is truncated (reading {what}); the model is incomplete")
        return b

    def u32(self, what: str) -> int:
        return int(struct.unpack("<I", self.read(4, what))[0])

    def string(self, what: str) -> str:
        (n,) = struct.unpack("<H", self.read(2, what))
        raw = self.read(n, what)
        if not n or raw[-1:] != b"\0":
            raise Ct2FormatError(f"{self.path.name}: corrupt {what}")
        return raw[:-1].decode("utf-8", "replace")


def read_index(path: str | os.PathLike[str]) -> Ct2Index:
    """Parse the variable index of a CTranslate2 model.bin; raise Ct2FormatError if it is not one."""
    p = Path(path)
    try:
        size = p.stat().st_size
        f = p.open("rb")
    except OSError as e:
        raise Ct2FormatError(f"cannot open {p}: {e.strerror or e}") from e
    with f:
        r = _Reader(f, p, size)
        version = r.u32("the version")
        if version not in SUPPORTED_VERSIONS:
            raise Ct2FormatError(f"{p.name}: not a CTranslate2 model, or an unsupported version ({version})")
        spec = r.string("the model spec name") if version >= 2 else ""
        revision = r.u32("the spec revision")
        count = r.u32("the variable count")
        if count > _MAX_VARIABLES:
            raise Ct2FormatError(f"{p.name}: implausible variable count {count}")
        variables: dict[str, Ct2Variable] = {}
        scalars: dict[str, int | float] = {}
        for _ in range(count):
            name = r.string("a variable name")
            rank = r.read(1, f"the rank of {name}")[0]
            if rank > _MAX_RANK:
                raise Ct2FormatError(f"{p.name}: variable {name} has implausible rank {rank}")
            shape = struct.unpack(f"<{rank}I", r.read(4 * rank, f"the shape of {name}"))
            dtype = r.read(1, f"the type of {name}")[0]
            if dtype not in DTYPES:
                raise Ct2FormatError(f"{p.name}: variable {name} has unknown type {dtype}")
            nbytes = r.u32(f"the size of {name}")
            want = int(np.prod(shape, dtype=np.int64)) * _ITEMSIZE[dtype] if rank else nbytes
            if nbytes != want:
                raise Ct2FormatError(f"{p.name}: variable {name} holds {nbytes} bytes, its shape needs {want}")
            offset = f.tell()
            if offset + nbytes > size:
                raise Ct2FormatError(f"{p.name} is truncated inside {name}; the model is incomplete")
            if rank == 0:
                scalars[name] = decode(r.read(nbytes, name), dtype).item()
            else:
                variables[name] = Ct2Variable(name, tuple(int(d) for d in shape), dtype, offset, nbytes)
                f.seek(nbytes, os.SEEK_CUR)
        aliases: dict[str, str] = {}
        if version >= 3 and f.tell() < size:
            for _ in range(r.u32("the alias count")):
                alias = r.string("an alias")
                aliases[alias] = r.string("an alias target")
    return Ct2Index(p, version, spec, revision, variables, scalars, aliases)
