"""Word-level speaker error, the optimal speaker mapping, and diarizing real speech end to end."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.captions import export
from pipeline.engines.base import TranscribeOptions
from pipeline.engines.sphinx import SphinxEngine
from pipeline.speakers.speaker_merge import diarize_transcript, rename_speaker, transcript_speakers
from pipeline.speakers.speaker_metrics import best_assignment, word_speaker_error
from pipeline.speakers.speaker_turns import Turn, format_rttm, parse_rttm, read_rttm
from pipeline.transcription.transcribe import transcribe_file
from pipeline.transcripts.transcript import Transcript, Word
from tests.conftest import DATA, PYANNOTE_SAMPLE, PYANNOTE_SAMPLE_RTTM

# An AMI meeting excerpt: 2 speakers, overlapping turns.
CLIP_WAV = DATA / "pyannote" / "ami-debug" / "dev00.wav"
CLIP_RTTM = DATA / "pyannote" / "ami-debug" / "debug.development.rttm"
NAMES = {"MEE009", "MEE012"}


def w(i: int, start: float, speaker: str | None) -> Word:
    return Word(i, f"w{i}", start, start + 0.4, speaker=speaker)


REF = [Turn(0, 2, "ana"), Turn(2, 4, "bo")]


def test_renamed_but_correct_labels_have_no_error() -> None:
    words = [w(0, 0.1, "S1"), w(1, 0.8, "S1"), w(2, 2.2, "S0"), w(3, 3.0, "S0")]
    e = word_speaker_error(words, REF)
    assert (e.rate, e.wrong, e.scored, e.unscored) == (0.0, 0, 4, 0)
    assert e.mapping == {"S1": "ana", "S0": "bo"}


def test_wrong_missing_extra_and_unscored_words() -> None:
    words = [
        w(0, 0.1, "S1"),
        w(1, 0.8, "S0"),
        w(2, 1.4, "S1"),
        w(3, 2.2, "S0"),
        w(4, 3.0, None),
        w(5, 3.4, "S2"),
        w(6, 9.0, "S0"),
    ]  # the last lies outside every reference turn
    e = word_speaker_error(words, REF)
    # S1 → ana (2 words), S0 → bo (1 word; its word in ana's turn is wrong), S2 unmapped, None wrong.
    assert e.mapping == {"S1": "ana", "S0": "bo"}
    assert (e.wrong, e.scored, e.unscored) == (3, 6, 1)
    assert e.rate == pytest.approx(0.5)
    assert word_speaker_error([], REF).rate == 0.0


def test_a_word_between_reference_turns_goes_to_the_one_overlapping_it_most() -> None:
    e = word_speaker_error([Word(0, "x", 1.7, 2.1, speaker="S")], REF)
    assert e.mapping == {"S": "ana"} and e.wrong == 0


def brute_force(weights: list[list[float]]) -> float:
    rows, cols = len(weights), len(weights[0])
    if rows <= cols:
        return max(sum(weights[i][p[i]] for i in range(rows)) for p in itertools.permutations(range(cols), rows))
    return max(sum(weights[p[j]][j] for j in range(cols)) for p in itertools.permutations(range(rows), cols))


@given(
    st.integers(1, 5).flatmap(
        lambda r: st.integers(1, 6).flatmap(
            lambda c: st.lists(st.lists(st.integers(0, 9).map(float), min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )
)
def test_assignment_is_optimal_and_one_to_one(weights: list[list[float]]) -> None:
    pairs = best_assignment(weights)
    assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})
    assert sum(weights[i][j] for i, j in pairs) == brute_force(weights)


def test_assignment_of_ten_speakers_is_quick_and_exact() -> None:
    weights = [[float((i * 7 + j * 3) % 10) for j in range(10)] for i in range(10)]
    assert sum(weights[i][j] for i, j in best_assignment(weights)) == brute_force(weights)


# ---------------------------------------------------------------------------- real speech


@pytest.fixture(scope="module")
def sample() -> Transcript:
    """The meeting clip, transcribed once by the offline engine (~15 s)."""
    return transcribe_file(CLIP_WAV, SphinxEngine(), TranscribeOptions(language="en"))


@pytest.fixture(scope="module")
def reference() -> list[Turn]:
    return read_rttm(CLIP_RTTM, "dev00")


def test_real_clip_diarized_from_its_reference(sample: Transcript, reference: list[Turn]) -> None:
    assert len(sample.words) >= 30
    d = diarize_transcript(sample, reference)
    assert all(x.speaker in NAMES for x in d.words)
    assert [(x.id, x.text, x.start, x.end) for x in d.words] == [(x.id, x.text, x.start, x.end) for x in sample.words]
    own = word_speaker_error(d, reference)
    assert own.mapping == {n: n for n in NAMES}
    assert own.scored >= 0.8 * len(d.words)
    # By construction only words straddling a turn change (or the overlap) can disagree.
    assert own.rate <= 0.05, own
    # Against a reference 1.5 s late, whole stretches of words belong to the other speaker.
    late = [Turn(t.start + 1.5, t.end + 1.5, t.speaker) for t in reference]
    shifted = word_speaker_error(d, late)
    assert shifted.rate >= own.rate + 0.1, (own, shifted)
    # Both speakers talk, and each caption has one of them.
    assert set(transcript_speakers(d)) == NAMES
    assert all(c.speaker in NAMES for c in d.captions)


def test_real_reference_round_trips_and_scores_the_same(sample: Transcript, reference: list[Turn]) -> None:
    again = parse_rttm(format_rttm(reference, "dev00"), "dev00")
    assert again == reference
    d = diarize_transcript(sample, reference)
    assert word_speaker_error(d, again) == word_speaker_error(d, reference)


def test_real_exports_carry_names_and_follow_a_rename(sample: Transcript, reference: list[Turn]) -> None:
    d = diarize_transcript(sample, reference)
    srt, vtt = export.to_srt(d), export.to_vtt(d)
    for name in NAMES:
        assert f"{name}: " in srt and f"<v {name}>" in vtt
    # Every SRT block and every VTT cue names its speaker.
    assert srt.count(": ") >= len(d.captions) and vtt.count("<v MEE0") == len(d.captions)
    r = rename_speaker(rename_speaker(d, "MEE009", "Ana"), "MEE012", "Bo")
    outputs = [export.to_srt(r), export.to_vtt(r), export.to_txt(r), export.to_json(r)]
    assert all("MEE0" not in out for out in outputs)
    assert "Ana: " in outputs[0] and "<v Bo>" in outputs[1] and "\n\nBo: " in "\n\n" + outputs[2]
    assert word_speaker_error(r, reference).rate == word_speaker_error(d, reference).rate


def test_pyannote_sample_words_take_their_reference_speakers() -> None:
    """pyannote's own two-speaker clip: real words from the offline engine, merged with the reference turns."""
    t = transcribe_file(PYANNOTE_SAMPLE, SphinxEngine(), TranscribeOptions(language="en"))
    ref = read_rttm(PYANNOTE_SAMPLE_RTTM)
    d = diarize_transcript(t, ref)
    assert len(d.words) >= 40
    own = word_speaker_error(d, ref)
    assert own.mapping == {"speaker90": "speaker90", "speaker91": "speaker91"}
    assert own.rate <= 0.1, own
    assert set(transcript_speakers(d)) == {"speaker90", "speaker91"}
    by_id = {x.id: x for x in d.words}
    for c in d.captions:  # one speaker per caption, and a new caption at every change of speaker
        assert {by_id[i].speaker for i in c.word_ids} == {c.speaker}
    changes = sum(1 for a, b in zip(d.words, d.words[1:]) if a.speaker != b.speaker)
    assert changes >= 4 and len(d.captions) > changes
    # The speaker's name counts towards the line length: "speaker90: " takes 11 of the 42.
    srt_lines = [ln for block in export.to_srt(d).split("\n\n") for ln in block.splitlines()[2:]]
    assert srt_lines and max(map(len, srt_lines)) <= 42, max(srt_lines, key=len)
    assert any(ln.startswith("speaker9") and len(ln) > 32 for ln in srt_lines)  # the room is used
