"""Import a whisper model a user already has into the model store, as a ggml file whisper.cpp loads.

Accepted: a CTranslate2 / faster-whisper folder (float16, float32 or bfloat16;
also a Hugging Face cache folder holding one), a whisper.cpp ggml ``.bin``,
and an OpenAI ``.pt`` checkpoint (read without PyTorch). The model is written
streaming, tensor by tensor, to a temporary file in the store, checked as
whisper.cpp will check it, and renamed into place only when complete: an
error, a cancel or Ctrl+C leaves nothing behind. Optional q8_0 / q5_0
quantisation. The store keeps a record of what was imported from where.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import errno
import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from audio.errors import Cancelled, HarkError, MediaError
from pipeline.atomic_write import FILE_MODE, OutputError
from pipeline.models.catalog import CATALOG
from pipeline.models.ggml_file import (
    FTYPE_WEIGHT_TYPE,
    GGML_TYPES,
    GgmlFormatError,
    GgmlHeader,
    HParams,
    model_kind,
    problems,
    read_header,
)
from pipeline.models.ggml_writer import FTYPES, ModelSource, ModelSourceError, ProgressFn, output_size, plan, write_ggml
from pipeline.models.imported import FOLDER, NAME_RE, ImportedModel, find_imported, list_imported, write_record
from pipeline.models.store import sha256_file

QUANTIZE_CHOICES = ("q8_0", "q5_0")
_STALE_PART_SECONDS = 600
_RESERVED = {m.name for m in CATALOG} | {"diarization"}
_GENERIC_FOLDERS = {"model", "models", "snapshots", "main", "ct2", "ctranslate2", "checkpoint", "weights"}


class ImportNameError(HarkError):
    """The name chosen for an imported model cannot be used (taken, reserved or malformed)."""


@dataclass(frozen=True)
class ImportResult:
    model: ImportedModel
    path: Path
    reused: bool  # the same source was imported before under this name: nothing was written


@dataclass(frozen=True)
class Located:
    """What a path given by the user turned out to be."""

    main_file: Path  # the file whose bytes identify the source (model.bin, the .bin, the .pt)
    folder: Path | None  # the CTranslate2 folder, if it is one


def locate(path: str | os.PathLike[str]) -> Located:
    p = Path(path).expanduser()
    if not p.exists():
        raise MediaError(p, "no such file or folder")
    p = p.resolve()
    if p.is_dir():
        if (p / "model.bin").is_file():
            return Located(p / "model.bin", p)
        snaps = sorted(s for s in (p / "snapshots").glob("*") if (s / "model.bin").is_file())
        if len(snaps) == 1:  # a Hugging Face cache folder (models--Systran--faster-whisper-small)
            return Located(snaps[0] / "model.bin", snaps[0])
        raise ModelSourceError(
            f"{p} is not a model folder: a CTranslate2 / faster-whisper model has model.bin, "
            "config.json and vocabulary.txt in it (or pick a ggml .bin or OpenAI .pt file)"
        )
    if p.name == "model.bin" and not _has_magic(p, b"lmgg"):
        return Located(p, p.parent)  # the model.bin of a CTranslate2 folder, picked as a file
    return Located(p, None)


def _has_magic(p: Path, magic: bytes) -> bool:
    try:
        with p.open("rb") as f:
            return f.read(len(magic)) == magic
    except OSError:
        return False


def load_source(where: Located, root: Path | None = None) -> ModelSource:
    """The model at `where`; `root` (the store) may lend an OpenAI checkpoint its vocabulary."""
    if where.folder is not None:
        from pipeline.models.ct2_whisper import load_ct2_whisper

        return load_ct2_whisper(where.folder)
    p = where.main_file
    if _has_magic(p, b"lmgg"):
        from pipeline.models.ggml_source import load_ggml

        return load_ggml(p)
    if _has_magic(p, b"PK\x03\x04"):
        from pipeline.models.torch_checkpoint import load_openai_checkpoint

        return load_openai_checkpoint(p, lambda n_vocab: find_vocabulary(n_vocab, root))
    if _has_magic(p, b"GGUF"):
        raise ModelSourceError(f"{p.name} is a GGUF file (e.g. a llama.cpp model), not a whisper model")
    raise ModelSourceError(
        f"{p.name} is not a whisper model Hark can import: expected a CTranslate2 / "
        "faster-whisper folder, a whisper.cpp ggml .bin or an OpenAI .pt checkpoint"
    )


def find_vocabulary(n_vocab: int, root: Path | None) -> list[bytes] | None:
    """Whisper's text tokens for a model of `n_vocab`, from wherever this machine has them: the
    openai-whisper package's assets, a ggml model in the store with the same vocabulary, or (English)
    the built-in model's vocabulary."""
    import base64
    import importlib.util

    english = n_vocab == 51864
    spec = importlib.util.find_spec("whisper")
    if spec is not None and spec.origin:
        asset = Path(spec.origin).parent / "assets" / ("gpt2.tiktoken" if english else "multilingual.tiktoken")
        if asset.is_file():
            lines = [ln.split() for ln in asset.read_text(encoding="ascii").splitlines() if ln.strip()]
            return [base64.b64decode(tok) for tok, _rank in sorted(lines, key=lambda x: int(x[1]))]
    if root is not None:
        from pipeline.models.store import ModelStore

        for path in ModelStore(root).whisper_files():
            try:
                h = read_header(path, scan_tensors=False)
            except GgmlFormatError:
                continue
            if (h.hparams.n_vocab == 51864) == english:  # multilingual sizes share their text tokens
                return h.vocab
    if english:
        from pipeline.models.bundled_wheel import bundled_folder
        from pipeline.models.ct2_whisper import read_vocabulary, token_bytes

        folder = bundled_folder()
        if folder is not None:
            return token_bytes(read_vocabulary(folder))
    return None


def _identity(p: Path) -> dict[str, object]:
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def default_name(where: Located, source: ModelSource, ftype: str) -> str:
    kind = model_kind(source.hparams)
    base = where.folder if where.folder is not None else where.main_file
    candidates = [base.stem if base.is_file() else base.name]
    candidates += [a.name.split("--")[-1] for a in base.parents if a.name.startswith("models--")]
    name = next(
        (c for c in candidates if c.lower() not in _GENERIC_FOLDERS and not re.fullmatch(r"[0-9a-f]{40}", c)), kind
    )
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:56] or kind
    if name.startswith("ggml-"):
        name = name[5:]
    if source.format != "ggml" and ftype != "f16" and ftype not in name:  # a ggml file's name says it already
        name = f"{name}-{ftype}"
    if name in _RESERVED:
        name = f"{name}-imported"
    return name


def check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise ImportNameError(f"model name {name!r} is not allowed: use up to 64 letters, digits, '.', '_' or '-'")
    if name in _RESERVED:
        raise ImportNameError(f"{name!r} is the name of a downloadable model; choose another --name")


def _clean_stale_parts(folder: Path) -> None:
    now = time.time()
    for part in folder.glob(".*.part"):
        try:
            if now - part.stat().st_mtime > _STALE_PART_SECONDS:  # a live import keeps touching its file
                part.unlink()
        except OSError:
            pass


def import_model(
    path: str | os.PathLike[str],
    root: Path,
    *,
    name: str | None = None,
    quantize: str | None = None,
    origin: str = "",
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Import the model at `path` into the store at `root`. Errors: MediaError (no such path),
    ModelSourceError (not a usable model), ImportNameError, OutputError (cannot write, disk full),
    Cancelled."""
    if quantize is not None and quantize not in FTYPES:
        raise ValueError(f"unknown quantisation {quantize!r}")
    where = locate(path)
    source = load_source(where, root)
    if source.format == "ggml":  # copied byte for byte unless it is to be re-typed
        own = ftype_label(source.hparams)
        copy = quantize in (None, own)
        if not copy and own not in ("f16", "f32"):
            raise ModelSourceError(f"{where.main_file.name} is already quantised ({own}): quantise the f16 model")
        ftype_name = own if copy else str(quantize)
    else:
        copy, ftype_name = False, quantize or "f16"
    explicit = name is not None
    name = name if name is not None else default_name(where, source, ftype_name)
    check_name(name)
    ident = _identity(where.main_file)

    def same_source(m: ImportedModel) -> bool:
        return {k: m.source.get(k) for k in ident} == ident and m.ftype == ftype_name

    if not explicit:  # the same file imported before under a default name: nothing to do
        for m in list_imported(root):
            if same_source(m):
                return ImportResult(m, m.path(root), reused=True)
        base, n = name, 2
        while find_imported(root, name) is not None or (root / FOLDER / f"{name}.json").exists():
            name, n = f"{base}-{n}", n + 1
    existing = find_imported(root, name)
    if existing is not None:
        if same_source(existing):
            return ImportResult(existing, existing.path(root), reused=True)
        raise ImportNameError(
            f"a model named {name!r} is already imported ({existing.description}); choose "
            f"another --name, or remove it first: hark models remove {name}"
        )

    if copy:
        ftype_value = source.hparams.weight_ftype
        expected = where.main_file.stat().st_size
    else:
        ftype_value = FTYPES[ftype_name]
        expected = output_size(source, plan(source, ftype_value))
    folder = root / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _clean_stale_parts(folder)
        free = shutil.disk_usage(folder).free
    except OSError as e:
        raise OutputError(f"cannot write into {folder}: {e.strerror or e}") from e
    if free < expected + (1 << 20):
        raise OutputError(
            f"not enough disk space in {folder}: the model needs {expected / 2**20:.0f} MiB, "
            f"{free / 2**20:.0f} MiB are free"
        )

    final = folder / f"{name}.bin"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, FILE_MODE)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as pool:
            source_sha = pool.submit(sha256_file, where.main_file, cancel=cancel)
            with os.fdopen(fd, "wb", buffering=1 << 20) as f:
                if copy:
                    sha = _copy(where.main_file, f, expected, progress, cancel)
                else:
                    sha = write_ggml(source, f, ftype_value, progress=progress, cancel=cancel)
                f.flush()
                os.fsync(f.fileno())
            src_sha = source_sha.result()
        header = _verify(tmp, expected)
        record = ImportedModel(
            name=name,
            file=final.name,
            kind=model_kind(header),
            ftype=ftype_name,
            size=expected,
            sha256=src_sha if copy else sha,
            multilingual=header.is_multilingual,
            source={**ident, "format": source.format, "dtype": source.dtype, "sha256": src_sha, **source.notes},
            origin=origin,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            hark_version=_hark_version(),
        )
        write_record(root, record)
        os.replace(tmp, final)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if e.errno == errno.ENOSPC:
            raise OutputError(f"disk full while writing the model into {folder}; nothing was kept") from e
        raise OutputError(f"cannot write the model into {folder}: {e.strerror or e}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ImportResult(record, final, reused=False)


def _copy(src: Path, f: BinaryIO, size: int, progress: ProgressFn | None, cancel: threading.Event | None) -> str:
    h = hashlib.sha256()
    done = 0
    with src.open("rb") as inp:
        while block := inp.read(4 << 20):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            f.write(block)
            h.update(block)
            done += len(block)
            if progress is not None:
                progress(done, size)
    if done != size:
        raise ModelSourceError(f"{src.name} changed while it was being copied")
    return h.hexdigest()


def _verify(path: Path, expected: int) -> GgmlHeader:
    """Read the written file back as whisper.cpp will: a failure here is a bug, never kept."""
    try:
        header = read_header(path)
    except GgmlFormatError as e:
        raise ModelSourceError(f"the converted model does not read back: {e}") from e
    found = problems(header)
    if found or header.file_size != expected:
        raise ModelSourceError(f"the converted model is not usable: {found[0] if found else 'wrong size'}")
    return header


def ftype_label(hp: HParams) -> str:
    """'f16', 'q8_0', 'q5_1', ...: the type of the model's weight matrices."""
    return GGML_TYPES[FTYPE_WEIGHT_TYPE[hp.weight_ftype]][0]


def _hark_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("hark")
    except importlib.metadata.PackageNotFoundError:
        return "dev"
