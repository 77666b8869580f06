"""An OpenAI whisper ``.pt`` checkpoint as a ``ModelSource``, read without PyTorch.

A checkpoint is PyTorch's zip format: ``data.pkl`` (a pickle of
``{"dims": {...}, "model_state_dict": {name: tensor}}``) and one raw file per
storage under ``data/``. The pickle is read by an unpickler that knows only
the few callables a tensor dictionary needs and refuses everything else, so
a hostile file cannot run code; tensors stay on disk until they are streamed.

OpenAI's tensor names are whisper.cpp's. A checkpoint has no vocabulary (the
``whisper`` package keeps it in its assets): the caller supplies it.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.models.ggml_file import HParams, MelFilters
from pipeline.models.ggml_writer import ModelSource, ModelSourceError, SourceTensor
from pipeline.models.mel_filters import mel_filters

VocabProvider = Callable[[int], "list[bytes] | None"]  # n_vocab -> the text tokens, or None

_STORAGES = {
    "HalfStorage": ("<f2", "float16"),
    "FloatStorage": ("<f4", "float32"),
    "BFloat16Storage": ("<u2", "bfloat16"),
    "DoubleStorage": ("<f8", "float64"),
    "LongStorage": ("<i8", "int64"),
    "IntStorage": ("<i4", "int32"),
    "ShortStorage": ("<i2", "int16"),
    "CharStorage": ("i1", "int8"),
    "ByteStorage": ("u1", "uint8"),
    "BoolStorage": ("?", "bool"),
}
_DIMS = (
    "n_mels",
    "n_vocab",
    "n_audio_ctx",
    "n_audio_state",
    "n_audio_head",
    "n_audio_layer",
    "n_text_ctx",
    "n_text_state",
    "n_text_head",
    "n_text_layer",
)


@dataclass(frozen=True)
class _StorageType:
    numpy: str
    name: str


@dataclass(frozen=True)
class _Storage:
    key: str
    kind: _StorageType


@dataclass(frozen=True)
class LazyTensor:
    storage: _Storage
    offset: int  # in elements
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1


def _rebuild_tensor_v2(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: object
) -> LazyTensor:
    shape = tuple(int(s) for s in size)
    step = 1
    for dim, st in reversed(list(zip(shape, stride))):
        if dim > 1 and st != step:  # a size-1 dimension's stride never matters
            raise ModelSourceError("the checkpoint holds a non-contiguous tensor; save it with .contiguous() first")
        step *= dim
    return LazyTensor(storage, int(offset), shape)


def _rebuild_parameter(data: LazyTensor, *_: object) -> LazyTensor:
    return data


class _SafeUnpickler(pickle.Unpickler):
    """Builds dictionaries of lazy tensors; any other callable in the pickle is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) in (("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")):
            return _rebuild_tensor_v2
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in _STORAGES:
            return _StorageType(*_STORAGES[name])
        raise ModelSourceError(
            f"the checkpoint contains {module}.{name}, which a whisper checkpoint never does: "
            "refused (it could run code)"
        )

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise ModelSourceError("the checkpoint has a storage reference Hark does not understand")
        return _Storage(str(pid[2]), pid[1])


class _Archive:
    """Reads ranges of the stored (uncompressed) members straight from the zip file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with zipfile.ZipFile(path) as z:
                self.infos = {i.filename: i for i in z.infolist()}
        except (zipfile.BadZipFile, OSError) as e:
            raise ModelSourceError(f"{path.name} is not a readable checkpoint: {e}") from e
        pkl = [n for n in self.infos if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise ModelSourceError(f"{path.name} is a zip file but not a PyTorch checkpoint (no data.pkl)")
        self.pkl = pkl[0]
        self.prefix = self.pkl[: -len("data.pkl")]
        self._offsets: dict[str, int] = {}

    def read_pickle(self) -> Any:
        info = self.infos[self.pkl]
        if info.file_size > 64 << 20:
            raise ModelSourceError(f"{self.path.name}: data.pkl is implausibly large ({info.file_size} bytes)")
        with zipfile.ZipFile(self.path) as z:
            raw = z.read(self.pkl)
        try:
            return _SafeUnpickler(__import__("io").BytesIO(raw)).load()
        except ModelSourceError:
            raise
        except Exception as e:  # a corrupt pickle: any of pickle's many error types
            raise ModelSourceError(f"{self.path.name}: cannot read the checkpoint ({type(e).__name__}: {e})") from e

    def member(self, key: str) -> zipfile.ZipInfo:
        info = self.infos.get(f"{self.prefix}data/{key}")
        if info is None:
            raise ModelSourceError(f"{self.path.name} lacks the data of storage {key}: the file is incomplete")
        return info

    def read(self, key: str, start: int, count: int) -> bytes:
        info = self.member(key)
        if start + count > info.file_size:
            raise ModelSourceError(f"{self.path.name}: storage {key} is shorter than its tensors need")
        if info.compress_type != zipfile.ZIP_STORED:
            with zipfile.ZipFile(self.path) as z, z.open(info) as f:
                f.seek(start)
                return f.read(count)
        if key not in self._offsets:
            with self.path.open("rb") as f:
                f.seek(info.header_offset)
                local = f.read(30)
                if len(local) < 30 or local[:4] != b"PK\x03\x04":
                    raise ModelSourceError(f"{self.path.name} is corrupt (bad zip entry for storage {key})")
                name_len, extra_len = struct.unpack("<HH", local[26:30])
                self._offsets[key] = info.header_offset + 30 + name_len + extra_len
        with self.path.open("rb") as f:
            f.seek(self._offsets[key] + start)
            data = f.read(count)
        if len(data) != count:
            raise ModelSourceError(f"{self.path.name} is truncated inside storage {key}")
        return data


def _values(archive: _Archive, t: LazyTensor) -> Callable[[int, int], np.ndarray]:
    dtype = np.dtype(t.storage.kind.numpy)

    def read(start: int, count: int) -> np.ndarray:
        raw = archive.read(t.storage.key, (t.offset + start) * dtype.itemsize, count * dtype.itemsize)
        arr = np.frombuffer(raw, dtype=dtype)
        if t.storage.kind.name == "bfloat16":
            return (arr.astype(np.uint32) << 16).view(np.float32)
        return arr.astype(np.float32)

    return read


def load_openai_checkpoint(path: Path, vocab: VocabProvider) -> ModelSource:
    archive = _Archive(path)
    ckpt = archive.read_pickle()
    if (
        not isinstance(ckpt, dict)
        or not isinstance(ckpt.get("dims"), dict)
        or not isinstance(ckpt.get("model_state_dict"), dict)
    ):
        raise ModelSourceError(
            f"{path.name} is a PyTorch file but not an OpenAI whisper checkpoint "
            "(it needs 'dims' and 'model_state_dict')"
        )
    dims = ckpt["dims"]
    try:
        values = {k: int(dims[k]) for k in _DIMS}
    except (KeyError, TypeError, ValueError):
        raise ModelSourceError(f"{path.name}: the checkpoint's dims are incomplete") from None
    if any(not 0 < v < (1 << 20) for v in values.values()):
        raise ModelSourceError(f"{path.name}: implausible dims {values}")
    state = ckpt["model_state_dict"]
    if not all(isinstance(t, LazyTensor) for t in state.values()):
        raise ModelSourceError(f"{path.name}: the state dict holds something other than tensors")
    floats = {t.storage.kind.name for t in state.values()}
    if not floats <= {"float16", "float32", "bfloat16"}:
        raise ModelSourceError(
            f"{path.name} holds {', '.join(sorted(floats))} tensors: only float checkpoints can be converted"
        )
    hp = HParams(
        n_vocab=values["n_vocab"],
        n_audio_ctx=values["n_audio_ctx"],
        n_audio_state=values["n_audio_state"],
        n_audio_head=values["n_audio_head"],
        n_audio_layer=values["n_audio_layer"],
        n_text_ctx=values["n_text_ctx"],
        n_text_state=values["n_text_state"],
        n_text_head=values["n_text_head"],
        n_text_layer=values["n_text_layer"],
        n_mels=values["n_mels"],
        ftype=1,
    )
    tokens = vocab(hp.n_vocab)
    if tokens is None:
        kind = "English" if hp.n_vocab == 51864 else "multilingual"
        raise ModelSourceError(
            f"an OpenAI checkpoint carries no vocabulary, and none for a {kind} model was found: install the "
            f"openai-whisper package, or download or import any {kind} model first (e.g. hark models download "
            f"{'tiny.en' if kind == 'English' else 'tiny'})"
        )
    tensors: dict[str, SourceTensor] = {}
    for name, t in state.items():
        if name == "alignment_heads":
            continue  # whisper.cpp has its own presets
        ne = t.shape[::-1]
        if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
            ne = (1, *ne)
        tensors[name] = SourceTensor(name, tuple(ne), _values(archive, t))
        if t.offset + t.size > archive.member(t.storage.key).file_size // np.dtype(t.storage.kind.numpy).itemsize:
            raise ModelSourceError(f"{path.name} is truncated: tensor {name} runs past its data")
    bank = mel_filters(hp.n_mels)
    dtype = (
        state["decoder.token_embedding.weight"].storage.kind.name
        if "decoder.token_embedding.weight" in state
        else "float16"
    )
    return ModelSource(
        format="openai-checkpoint",
        hparams=hp,
        mel=MelFilters(hp.n_mels, bank.shape[1], bank),
        vocab=tokens,
        tensors=tensors,
        dtype=dtype,
    )
