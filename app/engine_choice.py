"""Which engine and model the settings choose now, as the app's long-lived engines see it.

The job runner and dictation keep their loaded engine while this stays the
same. With no model named ("best installed") the choice depends on what is in
the models folder, so it is looked up again each time: a model downloaded or
imported a moment ago is used by the next job, without a restart.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.settings import AppSettings
from audio.errors import HarkError
from pipeline.models.store import ModelStore, ResolvedModel

EngineKey = tuple[object, ...]


def resolved_model(s: AppSettings, store: ModelStore) -> ResolvedModel | None:
    """The whisper model these settings use (as pipeline.transcription.engine_setup.load_engine picks it), or None:
    the offline engine, or no usable model."""
    if s.engine == "sphinx":
        return None
    try:
        return store.resolve(s.model or os.environ.get("HARK_MODEL") or None)
    except HarkError:
        return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def engine_key(s: AppSettings, store: ModelStore) -> EngineKey:
    """Equal keys load the same engine; the model file's identity catches a model replaced under its name."""
    model = resolved_model(s, store)
    where = (str(model.path), model.name, _identity(model.path)) if model is not None else None
    return s.engine, s.model, where, s.language


def engine_label(s: AppSettings, store: ModelStore) -> str:
    """The status bar's engine line: "whisper.cpp · base.en · language: auto-detect"."""
    if s.engine == "sphinx":
        text = "Offline English engine"
    else:
        model = resolved_model(s, store)
        if model is None:
            text = "No whisper model · offline English engine" if s.engine == "auto" else "No whisper model"
        else:
            text = f"whisper.cpp · {Path(model.name).name}"
    lang = "English" if s.engine == "sphinx" else (s.language or "auto-detect")
    return f"{text} · language: {lang}"
