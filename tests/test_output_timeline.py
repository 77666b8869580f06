"""Re-timing a transcript for the trimmed output: captions shifted, cut words gone, order kept."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.captions.export import to_srt
from pipeline.editing import editing as ed
from pipeline.editing.output_timeline import OutputClock, output_transcript
from tests.test_editing import SENTENCE, make, transcripts


def test_clock_maps_source_to_output_time():
    clock = OutputClock([(0.0, 1.0), (3.0, 4.0), (6.0, 8.0)])
    assert clock.total == 4.0
    assert clock.to_output(0.5) == 0.5
    assert clock.to_output(2.0) == 1.0  # inside a cut: where the next kept range starts
    assert clock.to_output(3.25) == 1.25
    assert clock.to_output(7.0) == 3.0
    assert clock.to_output(99.0) == 4.0
    assert clock.range_of(2.0) is None and clock.range_of(6.5) == 2


def test_cut_sentence_is_gone_and_the_rest_moves_up():
    t = make(SENTENCE)  # two captions: "Hello there, this is a test." / "Second sentence here."
    u = ed.cut_words(t, [0, 1, 2, 3, 4, 5])  # the whole first sentence
    keep = ed.keep_ranges(u)
    out = output_transcript(u, keep)
    assert [w.text for w in out.words] == ["Second", "sentence", "here."]
    assert len(out.captions) == 1 and out.captions[0].lines == t.captions[1].lines
    shift = 2.7 - 0.5  # the cut ran from "Hello" (0.5) to the end of "test." (2.7)
    assert abs(out.words[0].start - (3.5 - shift)) < 1e-9
    assert abs(out.media.duration - (t.media.duration - shift)) < 1e-9
    assert "Hello" not in to_srt(out) and "Second sentence here." in to_srt(out)


def test_a_caption_loses_a_cut_word_and_closes_the_gap():
    t = make(SENTENCE)
    u = ed.correct_word(ed.cut_words(t, [3]), 2, "This")  # "this is a" → "This a"
    out = output_transcript(u, ed.keep_ranges(u))
    assert " ".join(out.captions[0].lines) == "Hello there, This a test."
    assert out.edits.corrections == [] and out.edits.cuts == []
    ws = {w.text: w for w in out.words}
    assert ws["a"].start - ws["This"].end < 0.2  # the cut pause is gone


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), t=transcripts())
def test_property_output_captions_stay_ordered_and_inside_the_output(data, t):
    ids = [w.id for w in t.words]
    for _ in range(data.draw(st.integers(0, 4))):
        if data.draw(st.booleans()):
            t = ed.cut_words(t, data.draw(st.sets(st.sampled_from(ids), max_size=6)))
        else:
            a, b = sorted(data.draw(st.tuples(st.floats(0, t.media.duration), st.floats(0, t.media.duration))))
            if b > a:
                t = ed.cut_time(t, a, b)
    keep = ed.keep_ranges(t)
    out = output_transcript(t, keep)
    total = sum(e - s for s, e in keep)
    assert abs(out.media.duration - total) < 1e-9
    cut = ed.cut_word_ids(t)
    assert {w.id for w in out.words} == {w.id for w in ed.effective_words(t)} - cut
    for w in out.words:
        assert -1e-9 <= w.start <= w.end <= total + 1e-9
    for c in out.captions:
        assert 0 <= c.start <= c.end <= total + 1e-9
        assert c.word_ids and not (set(c.word_ids) & cut)
    for a, b in zip(out.captions, out.captions[1:]):
        assert a.start <= b.start and a.end <= b.start + 1e-9
