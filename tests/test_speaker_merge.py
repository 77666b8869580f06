"""Words get speakers from turns: overlap, gaps, smoothing, transcripts, renaming."""

from __future__ import annotations

import copy
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.captions import export
from pipeline.captions.captions import CaptionRules
from pipeline.editing.editing import correct_word, cut_words, insert_word
from pipeline.speakers.speaker_merge import (
    LONG_PAUSE,
    assign_speakers,
    diarize_transcript,
    ends_sentence,
    exclusive_turns,
    rename_speaker,
    smooth_speakers,
    transcript_speakers,
)
from pipeline.speakers.speaker_turns import Turn
from pipeline.transcripts import transcript_json
from pipeline.transcripts.edit_view import EditError, effective_words
from pipeline.transcripts.transcript import MediaRef, Provenance, Transcript, Word


def said(text: str, speakers: str, *, step: float = 0.3, dur: float = 0.25, start: float = 0.0) -> list[Word]:
    """Words of `text` spoken steadily; `speakers` has one letter per word (A, B, ..., "-" for None)."""
    texts = text.split()
    assert len(texts) == len(speakers)
    return [
        Word(i, t, start + i * step, start + i * step + dur, speaker=None if s == "-" else s)
        for i, (t, s) in enumerate(zip(texts, speakers))
    ]


def who(words: list[Word]) -> str:
    """One character per word: its speaker's last letter ("SPEAKER_01" → "1"), "-" for None."""
    return "".join((w.speaker or "-")[-1] for w in words)


def plain(words: list[Word]) -> list[tuple[int, str, float, float]]:
    return [(w.id, w.text, w.start, w.end) for w in words]


# ---------------------------------------------------------------------------- exclusive turns


def test_overlap_goes_to_the_turn_that_started_last() -> None:
    turns = [Turn(0, 10, "A"), Turn(3, 4, "B")]
    assert exclusive_turns(turns) == [Turn(0, 3, "A"), Turn(3, 4, "B"), Turn(4, 10, "A")]
    # Same start: the shorter turn wins; its speaker then hands back to the longer one.
    assert exclusive_turns([Turn(2, 9, "A"), Turn(2, 3, "B")]) == [Turn(2, 3, "B"), Turn(3, 9, "A")]
    # Touching turns of one speaker are joined; zero-length turns vanish.
    assert exclusive_turns([Turn(0, 1, "A"), Turn(1, 2, "A"), Turn(5, 5, "B")]) == [Turn(0, 2, "A")]


turn_st = st.builds(
    lambda s, d, n: Turn(s, s + d, n),
    st.integers(0, 40).map(lambda k: k / 4),
    st.integers(0, 16).map(lambda k: k / 4),
    st.sampled_from("ABC"),
)


@given(st.lists(turn_st, max_size=12))
def test_exclusive_turns_never_overlap_and_cover_the_same_time(turns: list[Turn]) -> None:
    ex = exclusive_turns(turns)
    assert all(a.end <= b.start for a, b in itertools.pairwise(ex))
    assert exclusive_turns(ex) == ex
    # Every moment keeps one of the speakers that were talking then, and only talk is covered.
    for k in range(56 * 8):
        x = k / 8 + 1 / 16
        active = [t for t in turns if t.start < x < t.end]
        here = [t for t in ex if t.start < x < t.end]
        assert len(here) == (1 if active else 0)
        if active:
            assert here[0].speaker == max(active, key=lambda t: (t.start, -t.duration, t.speaker)).speaker


# ---------------------------------------------------------------------------- assignment


def test_each_word_gets_the_speaker_overlapping_it_most() -> None:
    words = [Word(0, "a", 0.0, 1.0), Word(1, "b", 1.8, 2.6), Word(2, "c", 3.0, 3.4)]
    turns = [Turn(0.0, 2.0, "A"), Turn(2.0, 5.0, "B")]
    # "b" straddles the change: 0.2 s with A, 0.6 s with B.
    assert who(assign_speakers(words, turns)) == "ABB"


def test_exclusive_lets_an_interjection_keep_its_words() -> None:
    words = [Word(0, "so", 1.0, 1.4), Word(1, "yes", 3.1, 3.9), Word(2, "then", 5.0, 5.5)]
    turns = [Turn(0, 10, "A"), Turn(3, 4, "B")]
    assert who(assign_speakers(words, turns)) == "ABA"
    # Without resolving the overlap "yes" overlaps both equally, and the tie goes by name.
    assert who(assign_speakers(words, turns, exclusive=False)) == "AAA"
    # pyannote's exclusive output can be passed in as it is.
    assert who(assign_speakers(words, [Turn(0, 3, "A"), Turn(3, 4, "B"), Turn(4, 10, "A")])) == "ABA"


def test_words_in_gaps_take_the_nearest_turn() -> None:
    turns = [Turn(1.0, 2.0, "A"), Turn(4.0, 5.0, "B")]
    words = [
        Word(0, "before", 0.0, 0.5),  # before every turn: A
        Word(1, "early", 2.2, 2.6),  # middle 2.4: 0.4 s after A, 1.6 s before B
        Word(2, "late", 3.3, 3.7),  # middle 3.5: 1.5 s after A, 0.5 s before B
        Word(3, "after", 6.0, 6.1),  # after every turn: B
        Word(4, "tick", 1.5, 1.5),  # no duration, inside A's turn
        Word(5, "mid", 2.9, 3.1),  # exactly half way: stays with the speaker before the gap
    ]
    assert who(assign_speakers(words, turns)) == "AABBAA"
    # A long turn reaching past a later short one is still the nearest on the left.
    turns = [Turn(0.0, 9.0, "A"), Turn(1.0, 2.0, "B")]
    assert who(assign_speakers([Word(0, "x", 9.2, 9.4)], turns, exclusive=False)) == "A"


def test_no_turns_no_speakers_and_nothing_mutated() -> None:
    words = said("hello there", "AB")
    before = copy.deepcopy(words)
    assert who(assign_speakers(words, [])) == "--"
    out = assign_speakers(words, [Turn(0, 9, "C")])
    assert who(out) == "CC"
    assert words == before
    assert all(a is not b for a, b in zip(words, out))


def word_lists(min_size: int = 0) -> st.SearchStrategy[list[Word]]:
    """Time-ordered words with speakers: positive lengths, pauses from none to long."""
    item = st.tuples(
        st.integers(0, 14),
        st.integers(1, 8),
        st.sampled_from("ABC"),
        st.sampled_from(["so", "we", "go", "on", "now.", "ok?", "yes,", "right!", "well"]),
    )

    def build(items: list[tuple[int, int, str, str]]) -> list[Word]:
        out, t = [], 0.0
        for i, (gap, length, speaker, text) in enumerate(items):
            start = t + gap / 10
            out.append(Word(i, text, start, start + length / 10, speaker=speaker))
            t = start + length / 10
        return out

    return st.lists(item, min_size=min_size, max_size=25).map(build)


@given(word_lists(), st.lists(turn_st, min_size=1, max_size=10), st.booleans())
def test_every_word_gets_a_speaker_and_nothing_else_changes(
    words: list[Word], turns: list[Turn], exclusive: bool
) -> None:
    out = assign_speakers(words, turns, exclusive=exclusive)
    assert plain(out) == plain(words)
    assert all(w.speaker in {t.speaker for t in turns} for w in out)
    assert assign_speakers(out, turns, exclusive=exclusive) == out


def runs_as_turns(words: list[Word]) -> list[Turn]:
    turns: list[Turn] = []
    for w in words:
        if turns and turns[-1].speaker == w.speaker:
            turns[-1] = Turn(turns[-1].start, w.end, w.speaker)
        else:
            turns.append(Turn(w.start, w.end, w.speaker or "?"))
    return turns


@given(word_lists(), st.booleans())
def test_word_aligned_ground_truth_is_reproduced(words: list[Word], exclusive: bool) -> None:
    out = assign_speakers(
        [Word(w.id, w.text, w.start, w.end) for w in words], runs_as_turns(words), exclusive=exclusive
    )
    assert who(out) == who(words)


# ---------------------------------------------------------------------------- smoothing


def test_a_one_word_flip_inside_a_sentence_is_smoothed() -> None:
    words = said("so we went to the store and bought some milk.", "AAAAABAAAA")
    assert who(smooth_speakers(words)) == "AAAAAAAAAA"
    # Two words flipped: also smoothed; three are more than a flip.
    assert who(smooth_speakers(said("so we went to the store and bought some milk.", "AAAAABBAAA"))) == "A" * 10
    assert who(smooth_speakers(said("so we went to the store and bought some milk.", "AAAABBBAAA"))) == "AAAABBBAAA"


def test_a_real_short_answer_between_sentences_is_kept() -> None:
    words = said("did you see the plan? Yes, exactly. then we agree on it.", "AAAAABBAAAAA")
    assert who(smooth_speakers(words)) == who(words)
    # Even when the question had no mark, the answer's own full stop keeps it.
    words = said("and you saw the plan Yes, exactly. then we agree on it.", "AAAAABBAAAAA")
    assert who(smooth_speakers(words)) == who(words)


def test_smoothing_respects_pauses_lengths_and_weak_surroundings() -> None:
    text = "so we went to the store and bought some milk."
    words = said(text, "AAAAABAAAA")
    paused = [w if w.id < 5 else Word(w.id, w.text, w.start + 1.5, w.end + 1.5, speaker=w.speaker) for w in words]
    assert paused[5].start - paused[4].end > LONG_PAUSE
    assert who(smooth_speakers(paused)) == "AAAAABAAAA"
    slow = said(text, "AAAAABAAAA", step=1.0, dur=0.9)  # one word of 0.9 s is longer than a flip
    assert who(smooth_speakers(slow)) == "AAAAABAAAA"
    assert who(smooth_speakers(slow, max_flip_seconds=1.0)) == "AAAAAAAAAA"
    # One short word of A on one side is not A holding the floor: nothing to smooth towards.
    assert who(smooth_speakers(said("I think we should go now.", "ABAAAA"))) == "ABAAAA"
    # Unknown speakers are left alone.
    assert who(smooth_speakers(said("so we went to the store and", "AAA-AAA"))) == "AAA-AAA"


def flank(words: list[Word], i: int, step: int) -> Word | None:
    """The nearest word from i (going `step`) whose speaker differs from word i's."""
    j = i + step
    while 0 <= j < len(words) and words[j].speaker == words[i].speaker:
        j += step
    return words[j] if 0 <= j < len(words) else None


@given(word_lists(), st.integers(1, 4), st.sampled_from([0.3, 0.8, 1.5]))
def test_smoothing_properties(words: list[Word], max_words: int, max_seconds: float) -> None:
    out = smooth_speakers(words, max_flip_words=max_words, max_flip_seconds=max_seconds)
    assert plain(out) == plain(words)
    assert smooth_speakers(out, max_flip_words=max_words, max_flip_seconds=max_seconds) == out
    for i, (w, o) in enumerate(zip(words, out)):
        if w.speaker == o.speaker:
            continue
        before, after = flank(words, i, -1), flank(words, i, 1)
        # Only between two words of one speaker, who gets it.
        assert before is not None and after is not None
        assert before.speaker == after.speaker == o.speaker
        # Never across a sentence end or a long pause, from the word before the run to the word after.
        span = words[before.id : after.id + 1]
        assert not any(ends_sentence(x.text) for x in span[:-1])
        assert all(b.start - a.end <= LONG_PAUSE for a, b in itertools.pairwise(span))
        assert after.id - before.id - 1 <= max_words


# ---------------------------------------------------------------------------- transcripts


def transcript(words: list[Word]) -> Transcript:
    from pipeline.captions.captions import build_captions

    return Transcript(
        media=MediaRef("/tmp/talk.wav", 20.0, "0" * 64),
        language="en",
        provenance=Provenance("pocketsphinx", "5", "en-us"),
        words=words,
        captions=build_captions(words),
        created="2026-01-01T00:00:00+00:00",
    )


TALK = "did you see the plan? Yes, exactly. so we went to the store and bought some milk."
N = len(TALK.split())  # 17 words, word i at 0.3 i .. 0.3 i + 0.25 s
TURNS = [
    Turn(0.0, 1.45, "SPEAKER_00"),
    Turn(1.5, 2.1, "SPEAKER_01"),
    Turn(2.1, 3.55, "SPEAKER_00"),
    # the diarizer's glitch: "store" (3.6-3.85) heard as SPEAKER_01
    Turn(3.55, 3.9, "SPEAKER_01"),
    Turn(3.9, 5.2, "SPEAKER_00"),
]


def test_diarize_transcript_labels_words_and_splits_captions() -> None:
    t = transcript(said(TALK, "-" * N))
    # The user's edits: a correction, a cut, an inserted word.
    t = correct_word(t, 15, "oat")
    t = cut_words(t, [8])
    t, _ = insert_word(t, 14, "fresh")
    before = copy.deepcopy(t)
    d = diarize_transcript(t, TURNS)
    assert t == before
    assert who(d.words) == "0000011" + "0" * 10  # "store" smoothed back
    assert [w.speaker for w in d.edits.inserted] == ["SPEAKER_00"]
    assert plain(d.words) == plain(t.words) and plain(d.edits.inserted) == plain(t.edits.inserted)
    assert (d.edits.corrections, d.edits.cuts, d.edits.retimed) == (t.edits.corrections, t.edits.cuts, t.edits.retimed)
    # Captions: every word once, never two speakers in one, showing the corrected and inserted words.
    view = {w.id: w for w in effective_words(d)}
    assert sorted(i for c in d.captions for i in c.word_ids) == sorted(view)
    for c in d.captions:
        assert {view[i].speaker for i in c.word_ids} == {c.speaker}
    assert [c.speaker for c in d.captions] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    assert "fresh oat milk." in " ".join(d.captions[-1].lines)
    transcript_json.loads(transcript_json.dumps(d))  # still a valid transcript
    # Diarizing again with the same turns changes nothing.
    assert diarize_transcript(d, TURNS) == d


def test_caption_rules_are_used() -> None:
    d = diarize_transcript(transcript(said(TALK, "-" * N)), TURNS, CaptionRules(max_line_chars=12, max_lines=1))
    assert all(len(ln) <= 12 for c in d.captions for ln in c.lines)


def test_rename_speaker_follows_into_every_export(tmp_path) -> None:
    t, _ = insert_word(diarize_transcript(transcript(said(TALK, "-" * N)), TURNS), 6, "yes")
    before = copy.deepcopy(t)
    r = rename_speaker(t, "SPEAKER_01", "Ana")
    assert t == before
    assert transcript_speakers(r) == ["SPEAKER_00", "Ana"]
    assert [w.speaker for w in r.edits.inserted] == ["Ana"]
    assert [c.speaker for c in r.captions] == ["SPEAKER_00", "Ana", "SPEAKER_00"]
    assert plain(r.words) == plain(t.words) and r.edits.inserted[0].text == "yes"
    srt, vtt, txt = export.to_srt(r), export.to_vtt(r), export.to_txt(r)
    assert "Ana: Yes, exactly. yes" in srt
    assert "<v Ana>Yes, exactly. yes" in vtt
    assert "\n\nAna: Yes, exactly. yes\n\n" in txt
    data = json.loads(export.to_json(r))
    assert {w["speaker"] for w in data["words"]} == {"SPEAKER_00", "Ana"}
    assert all("SPEAKER_01" not in s for s in (srt, vtt, txt, export.to_json(r)))


def test_renaming_to_an_existing_name_merges_the_speakers() -> None:
    t = diarize_transcript(transcript(said(TALK, "-" * N)), TURNS)
    m = rename_speaker(t, "SPEAKER_01", "SPEAKER_00")
    assert transcript_speakers(m) == ["SPEAKER_00"]
    assert {c.speaker for c in m.captions} == {"SPEAKER_00"}
    assert len(m.captions) == len(t.captions)  # relabelled, not rebuilt
    assert rename_speaker(t, "SPEAKER_00", "  Bo  ").captions[0].speaker == "Bo"


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("SPEAKER_00", "", "needs a name"),
        ("SPEAKER_00", "  \t", "needs a name"),
        ("nobody", "Ana", "no speaker 'nobody'"),
    ],
)
def test_rename_refusals(old: str, new: str, message: str) -> None:
    t = diarize_transcript(transcript(said(TALK, "-" * N)), TURNS)
    with pytest.raises(EditError, match=message):
        rename_speaker(t, old, new)
