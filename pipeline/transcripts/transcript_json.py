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
from pipeline.transcripts import json_guard, transcript_schema
from pipeline.transcripts.transcript import (
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
            "retimed": [
                {"word": r.word_id, "start": r.start, "end": r.end, **({"aligned": True} if r.aligned else {})}
                for r in t.edits.retimed
            ],
        },
        "warnings": t.warnings,
    }


def _word_dict(w: Word) -> dict[str, Any]:
    d = {"id": w.id, "text": w.text, "start": w.start, "end": w.end, "p": w.probability, "speaker": w.speaker}
    if w.rough:  # only when set: older readers and files without it stay as they were
        d["rough"] = True
    if w.suspect:
        d["suspect"] = w.suspect
    return d


def dumps(t: Transcript, *, indent: int | None = 1) -> str:
    try:
        return json.dumps(to_dict(t), ensure_ascii=False, indent=indent, allow_nan=False)
    except ValueError as e:  # NaN/inf would not load back equal in other readers
        raise TranscriptFormatError(f"transcript has a non-finite number: {e}") from e


def from_dict(d: Any) -> Transcript:
    """The transcript in a decoded JSON object; TranscriptFormatError naming the field if it breaks the format."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise TranscriptFormatError("not a Hark transcript (missing 'format': 'hark-transcript')")
    version = d.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TranscriptFormatError(f"bad transcript version {json_guard.show(version)}")
    if version > VERSION:
        raise TranscriptFormatError(
            f"transcript version {json_guard.show(version)} was written by a newer Hark; this one reads {VERSION}"
        )
    try:
        doc = transcript_schema.parse(d)
    except transcript_schema.SchemaError as e:
        raise TranscriptFormatError(f"transcript is missing or has a malformed field: {e}") from None
    return _transcript(doc)


def _transcript(doc: transcript_schema.TranscriptDoc) -> Transcript:
    m, p = doc["media"], doc["provenance"]
    e: transcript_schema.EditsDoc = doc.get("edits") or {}
    return Transcript(
        media=MediaRef(path=m["path"], duration=m["duration"], sha256=m["sha256"], size=m.get("size")),
        language=doc.get("language"),
        provenance=Provenance(
            engine=p["engine"],
            engine_version=p["engine_version"],
            model=p["model"],
            model_sha256=p.get("model_sha256"),
            options=dict(p.get("options") or {}),
            hark_version=p.get("hark_version", ""),
        ),
        words=[_word(w) for w in doc["words"]],
        captions=[
            Caption(start=c["start"], end=c["end"], word_ids=c["words"], lines=c["lines"], speaker=c.get("speaker"))
            for c in doc.get("captions", [])
        ],
        edits=Edits(
            corrections=[Correction(word_id=c["word"], text=c["text"]) for c in e.get("corrections", [])],
            cuts=[Cut(start=c["start"], end=c["end"]) for c in e.get("cuts", [])],
            inserted=[_word(w) for w in e.get("inserted", [])],
            retimed=[
                Retime(word_id=r["word"], start=r["start"], end=r["end"], aligned=r.get("aligned", False))
                for r in e.get("retimed", [])
            ],
        ),
        created=doc.get("created", ""),
        warnings=doc.get("warnings", []),
    )


def _word(w: transcript_schema.WordDoc) -> Word:
    return Word(
        id=w["id"],
        text=w["text"],
        start=w["start"],
        end=w["end"],
        probability=w.get("p"),
        speaker=w.get("speaker"),
        rough=w.get("rough", False),
        suspect=w.get("suspect"),
    )


def loads(text: str) -> Transcript:
    try:
        data = json_guard.parse(text)
    except json.JSONDecodeError as e:
        raise TranscriptFormatError(f"transcript is not valid JSON: {e}") from None
    except json_guard.JsonInputError as e:
        raise TranscriptFormatError(f"not a Hark transcript: {e}") from None
    return from_dict(data)


def save(t: Transcript, path: str | Path) -> Path:
    return write_text_atomic(path, dumps(t) + "\n")


def load(path: str | Path) -> Transcript:
    p = Path(path)
    try:
        text = json_guard.read_text(p)
    except FileNotFoundError as e:
        raise TranscriptFormatError(f"{p}: no such file") from e
    except json_guard.JsonInputError as e:
        raise TranscriptFormatError(f"{p}: not a transcript ({e})") from None
    except OSError as e:
        raise TranscriptFormatError(f"{p}: cannot read it: {e.strerror or e}") from e
    return loads(text)
