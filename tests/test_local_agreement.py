"""LocalAgreement-n: examples from how whisper revises a growing buffer, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dictation.local_agreement import (
    AgreementState,
    LocalAgreement,
    agree,
    align,
    common_prefix,
    finish,
    normalize,
    rebase,
)


def test_normalize_ignores_case_and_punctuation() -> None:
    assert normalize("Hello,") == normalize("hello") == "hello"
    assert normalize("Don't!") == "dont"
    assert normalize("Café") == normalize("CAFÉ")
    assert normalize("42.") == "42"


def test_two_agreeing_hypotheses_commit_their_common_prefix() -> None:
    la = LocalAgreement(2)
    assert la.insert(["So", "my"]) == ((), ("So", "my"))  # one hypothesis commits nothing
    committed, tentative = la.insert(["so", "my", "fellow", "Amer"])
    assert committed == ("so", "my") and tentative == ("fellow", "Amer")
    committed, tentative = la.insert(["So,", "my", "fellow", "Americans", "ask"])
    assert committed == ("so", "my", "fellow") and tentative == ("Americans", "ask")


def test_committed_text_is_the_later_hypothesis_spelling_and_never_changes() -> None:
    la = LocalAgreement(2)
    la.insert(["hello", "world"])
    la.insert(["Hello,", "world."])
    assert la.committed == ("Hello,", "world.")
    la.insert(["hello", "world", "again"])  # re-spelt later: the committed text stays as shown
    assert la.committed == ("Hello,", "world.")
    assert la.tentative == ("again",)


def test_nothing_is_ever_uncommitted_when_the_engine_changes_its_mind() -> None:
    la = LocalAgreement(2)
    la.insert(["ask", "not", "what"])
    la.insert(["ask", "not", "what", "your"])
    assert la.committed == ("ask", "not", "what")
    la.insert(["task", "knot", "watt", "your", "country"])
    # the committed words stay as shown; aligned by position, "your" is now agreed on twice
    assert la.committed == ("ask", "not", "what", "your")
    assert la.tentative == ("country",)


def test_alignment_survives_a_merged_word() -> None:
    # "can not" committed, the engine now writes "cannot": the tail still starts after it
    assert align(["I", "can", "not", "go"], ["I", "cannot", "go", "there"]) == 3
    assert align(["a", "b"], ["a", "b", "c"]) == 2
    assert align(["a", "b", "c"], ["a"]) == 1
    assert align([], ["x"]) == 0


def test_three_way_agreement_needs_three_hypotheses() -> None:
    la = LocalAgreement(3)
    la.insert(["one", "two"])
    la.insert(["one", "two"])
    assert la.committed == ()
    la.insert(["one", "too", "three"])
    assert la.committed == ("one",)


def test_rebase_lets_hypotheses_cover_only_newer_audio() -> None:
    s = AgreementState(n=2)
    s = agree(s, ["a", "b", "c"])
    s = agree(s, ["a", "b", "c", "d"])
    assert s.committed == ("a", "b", "c")
    s = rebase(s)  # the caller now decodes only the audio after "c"
    s = agree(s, ["d", "e"])
    s = agree(s, ["d", "e", "f"])
    assert s.committed == ("a", "b", "c", "d", "e") and s.tentative == ("f",)
    assert finish(s, ["d", "e", "f", "g"]) == ("a", "b", "c", "d", "e", "f", "g")


def test_finish_keeps_committed_words_and_adds_the_final_rest() -> None:
    s = agree(agree(AgreementState(), ["Hello", "wold"]), ["hello", "wold", "how"])
    assert s.committed == ("hello", "wold")
    # the final pass spells it right, but committed words were already shown: they stay
    assert finish(s, ["Hello", "world", "how", "are", "you"]) == ("hello", "wold", "how", "are", "you")


def test_n_must_be_positive() -> None:
    with pytest.raises(ValueError):
        AgreementState(n=0)


# --- properties ----------------------------------------------------------------------
WORDS = st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "The", "cat,", "Mat.", "hat", "x"])
HYPOTHESES = st.lists(st.lists(WORDS, max_size=8), max_size=12)


@settings(max_examples=300, deadline=None)
@given(HYPOTHESES, st.integers(1, 3))
def test_committed_text_only_grows(hypotheses: list[list[str]], n: int) -> None:
    s = AgreementState(n=n)
    for h in hypotheses:
        before = s.committed
        s = agree(s, h)
        assert s.committed[: len(before)] == before


TRUTH = st.lists(
    st.sampled_from(["ask", "not", "what", "your", "country", "can", "do", "for", "you"]), min_size=1, max_size=12
)


def _respell(word: str, style: int) -> str:
    return [word, word.capitalize(), word + ",", word.upper() + "."][style % 4]


@settings(max_examples=300, deadline=None)
@given(TRUTH, st.data(), st.integers(2, 3))
def test_converging_hypotheses_commit_only_a_prefix_of_the_final_text(
    truth: list[str], data: st.DataObject, n: int
) -> None:
    """Hypotheses of a growing buffer: a prefix of the true text (spelt any way), then guesses
    that never repeat. Whatever the order of lengths, committed stays a prefix of the truth,
    and once n hypotheses equal the truth everything is committed."""
    s = AgreementState(n=n)
    rounds = data.draw(st.integers(0, 10))
    for r in range(rounds):
        k = data.draw(st.integers(0, len(truth)))
        styles = data.draw(st.lists(st.integers(0, 3), min_size=k, max_size=k))
        noise = [f"guess{r}x{i}" for i in range(data.draw(st.integers(0, 3)))]
        s = agree(s, [_respell(w, st_) for w, st_ in zip(truth[:k], styles)] + noise)
        got = [normalize(w) for w in s.committed]
        assert got == [normalize(w) for w in truth[: len(got)]]
    for _ in range(n):
        s = agree(s, truth)
    assert [normalize(w) for w in s.committed] == [normalize(w) for w in truth]
    final = finish(s, truth)
    assert final[: len(s.committed)] == s.committed
    assert [normalize(w) for w in final] == [normalize(w) for w in truth]


@given(st.lists(st.lists(WORDS, max_size=6), min_size=1, max_size=4))
def test_common_prefix_is_shared_by_all(seqs: list[list[str]]) -> None:
    k = common_prefix(seqs)
    assert all(len(s) >= k for s in seqs)
    for i in range(k):
        assert len({normalize(s[i]) for s in seqs}) == 1
    if all(len(s) > k for s in seqs):
        assert len({normalize(s[k]) for s in seqs}) > 1
