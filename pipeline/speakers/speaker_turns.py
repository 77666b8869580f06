"""Speaker turns ("who spoke when") and the NIST RTTM files that carry them.

An RTTM speaker line reads

    SPEAKER <file> <channel> <start> <duration> <NA> <NA> <name> <NA> <NA>

(whitespace-separated; the last field is missing in some tools' output).
Other line types (SPKR-INFO, LEXEME, ...), blank lines and comment lines
starting with `#` or `;;` are skipped. A malformed SPEAKER line is refused with
an RttmError naming the line, never skipped: a silently dropped turn would
hand its words to another speaker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from audio.errors import HarkError
from pipeline.atomic_write import write_text_atomic


class RttmError(HarkError, ValueError):
    """An RTTM file or line that cannot be used; `line` is 1-based (None: the file as a whole)."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Turn:
    start: float  # seconds in the source media
    end: float
    speaker: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)) or self.end < self.start:
            raise ValueError(f"turn has bad times {self.start}..{self.end}")
        if not self.speaker:
            raise ValueError("turn has no speaker")

    @property
    def duration(self) -> float:
        return self.end - self.start


def speakers(turns: list[Turn]) -> list[str]:
    """The distinct speakers, in order of first appearance."""
    return list(dict.fromkeys(t.speaker for t in turns))


def _number(text: str, what: str, source: str, line: int) -> float:
    try:
        x = float(text)
    except ValueError:
        raise RttmError(source, line, f"{what} {text!r} is not a number") from None
    if not math.isfinite(x) or x < 0:
        raise RttmError(source, line, f"{what} {text!r} must be a finite number ≥ 0")
    return x


def parse_rttm_by_file(text: str, source: str = "RTTM") -> dict[str, list[Turn]]:
    """Every recording's turns (file id → turns sorted by start), from RTTM text."""
    out: dict[str, list[Turn]] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";;")):
            continue
        fields = line.split()
        if fields[0] != "SPEAKER":
            if fields[0].isupper():  # another RTTM line type; not about speaker turns
                continue
            raise RttmError(source, n, f"expected a SPEAKER line, got {fields[0]!r}")
        if len(fields) < 8:
            raise RttmError(source, n, f"a SPEAKER line needs at least 8 fields, got {len(fields)}")
        start = _number(fields[3], "start", source, n)
        duration = _number(fields[4], "duration", source, n)
        name = fields[7]
        if name in ("<NA>", "NA"):
            raise RttmError(source, n, "the speaker name is missing")
        out.setdefault(fields[1], []).append(Turn(start, start + duration, name))
    for turns in out.values():
        turns.sort(key=lambda t: (t.start, t.end))
    return out


def parse_rttm(text: str, file_id: str | None = None, source: str = "RTTM") -> list[Turn]:
    """The turns of one recording. Without `file_id` the text must describe at most one recording."""
    by_file = parse_rttm_by_file(text, source)
    if file_id is not None:
        if file_id not in by_file:
            raise RttmError(source, None, f"no turns for recording {file_id!r} (it has {', '.join(by_file) or 'none'})")
        return by_file[file_id]
    if len(by_file) > 1:
        raise RttmError(source, None, f"holds several recordings ({', '.join(by_file)}); name one")
    return next(iter(by_file.values()), [])


def read_rttm(path: str | Path, file_id: str | None = None) -> list[Turn]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RttmError(str(p), None, f"cannot be read ({e})") from e
    return parse_rttm(text, file_id, source=str(p))


def _fmt(x: float) -> str:
    # Microseconds: far finer than any diarizer, and short enough to read.
    s = f"{x:.6f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def _token(value: str, what: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise RttmError("RTTM", None, f"{what} {value!r} cannot be written: RTTM fields hold no spaces")
    return value


def format_rttm(turns: list[Turn], file_id: str = "file") -> str:
    """RTTM text for one recording's turns, in time order."""
    fid = _token(file_id, "recording id")
    lines = [
        f"SPEAKER {fid} 1 {_fmt(t.start)} {_fmt(t.end - t.start)} <NA> <NA> {_token(t.speaker, 'speaker name')} <NA> <NA>"
        for t in sorted(turns, key=lambda t: (t.start, t.end))
    ]
    return "".join(ln + "\n" for ln in lines)


def write_rttm(path: str | Path, turns: list[Turn], file_id: str = "file") -> Path:
    return write_text_atomic(path, format_rttm(turns, file_id))
