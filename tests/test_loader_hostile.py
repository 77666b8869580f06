"""Hostile transcript and project files: every one is refused with one clear line naming the field.

Huge integers, deep nesting, out-of-range or non-finite times, duplicate or dangling ids, wrong
types, empty and non-UTF-8 files: the loaders raise TranscriptFormatError (ProjectFormatError for
projects), never a bare ValueError, RecursionError or KeyError, and never drop a word silently.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pipeline.transcripts import project, transcript_json
from pipeline.transcripts.project import ProjectFormatError
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
from pipeline.transcripts.transcript_json import TranscriptFormatError, dumps, from_dict, loads

HUGE = "1" + "0" * 5000  # past Python's 4300-digit limit for int(str)


def valid_transcript() -> Transcript:
    words = [
        Word(0, "Hello", 0.0, 0.4, 0.9, "A"),
        Word(1, "there,", 0.5, 0.9, None, "A"),
        Word(2, "world.", 1.0, 1.5, 0.75, None, rough=True),
    ]
    return Transcript(
        media=MediaRef("/media/talk.wav", 12.5, "ab" * 32, 4096),
        language="en",
        provenance=Provenance(
            "whisper.cpp", "1.5.1", "base.en", None, {"vad": True, "nested": [1, {"k": 2.5}]}, "0.1.0"
        ),
        words=words,
        captions=[Caption(0.0, 0.9, [0, 1], ["Hello there,"], "A"), Caption(1.0, 2.0, [2, 3], ["world. again"])],
        edits=Edits(
            corrections=[Correction(1, "there!")],
            cuts=[Cut(0.4, 0.5)],
            inserted=[Word(3, "again", 1.6, 2.0, None, None, rough=True)],
            retimed=[Retime(2, 1.05, 1.5, aligned=True)],
        ),
        created="2026-01-01T00:00:00+00:00",
        warnings=["a warning"],
    )


def valid_dict() -> dict[str, Any]:
    return json.loads(dumps(valid_transcript()))


def one_line_error(exc_type: type[Exception], fn, *args) -> str:
    with pytest.raises(exc_type) as info:
        fn(*args)
    msg = str(info.value)
    assert "\n" not in msg and msg.strip(), repr(msg)
    assert len(msg) < 400, msg  # never echoes a 5000-digit number or a whole document back
    return msg


def set_at(d: Any, path: tuple, value: Any) -> None:
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


def text_with(path: tuple, raw: str) -> str:
    """The valid transcript's JSON with the value at `path` replaced by the literal `raw`."""
    d = valid_dict()
    set_at(d, path, "@@RAW@@")
    return json.dumps(d).replace('"@@RAW@@"', raw)


def test_valid_transcript_loads_and_round_trips(tmp_path):
    t = valid_transcript()
    assert loads(dumps(t)) == t
    p = transcript_json.save(t, tmp_path / "t.json")
    assert transcript_json.load(p) == t


# ---------------------------------------------------------------------------- literal-level hostility


@pytest.mark.parametrize(
    "path, field",
    [
        (("words", 0, "id"), "words[0].id"),
        (("words", 1, "start"), "words[1].start"),
        (("media", "size"), "media.size"),
        (("edits", "retimed", 0, "end"), "edits.retimed[0].end"),
        (("captions", 1, "words", 0), "captions[1].words[0]"),
        (("provenance", "options", "vad"), "provenance.options.vad"),
    ],
)
def test_huge_integer_names_the_field(path, field):
    msg = one_line_error(TranscriptFormatError, loads, text_with(path, HUGE))
    assert field in msg and "digit" in msg, msg


def test_huge_negative_integer_and_huge_version():
    assert "words[0].start" in one_line_error(
        TranscriptFormatError, loads, text_with(("words", 0, "start"), "-" + HUGE)
    )
    assert "version" in one_line_error(TranscriptFormatError, loads, text_with(("version",), HUGE))


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a": ' * 100_000, '[{"a": ' * 50_000])
def test_deep_nesting_is_refused(text):
    assert "nested too deeply" in one_line_error(TranscriptFormatError, loads, text)


def test_deep_nesting_inside_options_names_the_field():
    for depth in (200, 100_000):
        msg = one_line_error(
            TranscriptFormatError, loads, text_with(("provenance", "options", "x"), "[" * depth + "]" * depth)
        )
        assert "nested too deeply" in msg, msg
        if depth == 200:
            assert "provenance.options.x" in msg, msg


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
@pytest.mark.parametrize(
    "path, field",
    [
        (("words", 0, "start"), "words[0].start"),
        (("words", 2, "p"), "words[2].p"),
        (("media", "duration"), "media.duration"),
        (("provenance", "options", "nested", 1, "k"), "provenance.options.nested[1].k"),
    ],
)
def test_non_finite_literal_names_the_field(literal, path, field):
    msg = one_line_error(TranscriptFormatError, loads, text_with(path, literal))
    assert field in msg and "finite" in msg, msg


# ---------------------------------------------------------------------------- out-of-range values


@pytest.mark.parametrize(
    "path, value, field, says",
    [
        (("words", 1, "start"), 1e308, "words[1].start", "≤"),
        (("words", 1, "end"), 1e308, "words[1].end", "≤"),
        (("words", 1, "start"), -0.5, "words[1].start", "≥ 0"),
        (("words", 0, "end"), -1.0, "words[0].end", "≥ 0"),
        (("media", "duration"), -3.0, "media.duration", "≥ 0"),
        (("media", "duration"), 1e308, "media.duration", "≤"),
        (("media", "size"), -1, "media.size", "≥ 0"),
        (("captions", 0, "start"), -1.0, "captions[0].start", "≥ 0"),
        (("edits", "cuts", 0, "end"), 1e308, "edits.cuts[0].end", "≤"),
        (("edits", "inserted", 0, "start"), -2.0, "edits.inserted[0].start", "≥ 0"),
        (("edits", "retimed", 0, "start"), 1e300, "edits.retimed[0].start", "≤"),
        (("words", 0, "id"), -1, "words[0].id", "≥ 0"),
    ],
)
def test_out_of_range_is_refused_not_dropped(path, value, field, says):
    d = valid_dict()
    set_at(d, path, value)
    msg = one_line_error(TranscriptFormatError, loads, json.dumps(d))
    assert field in msg and says in msg, msg
    assert field in one_line_error(TranscriptFormatError, from_dict, d)


@pytest.mark.parametrize(
    "obj, field",
    [
        (("words", 1), "words[1].end"),
        (("captions", 0), "captions[0].end"),
        (("edits", "cuts", 0), "edits.cuts[0].end"),
        (("edits", "retimed", 0), "edits.retimed[0].end"),
        (("edits", "inserted", 0), "edits.inserted[0].end"),
    ],
)
def test_end_before_start(obj, field):
    d = valid_dict()
    set_at(d, (*obj, "end"), 0.1)
    set_at(d, (*obj, "start"), 0.3)
    msg = one_line_error(TranscriptFormatError, from_dict, d)
    assert field in msg and "start" in msg, msg


# ---------------------------------------------------------------------------- ids


def test_duplicate_word_ids():
    d = valid_dict()
    d["words"][2]["id"] = 0
    msg = one_line_error(TranscriptFormatError, from_dict, d)
    assert "words[2].id" in msg and "duplicate" in msg, msg


def test_inserted_word_reusing_a_source_id():
    d = valid_dict()
    d["edits"]["inserted"][0]["id"] = 1
    d["captions"][1]["words"] = [2]
    msg = one_line_error(TranscriptFormatError, from_dict, d)
    assert "edits.inserted[0].id" in msg and "duplicate" in msg, msg


@pytest.mark.parametrize(
    "path, field",
    [
        (("captions", 1, "words", 1), "captions[1].words[1]"),
        (("edits", "corrections", 0, "word"), "edits.corrections[0].word"),
        (("edits", "retimed", 0, "word"), "edits.retimed[0].word"),
    ],
)
def test_reference_to_a_missing_word(path, field):
    d = valid_dict()
    set_at(d, path, 77)
    msg = one_line_error(TranscriptFormatError, from_dict, d)
    assert field in msg and "77" in msg, msg


# ---------------------------------------------------------------------------- types and shapes


@pytest.mark.parametrize(
    "path, value, field",
    [
        (("words", 0, "id"), "3", "words[0].id"),
        (("words", 0, "id"), 1.0, "words[0].id"),
        (("words", 0, "id"), True, "words[0].id"),
        (("words", 0, "text"), 5, "words[0].text"),
        (("words", 0, "start"), True, "words[0].start"),
        (("words", 0, "start"), "0.1", "words[0].start"),
        (("words", 0, "rough"), "yes", "words[0].rough"),
        (("words", 0, "speaker"), ["A"], "words[0].speaker"),
        (("words", 1), "w", "words[1]"),
        (("media", "size"), 1.5, "media.size"),
        (("media", "path"), None, "media.path"),
        (("captions", 0, "lines", 0), 1, "captions[0].lines[0]"),
        (("captions", 0, "words"), 5, "captions[0].words"),
        (("edits", "cuts"), {"start": 0}, "edits.cuts"),
        (("edits", "retimed", 0, "aligned"), 1, "edits.retimed[0].aligned"),
        (("provenance", "options"), "ab", "provenance.options"),
        (("warnings", 0), {"w": 1}, "warnings[0]"),
        (("language",), 3, "language"),
    ],
)
def test_wrong_type_names_the_field(path, value, field):
    d = valid_dict()
    set_at(d, path, value)
    msg = one_line_error(TranscriptFormatError, from_dict, d)
    assert field in msg, msg
    assert field in one_line_error(TranscriptFormatError, loads, json.dumps(d))


def test_missing_field_names_it():
    d = valid_dict()
    del d["words"][1]["end"]
    msg = one_line_error(TranscriptFormatError, from_dict, d)
    assert "words[1].end" in msg and "missing" in msg, msg


def test_lone_surrogate_is_refused():
    d = valid_dict()
    d["words"][0]["text"] = "a\ud800b"
    msg = one_line_error(TranscriptFormatError, loads, json.dumps(d))  # ensure_ascii writes it as \\ud800
    assert "words[0].text" in msg, msg


def test_overlong_string_is_refused():
    d = valid_dict()
    d["words"][0]["text"] = "x" * 1_000_001
    assert "words[0].text" in one_line_error(TranscriptFormatError, from_dict, d)


@pytest.mark.parametrize("doc", ["[]", "1", '"hark-transcript"', "null", "true"])
def test_non_object_top_level(doc):
    assert "not a Hark transcript" in one_line_error(TranscriptFormatError, loads, doc)


def test_python_level_hostile_values_in_from_dict():
    d = valid_dict()
    d["words"][0]["id"] = 10**5000  # an int Python cannot even print
    msg = one_line_error(TranscriptFormatError, from_dict, d)
    assert "words[0].id" in msg, msg
    d = valid_dict()
    d["provenance"]["options"]["x"] = {1, 2}
    assert "provenance.options.x" in one_line_error(TranscriptFormatError, from_dict, d)
    assert "not a Hark transcript" in one_line_error(TranscriptFormatError, from_dict, [1])


# ---------------------------------------------------------------------------- files


def test_empty_file(tmp_path):
    p = tmp_path / "t.json"
    p.write_bytes(b"")
    msg = one_line_error(TranscriptFormatError, transcript_json.load, p)
    assert "empty" in msg and str(p) in msg, msg


def test_non_utf8_file(tmp_path):
    p = tmp_path / "t.json"
    p.write_bytes(b'{"format": "hark-transcript", "x": "\xff\xfe"}')
    assert "UTF-8" in one_line_error(TranscriptFormatError, transcript_json.load, p)


def test_oversized_file_is_not_read(tmp_path, monkeypatch):
    from pipeline.transcripts import json_guard

    monkeypatch.setattr(json_guard, "MAX_BYTES", 1000)
    p = transcript_json.save(valid_transcript(), tmp_path / "t.json")
    assert p.stat().st_size > 1000
    assert "too large" in one_line_error(TranscriptFormatError, transcript_json.load, p)


def test_directory_is_refused(tmp_path):
    one_line_error(TranscriptFormatError, transcript_json.load, tmp_path)


# ---------------------------------------------------------------------------- projects


def project_text(transcript_text: str, settings_text: str = "{}") -> str:
    return f'{{"format": "hark-project", "version": 1, "settings": {settings_text}, "transcript": {transcript_text}}}'


def write(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "bad.hark"
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def test_valid_project_round_trips(tmp_path):
    p = project.Project(valid_transcript(), {"engine": "whisper.cpp", "threads": 4})
    path = project.save(p, tmp_path / "ok.hark")
    back = project.load(path)
    assert back.transcript == p.transcript and back.settings == p.settings


@pytest.mark.parametrize(
    "path, raw, field",
    [
        (("words", 0, "id"), HUGE, "words[0].id"),
        (("words", 0, "start"), HUGE, "words[0].start"),
        (("words", 1, "start"), "1e308", "words[1].start"),
        (("words", 1, "start"), "-1.5", "words[1].start"),
        (("words", 1, "end"), "0.1", "words[1].end"),
        (("words", 2, "id"), "0", "words[2].id"),
        (("captions", 0, "words", 0), "99", "captions[0].words[0]"),
        (("words", 0, "start"), "NaN", "words[0].start"),
        (("words", 0, "start"), "Infinity", "words[0].start"),
        (("words", 0, "text"), "[]", "words[0].text"),
    ],
)
def test_project_with_hostile_transcript(tmp_path, path, raw, field):
    src = write(tmp_path, project_text(text_with(path, raw)))
    msg = one_line_error(ProjectFormatError, project.load, src)
    assert field in msg and str(src) in msg, msg


@pytest.mark.parametrize(
    "text, says",
    [
        ("[" * 100_000, "nested too deeply"),
        (project_text("{}", '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"), "nested too deeply"),
        (project_text("{}", '{"x": ' + HUGE + "}"), "settings.x"),
        (project_text("{}", '{"x": NaN}'), "settings.x"),
        (project_text("{}", '{"x": [1, -Infinity]}'), "settings.x[1]"),
        (project_text("{}", '"fast"'), "settings"),
        ("[]", "not a Hark project"),
        ("null", "not a Hark project"),
        ('{"format": "hark-project", "version": ' + HUGE + "}", "version"),
        (b"", "empty"),
        (b'{"format": "hark-project"\xff}', "UTF-8"),
        (project_text('"text"'), "not a Hark transcript"),
    ],
)
def test_hostile_project_file(tmp_path, text, says):
    src = write(tmp_path, text)
    msg = one_line_error(ProjectFormatError, project.load, src)
    assert says in msg, msg


def test_project_errors_are_transcript_format_errors():
    assert issubclass(ProjectFormatError, TranscriptFormatError)


# ---------------------------------------------------------------------------- fuzz

_junk_leaf: st.SearchStrategy[object] = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        -1,
        -1e-9,
        1e308,
        -1e308,
        1.5,
        2**63,
        -(2**63) - 1,
        "",
        "x",
        "\u00e9",
        "NaN",
        [],
        {},
        "@@HUGE@@",
        "@@NAN@@",
        "@@INF@@",
    ]
)
_junk = st.recursive(
    _junk_leaf,
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "start", "end", "words", "text", "x"]), kids, max_size=3)
    ),
    max_leaves=8,
)
_RAW = {'"@@HUGE@@"': HUGE, '"@@NAN@@"': "NaN", '"@@INF@@"': "-Infinity"}


def _paths(d: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, (*prefix, i))
    return out


def _to_python(d: Any) -> Any:
    """The mutated document as Python objects, markers made real (an int Python cannot print, NaN, -inf)."""
    if isinstance(d, dict):
        return {k: _to_python(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_to_python(v) for v in d]
    return (
        {"@@HUGE@@": 10**5000, "@@NAN@@": float("nan"), "@@INF@@": float("-inf")}.get(d, d) if isinstance(d, str) else d
    )


def _to_text(d: Any) -> str:
    text = json.dumps(d)
    for marker, raw in _RAW.items():
        text = text.replace(marker, raw)
    return text


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_fuzz_mutated_transcripts_load_or_fail_cleanly(data, tmp_path):
    d = valid_dict()
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        paths = _paths(d)
        path = data.draw(st.sampled_from(paths), label="path")
        parent: Any = d
        for k in path[:-1]:
            parent = parent[k]
        op = data.draw(st.sampled_from(["delete", "replace", "nest", "number"]), label="op")
        if op == "delete":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = data.draw(_junk, label="junk")
        elif op == "nest":
            parent[path[-1]] = [parent[path[-1]]] if data.draw(st.booleans()) else {"x": parent[path[-1]]}
        else:
            parent[path[-1]] = data.draw(
                st.integers(-(2**70), 2**70) | st.floats() | st.sampled_from(["@@HUGE@@"]), label="number"
            )
    if data.draw(st.booleans(), label="top level"):
        d = data.draw(st.sampled_from([[d], "x", 3, None]), label="wrapped")
    try:
        from_dict(_to_python(d))
    except TranscriptFormatError as e:
        assert "\n" not in str(e) and len(str(e)) < 400
    text = _to_text(d)
    try:
        t = loads(text)
    except TranscriptFormatError as e:
        assert "\n" not in str(e) and len(str(e)) < 400
        event("refused")
        return
    event("loaded")
    assert isinstance(t, Transcript)
    assert loads(dumps(t)) == t
    p = transcript_json.save(t, tmp_path / "fuzz.json")
    assert transcript_json.load(p) == t
    assert re.search(r'"format": "hark-transcript"', p.read_text(encoding="utf-8"))
