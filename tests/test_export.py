"""Exports: SRT, WebVTT (plain and word-highlighted), TXT, JSON; time stamps; atomic writing."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import atomic_write
from pipeline.atomic_write import OutputError, write_text_atomic
from pipeline.captions import export as export_mod
from pipeline.captions.captions import build_captions
from pipeline.captions.export import export, srt_time, to_json, to_srt, to_txt, to_vtt, vtt_time
from pipeline.transcripts.transcript import Caption, MediaRef, Provenance, Transcript, Word
from pipeline.transcripts.transcript_json import loads

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HARK_UPDATE_GOLDEN") == "1"  # rewrite goldens; read every diff before committing

# Two speakers, a 3 s pause, a two-line caption, and words holding '&' and '<'.
SAMPLE_WORDS = [
    ("Welcome", 0.50, 0.90, "A"),
    ("to", 0.95, 1.05, "A"),
    ("AT&T", 1.10, 1.60, "A"),
    ("labs.", 1.65, 2.00, "A"),
    ("Glad", 2.10, 2.30, "A"),
    ("you", 2.30, 2.45, "A"),
    ("came.", 2.50, 2.90, "A"),
    ("Thanks!", 3.20, 3.50, "B"),
    ("Honestly,", 7.00, 7.50, "B"),
    ("I", 7.60, 7.70, "B"),
    ("love", 7.75, 8.00, "B"),
    ("x<y", 8.05, 8.60, "B"),
    ("comparisons", 8.65, 9.40, "B"),
    ("in", 9.45, 9.55, "B"),
    ("proofs.", 9.60, 10.25, "B"),
]
SAMPLE_CAPTIONS = [
    Caption(0.5, 2.0, [0, 1, 2, 3], ["Welcome to AT&T labs."], "A"),
    Caption(2.1, 2.9, [4, 5, 6], ["Glad you came."], "A"),
    Caption(3.2, 4.0, [7], ["Thanks!"], "B"),
    Caption(7.0, 10.25, [8, 9, 10, 11, 12, 13, 14], ["Honestly, I love x<y", "comparisons in proofs."], "B"),
]


def make_transcript(words=SAMPLE_WORDS, captions=None, language: str | None = "en") -> Transcript:
    ws = [Word(id=i, text=t, start=s, end=e, probability=0.9, speaker=sp) for i, (t, s, e, sp) in enumerate(words)]
    return Transcript(
        media=MediaRef(path="talk.wav", duration=11.0, sha256="ab" * 32, size=1234),
        language=language,
        provenance=Provenance(engine="whisper.cpp", engine_version="1.5.1", model="base.en"),
        words=ws,
        captions=[
            Caption(c.start, c.end, list(c.word_ids), list(c.lines), c.speaker)
            for c in (SAMPLE_CAPTIONS if captions is None else captions)
        ],
        created="2024-05-01T12:00:00Z",
    )


def empty_transcript() -> Transcript:
    return Transcript(
        media=MediaRef("x.wav", 0.0, "0" * 64), language=None, provenance=Provenance("whisper.cpp", "1", "tiny")
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8") if path.exists() else None
    assert expected is not None, f"missing golden {path}; run with HARK_UPDATE_GOLDEN=1 and check it by eye"
    assert text == expected


# ---------------------------------------------------------------------------- goldens


def test_sample_captions_are_what_build_captions_makes():
    t = make_transcript()
    built = build_captions(t.words, language="en")
    assert [(c.word_ids, c.lines, c.speaker) for c in built] == [
        (c.word_ids, c.lines, c.speaker) for c in SAMPLE_CAPTIONS
    ]
    for b, c in zip(built, SAMPLE_CAPTIONS):
        assert (b.start, b.end) == pytest.approx((c.start, c.end))


def test_srt_golden():
    check_golden("sample.srt", to_srt(make_transcript()))


def test_vtt_golden():
    check_golden("sample.vtt", to_vtt(make_transcript()))


def test_vtt_highlight_golden():
    check_golden("sample.highlight.vtt", to_vtt(make_transcript(), highlight_words=True))


def test_txt_golden():
    check_golden("sample.txt", to_txt(make_transcript()))


# ---------------------------------------------------------------------------- SRT structure

SRT_TIME = r"\d{2,}:\d{2}:\d{2},\d{3}"
VTT_TIME = r"\d{2,}:\d{2}:\d{2}\.\d{3}"


def parse_clock(s: str) -> int:
    h, m, rest = s.split(":")
    sec, ms = re.split(r"[.,]", rest)
    return ((int(h) * 60 + int(m)) * 60 + int(sec)) * 1000 + int(ms)


def test_srt_structure():
    text = to_srt(make_transcript())
    assert text.endswith("\n") and not text.endswith("\n\n")
    blocks = text.rstrip("\n").split("\n\n")
    assert len(blocks) == len(SAMPLE_CAPTIONS)
    prev_end = -1
    for n, (block, cap) in enumerate(zip(blocks, SAMPLE_CAPTIONS), 1):
        lines = block.split("\n")
        assert lines[0] == str(n)  # 1-based, consecutive
        m = re.fullmatch(f"({SRT_TIME}) --> ({SRT_TIME})", lines[1])
        assert m, lines[1]
        start, end = parse_clock(m[1]), parse_clock(m[2])
        assert start <= end and start >= prev_end
        prev_end = end
        assert lines[2:] == [f"{cap.speaker}: {cap.lines[0]}", *cap.lines[1:]]
    # SRT is plain text: no escaping.
    assert "AT&T" in text and "x<y" in text


def test_srt_without_speakers_has_no_prefix():
    t = make_transcript(captions=[Caption(c.start, c.end, c.word_ids, c.lines, None) for c in SAMPLE_CAPTIONS])
    text = to_srt(t)
    assert "A:" not in text and "B:" not in text
    assert text.startswith("1\n00:00:00,500 --> 00:00:02,000\nWelcome to AT&T labs.\n\n2\n")


# ---------------------------------------------------------------------------- WebVTT structure


def vtt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    assert text.startswith("WEBVTT\n\n")
    cues = []
    for block in text[len("WEBVTT\n\n") :].rstrip("\n").split("\n\n"):
        lines = block.split("\n")
        m = re.fullmatch(f"({VTT_TIME}) --> ({VTT_TIME})", lines[0])
        assert m, lines[0]
        cues.append((parse_clock(m[1]), parse_clock(m[2]), lines[1:]))
    return cues


def assert_valid_cue_text(start: int, end: int, body: list[str]) -> None:
    """WebVTT cue text rules Hark relies on: escaped text, known tags, timestamps strictly inside and rising."""
    assert body and all(body), "a cue needs text and no blank line inside"
    joined = "\n".join(body)
    assert "-->" not in joined
    stamps = [parse_clock(s) for s in re.findall(r"<(\d{2,}:\d{2}:\d{2}\.\d{3})>", joined)]
    prev = start
    for s in stamps:
        assert prev < s < end, (start, stamps, end)
        prev = s
    bare = re.sub(r"<(\d{2,}:\d{2}:\d{2}\.\d{3}|c|/c|v [^>]+)>", "", joined)
    assert "<" not in bare and ">" not in bare, bare
    assert not re.search(r"&(?!amp;|lt;|gt;)", bare), bare


def test_vtt_structure_and_escaping():
    text = to_vtt(make_transcript())
    cues = vtt_cues(text)
    assert len(cues) == len(SAMPLE_CAPTIONS)
    for (start, end, body), cap in zip(cues, SAMPLE_CAPTIONS):
        assert (start, end) == (round(cap.start * 1000), round(cap.end * 1000))
        assert body[0].startswith(f"<v {cap.speaker}>")
        assert_valid_cue_text(start, end, body)
    assert "AT&amp;T" in text and "x&lt;y" in text
    assert "AT&T" not in text and "x<y" not in text


def test_vtt_highlight_structure():
    t = make_transcript()
    cues = vtt_cues(to_vtt(t, highlight_words=True))
    for (start, end, body), cap in zip(cues, SAMPLE_CAPTIONS):
        assert_valid_cue_text(start, end, body)
        joined = "\n".join(body)
        # every word is wrapped in a class span; all but the first (at cue start) carry a timestamp
        assert joined.count("<c>") == len(cap.word_ids)
        assert len(re.findall(r"<\d\d:", joined)) == len(cap.word_ids) - 1
        # removing the tags gives back the plain cue text
        plain = re.sub(r"<[^>]+>", "", joined).replace("&amp;", "&").replace("&lt;", "<")
        assert plain == "\n".join(cap.lines)


def test_vtt_escapes_gt_arrow_and_speaker():
    words = [("a->b", 0.0, 0.5, "Q&A <host>"), ("-->", 0.6, 1.0, "Q&A <host>")]
    caps = [Caption(0.0, 1.0, [0, 1], ["a->b -->"], "Q&A <host>")]
    t = make_transcript(words, caps)
    for text in (to_vtt(t), to_vtt(t, highlight_words=True)):
        ((_start, _end, body),) = vtt_cues(text)
        assert body[0].startswith("<v Q&amp;A &lt;host&gt;>")
        assert "a-&gt;b" in body[0] and "--&gt;" in body[0]
        assert "-->" not in "\n".join(body)


def test_vtt_highlight_skips_words_outside_cue_and_edited_text():
    words = [("one", 1.0, 1.2, None), ("two", 1.5, 1.7, None), ("three", 9.0, 9.2, None)]
    # caption cut short at 2.0 (e.g. by max_duration): 'three' starts after the cue ends, so no timestamp
    caps = [Caption(1.0, 2.0, [0, 1, 2], ["one two three"], None)]
    ((_start, _end, body),) = vtt_cues(to_vtt(make_transcript(words, caps), highlight_words=True))
    assert body == ["<c>one</c> <00:00:01.500><c>two</c> <c>three</c>"]
    # a line edited apart from its words is shown plain (and escaped)
    caps = [Caption(1.0, 2.0, [0, 1], ["one 2&3"], None)]
    ((_start, _end, body),) = vtt_cues(to_vtt(make_transcript(words[:2], caps), highlight_words=True))
    assert body == ["<c>one</c> 2&amp;3"]


def test_vtt_highlight_no_space_language():
    words = [("我们", 0.0, 0.3, None), ("今天", 0.4, 0.7, None), ("散步。", 0.8, 1.2, None)]
    caps = [Caption(0.0, 1.2, [0, 1, 2], ["我们今天散步。"], None)]
    t = make_transcript(words, caps, language="zh")
    ((_start, _end, body),) = vtt_cues(to_vtt(t, highlight_words=True))
    assert body == ["<c>我们</c><00:00:00.400><c>今天</c><00:00:00.800><c>散步。</c>"]
    assert to_txt(t) == "我们今天散步。\n"


def test_vtt_highlight_timestamps_strictly_inside_after_rounding():
    # 'b' starts 0.3 ms after the cue: rendered, its timestamp equals the cue start, which WebVTT forbids.
    words = [("a", 1.0, 1.2, None), ("b", 1.0003, 1.5, None), ("c", 1.6, 2.0, None)]
    caps = [Caption(1.0, 2.0, [0, 1, 2], ["a b c"], None)]
    ((start, end, body),) = vtt_cues(to_vtt(make_transcript(words, caps), highlight_words=True))
    assert_valid_cue_text(start, end, body)


def test_vtt_highlight_timestamps_strictly_rising():
    words = [("a", 1.0, 1.2, None), ("b", 1.5, 1.5, None), ("c", 1.5, 2.0, None)]
    caps = [Caption(1.0, 2.5, [0, 1, 2], ["a b c"], None)]
    ((start, end, body),) = vtt_cues(to_vtt(make_transcript(words, caps), highlight_words=True))
    assert_valid_cue_text(start, end, body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(
            st.integers(1, 3000),
            st.integers(0, 1500),
            st.sampled_from([None, "A", "B"]),
            st.text(alphabet="ab&<>-. ", min_size=1, max_size=8).map(lambda s: s.replace(" ", "") or "w"),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_property_vtt_valid_for_built_captions(steps):
    """Captions from build_captions, times on a 1 ms grid: every cue is valid WebVTT, plain and highlighted."""
    words, t_ms = [], 0
    for gap, dur, speaker, text in steps:
        start = t_ms + gap
        words.append((text, start / 1000, (start + dur) / 1000, speaker))
        t_ms = start + dur
    t = make_transcript(words, captions=[])
    t.captions = build_captions(t.words)
    for highlight in (False, True):
        cues = vtt_cues(to_vtt(t, highlight_words=highlight))
        assert len(cues) == len(t.captions)
        prev_end = 0
        for start, end, body in cues:
            assert prev_end <= start <= end
            prev_end = end
            assert_valid_cue_text(start, end, body)
    srt_blocks = to_srt(t).rstrip("\n").split("\n\n")
    assert [b.split("\n")[0] for b in srt_blocks] == [str(i) for i in range(1, len(t.captions) + 1)]


# ---------------------------------------------------------------------------- TXT


def test_txt_paragraphs_split_on_speaker_and_long_pause_only():
    words = [("One.", 0.0, 0.5, None), ("Two.", 1.0, 1.5, None), ("Three.", 3.5, 4.0, None), ("Four.", 6.01, 6.5, None)]
    caps = [
        Caption(0.0, 0.75, [0], ["One."]),
        Caption(1.0, 1.5, [1], ["Two."]),
        Caption(3.5, 4.0, [2], ["Three."]),
        Caption(6.01, 7.0, [3], ["Four."]),
    ]
    # gaps: 0.25 s, exactly 2.0 s (same paragraph), 2.01 s (new paragraph)
    assert to_txt(make_transcript(words, caps)) == "One. Two. Three.\n\nFour.\n"


def test_txt_joins_caption_lines():
    t = make_transcript()
    assert to_txt(t).split("\n\n")[-1] == "B: Honestly, I love x<y comparisons in proofs.\n"


# ---------------------------------------------------------------------------- time stamps


@pytest.mark.parametrize(
    "t, srt, vtt",
    [
        (0.0, "00:00:00,000", "00:00:00.000"),
        (1.5, "00:00:01,500", "00:00:01.500"),
        (0.0004, "00:00:00,000", "00:00:00.000"),
        (0.0006, "00:00:00,001", "00:00:00.001"),
        (1.2344, "00:00:01,234", "00:00:01.234"),
        (1.2346, "00:00:01,235", "00:00:01.235"),
        (59.9996, "00:01:00,000", "00:01:00.000"),  # rounding carries into the minutes
        (3599.9999, "01:00:00,000", "01:00:00.000"),  # ... and the hours
        (61.25, "00:01:01,250", "00:01:01.250"),
        (6000.0, "01:40:00,000", "01:40:00.000"),  # 100 minutes: minutes wrap into hours
        (5999.999, "01:39:59,999", "01:39:59.999"),
        (36000.0, "10:00:00,000", "10:00:00.000"),
        (360000.0, "100:00:00,000", "100:00:00.000"),  # over 99 hours: the hours just widen
        (-0.5, "00:00:00,000", "00:00:00.000"),  # never negative
    ],
)
def test_clock(t, srt, vtt):
    assert srt_time(t) == srt
    assert vtt_time(t) == vtt


@settings(max_examples=200, deadline=None)
@given(ms=st.integers(0, 400 * 3600 * 1000))
def test_property_clock_round_trips_whole_ms(ms):
    for fmt, sep in ((srt_time, ","), (vtt_time, ".")):
        s = fmt(ms / 1000)
        assert re.fullmatch(r"\d{2,}:[0-5]\d:[0-5]\d" + re.escape(sep) + r"\d{3}", s)
        assert parse_clock(s) == ms


# ---------------------------------------------------------------------------- empty


def test_empty_transcript_exports():
    t = empty_transcript()
    assert to_srt(t) == ""
    assert to_vtt(t) == "WEBVTT\n"
    assert to_vtt(t, highlight_words=True) == "WEBVTT\n"
    assert to_txt(t) == ""
    assert loads(to_json(t)) == t


def test_empty_transcript_export_files(tmp_path):
    t = empty_transcript()
    for fmt in ("srt", "vtt", "txt", "json"):
        p = export(t, fmt, tmp_path / f"empty.{fmt}")
        assert p.exists()
    assert (tmp_path / "empty.srt").read_text() == ""
    assert (tmp_path / "empty.vtt").read_text() == "WEBVTT\n"


# ---------------------------------------------------------------------------- export() and atomic writing


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt", "json"])
def test_export_writes_renderer_output_and_no_temp_files(tmp_path, fmt):
    t = make_transcript()
    out = tmp_path / f"talk.{fmt}"
    got = export(t, fmt, out)
    assert Path(got) == out
    expected = {"srt": to_srt, "vtt": to_vtt, "txt": to_txt, "json": to_json}[fmt](t)
    assert out.read_bytes() == expected.encode("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_export_json_round_trips(tmp_path):
    t = make_transcript()
    p = export(t, "json", tmp_path / "t.json")
    assert loads(p.read_text(encoding="utf-8")) == t


def test_export_vtt_highlight(tmp_path):
    t = make_transcript()
    p = export(t, "vtt", tmp_path / "t.vtt", highlight_words=True)
    assert p.read_text(encoding="utf-8") == to_vtt(t, highlight_words=True)
    assert list(tmp_path.iterdir()) == [p]


def test_export_overwrites_existing_file(tmp_path):
    out = tmp_path / "t.srt"
    out.write_text("old content that is much longer than the new one" * 100)
    export(make_transcript(), "srt", out)
    assert out.read_text(encoding="utf-8") == to_srt(make_transcript())
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize("fmt", ["docx", "SRT", "", "vtt "])
def test_export_unknown_format(tmp_path, fmt):
    with pytest.raises(ValueError, match="unknown format"):
        export(make_transcript(), fmt, tmp_path / "out.x")
    assert list(tmp_path.iterdir()) == []


def test_export_creates_missing_parent(tmp_path):
    out = tmp_path / "a" / "b" / "t.txt"
    export(make_transcript(), "txt", out)
    assert out.read_text(encoding="utf-8") == to_txt(make_transcript())


def test_export_parent_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="could not write"):
        export(make_transcript(), "srt", tmp_path / "file" / "t.srt")


def test_export_onto_a_directory_leaves_no_temp(tmp_path):
    target = tmp_path / "t.srt"
    target.mkdir()
    with pytest.raises(OutputError):
        export(make_transcript(), "srt", target)
    assert [p.name for p in tmp_path.iterdir()] == ["t.srt"]
    assert target.is_dir()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_export_into_read_only_dir(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(OutputError):
            export(make_transcript(), "srt", ro / "t.srt")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(stat.S_IRWXU)


def test_failed_replace_keeps_old_file_and_removes_temp(tmp_path, monkeypatch):
    out = tmp_path / "t.srt"
    out.write_text("previous", encoding="utf-8")

    def boom(src, dst):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(atomic_write.os, "replace", boom)
    with pytest.raises(OutputError, match="could not write"):
        export(make_transcript(), "srt", out)
    assert out.read_text(encoding="utf-8") == "previous"
    assert list(tmp_path.iterdir()) == [out]


def test_disk_full_is_reported(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "fsync", full)
    with pytest.raises(OutputError, match="disk full"):
        write_text_atomic(tmp_path / "t.txt", "hello")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_during_write_removes_temp(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic_write.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(tmp_path / "t.txt", "hello")
    assert list(tmp_path.iterdir()) == []


def test_write_text_atomic_uses_utf8_and_lf(tmp_path):
    p = write_text_atomic(tmp_path / "t.txt", "héllo\nwörld 你好\n")
    assert p.read_bytes() == "héllo\nwörld 你好\n".encode()


def test_export_module_formats_constant():
    assert set(export_mod.FORMATS) == set(export_mod.RENDERERS)


def test_free_stem_never_points_at_an_existing_file(tmp_path):
    from pipeline.captions.export import free_stem

    assert free_stem(tmp_path, "talk", ["srt", "txt"]) == tmp_path / "talk"
    (tmp_path / "talk.txt").write_text("mine")
    assert free_stem(tmp_path, "talk", ["srt", "txt"]) == tmp_path / "talk-2"
    assert free_stem(tmp_path, "talk", ["srt"]) == tmp_path / "talk"  # only the formats asked for count
    (tmp_path / "talk-2.srt").write_text("mine too")
    assert free_stem(tmp_path, "talk", ["srt", "txt"]) == tmp_path / "talk-3"
    assert free_stem(tmp_path, "new", ["srt"], {tmp_path / "new.srt"}) == tmp_path / "new-2"  # taken in this batch


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from pipeline.atomic_write import write_text_atomic

    old = os.umask(0o022)
    try:
        import importlib

        import pipeline.atomic_write as aw

        importlib.reload(aw)
        p = aw.write_text_atomic(tmp_path / "talk.srt", "1\n")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644  # not mkstemp's owner-only 0600
    finally:
        os.umask(old)
        importlib.reload(aw)
    assert callable(write_text_atomic)  # the module-level import still works after the reloads
