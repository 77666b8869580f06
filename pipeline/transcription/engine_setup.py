"""Choose and load an engine (and the VAD) from what the user asked for and what is installed."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from audio.vad import SileroVad, VadModelError
from pipeline.engines.base import Engine
from pipeline.errors import ModelError
from pipeline.models.store import ModelStore

log = logging.getLogger(__name__)
ENGINES = ("auto", "whisper", "sphinx")


@dataclass
class LoadedEngine:
    engine: Engine
    model_sha256: str | None = None
    notices: list[str] = field(default_factory=list)  # things the user should know, one line each


def load_engine(
    kind: str,
    model: str | None,
    store: ModelStore,
    *,
    language: str | None = None,
    isolate: bool = False,
    dtw: bool = False,
) -> LoadedEngine:
    """kind: auto (whisper if a model is available, else the offline English engine), whisper, sphinx.

    isolate: run engines that hold the GIL (PocketSphinx) in a child process, for a GUI.
    dtw: DTW word times instead of whisper's token timestamps (see WhisperCppEngine: measured worse,
    and slower, since DTW turns whisper.cpp's flash attention off).
    """
    if kind not in ENGINES:
        raise ValueError(f"unknown engine {kind!r}")
    model = model or os.environ.get("HARK_MODEL") or None
    if kind == "sphinx":
        return LoadedEngine(_sphinx(isolate))
    try:
        resolved = store.resolve(model)
    except ModelError:
        if kind == "whisper" or model:
            raise
        if language not in (None, "en"):
            raise ModelError(
                f"no whisper model is installed, and the offline engine knows only English, not {language!r}; "
                "run: hark models download base"
            ) from None
        return LoadedEngine(
            _sphinx(isolate),
            notices=[
                "no whisper model installed: using the offline English engine (pocketsphinx); "
                "for much better accuracy run: hark models download base.en"
            ],
        )
    from pipeline.engines.whispercpp import WhisperCppEngine

    engine = WhisperCppEngine(resolved.path, model_name=resolved.name, dtw=dtw)
    return LoadedEngine(engine, model_sha256=resolved.sha256)


def _sphinx(isolate: bool = False) -> Engine:
    from pipeline.engines.sphinx import SphinxEngine

    return SphinxEngine(isolate=isolate)


def load_vad(store: ModelStore) -> tuple[SileroVad | None, str | None]:
    """The VAD if installed, else None with a notice (transcription still works, less guarded)."""
    path = store.vad_path()
    if path is None:
        return None, (
            "silence trimming is off (no VAD model installed), so long silences may get invented "
            "text; run: hark models download silero-vad"
        )
    try:
        return SileroVad(path), None
    except VadModelError as e:
        return None, f"silence trimming is off: {e}"
