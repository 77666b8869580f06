"""Caption and text exports: SRT, WebVTT (optionally word-highlighted), TXT, JSON."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path

from pipeline.atomic_write import write_text_atomic
from pipeline.transcripts import transcript_json
from pipeline.transcripts.transcript import Caption, Transcript, Word, join_words

FORMATS = ("srt", "vtt", "txt", "json")
PARAGRAPH_PAUSE = 2.0  # seconds of silence that start a new TXT paragraph


def _ms(t: float) -> int:
    return max(0, round(t * 1000))


def _clock(t: float, sep: str) -> str:
    ms = _ms(t)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_time(t: float) -> str:
    return _clock(t, ",")


def vtt_time(t: float) -> str:
    return _clock(t, ".")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_srt(t: Transcript) -> str:
    blocks = []
    for i, c in enumerate(t.captions, 1):
        lines = list(c.lines)
        if c.speaker and lines:
            lines[0] = f"{c.speaker}: {lines[0]}"
        blocks.append(f"{i}\n{srt_time(c.start)} --> {srt_time(c.end)}\n" + "\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def to_vtt(t: Transcript, *, highlight_words: bool = False) -> str:
    words = t.word_by_id()
    out = ["WEBVTT", ""]
    for c in t.captions:
        out.append(f"{vtt_time(c.start)} --> {vtt_time(c.end)}")
        body = _karaoke_lines(c, words) if highlight_words else [_vtt_escape(ln) for ln in c.lines]
        if c.speaker and body:
            body[0] = f"<v {_vtt_escape(c.speaker)}>{body[0]}"
        out.extend(body)
        out.append("")
    return "\n".join(out)


def _karaoke_lines(c: Caption, words: dict[int, Word]) -> list[str]:
    """Each word after the first gets a WebVTT timestamp tag, so players can highlight it as it is spoken.

    WebVTT wants tags strictly inside the cue and strictly rising, compared as
    written (whole milliseconds); a word that would break that shares the tag before it.
    """
    timed = [words[i] for i in c.word_ids if i in words]
    lines: list[str] = []
    k = 0
    last_ms, end_ms = _ms(c.start), _ms(c.end)
    for line in c.lines:
        parts: list[str] = []
        pos = 0
        while pos < len(line):
            if line[pos] == " ":
                parts.append(" ")
                pos += 1
            elif k < len(timed) and timed[k].text and line.startswith(timed[k].text, pos):
                w = timed[k]
                k += 1
                pos += len(w.text)
                tag = ""
                if last_ms < _ms(w.start) < end_ms:
                    last_ms = _ms(w.start)
                    tag = f"<{vtt_time(w.start)}>"
                parts.append(f"{tag}<c>{_vtt_escape(w.text)}</c>")
            else:  # text edited apart from its words: show it plain
                stop = line.find(" ", pos)
                stop = len(line) if stop < 0 else stop
                parts.append(_vtt_escape(line[pos:stop]))
                pos = stop
        lines.append("".join(parts))
    return lines


def to_txt(t: Transcript) -> str:
    """Flowing text in paragraphs, split at speaker changes and long pauses."""
    paragraphs: list[tuple[str | None, list[str]]] = []
    prev_end: float | None = None
    for c in t.captions:
        new = (
            not paragraphs
            or c.speaker != paragraphs[-1][0]
            or (prev_end is not None and c.start - prev_end > PARAGRAPH_PAUSE)
        )
        if new:
            paragraphs.append((c.speaker, []))
        paragraphs[-1][1].append(join_words(c.lines, t.language))
        prev_end = c.end
    out = []
    for speaker, parts in paragraphs:
        text = join_words(parts, t.language)
        out.append(f"{speaker}: {text}" if speaker else text)
    return "\n\n".join(out) + ("\n" if out else "")


def to_json(t: Transcript) -> str:
    return transcript_json.dumps(t) + "\n"


RENDERERS: dict[str, Callable[[Transcript], str]] = {"srt": to_srt, "vtt": to_vtt, "txt": to_txt, "json": to_json}


def free_stem(
    folder: Path, stem: str, formats: list[str] | tuple[str, ...], taken: AbstractSet[Path] = frozenset()
) -> Path:
    """`folder/stem`, or `stem-2`, `stem-3`, ... so that no `stem.FORMAT` exists yet (or is in `taken`).

    Exports never replace a file that is already there: next to the media it
    may be the user's own transcript or captions.
    """
    candidate, n = folder / stem, 2
    while any(
        candidate.with_name(f"{candidate.name}.{f}") in taken or candidate.with_name(f"{candidate.name}.{f}").exists()
        for f in formats
    ):
        candidate = folder / f"{stem}-{n}"
        n += 1
    return candidate


def export(t: Transcript, fmt: str, path: str | Path, *, highlight_words: bool = False) -> Path:
    if fmt == "vtt" and highlight_words:
        return write_text_atomic(path, to_vtt(t, highlight_words=True))
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return write_text_atomic(path, RENDERERS[fmt](t))
