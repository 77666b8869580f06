"""CMX 3600 EDL of a cut list: layout by columns, timecodes, and record times that add up."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render.edl import (
    EdlError,
    edl_events,
    nominal_rate,
    parse_timecode,
    reel_name,
    timecode,
    to_edl,
    write_edl,
)

# CMX 3600 event line: event(1-3) 2sp reel(6-13) sp channels(15-19) sp transition(21) 8sp
# source in(30-40) sp source out(42-52) sp record in(54-64) sp record out(66-76).
EVENT = re.compile(
    r"^(\d{3})  ([A-Z0-9_ ]{8}) ([A-Z/ ]{5}) C {8}"
    r"(\d\d:\d\d:\d\d:\d\d) (\d\d:\d\d:\d\d:\d\d) (\d\d:\d\d:\d\d:\d\d) (\d\d:\d\d:\d\d:\d\d)$"
)
KEEP = [(1.0, 3.3), (5.0, 8.72), (12.0, 15.5)]


def events_of(text: str, base: int) -> list[tuple[int, str, str, int, int, int, int]]:
    out = []
    for line in text.splitlines():
        m = EVENT.match(line)
        if m:
            n, reel, track, *tcs = m.groups()
            src_in, src_out, rec_in, rec_out = (parse_timecode(t, base) for t in tcs)
            out.append((int(n), reel.strip(), track.strip(), src_in, src_out, rec_in, rec_out))
    return out


def test_layout_follows_the_cmx_3600_columns() -> None:
    text = to_edl(KEEP, fps=25, clip_name="interview.mp4")
    lines = text.splitlines()
    assert lines[0] == "TITLE: interview"
    assert lines[1] == "FCM: NON-DROP FRAME"
    event_lines = [ln for ln in lines if ln[:3].isdigit()]
    assert len(event_lines) == 3
    for ln in event_lines:
        assert EVENT.match(ln), ln
        assert len(ln) == 76
        assert ln[20] == "C"  # transition in column 21
        assert ln[29:40] == ln.split()[4]  # source in starts in column 30
    # each event is followed by its clip-name comment
    for i, ln in enumerate(lines):
        if ln[:3].isdigit():
            assert lines[i + 1] == "* FROM CLIP NAME: interview.mp4"
    assert event_lines[0] == "001  AX       AA/V  C        00:00:01:00 00:00:03:08 01:00:00:00 01:00:02:08"


def test_record_timeline_is_contiguous_and_adds_up() -> None:
    text = to_edl(KEEP, fps=25, clip_name="x.mp4")
    evs = events_of(text, 25)
    assert [e[0] for e in evs] == [1, 2, 3]
    assert evs[0][5] == parse_timecode("01:00:00:00", 25)
    for (_, _, _, si, so, ri, ro), nxt in zip(evs, evs[1:] + [None]):
        assert so - si == ro - ri  # source and record durations match
        if nxt is not None:
            assert nxt[5] == ro  # no gap, no overlap on the record side
    total = sum(ro - ri for *_, ri, ro in evs)
    assert total == evs[-1][6] - evs[0][5]
    assert abs(total - sum(b - a for a, b in KEEP) * 25) <= len(KEEP)


@given(
    cuts=st.lists(st.floats(0.0, 3600.0, allow_nan=False), min_size=2, max_size=40, unique=True),
    fps=st.sampled_from([23.976, 24, 25, 29.97, 30, 50, 59.94, 60, None]),
)
@settings(max_examples=150, deadline=None)
def test_property_record_durations_add_up(cuts: list[float], fps: float | None) -> None:
    edges = sorted(cuts)
    keep = list(zip(edges[::2], edges[1::2]))
    rate, base = nominal_rate(fps)
    evs = events_of(to_edl(keep, fps=fps, clip_name="c.mov"), base)
    assert len(evs) == len(edl_events(keep, fps))
    rec = parse_timecode("01:00:00:00", base)  # also at 29.97: non-drop timecode counts at the base
    for _, _, _, si, so, ri, ro in evs:
        assert ri == rec and ro - ri == so - si > 0
        rec = ro
    kept_frames = [round(b * rate) - round(a * rate) for a, b in keep]
    assert sum(ro - ri for *_, ri, ro in evs) == pytest.approx(sum(kept_frames), abs=len(keep))


def test_frame_rates_and_timecodes() -> None:
    assert timecode(0, 25) == "00:00:00:00"
    assert timecode(90_000, 25) == "01:00:00:00"
    assert timecode(25 * 3661 + 24, 25) == "01:01:01:24"
    assert parse_timecode("01:01:01:24", 25) == 25 * 3661 + 24
    assert nominal_rate(29.97)[1] == 30 and nominal_rate(Fraction(24000, 1001))[1] == 24
    assert nominal_rate(None) == (25.0, 25)  # audio-only media
    with pytest.raises(EdlError):
        parse_timecode("00:00:00:25", 25)
    with pytest.raises(EdlError):
        parse_timecode("1:2", 25)
    with pytest.raises(EdlError):
        timecode(-1, 25)


def test_29_97_counts_real_frames_with_a_base_of_30() -> None:
    # 10 s at 29.97 fps are 300 frames (299.7 rounded), written with base 30: 00:00:10:00
    evs = events_of(to_edl([(0.0, 10.0)], fps=Fraction(30000, 1001), clip_name="c.mov", record_start=0), 30)
    assert evs[0][3:] == (0, 300, 0, 300)


def test_audio_only_uses_25_fps_and_audio_channels() -> None:
    text = to_edl([(0.5, 2.0)], fps=None, clip_name="talk.wav", has_video=False, channels=1)
    ev = events_of(text, 25)[0]
    assert ev[2] == "A" and ev[3:5] == (parse_timecode("00:00:00:13", 25), parse_timecode("00:00:02:00", 25))
    stereo = to_edl([(0.5, 2.0)], fps=None, clip_name="talk.wav", has_video=False, channels=2)
    assert events_of(stereo, 25)[0][2] == "AA"
    video_only = to_edl([(0.5, 2.0)], fps=25, clip_name="v.mp4", has_video=True, channels=0)
    assert events_of(video_only, 25)[0][2] == "V"


def test_reel_names_and_titles_are_sanitised() -> None:
    assert reel_name("my clip #1 (take 2)") == "MYCLIP1T"
    assert reel_name("...") == "AX"
    text = to_edl([(0, 1)], fps=25, clip_name="a\nb.mp4", title="Line one\nline two", reel="cam a")
    assert text.splitlines()[0] == "TITLE: Line one line two"
    assert events_of(text, 25)[0][1] == "CAMA"
    assert "* FROM CLIP NAME: a b.mp4" in text


def test_source_timecode_offsets_the_source_side_only() -> None:
    evs = events_of(to_edl(KEEP, fps=25, clip_name="c.mov", source_timecode="10:00:00:00"), 25)
    assert timecode(evs[0][3], 25) == "10:00:01:00"
    assert timecode(evs[0][5], 25) == "01:00:00:00"


def test_ranges_shorter_than_a_frame_make_no_event_and_limits_hold() -> None:
    assert len(edl_events([(1.0, 1.01), (2.0, 3.0)], 25)) == 1
    with pytest.raises(EdlError, match="999"):
        edl_events([(i, i + 0.5) for i in range(1000)], 25)
    with pytest.raises(EdlError, match="ends before"):
        edl_events([(2.0, 1.0)], 25)
    with pytest.raises(EdlError):
        nominal_rate(0)


def test_write_edl_writes_the_file(tmp_path) -> None:
    out = write_edl(tmp_path / "cuts" / "edit.edl", KEEP, fps=25, media="/media/interview.mp4")
    text = out.read_text()
    assert text.startswith("TITLE: interview\nFCM: NON-DROP FRAME\n")
    assert len(events_of(text, 25)) == 3
    assert [p.name for p in out.parent.iterdir()] == ["edit.edl"]  # no temp file left
