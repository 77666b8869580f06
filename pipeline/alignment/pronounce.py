"""A written word -> the dictionary words an acoustic aligner can say for it.

An aligner knows only words in its pronouncing dictionary, but transcripts hold "1961",
"$5", "COVID-19", "Alice's", "GPU" and names no dictionary has. Each written word becomes
one or more spoken tokens: numbers spelled out (num2words: years, ordinals, decimals,
money, percent), hyphens and slashes split, possessives and contractions tried whole and
then as stem + suffix, all-capital acronyms spelled letter by letter, and anything left
given a letter-to-sound pronunciation so that its audio is still accounted for. Pure: the
dictionary is a lookup function passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from num2words import num2words

Lookup = Callable[[str], str | None]  # word -> its phones ("HH AH L OW"), None when unknown


@dataclass(frozen=True)
class Spoken:
    word: str  # a dictionary word, or a made-up one that needs `phones` added
    phones: str | None = None  # set when the dictionary lacks `word`


# Rough letter-to-sound for words no dictionary knows: enough phones of about the right length
# that the aligner gives the word its real duration rather than squeezing it to nothing.
_GRAPHEMES = [
    ("tch", "CH"),
    ("sch", "S K"),
    ("igh", "AY"),
    ("ough", "AO"),
    ("tion", "SH AH N"),
    ("sion", "ZH AH N"),
    ("ch", "CH"),
    ("sh", "SH"),
    ("th", "TH"),
    ("ph", "F"),
    ("wh", "W"),
    ("ck", "K"),
    ("ng", "NG"),
    ("qu", "K W"),
    ("kn", "N"),
    ("wr", "R"),
    ("gh", "G"),
    ("ee", "IY"),
    ("ea", "IY"),
    ("oo", "UW"),
    ("ou", "AW"),
    ("ow", "OW"),
    ("oi", "OY"),
    ("oy", "OY"),
    ("ai", "EY"),
    ("ay", "EY"),
    ("au", "AO"),
    ("aw", "AO"),
    ("ie", "IY"),
    ("ei", "EY"),
    ("ey", "IY"),
    ("ue", "UW"),
    ("ew", "UW"),
    ("er", "ER"),
    ("ar", "AA R"),
    ("or", "AO R"),
    ("ir", "ER"),
    ("ur", "ER"),
    ("a", "AE"),
    ("b", "B"),
    ("c", "K"),
    ("d", "D"),
    ("e", "EH"),
    ("f", "F"),
    ("g", "G"),
    ("h", "HH"),
    ("i", "IH"),
    ("j", "JH"),
    ("k", "K"),
    ("l", "L"),
    ("m", "M"),
    ("n", "N"),
    ("o", "AA"),
    ("p", "P"),
    ("q", "K"),
    ("r", "R"),
    ("s", "S"),
    ("t", "T"),
    ("u", "AH"),
    ("v", "V"),
    ("w", "W"),
    ("x", "K S"),
    ("y", "Y"),
    ("z", "Z"),
    ("'", ""),
]
_LETTER_NAMES = {
    "a": "EY",
    "b": "B IY",
    "c": "S IY",
    "d": "D IY",
    "e": "IY",
    "f": "EH F",
    "g": "JH IY",
    "h": "EY CH",
    "i": "AY",
    "j": "JH EY",
    "k": "K EY",
    "l": "EH L",
    "m": "EH M",
    "n": "EH N",
    "o": "OW",
    "p": "P IY",
    "q": "K Y UW",
    "r": "AA R",
    "s": "EH S",
    "t": "T IY",
    "u": "Y UW",
    "v": "V IY",
    "w": "D AH B AH L Y UW",
    "x": "EH K S",
    "y": "W AY",
    "z": "Z IY",
}
_SYMBOLS = {"&": "and", "%": "percent", "+": "plus", "=": "equals", "@": "at", "#": "number"}
_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros", "¥": "yen"}
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*$")


def letter_to_sound(word: str) -> str:
    """Phones for a word by spelling rules (greedy, longest grapheme first); never empty for letters."""
    w = re.sub(r"[^a-z']", "", word.lower())
    phones: list[str] = []
    i = 0
    while i < len(w):
        for g, p in _GRAPHEMES:
            if w.startswith(g, i):
                if p:
                    phones.append(p)
                i += len(g)
                break
        else:
            i += 1
    if w.endswith("e") and len(w) > 3 and phones and phones[-1] == "EH":
        phones.pop()  # a silent final e
    return " ".join(phones)


def _number_words(token: str) -> list[str] | None:
    m = _ORDINAL.match(token)
    if m:
        return _words(num2words(int(m.group(1)), to="ordinal"))
    if not _NUMBER.match(token):
        return None
    plain = token.replace(",", "")
    if re.fullmatch(r"\d{4}", plain) and 1100 <= int(plain) <= 2099 and not plain.endswith("00"):
        return _words(num2words(int(plain), to="year"))  # "1961": nineteen sixty-one
    try:
        value: float | int = float(plain) if "." in plain else int(plain)
    except ValueError:
        return None
    if "." in plain and plain.count(".") > 1:
        return None
    return _words(num2words(value))


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,-]+", text.lower()) if w]


def spoken_tokens(text: str, lookup: Lookup) -> list[Spoken]:
    """What the aligner should expect to hear for one written word (possibly nothing, e.g. "—")."""
    out: list[Spoken] = []
    token = text.strip()
    currency = None
    if token[:1] in _CURRENCY:
        currency, token = _CURRENCY[token[0]], token[1:]
    pieces = [p for p in re.split(r"[-/–—]+", token) if p]
    for piece in pieces:
        out.extend(_piece(piece, lookup))
    if currency is not None and out:
        out.append(_known(currency, lookup))
    return out


def _known(word: str, lookup: Lookup) -> Spoken:
    return Spoken(word) if lookup(word) is not None else Spoken(word, letter_to_sound(word) or "AH")


def _piece(piece: str, lookup: Lookup) -> list[Spoken]:
    percent = piece.endswith("%")
    core = piece.rstrip("%")
    core = re.sub(r"^[^\w$£€¥&+=@#']+|[^\w%']+$", "", core).strip("'")
    if not core:
        return [_known(_SYMBOLS[piece], lookup)] if piece in _SYMBOLS else []
    lower = core.lower()
    numbers = _number_words(lower)
    if numbers is not None:
        return [_known(w, lookup) for w in numbers] + ([_known("percent", lookup)] if percent else [])
    m = re.fullmatch(r"(\d+)([a-z]+)", lower)  # "19th" handled above; "3d", "5am", "mp3" style
    if m:
        return [_known(w, lookup) for w in _words(num2words(int(m.group(1))))] + _piece(m.group(2), lookup)
    m = re.fullmatch(r"([a-z]+)(\d+)", lower)
    if m:
        return _piece(m.group(1), lookup) + [_known(w, lookup) for w in _words(num2words(int(m.group(2))))]
    if lookup(lower) is not None:
        return [Spoken(lower)] + ([_known("percent", lookup)] if percent else [])
    if core.isupper() and 1 < len(core) <= 5 and core.isalpha():  # an acronym: G P U
        return [Spoken(ch) if lookup(ch) is not None else Spoken(ch, _LETTER_NAMES[ch]) for ch in lower]
    for suffix, phones in (("'s", "Z"), ("s'", "Z"), ("'ll", "L"), ("'d", "D"), ("'re", "R"), ("'ve", "V")):
        stem = lower[: -len(suffix)]
        if lower.endswith(suffix) and stem and lookup(stem) is not None:
            return [Spoken(lower, f"{lookup(stem)} {phones}")]
    # Unknown (or another script): a guessed pronunciation still accounts for the word's audio.
    return [Spoken(lower, letter_to_sound(lower) or "AH")]
