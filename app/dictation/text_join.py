"""Spacing and capitalisation for a dictation that continues text in the same field.

    join_dictation("Hello.", "how are you", same_field=True)   -> " How are you"
    join_dictation("I said", "How are you", same_field=True)   -> " how are you"
    join_dictation("Hello", ".", same_field=True)              -> "."
    join_dictation("你好。", "谢谢", same_field=True)             -> "谢谢"
    join_dictation(None, "Hello there", same_field=False)      -> "Hello there"

Only what we insert is changed: the field's text is never edited, so "Hello " + "."
stays "Hello .". Heuristics, on purpose small:
* A separator space is added unless either side already has whitespace, the new
  text starts with closing punctuation, the old ends with an opening bracket or
  quote, or both sides are in scripts written without spaces (CJK, kana, Thai,
  Lao, Khmer, Myanmar; or ``language`` is one of NO_SPACE_LANGUAGES).
* After a sentence end (. ! ? and their CJK forms, or a new line) the first letter
  is capitalised. Mid-sentence, a first word the engine sentence-cased ("How") is
  lowercased, except "I" and its contractions, acronyms and, for German and
  Luxembourgish (nouns are capitalised), always. A proper noun that starts a
  mid-sentence dictation is lowercased too: the price of the heuristic.
  After ":", "…", "..." and abbreviations like "e.g.", and after text in a script
  without spaces (or for such a ``language``), the engine's case is kept.
* The first dictation into a field (or an unknown field) is left as the engine gave it.
"""

from __future__ import annotations

import re

SENTENCE_END = frozenset(".!?。！？‼⁇⁈⁉")
KEEP_CASE_AFTER = (":", "…", "...", "e.g.", "i.e.", "vs.", "cf.")
NO_SPACE_BEFORE = frozenset(".,;:!?…%)]}»›”’。，、；：！？）」』】〕〉》")
NO_SPACE_AFTER = frozenset("([{«‹“‘¿¡「『【〔〈《（")
CLOSERS = frozenset("\"'”’)]}»›」』】〕〉》）")  # may follow a sentence end: 'He said "Stop."'
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "yue", "th", "lo", "km", "my", "bo"})
NOUN_CAPITALISING = frozenset({"de", "lb"})
_I_FORMS = re.compile(r"^I(['’][a-z]+)?$")
_SPACES = re.compile(r"[ \t]+")
_AROUND_NEWLINE = re.compile(r" *\n *")

# Scripts written without spaces between words (code point ranges).
_SPACELESS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width forms and half-width katakana
    (0x20000, 0x3134F),  # CJK extensions B-G
)


def is_spaceless(ch: str) -> bool:
    c = ord(ch)
    return any(lo <= c <= hi for lo, hi in _SPACELESS)


def normalise(text: str) -> str:
    """Runs of spaces/tabs become one space; none at the ends or around new lines."""
    text = _AROUND_NEWLINE.sub("\n", _SPACES.sub(" ", text))
    return text.strip(" ")


def separator(prev: str, new: str, language: str | None = None) -> str:
    """ " " or "" between the field's text ``prev`` and the normalised ``new``."""
    if not prev or not new:
        return ""
    last, first = prev[-1], new[0]
    if last.isspace() or first.isspace() or first in NO_SPACE_BEFORE or last in NO_SPACE_AFTER:
        return ""
    if last == '"' and prev.count('"') % 2 == 1:  # an opening straight quote
        return ""
    if language in NO_SPACE_LANGUAGES:
        return ""
    if is_spaceless(last) and (is_spaceless(first) or not last.isalnum()):
        return ""  # between CJK (or after CJK punctuation): no space
    return " "


def sentence_state(prev: str) -> str:
    """ "start", "middle" or "keep" (leave the engine's case) for text after ``prev``."""
    tail = prev.rstrip(" \t")
    if not tail:
        return "keep"
    if tail.endswith("\n"):
        return "start"
    low = tail.lower()
    if any(low.endswith(k) for k in KEEP_CASE_AFTER):
        return "keep"
    core = tail.rstrip("".join(CLOSERS))
    if core and core[-1] in SENTENCE_END:
        return "start"
    return "middle"


def _first_word_span(text: str) -> tuple[int, int] | None:
    """Where the first word starts and ends, after any opening quotes/brackets."""
    i = 0
    while i < len(text) and (text[i] in NO_SPACE_AFTER or text[i] in "\"'"):
        i += 1
    if i >= len(text) or not text[i].isalpha():
        return None
    j = i
    while j < len(text) and (text[j].isalpha() or text[j] in "'’"):
        j += 1
    return i, j


def _recase(text: str, state: str, language: str | None) -> str:
    span = _first_word_span(text)
    if span is None or state == "keep":
        return text
    i, j = span
    word = text[i:j]
    if state == "start":
        up = word[0].title()
        # Only where the case round-trips: µ (micro sign) would become Greek capital Mu, ß would become "SS".
        return text[:i] + up + text[i + 1 :] if len(up) == 1 and up.lower() == word[0].lower() == word[0] else text
    # middle: undo the engine's sentence case, but not "I", acronyms or German nouns
    if language in NOUN_CAPITALISING or _I_FORMS.match(word):
        return text
    titled = word[0].isupper() and (len(word) == 1 or word[1:].islower())
    low = word[0].lower()
    if not titled or len(low) != 1 or low.upper() != word[0]:  # the Kelvin sign lower-cases to a plain k
        return text
    return text[:i] + low + text[i + 1 :]


def join_dictation(prev_text_tail: str | None, new_text: str, *, same_field: bool, language: str | None = None) -> str:
    """The text to insert after ``prev_text_tail`` (the end of what the field holds).

    ``same_field`` False, or an unknown tail (None), returns the engine's text, only
    with its spacing cleaned. ``language`` is an ISO code when known ("de", "zh").
    """
    new = normalise(new_text)
    if not new or not same_field or prev_text_tail is None:
        return new
    tail = prev_text_tail.rstrip()
    spaceless = language in NO_SPACE_LANGUAGES or (tail != "" and is_spaceless(tail[-1]))
    state = "keep" if spaceless else sentence_state(prev_text_tail)  # no case in CJK
    new = _recase(new, state, language)
    return separator(prev_text_tail, new, language) + new
