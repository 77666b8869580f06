"""Where models live on disk, and how they get there.

Models are cached in the user data dir (HARK_MODELS_DIR overrides it).
Downloads resume after an interruption (HTTP Range), are verified against the
catalog's sha256, and appear under their final name only when complete
(atomic rename), so a half-written model is never loaded. Models the user
imported (``pipeline.models.model_import``) live in ``imported/`` and are
found by their names like catalog models.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.error
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from audio.errors import Cancelled
from pipeline.errors import ModelError
from pipeline.http_fetch import BLOCK as _BLOCK
from pipeline.http_fetch import DownloadProgress, fetch_with_retries
from pipeline.models.catalog import CATALOG, KIND_VAD, KIND_WHISPER, CatalogModel
from pipeline.models.imported import ImportedModel, find_imported, list_imported, remove_imported

# Used when no model is named: the first of these that is installed. An imported model ranks by its
# kind (an imported small.en as small.en), after a downloaded model of the same kind.
DEFAULT_PREFERENCE = (
    "base.en",
    "base",
    "small.en",
    "small",
    "tiny.en",
    "tiny",
    "large-v3-turbo",
    "large-v3-turbo-q5_0",
)


def default_models_dir() -> Path:
    env = os.environ.get("HARK_MODELS_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("hark", appauthor=False)) / "models"


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    name: str  # catalog or imported name, or the file name for a user's file
    entry: CatalogModel | None  # None for a file outside the catalog
    imported: ImportedModel | None = None

    @property
    def sha256(self) -> str | None:
        if self.imported is not None:
            return self.imported.sha256
        return self.entry.sha256 if self.entry else None


class ModelStore:
    def __init__(
        self,
        root: str | Path | None = None,
        *,
        catalog: tuple[CatalogModel, ...] = CATALOG,
        mirror: str | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else default_models_dir()
        self.catalog = catalog
        # HARK_MODEL_MIRROR replaces the catalog host: every file is fetched from MIRROR/FILENAME.
        self.mirror = mirror if mirror is not None else os.environ.get("HARK_MODEL_MIRROR") or None

    # --- lookup -------------------------------------------------------------
    def find(self, name: str) -> CatalogModel | None:
        return next((m for m in self.catalog if m.name == name), None)

    def path_for(self, entry: CatalogModel) -> Path:
        return self.root / entry.filename

    def is_installed(self, entry: CatalogModel) -> bool:
        p = self.path_for(entry)
        return p.is_file() and p.stat().st_size == entry.size

    def url_for(self, entry: CatalogModel) -> str:
        return f"{self.mirror.rstrip('/')}/{entry.filename}" if self.mirror else entry.url

    def imported(self) -> list[ImportedModel]:
        return list_imported(self.root)

    def whisper_files(self) -> list[Path]:
        """Every whisper model file in the store: downloaded, then imported."""
        return [self.path_for(m) for m in self.catalog if m.kind == KIND_WHISPER and self.is_installed(m)] + [
            m.path(self.root) for m in self.imported()
        ]

    def _default(self, kind: str) -> ResolvedModel | None:
        def rank(label: str) -> int:  # outside the preference: the smallest model comes first
            return DEFAULT_PREFERENCE.index(label) if label in DEFAULT_PREFERENCE else len(DEFAULT_PREFERENCE)

        # ties: downloaded before imported, full precision before quantised, then the smaller
        found: list[tuple[tuple[int, int, int, int], ResolvedModel]] = []
        for m in self.catalog:
            if m.kind == kind and self.is_installed(m):
                found.append(((rank(m.name), 0, 0, m.size), ResolvedModel(self.path_for(m), m.name, m)))
        if kind == KIND_WHISPER:
            for im in self.imported():
                key = (rank(im.kind), 1, int(im.ftype not in ("f16", "f32")), im.size)
                found.append((key, ResolvedModel(im.path(self.root), im.name, None, im)))
        return min(found, key=lambda f: f[0])[1] if found else None

    def resolve(self, name_or_path: str | None, kind: str = KIND_WHISPER) -> ResolvedModel:
        """A catalog or imported name, or a file path -> an existing model file, or a ModelError saying
        what to do."""
        if not name_or_path:
            best = self._default(kind)
            if best is not None:
                return best
            hint = "base.en" if kind == KIND_WHISPER else "silero-vad"
            raise ModelError(f"no {kind} model is installed; run: hark models download {hint}")
        entry = self.find(name_or_path)
        if entry is None and kind == KIND_WHISPER:
            im = find_imported(self.root, name_or_path)
            if im is not None:
                return ResolvedModel(im.path(self.root), im.name, None, im)
        if entry is not None:
            if entry.kind != kind:
                raise ModelError(f"{entry.name} is a {entry.kind} model, not a {kind} model")
            if not self.is_installed(entry):
                raise ModelError(f"model {entry.name} is not downloaded; run: hark models download {entry.name}")
            return ResolvedModel(self.path_for(entry), entry.name, entry)
        p = Path(name_or_path).expanduser()
        if p.is_file():
            by_file = next((m for m in self.catalog if m.filename == p.name and m.size == p.stat().st_size), None)
            return ResolvedModel(p.resolve(), by_file.name if by_file else p.name, by_file)
        if p.is_dir():
            raise ModelError(
                f"{p} is a folder, not a model file; to use a CTranslate2 or faster-whisper folder, "
                "import it first: hark models import FOLDER"
            )
        if os.sep in name_or_path or name_or_path.endswith((".bin", ".onnx")):
            raise ModelError(f"model file not found: {p}")
        known = ", ".join(
            [m.name for m in self.catalog if m.kind == kind and "-q" not in m.name]
            + ([m.name for m in self.imported()] if kind == KIND_WHISPER else [])
        )
        raise ModelError(f"unknown model {name_or_path!r}; known models: {known} (see: hark models list)")

    def vad_path(self) -> Path | None:
        """The installed Silero VAD, or HARK_VAD_MODEL; None when there is none."""
        env = os.environ.get("HARK_VAD_MODEL")
        if env:
            return Path(env).expanduser() if Path(env).expanduser().is_file() else None
        entry = next((m for m in self.catalog if m.kind == KIND_VAD), None)
        return self.path_for(entry) if entry and self.is_installed(entry) else None

    # --- changes ------------------------------------------------------------
    def remove_imported(self, name: str) -> bool:
        return remove_imported(self.root, name)

    def remove(self, entry: CatalogModel) -> bool:
        removed = False
        for p in (self.path_for(entry), self._part(entry)):
            if p.exists():
                p.unlink()
                removed = True
        return removed

    def _part(self, entry: CatalogModel) -> Path:
        return self.root / (entry.filename + ".part")

    def download(
        self,
        entry: CatalogModel,
        *,
        progress: DownloadProgress | None = None,
        cancel: threading.Event | None = None,
        timeout: float = 10.0,
    ) -> Path:
        """Fetch `entry` into the store, resuming a previous partial download."""
        final = self.path_for(entry)
        if self.is_installed(entry):
            return final
        part = self._part(entry)
        url = self.url_for(entry)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fetch_with_retries(
                url,
                part,
                entry.size,
                label=entry.name,
                where=self.root,
                progress=progress,
                cancel=cancel,
                timeout=timeout,
            )
        except urllib.error.HTTPError as e:
            raise ModelError(f"cannot download {entry.name}: the server answered {e.code} {e.reason} for {url}") from e
        except urllib.error.URLError as e:
            host = urllib.parse.urlsplit(url).hostname
            raise ModelError(
                f"cannot download {entry.name}: no connection to {host} ({e.reason}). "
                f"Hark works offline once a model is downloaded: copy {entry.filename} into {self.root}, "
                "or pass --model PATH"
            ) from e
        except OSError as e:  # a folder we cannot create or write
            raise ModelError(f"cannot write {entry.name} into {self.root}: {e.strerror or e}") from e
        self._verify(entry, part)
        os.replace(part, final)
        return final

    def _verify(self, entry: CatalogModel, part: Path) -> None:
        size = part.stat().st_size
        if size != entry.size:
            part.unlink()
            raise ModelError(
                f"download of {entry.name} has {size} bytes, expected {entry.size}; deleted it, please retry"
            )
        if entry.sha256 is None:
            return
        digest = sha256_file(part)
        if digest != entry.sha256:
            part.unlink()
            raise ModelError(
                f"checksum mismatch for {entry.name}: expected sha256 {entry.sha256[:12]}…, got {digest[:12]}…; "
                "the corrupt file was deleted, please retry"
            )


def sha256_file(path: str | Path, *, cancel: threading.Event | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            h.update(block)
    return h.hexdigest()
