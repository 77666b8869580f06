"""Versioned JSON for transcripts; see docs/transcript-format.md.

Round-trips losslessly: floats are written with repr precision, and every
field of the model has a place in the file.
"""
from __future__ import annotations

import json
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
    Transcript,
    Word,
)

FORMAT = "hark-transcript"
VERSION = 1


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
        "words": [
            {"id": w.id, "text": w.text, "start": w.start, "end": w.end, "p": w.probability, "speaker": w.speaker}
            for w in t.words
        ],
        "captions": [
            {"start": c.start, "end": c.end, "words": c.word_ids, "lines": c.lines, "speaker": c.speaker}
            for c in t.captions
        ],
        "edits": {
            "corrections": [{"word": c.word_id, "text": c.text} for c in t.edits.corrections],
            "cuts": [{"start": c.start, "end": c.end} for c in t.edits.cuts],
        },
        "warnings": t.warnings,
    }


def dumps(t: Transcript, *, indent: int | None = 1) -> str:
    try:
        return json.dumps(to_dict(t), ensure_ascii=False, indent=indent, allow_nan=False)
    except ValueError as e:  # NaN/inf would not load back equal in other readers
        raise TranscriptFormatError(f"transcript has a non-finite number: {e}") from e


def from_dict(d: dict[str, Any]) -> Transcript:
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise TranscriptFormatError("not a Hark transcript (missing 'format': 'hark-transcript')")
    version = d.get("version")
    if not isinstance(version, int) or version < 1:
        raise TranscriptFormatError(f"bad transcript version {version!r}")
    if version > VERSION:
        raise TranscriptFormatError(f"transcript version {version} was written by a newer Hark; this one reads {VERSION}")
    try:
        m, p, e = d["media"], d["provenance"], d.get("edits") or {}
        return Transcript(
            media=MediaRef(path=m["path"], duration=m["duration"], sha256=m["sha256"], size=m.get("size")),
            language=d.get("language"),
            provenance=Provenance(
                engine=p["engine"],
                engine_version=p["engine_version"],
                model=p["model"],
                model_sha256=p.get("model_sha256"),
                options=dict(p.get("options") or {}),
                hark_version=p.get("hark_version", ""),
            ),
            words=[
                Word(id=w["id"], text=w["text"], start=w["start"], end=w["end"], probability=w.get("p"), speaker=w.get("speaker"))
                for w in d["words"]
            ],
            captions=[
                Caption(start=c["start"], end=c["end"], word_ids=list(c["words"]), lines=list(c["lines"]), speaker=c.get("speaker"))
                for c in d.get("captions", [])
            ],
            edits=Edits(
                corrections=[Correction(word_id=c["word"], text=c["text"]) for c in e.get("corrections", [])],
                cuts=[Cut(start=c["start"], end=c["end"]) for c in e.get("cuts", [])],
            ),
            created=d.get("created", ""),
            warnings=list(d.get("warnings", [])),
        )
    except (KeyError, TypeError) as err:
        raise TranscriptFormatError(f"transcript is missing or has a malformed field: {err}") from err


def loads(text: str) -> Transcript:
    try:
        data = json.loads(text)
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
    return loads(text)
