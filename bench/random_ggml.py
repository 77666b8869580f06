"""Random-weight whisper.cpp models for speed benchmarks and tests: the real shapes, random weights.

Inference speed does not depend on weight values, so a model with tiny/base shapes and random weights
times whisper.cpp like the real one; words never come from these (those tests use the trained tiny.en).
Not product code: Hark reads and writes ggml files in pipeline.models, and only this module invents
weights. `python -m bench.random_ggml --like for-tests-ggml-tiny.en.bin --kind tiny --out model.bin`
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from pipeline.models.ggml_file import (
    MODEL_SIZES,
    TYPE_F16,
    GgmlFormatError,
    TensorSpec,
    hparams_for,
    model_kind,
    read_header,
    tensor_specs,
    write_header,
    write_i32,
)


def _write_tensor(f: BinaryIO, spec: TensorSpec, rng: np.random.Generator, scale: float, chunk: int = 1 << 20) -> None:
    name = spec.name.encode()
    write_i32(f, len(spec.ne), len(name), spec.ttype, *spec.ne)
    f.write(name)
    dtype = np.dtype("<f2") if spec.ttype == TYPE_F16 else np.dtype("<f4")
    left = spec.n_elements
    while left:  # stream in chunks so big embeddings never sit fully in memory
        n = min(left, chunk)
        if spec.init == "normal":
            arr = rng.standard_normal(n, dtype=np.float32) * np.float32(scale)
        else:
            arr = np.full(n, 1.0 if spec.init == "ones" else 0.0, dtype=np.float32)
        f.write(arr.astype(dtype).tobytes())
        left -= n


def write_random_model(
    template_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    kind: str | None = None,
    seed: int = 0,
    ftype: int = 1,
    scale: float = 0.02,
) -> Path:
    """Write a complete whisper.cpp model with random weights.

    Header, mel filters and vocab come from template_path (any whisper ggml
    file, e.g. for-tests-ggml-tiny.en.bin); kind overrides the shapes with a
    real size ('tiny', 'base', 'small', ...). The file is written streaming to
    a temporary name and renamed into place.
    """
    tmpl = read_header(template_path, scan_tensors=False)
    if ftype not in (0, 1):
        raise ValueError(f"ftype must be 0 (f32) or 1 (f16), not {ftype}")
    hp = hparams_for(kind, tmpl.hparams.n_vocab, ftype) if kind else replace(tmpl.hparams, ftype=ftype)
    if hp.n_mels != tmpl.mel.n_mel:
        raise ValueError(f"template has {tmpl.mel.n_mel} mel filters but the model needs {hp.n_mels}")
    specs = tensor_specs(hp)
    rng = np.random.default_rng(seed)

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("wb", buffering=1 << 20) as f:
            write_header(f, hp, tmpl.mel, tmpl.vocab)
            for spec in specs:
                _write_tensor(f, spec, rng, scale)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.random_ggml",
        description="Write a random-weight whisper.cpp model from a template header.",
    )
    ap.add_argument("--like", required=True, type=Path, help="template ggml file (header/mel/vocab)")
    ap.add_argument("--kind", choices=sorted(MODEL_SIZES), help="override shapes with a real size")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--ftype",
        type=int,
        choices=(0, 1),
        default=1,
        help="1 = f16 weights (default); 0 = all f32 (valid file, but whisper.cpp 1.8 CPU aborts on it)",
    )
    args = ap.parse_args(argv)
    try:
        out = write_random_model(args.like, args.out, kind=args.kind, seed=args.seed, ftype=args.ftype)
    except (GgmlFormatError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    h = read_header(out)
    print(f"wrote {out} ({model_kind(h)}, {h.n_tensors} tensors, {h.file_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
