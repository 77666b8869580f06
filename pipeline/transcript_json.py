"""Versioned JSON for transcripts; see docs/transcript-format.md.

Round-trips losslessly: floats are written with repr precision, and every
field of the model has a place in the file.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from audio.errors import HarkError
from pipeline.atomic_write import write_text_atomic
from pipeline.transcript import (
    Caption,
    Correction,
    Cut,
    Edits,
    MediaRef,
    Provenance,
    Retime,
    Transcript,
    Word,
)

FORMAT = "hark-transcript"
VERSION = 2  # 2 added edits.inserted and edits.retimed; version 1 files still load


class TranscriptFormatError(HarkError):
    pass


def to_dict(t: Transcript) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": t.created,
        "media": {"path": t.media.path, "duration": t.media.duration, "sha256": t.media.sha256, "size": t.media.size},
        "language": t.language,
        "provenance": {
            "engine": t.provenance.engine,
            "engine_version": t.provenance.engine_version,
            "model": t.provenance.model,
            "model_sha256": t.provenance.model_sha256,
            "options": t.provenance.options,
            "hark_version": t.provenance.hark_version,
        },
        "words": [_word_dict(w) for w in t.words],
        "captions": [
            {"start": c.start, "end": c.end, "words": c.word_ids, "lines": c.lines, "speaker": c.speaker}
            for c in t.captions
        ],
        "edits": {
            "corrections": [{"word": c.word_id, "text": c.text} for c in t.edits.corrections],
            "cuts": [{"start": c.start, "end": c.end} for c in t.edits.cuts],
            "inserted": [_word_dict(w) for w in t.edits.inserted],
            "retimed": [{"word": r.word_id, "start": r.start, "end": r.end, **({"aligned": True} if r.aligned else {})}
                        for r in t.edits.retimed],
        },
        "warnings": t.warnings,
    }


def _word_dict(w: Word) -> dict[str, Any]:
    d = {"id": w.id, "text": w.text, "start": w.start, "end": w.end, "p": w.probability, "speaker": w.speaker}
    if w.rough:  # only when set: older readers and files without it stay as they were
        d["rough"] = True
    return d


def _word(w: dict[str, Any], where: str) -> Word:
    p = None if w.get("p") is None else _num(w["p"], f"{where}.p")
    return Word(id=int(_num(w["id"], f"{where}.id")), text=_str(w["text"], f"{where}.text"),
                start=_num(w["start"], f"{where}.start"), end=_num(w["end"], f"{where}.end"),
                probability=p, speaker=_str(w.get("speaker"), f"{where}.speaker", optional=True),
                rough=_flag(w.get("rough", False), f"{where}.rough"))


def _flag(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise TranscriptFormatError(f"{where} must be true or false, not {v!r}")
    return v


def dumps(t: Transcript, *, indent: int | None = 1) -> str:
    try:
        return json.dumps(to_dict(t), ensure_ascii=False, indent=indent, allow_nan=False)
    except ValueError as e:  # NaN/inf would not load back equal in other readers
        raise TranscriptFormatError(f"transcript has a non-finite number: {e}") from e


def _obj(v: Any, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise TranscriptFormatError(f"transcript is missing or has a malformed field: {where!r} should be an object, not {type(v).__name__}")
    return v


def _list(v: Any, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise TranscriptFormatError(f"transcript is missing or has a malformed field: {where!r} should be a list, not {type(v).__name__}")
    return v


def _num(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise TranscriptFormatError(f"transcript is missing or has a malformed field: {where!r} should be a finite number, not {v!r}")
    return v


def _str(v: Any, where: str, *, optional: bool = False) -> Any:
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise TranscriptFormatError(f"transcript is missing or has a malformed field: {where!r} should be text, not {v!r}")
    return v


def from_dict(d: dict[str, Any]) -> Transcript:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise TranscriptFormatError("not a Hark transcript (missing 'format': 'hark-transcript')")
    version = d.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TranscriptFormatError(f"bad transcript version {version!r}")
    if version > VERSION:
        raise TranscriptFormatError(f"transcript version {version} was written by a newer Hark; this one reads {VERSION}")
    try:
        m = _obj(d["media"], "media")
        p = _obj(d["provenance"], "provenance")
        e = _obj(d.get("edits") or {}, "edits")
        size = m.get("size")
        return Transcript(
            media=MediaRef(path=_str(m["path"], "media.path"), duration=_num(m["duration"], "media.duration"),
                           sha256=_str(m["sha256"], "media.sha256"),
                           size=None if size is None else int(_num(size, "media.size"))),
            language=_str(d.get("language"), "language", optional=True),
            provenance=Provenance(
                engine=_str(p["engine"], "provenance.engine"),
                engine_version=_str(p["engine_version"], "provenance.engine_version"),
                model=_str(p["model"], "provenance.model"),
                model_sha256=_str(p.get("model_sha256"), "provenance.model_sha256", optional=True),
                options=dict(_obj(p.get("options") or {}, "provenance.options")),
                hark_version=_str(p.get("hark_version", ""), "provenance.hark_version"),
            ),
            words=[_word(_obj(x, "words[]"), "words[]") for x in _list(d["words"], "words")],
            captions=[
                Caption(start=_num(c["start"], "captions[].start"), end=_num(c["end"], "captions[].end"),
                        word_ids=[int(_num(i, "captions[].words[]")) for i in _list(c["words"], "captions[].words")],
                        lines=[_str(ln, "captions[].lines[]") for ln in _list(c["lines"], "captions[].lines")],
                        speaker=_str(c.get("speaker"), "captions[].speaker", optional=True))
                for c in (_obj(x, "captions[]") for x in _list(d.get("captions", []), "captions"))
            ],
            edits=Edits(
                corrections=[Correction(word_id=int(_num(c["word"], "corrections[].word")),
                                        text=_str(c["text"], "corrections[].text"))
                             for c in (_obj(x, "corrections[]") for x in _list(e.get("corrections", []), "edits.corrections"))],
                cuts=[Cut(start=_num(c["start"], "cuts[].start"), end=_num(c["end"], "cuts[].end"))
                      for c in (_obj(x, "cuts[]") for x in _list(e.get("cuts", []), "edits.cuts"))],
                inserted=[_word(_obj(x, "inserted[]"), "edits.inserted[]")
                          for x in _list(e.get("inserted", []), "edits.inserted")],
                retimed=[Retime(word_id=int(_num(r["word"], "retimed[].word")), start=_num(r["start"], "retimed[].start"),
                                end=_num(r["end"], "retimed[].end"),
                                aligned=_flag(r.get("aligned", False), "retimed[].aligned"))
                         for r in (_obj(x, "retimed[]") for x in _list(e.get("retimed", []), "edits.retimed"))],
            ),
            created=_str(d.get("created", ""), "created"),
            warnings=[_str(w, "warnings[]") for w in _list(d.get("warnings", []), "warnings")],
        )
    except KeyError as err:
        raise TranscriptFormatError(f"transcript is missing or has a malformed field: {err} is missing") from err


def _refuse_constant(name: str) -> float:
    raise TranscriptFormatError(f"transcript holds {name}, which is not a number Hark writes")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise TranscriptFormatError(f"transcript holds the number {text}, too large to be a time")
    return v


def loads(text: str) -> Transcript:
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as e:
        raise TranscriptFormatError(f"transcript is not valid JSON: {e}") from e
    return from_dict(data)


def save(t: Transcript, path: str | Path) -> Path:
    return write_text_atomic(path, dumps(t) + "\n")


def load(path: str | Path) -> Transcript:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise TranscriptFormatError(f"{p}: no such file") from e
    except UnicodeDecodeError as e:
        raise TranscriptFormatError(f"{p}: not a transcript (not UTF-8 text)") from e
    except OSError as e:
        raise TranscriptFormatError(f"{p}: cannot read it: {e.strerror or e}") from e
    return loads(text)
