"""The transcript file's schema (docs/transcript-format.md) as strict, bounded pydantic-validated TypedDicts.

`parse` checks a decoded JSON object against it, ids included (unique across words and
inserted words; captions, corrections and retimes name words that exist), and raises
SchemaError naming the first bad field, e.g. "words[3].start: must be ≥ 0". Unknown keys
are ignored, as the format promises old readers may. The caller maps the result to
pipeline.transcripts.transcript's dataclasses.
"""

from __future__ import annotations

from typing import (
    Annotated,
    Any,
    NotRequired,  # pydantic needs typing_extensions' TypedDict before 3.12
)

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from pipeline.transcripts.json_guard import JsonValueError, big_int_problem, check_value, join

MAX_TIME = 1e6  # seconds (11.5 days): far beyond any media Hark transcribes
MAX_ID = 2**53
MAX_WORDS = 2_000_000  # a 10-hour talk is ~100k words
MAX_SHORT = 10_000  # characters of a label, version, hash or speaker name
MAX_TEXT = 100_000  # characters of a word, line, path or warning
MAX_LINES = 1_000
MAX_CAPTION_WORDS = 100_000
MAX_WARNINGS = 10_000


class SchemaError(ValueError):
    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}" if where else problem)


def _json(v: dict[str, Any] | None) -> dict[str, Any] | None:
    check_value(v)
    return v


Time = Annotated[float, Field(ge=0, le=MAX_TIME, allow_inf_nan=False)]
Id = Annotated[int, Field(ge=0, le=MAX_ID)]
# Any text: the pattern only makes pydantic read the string as UTF-8, which refuses lone surrogates
# (a file holding "\ud800" would load but could never be saved).
Short = Annotated[str, Field(max_length=MAX_SHORT, pattern="^")]
Text = Annotated[str, Field(max_length=MAX_TEXT, pattern="^")]
Options = Annotated[dict[str, Any] | None, AfterValidator(_json)]


_CONFIG = ConfigDict(strict=True, extra="ignore")  # unknown keys: ignored, as the format promises


@with_config(_CONFIG)
class WordDoc(TypedDict):
    id: Id
    text: Text
    start: Time
    end: Time  # ≥ start: checked in _check_spans, far cheaper than a validator per word
    p: NotRequired[Annotated[float, Field(allow_inf_nan=False)] | None]
    speaker: NotRequired[Short | None]
    rough: NotRequired[bool]
    suspect: NotRequired[Short | None]


@with_config(_CONFIG)
class CaptionDoc(TypedDict):
    start: Time
    end: Time
    words: Annotated[list[Id], Field(max_length=MAX_CAPTION_WORDS)]
    lines: Annotated[list[Text], Field(max_length=MAX_LINES)]
    speaker: NotRequired[Short | None]


@with_config(_CONFIG)
class CorrectionDoc(TypedDict):
    word: Id
    text: Text


@with_config(_CONFIG)
class CutDoc(TypedDict):
    start: Time
    end: Time


@with_config(_CONFIG)
class RetimeDoc(TypedDict):
    word: Id
    start: Time
    end: Time
    aligned: NotRequired[bool]


@with_config(_CONFIG)
class EditsDoc(TypedDict):
    corrections: NotRequired[Annotated[list[CorrectionDoc], Field(max_length=MAX_WORDS)]]
    cuts: NotRequired[Annotated[list[CutDoc], Field(max_length=MAX_WORDS)]]
    inserted: NotRequired[Annotated[list[WordDoc], Field(max_length=MAX_WORDS)]]
    retimed: NotRequired[Annotated[list[RetimeDoc], Field(max_length=MAX_WORDS)]]


@with_config(_CONFIG)
class MediaDoc(TypedDict):
    path: Text
    duration: Time
    sha256: Short
    size: NotRequired[Annotated[int, Field(ge=0, le=2**64)] | None]


@with_config(_CONFIG)
class ProvenanceDoc(TypedDict):
    engine: Short
    engine_version: Short
    model: Short
    model_sha256: NotRequired[Short | None]
    options: NotRequired[Options]
    hark_version: NotRequired[Short]


@with_config(_CONFIG)
class TranscriptDoc(TypedDict):
    created: NotRequired[Short]
    media: MediaDoc
    language: NotRequired[Short | None]
    provenance: ProvenanceDoc
    words: Annotated[list[WordDoc], Field(max_length=MAX_WORDS)]
    captions: NotRequired[Annotated[list[CaptionDoc], Field(max_length=MAX_WORDS)]]
    edits: NotRequired[EditsDoc | None]  # null or absent: no edits
    warnings: NotRequired[Annotated[list[Text], Field(max_length=MAX_WARNINGS)]]


_ADAPTER = TypeAdapter(TranscriptDoc)  # TypedDicts, not models: validating 100k words is 5x faster


def parse(d: object) -> TranscriptDoc:
    """The validated document, or SchemaError naming the first bad field."""
    try:
        doc = _ADAPTER.validate_python(d)
    except ValidationError as e:
        where, problem = _describe(e.errors(include_url=False))
        raise SchemaError(where, problem) from None  # the pydantic error would print the hostile input
    _check_spans(doc)
    _check_ids(doc)
    return doc


def _check_spans(doc: TranscriptDoc) -> None:
    edits = doc.get("edits") or {}
    spans: list[tuple[str, list[Any]]] = [
        ("words", doc["words"]),
        ("captions", doc.get("captions", [])),
        ("edits.cuts", edits.get("cuts", [])),
        ("edits.inserted", edits.get("inserted", [])),
        ("edits.retimed", edits.get("retimed", [])),
    ]
    for name, items in spans:
        for i, x in enumerate(items):
            if x["end"] < x["start"]:
                raise SchemaError(f"{name}[{i}].end", f"must be ≥ start ({x['start']!r}), not {x['end']!r}")


def _check_ids(doc: TranscriptDoc) -> None:
    edits = doc.get("edits") or {}
    seen: dict[int, str] = {}
    for name, words in (("words", doc["words"]), ("edits.inserted", edits.get("inserted", []))):
        for i, w in enumerate(words):
            if w["id"] in seen:
                raise SchemaError(f"{name}[{i}].id", f"duplicate id {w['id']} (also {seen[w['id']]})")
            seen[w["id"]] = f"{name}[{i}]"
    refs = [
        (f"captions[{i}].words[{j}]", wid)
        for i, c in enumerate(doc.get("captions", []))
        for j, wid in enumerate(c["words"])
    ]
    refs += [(f"edits.corrections[{i}].word", c["word"]) for i, c in enumerate(edits.get("corrections", []))]
    refs += [(f"edits.retimed[{i}].word", r["word"]) for i, r in enumerate(edits.get("retimed", []))]
    for where, wid in refs:
        if wid not in seen:
            raise SchemaError(where, f"no word has id {wid}")


_KINDS = {
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "dict_type": "an object",
    "list_type": "a list",
}


def _kind(v: object) -> str:
    if v is None:
        return "null"
    for t, name in (
        (bool, "true/false"),
        (int, "an integer"),
        (float, "a number"),
        (str, "text"),
        (list, "a list"),
        (dict, "an object"),
    ):
        if isinstance(v, t):
            return name
    return type(v).__name__


def _bound(x: object) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _describe(errors: list[Any]) -> tuple[str, str]:
    err = errors[0]
    where = ""
    for key in err["loc"]:
        where = join(where, key)
    typ, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    big = big_int_problem(value)
    if big:
        return where, big
    if typ == "value_error" and isinstance(ctx.get("error"), JsonValueError):
        inner: JsonValueError = ctx["error"]
        sep = "" if not inner.where or inner.where.startswith("[") else "."
        return f"{where}{sep}{inner.where}", inner.problem
    if typ == "missing":
        return where, "is missing"
    if typ in _KINDS:
        return where, f"should be {_KINDS[typ]}, not {_kind(value)}"
    if typ == "string_unicode":
        return where, "is not text (it holds a lone surrogate, \\ud800-\\udfff)"
    if typ == "finite_number":
        return where, "should be a finite number"
    if typ == "greater_than_equal":
        return where, f"must be ≥ {_bound(ctx['ge'])}"
    if typ == "less_than_equal":
        return where, f"must be ≤ {_bound(ctx['le'])}"
    if typ in ("string_too_long", "too_long"):
        return where, f"is too long (at most {ctx['max_length']})"
    return where, str(err["msg"])
