"""join_dictation: spacing and case for a dictation that continues a field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.dictation.text_join import NO_SPACE_BEFORE, join_dictation, normalise, sentence_state, separator


@pytest.mark.parametrize(
    ("prev", "new", "expected"),
    [
        ("Hello.", "how are you", " How are you"),
        ("Hello.", " How are you?", " How are you?"),
        ("I said", "how are you", " how are you"),
        ("I said", "How are you", " how are you"),  # the engine's sentence case undone
        ("Well", "I think so", " I think so"),  # "I" stays
        ("Well", "I'm sure", " I'm sure"),
        ("Call", "NASA now", " NASA now"),  # acronyms stay
        ("Hello", ".", "."),  # punctuation-only: no space before
        ("Hello", ", and you?", ", and you?"),
        ("Really", "?", "?"),
        ("Hello ", "world", "world"),  # the field already ends with a space
        ("Hello ", "  world  ", "world"),
        ("Line one\n", "and two", "And two"),  # after a new line: capitalised, no space
        ("Is it done?", "yes", " Yes"),
        ("Stop!", "now", " Now"),
        ('He said "Stop."', "then left", " Then left"),  # sentence end inside quotes
        ("He said (", "quietly", "quietly"),  # after an opening bracket
        ('He said "', "hello", "hello"),  # after an opening straight quote
        ('He said "hi"', "twice", " twice"),  # after a closing one
        ("Note:", "Buy milk", " Buy milk"),  # after a colon the engine's case stays
        ("Wait...", "So what", " So what"),
        ("Fruit, e.g.", "apples", " apples"),
        ("你好。", "谢谢", "谢谢"),  # Chinese: no spaces
        ("我们", "走吧", "走吧"),
        ("こんにちは", "世界", "世界"),  # Japanese
        ("สวัสดี", "ครับ", "ครับ"),  # Thai
        ("你好。", "OK", "OK"),  # after CJK punctuation
        ("Hello", "世界", " 世界"),
        ("안녕하세요.", "반갑습니다", " 반갑습니다"),  # Korean uses spaces
        ("Hello", "", ""),
        ("Hello", "   ", ""),
        ("très bien.", "écoute", " Écoute"),
        ("ok", "Über alles", " über alles"),
    ],
)
def test_join_table(prev: str, new: str, expected: str) -> None:
    assert join_dictation(prev, new, same_field=True) == expected


@pytest.mark.parametrize(
    ("prev", "new", "same_field", "expected"),
    [
        (None, "Hello there", True, "Hello there"),  # unknown field: as the engine gave it
        (None, " hello  there ", False, "hello there"),
        ("Hello.", "how are you", False, "how are you"),  # another field: no joining
        ("", "hello", True, "hello"),  # an empty field: the first dictation is kept as is
        ("", "Hello", True, "Hello"),
    ],
)
def test_first_dictation_and_other_field(prev: str | None, new: str, same_field: bool, expected: str) -> None:
    assert join_dictation(prev, new, same_field=same_field) == expected


def test_language_rules() -> None:
    assert join_dictation("Der", "Hund bellt", same_field=True, language="de") == " Hund bellt"
    assert join_dictation("Der", "Hund bellt", same_field=True) == " hund bellt"
    assert join_dictation("東京", "タワー", same_field=True, language="ja") == "タワー"
    assert join_dictation("東京", "Tower", same_field=True, language="ja") == "Tower"
    assert join_dictation("東京", "Tower", same_field=True) == " Tower"  # case kept after CJK
    assert join_dictation("I like", "tea", same_field=True, language="zh") == "tea"


def test_a_letter_whose_case_does_not_round_trip_is_left_alone() -> None:
    """Found by the property test: the micro sign µ upper-cases to Greek capital Mu, a different letter
    (whose lower case is μ, not µ); the Kelvin sign lower-cases to a plain k. Neither is recased."""
    assert join_dictation("Really?", "µs are short.", same_field=True) == " µs are short."
    assert join_dictation("it is", "K cold", same_field=True) == " K cold"


def test_helpers() -> None:
    assert normalise("  a \t b\n  c  ") == "a b\nc"
    assert separator("Hello", "world") == " "
    assert separator("Hello", ". Yes") == ""
    assert sentence_state("Hi. ") == "start"
    assert sentence_state("Hi") == "middle"
    assert sentence_state("   ") == "keep"


# --- properties ---------------------------------------------------------------------
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
prev_tails = st.one_of(st.none(), words, st.text(alphabet=" .!?,:abcAB\n\"'(你。", max_size=12))
news = st.one_of(words, st.text(alphabet=" \t.,!?abcABCI'你好é", max_size=20))


def _same_but_first_letter_case(body: str, norm: str) -> bool:
    if len(body) != len(norm):
        return False
    diffs = [i for i, (a, b) in enumerate(zip(body, norm, strict=True)) if a != b]
    return len(diffs) <= 1 and all(body[i].lower() == norm[i].lower() for i in diffs)


@settings(max_examples=400, deadline=None)
@given(prev=prev_tails, new=news, same=st.booleans())
def test_properties(prev: str | None, new: str, same: bool) -> None:
    out = join_dictation(prev, new, same_field=same)
    norm = normalise(new)
    assert "  " not in out and "\t\t" not in out
    if not same or prev is None or not norm:
        assert out == norm
        return
    sep = out[: len(out) - len(norm)]
    assert sep in ("", " ")
    body = out[len(sep) :]
    assert _same_but_first_letter_case(body, norm)  # only the first letter's case may change
    if prev[-1:].isspace():
        assert sep == ""  # never a double space at the join
    if norm[0] in NO_SPACE_BEFORE:
        assert sep == ""


@settings(max_examples=200, deadline=None)
@given(
    prev=st.text(alphabet="abc xyz,", min_size=1, max_size=10),
    end=st.sampled_from([".", "!", "?", '?"']),
    new=st.text(alphabet="abcdéxyz ", min_size=1, max_size=10),
)
def test_after_sentence_end_the_first_letter_is_capital(prev: str, end: str, new: str) -> None:
    out = join_dictation(prev + end, new, same_field=True)
    letters = [c for c in out if c.isalpha()]
    if letters:
        assert letters[0].isupper()
