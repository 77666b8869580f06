"""Caption building: line limits, timing limits, where captions break, wrapping."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.captions.captions import CaptionRules, build_captions, speaker_reserve, wrap_lines
from pipeline.transcripts.transcript import Caption, Word

EPS = 1e-9
SENTENCE_MARKS = (".", "?", "!")


def words_from(spec: list[tuple[str, float, float] | tuple[str, float, float, str | None]]) -> list[Word]:
    out = []
    for i, item in enumerate(spec):
        text, start, end, *rest = item
        out.append(Word(id=i, text=text, start=start, end=end, speaker=rest[0] if rest else None))
    return out


def steady(
    texts: list[str], *, step: float = 0.3, dur: float = 0.25, start: float = 0.0, speaker: str | None = None
) -> list[Word]:
    """Words spoken one after another with short, unbroken gaps."""
    return [
        Word(id=i, text=t, start=start + i * step, end=start + i * step + dur, speaker=speaker)
        for i, t in enumerate(texts)
    ]


def caption_texts(caps: list[Caption], words: list[Word]) -> list[list[str]]:
    by_id = {w.id: w for w in words}
    return [[by_id[i].text for i in c.word_ids] for c in caps]


def check_invariants(words: list[Word], caps: list[Caption], rules: CaptionRules, language: str | None = None) -> None:
    """Everything build_captions promises, checked independently of its implementation."""
    sep = "" if language in ("zh", "ja") else " "
    by_id = {w.id: w for w in words}

    # Every (non-empty) word is in exactly one caption, in the original order.
    assert [i for c in caps for i in c.word_ids] == [w.id for w in words if w.text]

    for k, c in enumerate(caps):
        ws = [by_id[i] for i in c.word_ids]
        texts = [w.text for w in ws]
        assert ws, "empty caption"
        nxt = caps[k + 1] if k + 1 < len(caps) else None

        # Lines: at most max_lines, each within the width unless it is one over-long word alone.
        assert 1 <= len(c.lines) <= rules.max_lines
        for k, line in enumerate(c.lines):
            assert line, "empty line"
            shown = len(line) + (speaker_reserve(c.speaker) if k == 0 else 0)  # SRT puts "NAME: " first
            assert shown <= rules.max_line_chars or line in texts, (line, c.lines)
        # The lines hold exactly the caption's words, in order, joined the language's way.
        assert sep.join(c.lines) == sep.join(texts)

        # One speaker per caption: the caption's.
        assert {w.speaker for w in ws} == {c.speaker}

        # Starts with its first word.
        assert c.start == ws[0].start

        # Order and no overlap.
        assert c.end >= c.start - EPS
        if nxt is not None:
            assert c.end <= nxt.start + EPS, "captions overlap"
            assert nxt.start >= c.start

        # Duration limits.
        dur = c.end - c.start
        assert dur <= rules.max_duration + EPS
        if dur < rules.min_duration - EPS:
            assert nxt is not None and nxt.start < c.start + rules.min_duration
            assert c.end == pytest.approx(nxt.start), "a short caption must run up to the next one"

        # Not held across a silence: at most min_duration past its start or its words' end ...
        last_end = max(w.end for w in ws)
        assert c.end <= max(last_end, c.start + rules.min_duration) + EPS
        assert c.end <= last_end + rules.min_duration + EPS
        # ... but on screen while its words are spoken, unless cut short by a limit or the next caption.
        limit = min(last_end, c.start + rules.max_duration, nxt.start if nxt else math.inf)
        assert c.end >= limit - EPS

        # Breaks: inside a caption no sentence end and no long pause; the whole caption within max_duration.
        for a, b in itertools.pairwise(ws):
            assert not a.text.rstrip("\"')]»”’").endswith(SENTENCE_MARKS + ("。", "？", "！", "…")), texts
            assert b.start - a.end <= rules.pause_split + EPS, "caption spans a long pause"
        if len(ws) > 1:
            assert last_end - ws[0].start <= rules.max_duration + EPS

    # Where a caption ends and the next begins, one of the reasons to break holds, or the next
    # word really did not fit (checked by asking wrap_lines, the only layout authority).
    for c, d in itertools.pairwise(caps):
        a, b = by_id[c.word_ids[-1]], by_id[d.word_ids[0]]
        first = by_id[c.word_ids[0]]
        reason = (
            a.speaker != b.speaker
            or b.start - a.end > rules.pause_split
            or b.end - first.start > rules.max_duration
            or a.text.rstrip("\"')]»”’").endswith(SENTENCE_MARKS + ("…", "。", "？", "！"))
            or wrap_lines([by_id[i].text for i in c.word_ids] + [b.text], rules, sep, speaker_reserve(c.speaker))
            is None
            # a clause tail moved forward: the next caption plus the word that forced it did not fit
            or a.text.rstrip("\"')]»”’").endswith((",", ";", ":", "—", "–", "、", "，", "；"))
        )
        assert reason, (c, d)


# ---------------------------------------------------------------------------- wrap_lines


def test_wrap_short_text_is_one_line():
    assert wrap_lines(["Hello", "there."], CaptionRules()) == ["Hello there."]
    assert wrap_lines([], CaptionRules()) == []


def test_wrap_balances_two_lines():
    words = ["aaaa", "bbbbb", "cccccc", "dddd", "eeeeee", "ffff", "gggggg", "hhhh", "iiiii", "jjjj", "kk"]
    text = " ".join(words)
    assert len(text) == 60
    lines = wrap_lines(words, CaptionRules())
    assert lines is not None and len(lines) == 2
    assert " ".join(lines) == text
    assert all(len(ln) <= 42 for ln in lines)
    # Balanced: a greedy fill would give 41 + 18; balanced gives about 30 + 30.
    assert abs(len(lines[0]) - len(lines[1])) <= 4, lines


def test_wrap_prefers_break_after_punctuation_when_nearly_balanced():
    # 27/34 after the comma beats 31/30 without it: punctuation is worth a few characters.
    words = ["We", "reached", "the", "old", "station,", "but", "the", "train", "had", "already", "gone", "off"]
    assert wrap_lines(words, CaptionRules()) == ["We reached the old station,", "but the train had already gone off"]


def test_wrap_punctuation_does_not_win_when_far_off_balance():
    # After the comma would be 23/40; balance (31/32) wins.
    words = ["We", "reached", "the", "station,", "but", "the", "train", "had", "already", "gone", "off", "north"]
    assert wrap_lines(words, CaptionRules()) == ["We reached the station, but the", "train had already gone off north"]


def test_wrap_returns_none_when_it_cannot_fit():
    words = ["word"] * 30  # 149 characters
    assert wrap_lines(words, CaptionRules(max_line_chars=42, max_lines=2)) is None
    assert wrap_lines(["aaaa", "bbbb"], CaptionRules(max_line_chars=5, max_lines=1)) is None


def test_wrap_three_lines():
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    lines = wrap_lines(words, CaptionRules(max_line_chars=22, max_lines=3))
    assert lines == ["one two three four", "five six seven eight", "nine ten eleven twelve"]
    # No three lines of 21 characters can hold it.
    assert wrap_lines(words, CaptionRules(max_line_chars=21, max_lines=3)) is None


def _splits(n: int, parts: int):
    """Every way to cut range(n) into 1..parts consecutive non-empty pieces (as cut positions)."""
    from itertools import combinations

    for k in range(min(parts, n)):
        yield from combinations(range(1, n), k)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=9),
    max_chars=st.integers(12, 30),
    max_lines=st.integers(1, 3),
    punct=st.lists(st.booleans(), min_size=9, max_size=9),
)
def test_property_wrap_matches_brute_force(lengths, max_chars, max_lines, punct):
    words = [("x" * (n - 1) + ("," if p else "y")) for n, p in zip(lengths, punct)]
    rules = CaptionRules(max_line_chars=max_chars, max_lines=max_lines)
    feasible = []
    for cuts in _splits(len(words), max_lines):
        bounds = [0, *cuts, len(words)]
        lines = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
        if all(len(ln) <= max_chars for ln in lines):
            feasible.append(lines)
    got = wrap_lines(words, rules)
    if not feasible:
        assert got is None
        return
    assert got is not None
    assert got in feasible
    if len(" ".join(words)) <= max_chars:
        assert got == [" ".join(words)]  # fits on one line: no reason to wrap
        return
    if len(got) == 2:
        # Balanced: no two-line layout is more than 8 characters (the punctuation bonus) more even.
        spread = max(map(len, got)) - min(map(len, got))
        for lines in feasible:
            if len(lines) == 2:
                assert spread <= max(map(len, lines)) - min(map(len, lines)) + 8, (got, lines)


def test_wrap_single_overlong_word_alone():
    long = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    assert wrap_lines([long], CaptionRules(max_line_chars=20)) == [long]


def test_wrap_no_space_language():
    words = ["我们", "今天", "去", "公园", "散步。"]
    assert wrap_lines(words, CaptionRules(), sep="") == ["我们今天去公园散步。"]
    lines = wrap_lines(words, CaptionRules(max_line_chars=6), sep="")
    assert lines is not None and "".join(lines) == "我们今天去公园散步。"
    assert all(len(ln) <= 6 for ln in lines)


# ---------------------------------------------------------------------------- build_captions: breaks


def test_empty_input_gives_no_captions():
    assert build_captions([]) == []


def test_single_word():
    caps = build_captions([Word(7, "Hi.", 1.0, 1.2)])
    assert len(caps) == 1
    c = caps[0]
    assert (c.word_ids, c.lines, c.start) == ([7], ["Hi."], 1.0)
    assert c.end == pytest.approx(1.8)  # stretched to min_duration, nothing follows


def test_empty_word_text_is_skipped():
    words = [Word(0, "a", 0.0, 0.2), Word(1, "", 0.3, 0.4), Word(2, "b", 0.4, 0.6)]
    caps = build_captions(words)
    assert [c.word_ids for c in caps] == [[0, 2]]
    assert caps[0].lines == ["a b"]


@pytest.mark.parametrize("mark", [".", "?", "!", '."', "?)", "!”"])
def test_break_after_sentence_punctuation(mark):
    words = steady(["It", "works" + mark, "Next", "one"])
    caps = build_captions(words)
    assert caption_texts(caps, words) == [["It", "works" + mark], ["Next", "one"]]


def test_no_break_after_comma_or_mid_word_period():
    words = steady(["Yes,", "e.g", "we", "go"])
    caps = build_captions(words)
    assert len(caps) == 1 and caps[0].lines == ["Yes, e.g we go"]


def test_break_at_pause_longer_than_pause_split():
    words = words_from([("one", 0.0, 0.3), ("two", 0.9, 1.2), ("three", 1.3, 1.6)])  # 0.6 s pause
    caps = build_captions(words)
    assert caption_texts(caps, words) == [["one"], ["two", "three"]]


def test_no_break_at_pause_of_exactly_pause_split():
    words = words_from([("one", 0.0, 0.25), ("two", 0.75, 1.0), ("three", 1.0, 1.5)])  # 0.5 s pause
    caps = build_captions(words)
    assert caption_texts(caps, words) == [["one", "two", "three"]]


def test_pause_split_is_a_rule():
    words = words_from([("one", 0.0, 0.3), ("two", 0.9, 1.2)])
    assert len(build_captions(words, CaptionRules(pause_split=1.0))) == 1
    assert len(build_captions(words, CaptionRules(pause_split=0.2))) == 2


def test_new_caption_at_speaker_change():
    words = words_from(
        [("hi", 0.0, 0.2, "A"), ("there", 0.25, 0.5, "A"), ("hello", 0.55, 0.8, "B"), ("you", 0.85, 1.0, None)]
    )
    caps = build_captions(words)
    assert caption_texts(caps, words) == [["hi", "there"], ["hello"], ["you"]]
    assert [c.speaker for c in caps] == ["A", "B", None]
    check_invariants(words, caps, CaptionRules())


def test_break_when_caption_would_exceed_max_duration():
    # 30 short words, 0.3 s apart: text fits nowhere near 2 lines; the 7 s limit decides.
    words = steady([f"w{i}" for i in range(30)], step=0.3, dur=0.25)
    rules = CaptionRules(max_line_chars=200)
    caps = build_captions(words, rules)
    assert len(caps) >= 2
    for c in caps:
        ws = [words[i] for i in c.word_ids]
        assert ws[-1].end - ws[0].start <= 7.0
    check_invariants(words, caps, rules)


def test_break_when_text_does_not_fit():
    words = steady(["word"] * 40, step=0.15, dur=0.1)  # 6 s of speech, 199 characters
    rules = CaptionRules()
    caps = build_captions(words, rules)
    assert len(caps) >= 3
    for c in caps:
        assert len(c.lines) <= 2 and all(len(ln) <= 42 for ln in c.lines)
    # Captions are filled: no caption but the last could have taken the next word.
    for c in caps[:-1]:
        assert wrap_lines(["word"] * (len(c.word_ids) + 1), rules) is None
    check_invariants(words, caps, rules)


def test_clause_tail_moves_to_next_caption():
    texts = [
        "we",
        "went",
        "down",
        "to",
        "the",
        "river",
        "and",
        "then,",
        "after",
        "a",
        "long",
        "walk",
        "along",
        "the",
        "bank,",
        "we",
        "sat",
        "there",
        "for",
        "hours",
    ]
    words = steady(texts, step=0.2, dur=0.15)
    rules = CaptionRules(max_line_chars=42, max_lines=1)
    caps = build_captions(words, rules)
    check_invariants(words, caps, rules)
    # Where a caption ends on something other than a clause mark, the next word truly did not fit.
    assert any(c.lines[0].endswith(",") for c in caps[:-1])


def test_one_line_rule():
    words = steady(
        ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "and", "keeps", "on", "running"]
    )
    rules = CaptionRules(max_line_chars=20, max_lines=1)
    caps = build_captions(words, rules)
    assert all(len(c.lines) == 1 and len(c.lines[0]) <= 20 for c in caps)
    check_invariants(words, caps, rules)


def test_overlong_word_gets_its_own_line():
    long = "Supercalifragilisticexpialidocious"  # 34 characters
    words = steady(["a", long, "b", "c"])
    rules = CaptionRules(max_line_chars=10, max_lines=2)
    caps = build_captions(words, rules)
    check_invariants(words, caps, rules)
    assert [ln for c in caps for ln in c.lines if len(ln) > 10] == [long]


# ---------------------------------------------------------------------------- build_captions: timing


def test_short_caption_stretched_to_min_duration():
    words = words_from([("Yes.", 0.0, 0.2), ("Then", 3.0, 3.3)])
    caps = build_captions(words)
    assert caps[0].end == pytest.approx(0.8)
    assert caps[1].end == pytest.approx(3.8)


def test_short_caption_stretch_stops_at_next_caption():
    words = words_from([("Yes.", 0.0, 0.2), ("No.", 0.5, 0.7)])
    caps = build_captions(words)
    assert caps[0].end == pytest.approx(0.5)  # would be 0.8, but the next starts at 0.5
    assert caps[1].end == pytest.approx(1.3)


def test_overlapping_word_times_do_not_make_overlapping_captions():
    words = words_from([("Yes.", 0.0, 1.0), ("No.", 0.5, 1.5)])
    caps = build_captions(words)
    assert caps[0].end == pytest.approx(0.5)
    check_invariants(words, caps, CaptionRules())


def test_caption_capped_at_max_duration():
    words = words_from([("Loooooong", 0.0, 10.0), ("next", 10.1, 10.3)])
    caps = build_captions(words)
    assert caps[0].end == pytest.approx(7.0)
    check_invariants(words, caps, CaptionRules())


def test_not_held_across_long_silence():
    # A caption ending at 2.0 with the next word at 20.0: it must leave the screen with its words.
    words = words_from([("We", 1.0, 1.2), ("paused", 1.3, 2.0), ("then", 20.0, 20.3), ("resumed", 20.35, 20.9)])
    caps = build_captions(words)
    assert len(caps) == 2
    assert caps[0].end == pytest.approx(2.0)
    assert caps[1].end == pytest.approx(20.9)


def test_captions_are_sorted_and_contiguous_starts():
    words = steady([f"w{i}." if i % 3 == 2 else f"w{i}" for i in range(20)])
    caps = build_captions(words)
    starts = [c.start for c in caps]
    assert starts == sorted(starts)
    check_invariants(words, caps, CaptionRules())


# ---------------------------------------------------------------------------- no-space languages


@pytest.mark.parametrize("language", ["zh", "ja"])
def test_cjk_joins_without_spaces(language):
    texts = (
        ["我们", "今天", "去", "公园", "散步。", "天气", "很", "好"]
        if language == "zh"
        else ["今日", "は", "いい", "天気", "です。", "散歩", "します"]
    )
    words = steady(texts)
    caps = build_captions(words, language=language)
    assert len(caps) == 2  # broken at the full-width full stop
    for c in caps:
        assert all(" " not in ln for ln in c.lines)
    assert "".join(caps[0].lines) == "".join(texts[: texts.index(next(t for t in texts if t.endswith("。"))) + 1])
    check_invariants(words, caps, CaptionRules(), language)


def test_cjk_line_width_counts_characters_without_spaces():
    texts = ["一二三", "四五六", "七八九", "十一二", "三四五"]  # 15 characters in all
    words = steady(texts)
    rules = CaptionRules(max_line_chars=9, max_lines=2)
    caps = build_captions(words, rules, language="zh")
    assert len(caps) == 1
    assert "".join(caps[0].lines) == "".join(texts)
    assert all(len(ln) <= 9 for ln in caps[0].lines)


def test_english_joins_with_spaces():
    words = steady(["我们", "今天"])
    assert build_captions(words, language="en")[0].lines == ["我们 今天"]
    assert build_captions(words, language=None)[0].lines == ["我们 今天"]


# ---------------------------------------------------------------------------- property test

RULE_SETS = [
    CaptionRules(),
    CaptionRules(max_line_chars=32, max_lines=1),
    CaptionRules(max_line_chars=10, max_lines=2),  # words of up to 15 chars: over-long words happen
    CaptionRules(max_line_chars=20, max_lines=3, min_duration=1.0, max_duration=5.0, pause_split=0.3),
    CaptionRules(max_line_chars=42, max_lines=2, min_duration=1.5, max_duration=3.0, pause_split=1.0),
]

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
PUNCT = ["", "", "", "", ".", "?", "!", ",", ";", '."', "…"]


@st.composite
def word_sequences(draw, cjk: bool = False):
    n = draw(st.integers(0, 60))
    alphabet = "我们今天去公园天气很好日本語" if cjk else LETTERS
    words = []
    t = draw(st.floats(0, 5))
    for i in range(n):
        length = draw(st.integers(1, 15))
        body = draw(st.text(alphabet=alphabet, min_size=length, max_size=length))
        mark = draw(st.sampled_from(PUNCT + (["。", "，", "？"] if cjk else [])))
        text = body[: length - len(mark)] + mark if length > len(mark) else body
        gap = draw(st.one_of(st.just(0.0), st.floats(0, 3)))
        dur = draw(st.floats(0, 1.5))
        start = t + gap
        end = start + dur
        speaker = draw(st.sampled_from([None, "A", "B"]))
        words.append(Word(id=i * 3 + 1, text=text, start=start, end=end, speaker=speaker))
        t = end
    return words


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(words=word_sequences(), rules=st.sampled_from(RULE_SETS))
def test_property_invariants(words, rules):
    caps = build_captions(words, rules)
    check_invariants(words, caps, rules)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(words=word_sequences(cjk=True), rules=st.sampled_from(RULE_SETS), language=st.sampled_from(["zh", "ja"]))
def test_property_invariants_cjk(words, rules, language):
    caps = build_captions(words, rules, language)
    check_invariants(words, caps, rules, language)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(words=word_sequences(), rules=st.sampled_from(RULE_SETS))
def test_property_deterministic_and_input_untouched(words, rules):
    before = [(w.id, w.text, w.start, w.end, w.speaker) for w in words]
    a = build_captions(words, rules)
    b = build_captions(words, rules)
    assert a == b
    assert [(w.id, w.text, w.start, w.end, w.speaker) for w in words] == before
