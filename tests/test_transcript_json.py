"""Transcript JSON: lossless round trips, versioning, and clear errors for bad files."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio.errors import HarkError
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
    validate,
)
from pipeline.transcripts.transcript_json import (
    FORMAT,
    VERSION,
    TranscriptFormatError,
    dumps,
    from_dict,
    load,
    loads,
    save,
    to_dict,
)
from pipeline.transcripts.transcript_schema import MAX_TIME


def full_transcript() -> Transcript:
    return Transcript(
        media=MediaRef(
            path="/home/zoë/Vidéos/interview – final.mp4", duration=3723.456789, sha256="9f" * 32, size=987654321
        ),
        language="de",
        provenance=Provenance(
            engine="whisper.cpp",
            engine_version="1.5.1",
            model="large-v3",
            model_sha256="ab" * 32,
            options={
                "beam_size": 5,
                "temperature": 0.2,
                "vad": True,
                "prompt": None,
                "nested": [1, [2.5, "x"], {"k": "ü"}],
            },
            hark_version="0.1.0",
        ),
        words=[
            Word(0, "Grüß", 0.1, 0.4, 0.93, "Sprecher 1"),
            Word(1, "Gott,", 0.4, 0.72, None, "Sprecher 1"),
            Word(2, "naïve", 1.0000000000000002, 1.3, 1.0, None),
            Word(3, "日本語", 1.4, 1.9, 0.0, "B"),
            Word(4, '"quoted"\n\t\\', 2.0, 2.0, 0.5, "B"),
            Word(5, "🎉", 2.0000000000000004, 999999.9999999999, 1e-300, "B"),  # times are bounded: 0 ≤ t ≤ 1e6
        ],
        captions=[
            Caption(0.1, 0.9, [0, 1], ["Grüß Gott,"], "Sprecher 1"),
            Caption(1.0, 1.9, [2, 3], ["naïve", "日本語"], None),
            Caption(2.0, 2.8, [4, 5], ['"quoted"\n\t\\ 🎉'], "B"),
        ],
        edits=Edits(corrections=[Correction(1, "Gott!"), Correction(3, "")], cuts=[Cut(0.0, 0.1), Cut(1.9, 2.0)]),
        created="2024-05-01T12:34:56Z",
        warnings=["low confidence in 12% of words", "språk: tysk"],
    )


def minimal_transcript() -> Transcript:
    return Transcript(
        media=MediaRef("a.wav", 1.5, "00" * 32), language=None, provenance=Provenance("pocketsphinx", "5.0", "en-us")
    )


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("make", [full_transcript, minimal_transcript])
def test_round_trip_in_memory(make):
    t = make()
    text = dumps(t)
    assert loads(text) == t
    assert from_dict(to_dict(t)) == t
    assert loads(dumps(t, indent=None)) == t
    # stable: a second trip writes the same bytes
    assert dumps(loads(text)) == text


@pytest.mark.parametrize("make", [full_transcript, minimal_transcript])
def test_round_trip_through_file(tmp_path, make):
    t = make()
    p = save(t, tmp_path / "sub" / "t.hark.json")
    assert p == tmp_path / "sub" / "t.hark.json"
    assert load(p) == t
    assert load(str(p)) == t
    assert p.read_text(encoding="utf-8").endswith("}\n")
    assert [x.name for x in p.parent.iterdir()] == ["t.hark.json"]  # no temp file left


def test_file_is_utf8_and_readable_json(tmp_path):
    p = save(full_transcript(), tmp_path / "t.json")
    raw = p.read_bytes()
    assert "Grüß".encode() in raw  # written as text, not \\u escapes
    d = json.loads(raw.decode("utf-8"))
    assert d["format"] == FORMAT and d["version"] == VERSION
    assert d["words"][1] == {"id": 1, "text": "Gott,", "start": 0.4, "end": 0.72, "p": None, "speaker": "Sprecher 1"}
    assert d["edits"] == {
        "corrections": [{"word": 1, "text": "Gott!"}, {"word": 3, "text": ""}],
        "cuts": [{"start": 0.0, "end": 0.1}, {"start": 1.9, "end": 2.0}],
        "inserted": [],
        "retimed": [],
    }


def test_version_1_files_load_with_no_inserted_or_retimed_words():
    d = json.loads(dumps(full_transcript()))
    d["version"] = 1
    del d["edits"]["inserted"], d["edits"]["retimed"]
    t = loads(json.dumps(d))
    assert t.edits.inserted == [] and t.edits.retimed == []
    assert t.edits.corrections == full_transcript().edits.corrections


def test_floats_are_exact():
    t = full_transcript()
    back = loads(dumps(t))
    for a, b in zip(t.words, back.words):
        assert (a.start, a.end, a.probability) == (b.start, b.end, b.probability)
        assert repr(a.start) == repr(b.start)
    assert back.media.duration == 3723.456789


def test_round_trip_keeps_validity():
    t = full_transcript()
    validate(t)
    validate(loads(dumps(t)))


def test_optional_fields_may_be_absent():
    d = to_dict(minimal_transcript())
    for key in ("created", "language", "captions", "edits", "warnings"):
        d.pop(key)
    for key in ("model_sha256", "options", "hark_version"):
        d["provenance"].pop(key)
    d["media"].pop("size")
    d["words"] = [{"id": 0, "text": "hi", "start": 0.0, "end": 0.2}]
    t = from_dict(d)
    assert t.created == "" and t.language is None and t.captions == [] and t.edits == Edits() and t.warnings == []
    assert t.provenance.options == {} and t.provenance.hark_version == "" and t.provenance.model_sha256 is None
    assert t.media.size is None
    assert t.words == [Word(0, "hi", 0.0, 0.2, None, None)]


def test_loaded_lists_are_independent_copies():
    d = to_dict(full_transcript())
    t = from_dict(d)
    t.warnings.append("x")
    t.captions[0].lines.append("y")
    t.provenance.options["new"] = 1
    assert "x" not in d["warnings"] and "y" not in d["captions"][0]["lines"] and "new" not in d["provenance"]["options"]


# ---------------------------------------------------------------------------- property

finite = st.floats(allow_nan=False, allow_infinity=False)
opt_text = st.none() | st.text()
json_scalar = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | finite | st.text()
json_value = st.recursive(
    json_scalar,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

# Times lie in [0, MAX_TIME] with end ≥ start, ids are unique across words and inserted words,
# and captions and edits name existing words: the loader refuses anything else
# (tests/test_loader_hostile.py).
time_st = st.floats(0, MAX_TIME)
span_st = st.tuples(time_st, time_st).map(sorted)


def word_st(ids: st.SearchStrategy[int]) -> st.SearchStrategy[Word]:
    return st.builds(
        lambda i, text, se, p, spk: Word(i, text, se[0], se[1], p, spk),
        ids,
        st.text(),
        span_st,
        st.none() | finite,
        opt_text,
    )


@st.composite
def transcripts(draw: st.DrawFn) -> Transcript:
    ids = draw(st.lists(st.integers(0, 10**12), unique=True, max_size=16))
    n_words = draw(st.integers(0, len(ids)))
    words = [draw(word_st(st.just(i))) for i in ids[:n_words]]
    inserted = [draw(word_st(st.just(i))) for i in ids[n_words:]]
    known = st.sampled_from(ids) if ids else st.nothing()
    few = 4 if ids else 0
    captions = draw(
        st.lists(
            st.builds(
                lambda se, w, lines, spk: Caption(se[0], se[1], w, lines, spk),
                span_st,
                st.lists(known, max_size=5 if ids else 0),
                st.lists(st.text(), max_size=3),
                opt_text,
            ),
            max_size=4,
        )
    )
    edits = Edits(
        corrections=draw(st.lists(st.builds(Correction, word_id=known, text=st.text()), max_size=few)),
        cuts=draw(st.lists(span_st.map(lambda se: Cut(se[0], se[1])), max_size=4)),
        inserted=inserted,
        retimed=draw(st.lists(st.builds(lambda i, se: Retime(i, se[0], se[1]), known, span_st), max_size=few)),
    )
    return Transcript(
        media=draw(
            st.builds(
                MediaRef, path=st.text(), duration=time_st, sha256=st.text(), size=st.none() | st.integers(0, 2**64)
            )
        ),
        language=draw(opt_text),
        provenance=draw(
            st.builds(
                Provenance,
                engine=st.text(),
                engine_version=st.text(),
                model=st.text(),
                model_sha256=opt_text,
                options=st.dictionaries(st.text(), json_value, max_size=5),
                hark_version=st.text(),
            )
        ),
        words=words,
        captions=captions,
        edits=edits,
        created=draw(st.text()),
        warnings=draw(st.lists(st.text(), max_size=3)),
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(t=transcripts())
def test_property_round_trip(t, tmp_path):
    assert loads(dumps(t)) == t
    assert loads(dumps(t, indent=None)) == t
    p = save(t, tmp_path / "prop.json")
    assert load(p) == t
    # floats come back bit for bit (-0.0 included), not merely equal
    back = load(p)
    assert [(math.copysign(1, w.start), w.start.hex()) for w in back.words] == [
        (math.copysign(1, w.start), float(w.start).hex()) for w in t.words
    ]
    assert sorted(os.listdir(tmp_path)) == ["prop.json"]


@settings(max_examples=50, deadline=None)
@given(
    t=transcripts(),
    bad=st.sampled_from([math.nan, math.inf, -math.inf]),
    where=st.sampled_from(["start", "end", "p", "duration", "option"]),
)
def test_property_non_finite_refused(t, bad, where):
    if where == "start":
        t.words.append(Word(99, "x", bad, 1.0))
    elif where == "end":
        t.words.append(Word(99, "x", 0.0, bad))
    elif where == "p":
        t.words.append(Word(99, "x", 0.0, 1.0, bad))
    elif where == "duration":
        t.media.duration = bad
    else:
        t.provenance.options["x"] = [1, {"y": bad}]
    with pytest.raises(TranscriptFormatError, match="non-finite"):
        dumps(t)


# ---------------------------------------------------------------------------- errors


def test_nan_word_time_refused_by_dumps_and_save(tmp_path):
    t = full_transcript()
    t.words[2].start = float("nan")
    with pytest.raises(TranscriptFormatError, match="non-finite"):
        dumps(t)
    with pytest.raises(TranscriptFormatError):
        save(t, tmp_path / "t.json")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temp file


@pytest.mark.parametrize("text", ["", "not json", "{", "[1, 2", "{'format': 'hark-transcript'}", "\x00"])
def test_not_json(text):
    with pytest.raises(TranscriptFormatError, match="not valid JSON"):
        loads(text)


@pytest.mark.parametrize(
    "doc",
    [
        [],
        [1],
        "hark-transcript",
        1,
        None,
        {},
        {"format": "srt", "version": 1},
        {"version": 1},
        {"format": "Hark-Transcript", "version": 1},
    ],
)
def test_not_a_hark_transcript(doc):
    with pytest.raises(TranscriptFormatError, match="not a Hark transcript"):
        loads(json.dumps(doc))


def test_newer_version_refused():
    d = to_dict(full_transcript())
    d["version"] = VERSION + 1
    with pytest.raises(TranscriptFormatError, match="newer") as info:
        loads(json.dumps(d))
    assert str(VERSION + 1) in str(info.value)
    d["version"] = VERSION + 1000
    with pytest.raises(TranscriptFormatError, match="newer"):
        from_dict(d)


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, None, [1]])
def test_bad_version(version):
    d = to_dict(minimal_transcript())
    d["version"] = version
    with pytest.raises(TranscriptFormatError, match="bad transcript version"):
        from_dict(d)


def test_missing_version():
    d = to_dict(minimal_transcript())
    del d["version"]
    with pytest.raises(TranscriptFormatError, match="version"):
        from_dict(d)


def _drop(path: tuple):
    def f(d):
        target = d
        for k in path[:-1]:
            target = target[k]
        del target[path[-1]]

    return f


@pytest.mark.parametrize(
    "path",
    [
        ("media",),
        ("provenance",),
        ("words",),
        ("media", "path"),
        ("media", "duration"),
        ("media", "sha256"),
        ("provenance", "engine"),
        ("provenance", "engine_version"),
        ("provenance", "model"),
        ("words", 0, "id"),
        ("words", 0, "text"),
        ("words", 0, "start"),
        ("words", 0, "end"),
        ("captions", 0, "start"),
        ("captions", 0, "end"),
        ("captions", 0, "words"),
        ("captions", 0, "lines"),
        ("edits", "corrections", 0, "word"),
        ("edits", "corrections", 0, "text"),
        ("edits", "cuts", 0, "start"),
        ("edits", "cuts", 0, "end"),
    ],
)
def test_missing_required_field(path):
    d = json.loads(dumps(full_transcript()))
    _drop(path)(d)
    with pytest.raises(TranscriptFormatError, match="missing or has a malformed field"):
        loads(json.dumps(d))


@pytest.mark.parametrize(
    "key, value",
    [
        ("words", None),
        ("words", 5),
        ("words", [1]),
        ("words", ["w"]),
        ("media", "a.wav"),
        ("media", None),
        ("provenance", []),
        ("captions", [{"start": 0, "end": 1, "words": 5, "lines": []}]),
        ("captions", None),
    ],
)
def test_malformed_field(key, value):
    d = to_dict(full_transcript())
    d[key] = value
    with pytest.raises(TranscriptFormatError):
        from_dict(d)


def test_load_missing_file(tmp_path):
    with pytest.raises(TranscriptFormatError, match="no such file"):
        load(tmp_path / "nope.json")


def test_errors_are_hark_errors():
    assert issubclass(TranscriptFormatError, HarkError)


# --- malformed input always gives a TranscriptFormatError


@pytest.mark.parametrize("edits", [[1], "cuts"])
def test_malformed_edits(edits):
    d = to_dict(minimal_transcript())
    d["edits"] = edits
    with pytest.raises(TranscriptFormatError):
        from_dict(d)


def test_malformed_options():
    d = to_dict(minimal_transcript())
    d["provenance"]["options"] = "ab"
    with pytest.raises(TranscriptFormatError):
        from_dict(d)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_loads_refuses_non_finite(literal):
    text = dumps(full_transcript()).replace('"start": 0.1', f'"start": {literal}', 1)
    assert literal in text
    with pytest.raises(TranscriptFormatError):
        loads(text)


@pytest.mark.parametrize("kind", ["binary", "directory"])
def test_load_unreadable(tmp_path, kind):
    p = tmp_path / "t.json"
    if kind == "binary":
        p.write_bytes(b"\xff\xfe\x00\x81 not utf-8")
    else:
        p.mkdir()
    with pytest.raises(HarkError):
        load(p)
