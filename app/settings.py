"""The user's preferences: what they are, and how they are kept in QSettings.

Loading never fails: every field is read on its own and falls back to its
default when missing or unreadable (a hand-edited file, an older or newer
Hark). QSettings returns strings for bools and ints on Linux (INI files), so
every value is converted from whatever type comes back.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from PySide6.QtCore import QSettings

from app.system.paths import default_projects_dir
from pipeline.captions.captions import CaptionRules
from pipeline.captions.export import FORMATS
from pipeline.engines.base import TranscribeOptions, default_threads
from pipeline.speakers.diarization import DEFAULT_PRESET, SPEED_PRESETS, DiarizationOptions
from pipeline.transcription.engine_setup import ENGINES

log = logging.getLogger(__name__)

# Bump when a key changes meaning or name, and convert older layouts in load_settings.
SETTINGS_VERSION = 1
VERSION_KEY = "settings_version"
GROUP = "preferences"  # keeps these apart from window state and the like in the same file

DEFAULT_FORMATS = ("srt", "vtt", "txt", "json")
DICTATION_MODES = ("push", "toggle")
INSERT_METHODS = ("auto", "type", "paste")
LINE_CHARS_RANGE = (20, 80)
MAX_LINES_RANGE = (1, 3)
SPEAKERS_RANGE = (0, 20)  # 0: diarization decides how many
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")  # whisper codes: en, de, haw, yue, ...
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def default_projects_folder() -> str:
    return str(default_projects_dir())  # user_data_dir("hark")/projects, or under HARK_DATA_DIR


def max_threads() -> int:
    return os.cpu_count() or 1


@dataclass
class AppSettings:
    engine: str = "auto"  # one of pipeline.transcription.engine_setup.ENGINES
    model: str | None = None  # catalog name or .bin path; None: the best installed
    language: str | None = None  # ISO code; None: detect
    translate: bool = False  # into English
    threads: int = field(default_factory=default_threads)
    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    output_folder: str | None = None  # None: next to each input file
    max_line_chars: int = 42
    max_lines: int = 2
    highlight_words: bool = False  # WebVTT word timing
    use_vad: bool = True  # skip silence before transcribing
    align_words: bool = True  # forced alignment of word times (English); off: the recogniser's times, marked rough
    projects_folder: str = field(default_factory=default_projects_folder)
    # speakers
    diarize: bool = False  # identify speakers after transcribing (needs the diarize extra and a pipeline)
    diarization_model: str | None = None  # pipeline folder; None: $HARK_DIARIZATION_MODEL or the downloaded one
    num_speakers: int = 0  # exactly this many speakers; 0: diarization decides
    speaker_speed: str = DEFAULT_PRESET  # fast / balanced / accurate (pipeline.speakers.diarization.SPEED_PRESETS)
    # dictation
    dictation_enabled: bool = True  # keep the microphone ready and listen for the hotkey
    dictation_hotkey: str = "<ctrl>+<alt>+space"  # pynput syntax
    dictation_mode: str = "push"  # "push": hold to talk; "toggle": press to start, again (or silence) to stop
    dictation_insert: str = "auto"  # "auto" | "type" | "paste"
    dictation_input: str | None = None  # input device name; None: the system default
    dictation_silence: float = 1.5  # s of silence that ends a toggle-mode dictation (0: never)
    dictation_vocabulary: str = ""  # names and terms, comma-separated, passed as the initial prompt
    dictation_partials: bool = True  # show words in the overlay while speaking


def default_qsettings() -> QSettings:
    return QSettings("Hark", "Hark")


# --- converting what QSettings gives back ------------------------------------------
class _Bad(ValueError):
    """A stored value that cannot be used; the field keeps its default."""


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v != 0
    if isinstance(v, str):
        t = v.strip().lower()
        if t in _TRUE:
            return True
        if t in _FALSE:
            return False
    raise _Bad(v)


def _int(v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool):  # bool is an int, but never a count
        raise _Bad(v)
    if isinstance(v, str):
        try:
            v = int(v.strip())
        except ValueError:
            raise _Bad(v) from None
    if not isinstance(v, int) or not lo <= v <= hi:
        raise _Bad(v)
    return v


def _text(v: Any) -> str | None:
    """A string field; the empty string stands for None (INI files cannot hold None)."""
    if v is None:
        return None
    if not isinstance(v, str):
        raise _Bad(v)
    return v.strip() or None


def _engine(v: Any) -> str:
    t = _text(v)
    if t not in ENGINES:
        raise _Bad(v)
    return t


def _language(v: Any) -> str | None:
    t = _text(v)
    if t is None or t.lower() == "auto":
        return None
    if not _LANGUAGE_CODE.match(t.lower()):
        raise _Bad(v)
    return t.lower()


def _threads(v: Any) -> int:
    n = _int(v, 1, 1024)
    # Settings copied from a bigger machine: use what this one has rather than the default.
    return min(n, max_threads())


def _formats(v: Any) -> list[str]:
    # Written as one comma-separated string; a hand-edited INI line reads back as a list.
    items = v.split(",") if isinstance(v, str) else v
    if not isinstance(items, list | tuple):
        raise _Bad(v)
    chosen = [str(f).strip().lower() for f in items]
    if not chosen or any(f not in FORMATS for f in chosen):
        raise _Bad(v)
    return list(dict.fromkeys(chosen))


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def read(v: Any) -> str:
        t = _text(v)
        if t not in options:
            raise _Bad(v)
        return t

    return read


def _seconds(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise _Bad(v) from None
    if not 0 <= x <= 30:
        raise _Bad(v)
    return x


def _hotkey(v: Any) -> str:
    t = _text(v)
    if not t or ("+" not in t and not t.startswith("<")):
        raise _Bad(v)
    return t


def _projects_folder(v: Any) -> str:
    t = _text(v)
    if t is None:
        raise _Bad(v)
    return t


_READERS: dict[str, Any] = {
    "engine": _engine,
    "model": _text,
    "language": _language,
    "translate": _bool,
    "threads": _threads,
    "formats": _formats,
    "output_folder": _text,
    "max_line_chars": lambda v: _int(v, *LINE_CHARS_RANGE),
    "max_lines": lambda v: _int(v, *MAX_LINES_RANGE),
    "highlight_words": _bool,
    "use_vad": _bool,
    "align_words": _bool,
    "projects_folder": _projects_folder,
    "diarize": _bool,
    "diarization_model": _text,
    "num_speakers": lambda v: _int(v, *SPEAKERS_RANGE),
    "speaker_speed": _choice(tuple(SPEED_PRESETS)),
    "dictation_enabled": _bool,
    "dictation_hotkey": _hotkey,
    "dictation_mode": _choice(DICTATION_MODES),
    "dictation_insert": _choice(INSERT_METHODS),
    "dictation_input": _text,
    "dictation_silence": _seconds,
    "dictation_vocabulary": lambda v: _text(v) or "",
    "dictation_partials": _bool,
}


def load_settings(qs: QSettings) -> AppSettings:
    s = AppSettings()
    qs.beginGroup(GROUP)
    try:
        try:
            version = _int(qs.value(VERSION_KEY, SETTINGS_VERSION), 0, 1 << 30)
        except _Bad:
            version = SETTINGS_VERSION
        if version > SETTINGS_VERSION:
            log.info("settings were written by a newer Hark (version %d); reading what is understood", version)
        for f in fields(AppSettings):
            if not qs.contains(f.name):
                continue
            raw = qs.value(f.name)
            try:
                setattr(s, f.name, _READERS[f.name](raw))
            except (_Bad, TypeError):
                log.warning("setting %s: unusable value %r, using the default", f.name, raw)
    finally:
        qs.endGroup()
    return s


def save_settings(s: AppSettings, qs: QSettings) -> None:
    qs.beginGroup(GROUP)
    try:
        qs.setValue(VERSION_KEY, SETTINGS_VERSION)
        for f in fields(AppSettings):
            value = getattr(s, f.name)
            if f.name == "formats":
                value = ",".join(value)
            elif value is None:
                value = ""
            qs.setValue(f.name, value)
    finally:
        qs.endGroup()
    qs.sync()


def to_options(s: AppSettings) -> TranscribeOptions:
    return TranscribeOptions(language=s.language, translate=s.translate, threads=s.threads)


def to_caption_rules(s: AppSettings) -> CaptionRules:
    return CaptionRules(max_line_chars=s.max_line_chars, max_lines=s.max_lines)


def to_diarization_options(s: AppSettings) -> DiarizationOptions:
    return DiarizationOptions.for_preset(s.speaker_speed, num_speakers=s.num_speakers or None, threads=s.threads)
