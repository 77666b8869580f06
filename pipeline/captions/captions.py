"""Readable captions from timed words.

Rules (all in CaptionRules): at most `max_lines` lines of `max_line_chars`
characters; on screen between `min_duration` and `max_duration` seconds; a new
caption at sentence ends, at pauses longer than `pause_split`, and when the
speaker changes; never held on screen across a long silence.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.transcripts.transcript import NO_SPACE_LANGUAGES, Caption, Word

SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
CLAUSE_END = (",", ";", ":", "—", "–", "、", "，", "；")


@dataclass(frozen=True)
class CaptionRules:
    max_line_chars: int = 42
    max_lines: int = 2
    min_duration: float = 0.8
    max_duration: float = 7.0
    pause_split: float = 0.5


def _ends(text: str, marks: tuple[str, ...]) -> bool:
    return text.rstrip("\"')]»”’").endswith(marks)


def wrap_lines(words: list[str], rules: CaptionRules, sep: str = " ", reserve: int = 0) -> list[str] | None:
    """Split words into at most max_lines balanced lines; None if they cannot fit.

    `reserve` characters of the first line are taken by what exports put before it (the
    speaker's "NAME: "). A single word longer than a line is allowed on its own.
    """
    if not words:
        return []
    whole = sep.join(words)
    if len(whole) + reserve <= rules.max_line_chars or len(words) == 1:
        return [whole]
    if rules.max_lines < 2:
        return None
    best: tuple[float, list[str]] | None = None
    for i in range(1, len(words)):
        first, rest = sep.join(words[:i]), words[i:]
        if len(first) + reserve > rules.max_line_chars and i > 1:
            break
        tail = wrap_lines(rest, CaptionRules(rules.max_line_chars, rules.max_lines - 1), sep)
        if tail is None:
            continue
        lines = [first, *tail]
        # Balanced lines read best (as shown, the speaker's name included); a break after
        # punctuation is worth a few characters.
        shown = [len(first) + reserve, *map(len, tail)]
        score = max(shown) - min(shown)
        if _ends(words[i - 1], SENTENCE_END + CLAUSE_END):
            score -= 8
        if best is None or score < best[0]:
            best = (score, lines)
    return best[1] if best else None


def speaker_reserve(speaker: str | None) -> int:
    """Characters the exports put before a caption's first line: SRT's "NAME: "."""
    return len(speaker) + 2 if speaker else 0


def build_captions(
    words: list[Word], rules: CaptionRules = CaptionRules(), language: str | None = None
) -> list[Caption]:
    sep = "" if (language or "") in NO_SPACE_LANGUAGES else " "
    groups: list[list[Word]] = []
    group: list[Word] = []

    def fits(ws: list[Word]) -> bool:
        return wrap_lines([w.text for w in ws], rules, sep, speaker_reserve(ws[0].speaker)) is not None

    for w in words:
        if not w.text:
            continue
        if group and _must_break(group, w, rules):
            groups.append(group)
            group = []
        if group and not fits([*group, w]):
            # Prefer to move a short clause tail to the next caption over a ragged break.
            cut = _clause_cut(group)
            if cut is not None:
                groups.append(group[:cut])
                group = group[cut:]
            if not fits([*group, w]):
                groups.append(group)
                group = []
        group.append(w)
    if group:
        groups.append(group)

    captions = [
        Caption(
            start=g[0].start,
            end=max(x.end for x in g),
            word_ids=[x.id for x in g],
            lines=(
                wrap_lines([x.text for x in g], rules, sep, speaker_reserve(g[0].speaker))
                or [sep.join(x.text for x in g)]
            ),
            speaker=g[0].speaker,
        )
        for g in groups
    ]
    _fix_timing(captions, rules)
    return captions


def _must_break(group: list[Word], w: Word, rules: CaptionRules) -> bool:
    last = group[-1]
    if w.speaker != group[0].speaker:
        return True
    if w.start - last.end > rules.pause_split:
        return True
    if w.end - group[0].start > rules.max_duration:
        return True
    return _ends(last.text, SENTENCE_END)


def _clause_cut(group: list[Word]) -> int | None:
    """Index after the last clause punctuation in the second half of `group`, if any."""
    for j in range(len(group) - 1, max(0, len(group) // 2) - 1, -1):
        if j > 0 and _ends(group[j - 1].text, CLAUSE_END):
            return j
    return None


def _fix_timing(captions: list[Caption], rules: CaptionRules) -> None:
    for i, c in enumerate(captions):
        nxt = captions[i + 1].start if i + 1 < len(captions) else None
        if c.end - c.start > rules.max_duration:
            c.end = c.start + rules.max_duration
        if c.end - c.start < rules.min_duration:
            # Stretch short captions so they can be read, but never into the next one.
            c.end = c.start + rules.min_duration if nxt is None else max(c.end, min(c.start + rules.min_duration, nxt))
        if nxt is not None and c.end > nxt:
            c.end = nxt
