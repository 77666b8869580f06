"""Read and write whisper.cpp ggml model files (the legacy, non-GGUF format).

Layout (all little-endian), as read by whisper.cpp's ``whisper_model_load``:

    u32  magic 0x67676d6c ("lmgg" on disk)
    i32  x 11 hparams: n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
         n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer,
         n_mels, ftype
    i32  n_mel, i32 n_fft, f32[n_mel * n_fft]       mel filter bank
    i32  n_tokens, then per token: u32 len, bytes  vocab
    tensors until EOF, each:
         i32 n_dims, i32 name_len, i32 ttype, i32 ne[n_dims] (ggml order,
         fastest-varying first), name bytes, raw data (no padding)

``read_header`` parses and validates this; ``write_header`` and ``tensor_specs`` serve the
importers (ggml_writer) and bench.random_ggml, which writes random-weight models for speed
benchmarks and tests.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

GGML_MAGIC = 0x67676D6C
GGUF_MAGIC = b"GGUF"
QNT_VERSION_FACTOR = 1000  # hparams.ftype = ftype + 1000 * quantisation version

# ggml tensor types that can appear in whisper files: id -> (name, block size, bytes per block).
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("f32", 1, 4),
    1: ("f16", 1, 2),
    2: ("q4_0", 32, 18),
    3: ("q4_1", 32, 20),
    6: ("q5_0", 32, 22),
    7: ("q5_1", 32, 24),
    8: ("q8_0", 32, 34),
    9: ("q8_1", 32, 36),
    10: ("q2_k", 256, 84),
    11: ("q3_k", 256, 110),
    12: ("q4_k", 256, 144),
    13: ("q5_k", 256, 176),
    14: ("q6_k", 256, 210),
    15: ("q8_k", 256, 292),
    24: ("i8", 1, 1),
    25: ("i16", 1, 2),
    26: ("i32", 1, 4),
    30: ("bf16", 1, 2),
}
TYPE_F32 = 0
TYPE_F16 = 1
TYPE_Q5_0 = 6
TYPE_Q8_0 = 8

# hparams.ftype (ggml's "mostly X" file types) -> the tensor type of the weight matrices.
# ftype ids are not tensor-type ids: q8_0 files are ftype 7 but hold type-8 tensors.
FTYPE_WEIGHT_TYPE: dict[int, int] = {
    0: 0,
    1: 1,
    2: 2,
    3: 3,
    7: 8,
    8: 6,
    9: 7,
    10: 10,
    11: 11,
    12: 12,
    13: 13,
    14: 14,
}
FTYPE_F32, FTYPE_F16, FTYPE_Q8_0, FTYPE_Q5_0 = 0, 1, 7, 8
QNT_VERSION = 2  # ggml's current quantisation version, written as ftype + 1000 * 2

# Sanity bounds so a garbage file fails cleanly instead of allocating gigabytes.
_MAX_DIM = 1 << 20
_MAX_TOKEN_LEN = 1 << 16
_MAX_NAME_LEN = 1 << 10


class GgmlFormatError(ValueError):
    """The file is not a (complete) whisper.cpp ggml model."""


@dataclass(frozen=True)
class HParams:
    n_vocab: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int
    n_mels: int
    ftype: int  # raw value from the file (may include QNT_VERSION_FACTOR * qntvr)

    @property
    def weight_ftype(self) -> int:
        """ftype without the quantisation version (0 = f32, 1 = f16, others quantised)."""
        return self.ftype % QNT_VERSION_FACTOR

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class MelFilters:
    n_mel: int
    n_fft: int
    data: np.ndarray  # float32, shape (n_mel, n_fft)


@dataclass(frozen=True)
class TensorInfo:
    name: str
    ne: tuple[int, ...]  # ggml order: ne[0] is the fastest-varying dimension
    ttype: int
    data_offset: int  # absolute file offset of the tensor's data
    nbytes: int


@dataclass(frozen=True)
class GgmlHeader:
    path: Path
    hparams: HParams
    mel: MelFilters
    vocab: list[bytes]
    tensor_offset: int  # byte offset where the tensor section begins
    tensors: list[TensorInfo]
    file_size: int

    @property
    def n_tensors(self) -> int:
        return len(self.tensors)

    @property
    def tensor_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)

    @property
    def is_multilingual(self) -> bool:
        return self.hparams.n_vocab >= 51865


@dataclass(frozen=True)
class TensorSpec:
    """One tensor whisper.cpp's loader requires."""

    name: str
    ne: tuple[int, ...]  # ggml order, exactly as written to the file
    ttype: int
    init: str  # "normal" | "ones" | "zeros": how write_random_model fills it

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.ne))

    @property
    def nbytes(self) -> int:
        _, block, size = GGML_TYPES[self.ttype]
        return self.n_elements // block * size


# Real whisper shapes (openai/whisper ModelDimensions) by size name.
# name -> (state, heads, layers); all sizes: n_audio_ctx 1500, n_text_ctx 448, n_mels 80.
MODEL_SIZES: dict[str, tuple[int, int, int]] = {
    "tiny": (384, 6, 4),
    "base": (512, 8, 6),
    "small": (768, 12, 12),
    "medium": (1024, 16, 24),
    "large": (1280, 20, 32),
}


# ---------------------------------------------------------------------------
# Reading


def _tensor_nbytes(name: str, ne: Sequence[int], ttype: int) -> int:
    if ttype not in GGML_TYPES:
        raise GgmlFormatError(f"tensor {name!r} has unknown ggml type {ttype}")
    _, block, size = GGML_TYPES[ttype]
    n = int(np.prod(ne, dtype=np.int64))
    if n % block:
        raise GgmlFormatError(f"tensor {name!r}: {n} elements is not a multiple of block size {block}")
    return n // block * size


class _Reader:
    """Sequential reader that turns short reads into GgmlFormatError."""

    def __init__(self, f: BinaryIO, path: Path, size: int) -> None:
        self.f, self.path, self.size = f, path, size

    def read(self, n: int, what: str) -> bytes:
        pos = self.f.tell()
        b = self.f.read(n)
        if len(b) != n:
            raise GgmlFormatError(
                f"{self.path.name}: file is truncated (needed {n} bytes for {what} at offset {pos}, "
                f"file is {self.size} bytes)"
            )
        return b

    def i32s(self, count: int, what: str) -> tuple[int, ...]:
        return struct.unpack(f"<{count}i", self.read(4 * count, what))


def read_header(path: str | os.PathLike[str], *, scan_tensors: bool = True) -> GgmlHeader:
    """Parse a whisper.cpp ggml model file; raise GgmlFormatError if it is not one.

    With scan_tensors, every tensor header is also read (data is skipped by
    seeking) and the section is checked for truncation.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        f = p.open("rb")
    except OSError as e:
        raise GgmlFormatError(f"cannot open model file {p}: {e.strerror or e}") from e
    with f:
        r = _Reader(f, p, size)
        head = f.read(4)
        if head == GGUF_MAGIC:
            raise GgmlFormatError(
                f"{p.name}: this is a GGUF file (e.g. a llama.cpp model), not a whisper.cpp ggml model"
            )
        if len(head) < 4:
            raise GgmlFormatError(f"{p.name}: not a whisper.cpp ggml model (file is only {size} bytes)")
        (magic,) = struct.unpack("<I", head)
        if magic != GGML_MAGIC:
            raise GgmlFormatError(
                f"{p.name}: not a whisper.cpp ggml model (bad magic 0x{magic:08x}, expected 0x{GGML_MAGIC:08x})"
            )

        hp = HParams(*r.i32s(11, "hyper-parameters"))
        if any(v <= 0 or v > _MAX_DIM for v in hp.as_tuple()[:10]):
            raise GgmlFormatError(f"{p.name}: implausible hyper-parameters {hp}")
        if hp.weight_ftype not in FTYPE_WEIGHT_TYPE:
            raise GgmlFormatError(f"{p.name}: unknown ftype {hp.ftype}")

        n_mel, n_fft = r.i32s(2, "mel filter size")
        if not (0 < n_mel <= 1024 and 0 < n_fft <= 16384):
            raise GgmlFormatError(f"{p.name}: implausible mel filter size {n_mel}x{n_fft}")
        mel_data = np.frombuffer(r.read(4 * n_mel * n_fft, "mel filters"), dtype="<f4")
        mel = MelFilters(n_mel, n_fft, mel_data.astype(np.float32).reshape(n_mel, n_fft))

        (n_tokens,) = r.i32s(1, "vocab size")
        if not (0 <= n_tokens <= _MAX_DIM):
            raise GgmlFormatError(f"{p.name}: implausible vocab size {n_tokens}")
        vocab: list[bytes] = []
        for i in range(n_tokens):
            (ln,) = struct.unpack("<I", r.read(4, f"vocab token {i}"))
            if ln > _MAX_TOKEN_LEN:
                raise GgmlFormatError(f"{p.name}: vocab token {i} has implausible length {ln}")
            vocab.append(r.read(ln, f"vocab token {i}") if ln else b"")
        tensor_offset = f.tell()

        tensors = list(_scan_tensors(r, size)) if scan_tensors else []

    return GgmlHeader(p, hp, mel, vocab, tensor_offset, tensors, size)


def _scan_tensors(r: _Reader, size: int) -> Iterator[TensorInfo]:
    while True:
        start = r.f.tell()
        if start == size:
            return
        n_dims, name_len, ttype = r.i32s(3, "tensor header")
        if not (1 <= n_dims <= 4 and 0 < name_len <= _MAX_NAME_LEN):
            raise GgmlFormatError(f"{r.path.name}: corrupt tensor header at offset {start}")
        ne = r.i32s(n_dims, "tensor shape")
        name = r.read(name_len, "tensor name").decode("utf-8", "replace")
        if any(d <= 0 for d in ne):
            raise GgmlFormatError(f"{r.path.name}: tensor {name!r} has invalid shape {ne}")
        nbytes = _tensor_nbytes(name, ne, ttype)
        data_offset = r.f.tell()
        if data_offset + nbytes > size:
            raise GgmlFormatError(
                f"{r.path.name}: file is truncated inside tensor {name!r} "
                f"(needs {data_offset + nbytes} bytes, file is {size})"
            )
        r.f.seek(nbytes, os.SEEK_CUR)
        yield TensorInfo(name, tuple(ne), ttype, data_offset, nbytes)


def model_kind(header: GgmlHeader | HParams) -> str:
    """Name the model size from its shapes: 'tiny', 'base.en', 'large-v3', ... or 'unknown'."""
    hp = header.hparams if isinstance(header, GgmlHeader) else header
    name = next(
        (
            k
            for k, (state, head, layers) in MODEL_SIZES.items()
            if (hp.n_audio_state, hp.n_audio_head, hp.n_audio_layer) == (state, head, layers)
        ),
        None,
    )
    if name is None:
        return "unknown"
    if name == "large" and hp.n_vocab == 51866:  # v3 adds a language token and 128 mels
        name = "large-v3-turbo" if hp.n_text_layer == 4 else "large-v3"
    if hp.n_vocab == 51864:
        name += ".en"
    return name


def problems(h: GgmlHeader) -> list[str]:
    """Reasons whisper.cpp (1.8.x) would refuse or crash on this file; empty if it looks usable."""
    out: list[str] = []
    if not h.tensors:
        return ["contains no weights (a header-only test file); whisper.cpp would load it as an empty model"]
    # names and shapes do not depend on ftype (types are not checked: quantised files vary)
    expected = {s.name: s for s in tensor_specs(h.hparams, ftype=1)}
    names = {t.name for t in h.tensors}
    missing = sorted(set(expected) - names)
    unknown = sorted(names - set(expected))
    if missing:
        out.append(f"{len(missing)} tensors missing (e.g. {missing[0]})")
    if unknown:
        out.append(f"{len(unknown)} unknown tensors (e.g. {unknown[0]})")
    out += [
        f"tensor {t.name} has shape {t.ne}, expected {expected[t.name].ne}"
        for t in h.tensors
        if t.name in expected and expected[t.name].ne != t.ne
    ]
    conv = next((t for t in h.tensors if t.name == "encoder.conv1.weight"), None)
    if conv is not None and conv.ttype == TYPE_F32:
        # ggml's CPU im2col requires f16 kernels; whisper.cpp aborts the process (whisper.cpp#2557)
        out.append("f32 conv kernels: whisper.cpp's CPU backend aborts on this model (use an f16 model)")
    return out


def format_header(h: GgmlHeader) -> str:
    """Human-readable summary (used by the `info` command)."""
    hp = h.hparams
    lines = [f"file:          {h.path} ({h.file_size:,} bytes)", f"kind:          {model_kind(h)}"]
    lines += [f"{f.name + ':':<15}{getattr(hp, f.name)}" for f in fields(hp)]
    lines += [
        f"mel filters:   {h.mel.n_mel} x {h.mel.n_fft}",
        f"vocab:         {len(h.vocab)} tokens",
        f"tensor offset: {h.tensor_offset}",
        f"tensors:       {h.n_tensors} ({h.tensor_bytes:,} bytes of data)",
    ]
    if h.tensors:
        counts: dict[str, int] = {}
        for t in h.tensors:
            tname = GGML_TYPES[t.ttype][0]
            counts[tname] = counts.get(tname, 0) + 1
        lines.append("tensor types:  " + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())))
    lines += [f"WARNING: {msg}" for msg in problems(h)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Tensor list (mirrors whisper_model_load in whisper.cpp src/whisper.cpp)


def tensor_specs(hp: HParams, ftype: int | None = None) -> list[TensorSpec]:
    """Every tensor whisper.cpp creates for these hparams, in ggml dim order.

    ftype 1: matrices and conv kernels f16; ftype 0: everything f32; a quantised
    ftype (q8_0, q5_0, ...): matrices of that type, conv kernels f16. Biases,
    layer norms, positional embeddings and the conv biases (shape [1, n_state])
    are always f32, as the loader declares them.
    """
    ft = hp.weight_ftype if ftype is None else ftype
    if ft not in FTYPE_WEIGHT_TYPE:
        raise ValueError(f"unknown ggml ftype {ft}")
    wt = FTYPE_WEIGHT_TYPE[ft]  # matrices (whisper.cpp's wtype)
    vt = TYPE_F32 if ft == 0 else TYPE_F16  # conv kernels (its vtype)
    f32 = TYPE_F32
    specs: list[TensorSpec] = []

    def add(name: str, ne: tuple[int, ...], ttype: int, init: str = "normal") -> None:
        specs.append(TensorSpec(name, ne, ttype, init))

    def block(base: str, n: int, attn: str = "attn", mlp: bool = True) -> None:
        # one residual block: optional MLP + one attention; key projection has no bias
        if mlp:
            add(f"{base}.mlp_ln.weight", (n,), f32, "ones")
            add(f"{base}.mlp_ln.bias", (n,), f32, "zeros")
            add(f"{base}.mlp.0.weight", (n, 4 * n), wt)
            add(f"{base}.mlp.0.bias", (4 * n,), f32)
            add(f"{base}.mlp.2.weight", (4 * n, n), wt)
            add(f"{base}.mlp.2.bias", (n,), f32)
        add(f"{base}.{attn}_ln.weight", (n,), f32, "ones")
        add(f"{base}.{attn}_ln.bias", (n,), f32, "zeros")
        add(f"{base}.{attn}.query.weight", (n, n), wt)
        add(f"{base}.{attn}.query.bias", (n,), f32)
        add(f"{base}.{attn}.key.weight", (n, n), wt)
        add(f"{base}.{attn}.value.weight", (n, n), wt)
        add(f"{base}.{attn}.value.bias", (n,), f32)
        add(f"{base}.{attn}.out.weight", (n, n), wt)
        add(f"{base}.{attn}.out.bias", (n,), f32)

    na = hp.n_audio_state
    add("encoder.positional_embedding", (na, hp.n_audio_ctx), f32)
    add("encoder.conv1.weight", (3, hp.n_mels, na), vt)
    add("encoder.conv1.bias", (1, na), f32)
    add("encoder.conv2.weight", (3, na, na), vt)
    add("encoder.conv2.bias", (1, na), f32)
    for i in range(hp.n_audio_layer):
        block(f"encoder.blocks.{i}", na)
    add("encoder.ln_post.weight", (na,), f32, "ones")
    add("encoder.ln_post.bias", (na,), f32, "zeros")

    nt = hp.n_text_state
    add("decoder.positional_embedding", (nt, hp.n_text_ctx), f32)
    add("decoder.token_embedding.weight", (nt, hp.n_vocab), wt)
    for i in range(hp.n_text_layer):
        block(f"decoder.blocks.{i}", nt)
        block(f"decoder.blocks.{i}", nt, attn="cross_attn", mlp=False)
    add("decoder.ln.weight", (nt,), f32, "ones")
    add("decoder.ln.bias", (nt,), f32, "zeros")
    return specs


# ---------------------------------------------------------------------------
# Writing


def hparams_for(kind: str, n_vocab: int, ftype: int = 1) -> HParams:
    """Real whisper hparams for a size name ('tiny', 'base', 'small', ...; '.en' suffix ignored)."""
    size = kind.removesuffix(".en")
    if size not in MODEL_SIZES:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_SIZES)}")
    state, heads, layers = MODEL_SIZES[size]
    return HParams(n_vocab, 1500, state, heads, layers, 448, state, heads, layers, 80, ftype)


def write_i32(f: SupportsWrite[bytes], *vals: int) -> None:
    f.write(struct.pack(f"<{len(vals)}i", *vals))


def write_header(f: SupportsWrite[bytes], hp: HParams, mel: MelFilters, vocab: Sequence[bytes]) -> None:
    """Write magic, hparams, mel filters and vocab (everything before the tensors)."""
    f.write(struct.pack("<I", GGML_MAGIC))
    write_i32(f, *hp.as_tuple())
    write_i32(f, mel.n_mel, mel.n_fft)
    f.write(np.ascontiguousarray(mel.data, dtype="<f4").tobytes())
    write_i32(f, len(vocab))
    for tok in vocab:
        f.write(struct.pack("<I", len(tok)))
        f.write(tok)


# ---------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m pipeline.models.ggml_file",
        description="Print a whisper.cpp ggml model file's header summary (random models: python -m bench.random_ggml).",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    info = sub.add_parser("info", help="print a model file's header summary")
    info.add_argument("file", type=Path)
    args = ap.parse_args(argv)
    try:
        print(format_header(read_header(args.file)))
    except (GgmlFormatError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
