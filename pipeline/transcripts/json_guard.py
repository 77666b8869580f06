"""Reading JSON from files Hark did not necessarily write: bounded, and every failure one clear line.

`read_text` refuses empty, oversized and non-UTF-8 files; `parse` turns integer literals too long
to convert into `BigNumber` (Python would raise on them) and deep nesting into `JsonInputError`;
`check_value` vets free-form values (provenance options, project settings) and names the bad part.
NaN and Infinity literals are parsed to floats here and refused by whoever checks the value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_BYTES = 200 * 1024 * 1024  # a 10-hour transcript is ~30 MB
MAX_INT_CHARS = 40  # sign and digits of an integer literal; 2**64 has 20 digits
MAX_DEPTH = 32  # nesting inside a free-form value
MAX_NODES = 100_000  # values inside one free-form value
MAX_STR = 100_000


class JsonInputError(ValueError):
    """The text cannot be read as JSON Hark would accept; the message is one short phrase."""


class JsonValueError(ValueError):
    """A free-form value that is not plain, finite, bounded JSON. `where` is the path inside it."""

    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}" if where else problem)


class BigNumber:
    """Stands for an integer literal too long to be a number Hark writes."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<{self.digits}-digit number>"


def read_text(path: Path) -> str:
    """The file's text. OSError (FileNotFoundError included) passes through for the caller to word."""
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if not raw:
        raise JsonInputError("the file is empty")
    if len(raw) > MAX_BYTES:
        raise JsonInputError(f"the file is too large (over {MAX_BYTES // (1024 * 1024)} MB)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonInputError("not UTF-8 text") from None


def _int(text: str) -> int | BigNumber:
    return BigNumber(len(text.lstrip("-"))) if len(text) > MAX_INT_CHARS else int(text)


def parse(text: str) -> Any:
    """json.loads with bounded integers and nesting. Raises json.JSONDecodeError or JsonInputError."""
    try:
        return json.loads(text, parse_int=_int, parse_float=float, parse_constant=float)
    except RecursionError:
        raise JsonInputError("JSON nested too deeply") from None


def big_int_problem(v: object) -> str | None:
    """Why `v` is a number too large to handle, or None."""
    if isinstance(v, BigNumber):
        return f"is a {v.digits}-digit number, too large"
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
        return f"is a number of {v.bit_length()} bits, too large"
    return None


def show(v: object) -> str:
    """A short repr of a hostile value for a message: never a 5000-digit number or a whole list."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 64:
        return f"<{int(v.bit_length() * 0.30103) + 1}-digit number>"
    r = f"<{type(v).__name__} of {len(v)}>" if isinstance(v, (list, dict)) else repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def text_problem(s: str) -> str | None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (\\ud800-\\udfff), which is not text"
    return None


def join(where: str, key: object) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    name = str(key)
    return f"{where}.{name[:40]}{'…' if len(name) > 40 else ''}" if where else name


def check_value(value: object, where: str = "") -> None:
    """Raise JsonValueError unless `value` is plain JSON: finite numbers, bounded size and depth."""
    stack: list[tuple[object, str, int]] = [(value, where, 0)]
    nodes = 0
    while stack:
        v, at, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise JsonValueError(where, f"holds more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise JsonValueError(at, f"nested too deeply (more than {MAX_DEPTH} levels)")
        problem = big_int_problem(v)
        if problem:
            raise JsonValueError(at, problem)
        if v is None or isinstance(v, (bool, int)):
            continue
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise JsonValueError(at, "should be a finite number")
        elif isinstance(v, str):
            problem = text_problem(v) if len(v) <= MAX_STR else f"is longer than {MAX_STR} characters"
            if problem:
                raise JsonValueError(at, problem)
        elif isinstance(v, list):
            stack.extend((x, join(at, i), depth + 1) for i, x in enumerate(v))
        elif isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str):
                    raise JsonValueError(at, f"has a key that is not text ({type(k).__name__})")
                stack.append((k, join(at, k), depth + 1))
                stack.append((x, join(at, k), depth + 1))
        else:
            raise JsonValueError(at, f"should be plain JSON, not {type(v).__name__}")
