"""The pure editing model: corrections, cuts, restores, captions, insertions, find/replace.

Property tests (hypothesis) run random sequences of every operation and check
what the editor relies on: inputs are never mutated (so undo = the previous
value, restored exactly), the original transcript is always recoverable, cuts
and keep-ranges are ordered, non-overlapping and inside the media.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.captions.captions import build_captions
from pipeline.editing import editing as ed
from pipeline.transcripts import transcript_json
from pipeline.transcripts.transcript import Caption, MediaRef, Provenance, Transcript, Word, validate


def make(
    words: list[tuple[str, float, float]],
    duration: float | None = None,
    speakers: Sequence[str | None] | None = None,
) -> Transcript:
    ws = [Word(i, text, s, e, 0.9, (speakers[i] if speakers else None)) for i, (text, s, e) in enumerate(words)]
    dur = duration if duration is not None else (ws[-1].end + 1.0 if ws else 1.0)
    t = Transcript(
        media=MediaRef("/m.wav", dur, "0" * 64),
        language="en",
        provenance=Provenance("pocketsphinx", "5", "en-us"),
        words=ws,
    )
    t.captions = build_captions(ws, language="en")
    return t


SENTENCE = [
    ("Hello", 0.5, 0.9),
    ("there,", 1.0, 1.4),
    ("this", 1.6, 1.8),
    ("is", 1.9, 2.0),
    ("a", 2.1, 2.15),
    ("test.", 2.2, 2.7),
    ("Second", 3.5, 3.9),
    ("sentence", 4.0, 4.5),
    ("here.", 4.6, 5.0),
]


def snapshot(t: Transcript) -> str:
    return transcript_json.dumps(t)


def test_correct_word_keeps_times_and_is_stored_beside_the_words():
    t = make(SENTENCE)
    u = ed.correct_word(t, 2, "that")
    assert [w.text for w in u.words] == [w.text for w in t.words]  # source untouched
    assert u.edits.corrections[0].word_id == 2 and u.edits.corrections[0].text == "that"
    w = next(w for w in ed.effective_words(u) if w.id == 2)
    assert (w.text, w.start, w.end) == ("that", 1.6, 1.8)
    assert "that" in " ".join(u.captions[0].lines)
    assert ed.correct_word(u, 2, "this").edits.corrections == []  # back to what the engine heard
    with pytest.raises(ed.EditError):
        ed.correct_word(t, 2, "   ")


def test_cutting_neighbouring_words_one_by_one_cuts_the_pause_between_them():
    t = make(SENTENCE)
    u = ed.cut_words(ed.cut_words(t, [2]), [3])
    assert ed.cut_ranges(u) == [(1.6, 2.0)]  # "this" + gap + "is", one cut
    assert ed.cut_word_ids(u) == {2, 3}
    assert ed.keep_ranges(u) == [(0.0, 1.6), (2.0, 6.0)]
    v = ed.cut_words(t, [2, 3, 4])
    assert ed.cut_ranges(v) == [(1.6, 2.15)]


def test_restore_brings_back_the_word_and_the_pauses_beside_kept_neighbours():
    t = make(SENTENCE)
    u = ed.cut_words(t, [2, 3, 4])
    r = ed.restore_words(u, [3])
    assert ed.cut_word_ids(r) == {2, 4}
    assert ed.cut_ranges(r) == [(1.6, 1.9), (2.0, 2.15)]  # pauses next to words still cut stay cut
    assert ed.cut_ranges(ed.restore_words(r, [2, 4])) == []


def test_cut_time_and_restore_time():
    t = make(SENTENCE)
    u = ed.cut_time(t, 2.7, 3.5)  # the pause between the sentences
    assert ed.cut_word_ids(u) == set() and ed.cut_ranges(u) == [(2.7, 3.5)]
    u = ed.cut_time(u, 3.4, 4.55)
    assert ed.cut_word_ids(u) == {6, 7}
    assert ed.cut_ranges(ed.restore_time(u, 0, 10)) == []
    with pytest.raises(ed.EditError):
        ed.cut_time(t, 3, 3)


def test_split_and_merge_captions():
    t = make(SENTENCE)
    first = t.captions[0]
    assert 2 in first.word_ids
    u = ed.split_caption(t, 0, 2)
    a, b = u.captions[0], u.captions[1]
    assert a.word_ids == [0, 1] and b.word_ids[0] == 2
    assert a.end <= b.start and a.start == first.start and b.end == first.end
    assert " ".join(a.lines) == "Hello there,"
    m = ed.merge_captions(u, 0)
    assert m.captions[0].word_ids == first.word_ids and m.captions[0].lines == first.lines
    with pytest.raises(ed.EditError):
        ed.split_caption(t, 0, 0)  # before the first word
    with pytest.raises(ed.EditError):
        ed.merge_captions(t, len(t.captions) - 1)


def test_merge_refuses_different_speakers():
    t = make(SENTENCE, speakers=["A"] * 6 + ["B"] * 3)
    assert t.captions[0].speaker == "A" and t.captions[1].speaker == "B"
    with pytest.raises(ed.EditError, match="speakers"):
        ed.merge_captions(t, 0)


def test_retime_caption_is_clamped_between_neighbours():
    t = make(SENTENCE)
    assert len(t.captions) == 2
    u = ed.retime_caption(t, 1, 0.0, 9.0)
    assert u.captions[1].start == t.captions[0].end and u.captions[1].end == t.media.duration
    with pytest.raises(ed.EditError):
        ed.retime_caption(t, 1, 5.0, 5.05)


def test_splitting_a_caption_retimed_away_from_its_words_keeps_both_halves_inside_it():
    """Found by the property test below: a caption moved off its words (0.0-0.5 while they are at 1.0)
    and then split gave halves 0.0-1.0 and 0.5-0.5, overlapping each other."""
    t = make([("so", 1.0, 1.0), ("so", 1.0, 1.0), ("so", 2.0, 2.0)], duration=3.0)
    t.captions = [Caption(1.0, 1.8, [0, 1], ["so so"], None), Caption(2.0, 2.8, [2], ["so"], None)]
    t = ed.split_caption(ed.retime_caption(t, 0, 0.0, 0.5), 0, 1)
    a, b = t.captions[0], t.captions[1]
    assert 0.0 <= a.start <= a.end <= b.start <= b.end <= 0.5
    assert (a.word_ids, b.word_ids) == ([0], [1])


def test_retime_word_is_stored_beside_the_word_and_clamped():
    t = make(SENTENCE)
    u = ed.retime_word(t, 3, 1.7, 2.08)
    w = {x.id: x for x in ed.effective_words(u)}[3]
    assert (w.start, w.end) == (1.8, 2.08)  # may not overlap "this" (ends 1.8)
    assert t.words[3].start == 1.9 and u.words[3].start == 1.9  # the source time stays
    assert ed.retime_word(u, 3, 1.9, 2.0).edits.retimed == []  # back to the engine's times


def test_insert_word_takes_the_pause_and_joins_the_caption():
    t = make(SENTENCE)
    u, wid = ed.insert_word(t, 5, "Indeed")  # after "test." — 0.8 s pause before "Second"
    w = {x.id: x for x in ed.effective_words(u)}[wid]
    assert 2.7 <= w.start < w.end <= 3.5
    assert wid not in {x.id for x in u.words}  # stored as an edit, not in the source words
    cap = next(c for c in u.captions if wid in c.word_ids)
    assert cap.word_ids[cap.word_ids.index(5) + 1] == wid
    assert "Indeed" in " ".join(cap.lines)
    # deleting an inserted word removes it (it is not in the media), nothing is cut
    v = ed.cut_words(u, [wid])
    assert v.edits.inserted == [] and ed.cut_ranges(v) == [] and all(wid not in c.word_ids for c in v.captions)


def test_find_and_replace():
    t = make(SENTENCE)
    assert ed.find_words(t, "is") == [2, 3]  # "this" contains "is"
    assert ed.find_words(t, "is", whole_word=True) == [3]
    assert ed.find_words(t, "TEST", whole_word=True) == [5]
    assert ed.find_words(t, "Second sentence") == [6, 7]
    u = ed.replace_words(t, "test", "trial", whole_word=True)
    assert {x.id: x.text for x in ed.effective_words(u)}[5] == "trial."  # punctuation kept
    v = ed.replace_words(t, "hello there", "Hi you")
    texts = {x.id: x.text for x in ed.effective_words(v)}
    assert (texts[0], texts[1]) == ("Hi", "you,")
    with pytest.raises(ed.EditError):
        ed.replace_words(t, "hello there", "Hi")


# --- properties -------------------------------------------------------------


@st.composite
def transcripts(draw) -> Transcript:
    n = draw(st.integers(1, 25))
    t, words = 0.0, []
    for _i in range(n):
        t += draw(st.floats(0.0, 1.5))
        length = draw(st.floats(0.0, 0.8))
        text = draw(st.sampled_from(["so", "the", "cat,", "sat.", "on", "a", "mat?", "Yes", "well"]))
        words.append((text, round(t, 3), round(t + length, 3)))
        t += length
    speakers = draw(st.none() | st.lists(st.sampled_from(["A", "B"]), min_size=n, max_size=n))
    return make(words, duration=round(t + draw(st.floats(0.1, 2.0)), 3), speakers=speakers)  # media is never empty


def ops(t: Transcript):
    """A random edit on `t` (a hypothesis strategy of callables)."""
    ids = [w.id for w in ed.effective_words(t)]
    dur = t.media.duration
    ncap = max(1, len(t.captions))
    times = st.floats(-1.0, dur + 1.0)
    return st.one_of(
        st.builds(
            lambda i, s: ("correct", lambda x: ed.correct_word(x, i, s)),
            st.sampled_from(ids),
            st.sampled_from(["fix", "two words", "Ünïcode"]),
        ),
        st.builds(lambda s: ("cut", lambda x: ed.cut_words(x, s)), st.sets(st.sampled_from(ids), max_size=5)),
        st.builds(lambda s: ("restore", lambda x: ed.restore_words(x, s)), st.sets(st.sampled_from(ids), max_size=5)),
        st.builds(lambda a, b: ("cut_time", lambda x: ed.cut_time(x, min(a, b), max(a, b) + 0.01)), times, times),
        st.builds(lambda a, b: ("restore_time", lambda x: ed.restore_time(x, min(a, b), max(a, b))), times, times),
        st.builds(
            lambda c, i: ("split", lambda x: ed.split_caption(x, c, i)), st.integers(0, ncap - 1), st.sampled_from(ids)
        ),
        *(
            [
                st.sampled_from([(k, wid) for k, c in enumerate(t.captions) for wid in c.word_ids[1:]]).map(
                    lambda kw: ("split", lambda x: ed.split_caption(x, kw[0], kw[1]))
                )
            ]
            if any(len(c.word_ids) > 1 for c in t.captions)
            else []
        ),
        *(
            [
                st.builds(
                    lambda k, d: (
                        "retime_caption",
                        lambda x: ed.retime_caption(x, k, x.captions[k].start - d, x.captions[k].end + d),
                    ),
                    st.integers(0, len(t.captions) - 1),
                    st.floats(-0.3, 0.5),
                )
            ]
            if t.captions
            else []
        ),
        st.builds(lambda c: ("merge", lambda x: ed.merge_captions(x, c)), st.integers(0, ncap - 1)),
        st.builds(
            lambda c, a, b: ("retime_caption", lambda x: ed.retime_caption(x, c, a, b)),
            st.integers(0, ncap - 1),
            times,
            times,
        ),
        st.builds(
            lambda i, a, b: ("retime_word", lambda x: ed.retime_word(x, i, a, b)), st.sampled_from(ids), times, times
        ),
        st.builds(
            lambda i, s: ("insert", lambda x: ed.insert_word(x, i, s)[0]),
            st.none() | st.sampled_from(ids),
            st.sampled_from(["um", "new word"]),
        ),
        st.builds(
            lambda q, r: ("replace", lambda x: ed.replace_words(x, q, r)),
            st.sampled_from(["the", "a", "cat", "zzz"]),
            st.sampled_from(["dog", "an"]),
        ),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), t=transcripts())
def test_property_random_edit_sequences(data, t):
    original = snapshot(t)
    source_words = copy.deepcopy(t.words)
    history = [t]
    for _ in range(data.draw(st.integers(1, 12))):
        cur = history[-1]
        before = snapshot(cur)
        _name, op = data.draw(ops(cur))
        try:
            new = op(cur)
        except ed.EditError:
            assert snapshot(cur) == before  # a refused edit changes nothing
            continue
        assert snapshot(cur) == before  # the input is never mutated: undo is the previous value
        history.append(new)
        check_invariants(new)
        assert new.words == source_words  # the engine's words are never rewritten
    # undo everything: each earlier value is exactly as it was
    assert snapshot(history[0]) == original
    # and every state survives the file format
    for h in history:
        assert snapshot(transcript_json.loads(snapshot(h))) == snapshot(h)


def check_invariants(t: Transcript) -> None:
    cuts = ed.cut_ranges(t)
    keep = ed.keep_ranges(t)
    for ranges in (cuts, keep):
        assert all(0 <= s < e <= t.media.duration + 1e-9 for s, e in ranges)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))  # ordered, not overlapping or touching
    assert abs(sum(e - s for s, e in cuts) + sum(e - s for s, e in keep) - t.media.duration) < 1e-6
    assert t.edits.cuts == [c for c in t.edits.cuts if c.end > c.start]
    words = ed.effective_words(t)
    assert all(w.end >= w.start >= 0 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    ids = {w.id for w in words}
    shown = [i for c in t.captions for i in c.word_ids]
    assert len(shown) == len(set(shown)) and set(shown) <= ids  # each word in one caption at most
    assert all(c.start <= c.end for c in t.captions)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(t.captions, t.captions[1:]))
    eff = copy.copy(t)
    eff.words = words
    validate(eff)


def test_a_cut_ending_a_hair_from_the_media_start_or_end_leaves_no_lost_sliver() -> None:
    """Found by the property test: a cut from 1 µs to the end dropped the 1 µs keep-range before it as too short
    to keep, yet the cut did not cover it either, so cut + kept time fell short of the media's length."""
    t = make([("so", 0.0, 0.5)], duration=1.0)
    for start, end in [(1e-6, 1.0), (0.0, 1.0 - 1e-6), (5e-7, 1.0 - 5e-7)]:
        new = ed.cut_time(t, start, end)
        assert ed.cut_ranges(new) == [(0.0, 1.0)] and ed.keep_ranges(new) == []
        check_invariants(new)


def test_an_inserted_word_never_pushes_its_caption_over_the_next_one() -> None:
    """Found by the edit-sequence property test: a caption moved earlier by hand, then a word inserted at the
    end of the caption before it, made the two captions overlap."""
    words = [Word(0, "a", 0.0, 0.5), Word(1, "b", 1.0, 1.5)]
    t = Transcript(
        media=MediaRef("x.wav", 2.0, ""),
        language="en",
        provenance=Provenance("e", "1", "m"),
        words=words,
        captions=[Caption(0.0, 0.5, [0], ["a"]), Caption(1.0, 1.5, [1], ["b"])],
    )
    t = ed.retime_caption(t, 1, 0.5, 1.5)
    t, _ = ed.insert_word(t, 0, "um")
    assert all(a.end <= b.start for a, b in zip(t.captions, t.captions[1:])), t.captions
