"""Speaker turns and RTTM files: real reference files, round trips, and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.speakers.speaker_turns import (
    RttmError,
    Turn,
    format_rttm,
    parse_rttm,
    parse_rttm_by_file,
    read_rttm,
    speakers,
    write_rttm,
)
from tests.conftest import DATA

SAMPLE_RTTM = DATA / "pyannote" / "sample.rttm"
AMI_RTTM = DATA / "pyannote" / "ami-debug" / "debug.development.rttm"
MICHAEL_RTTM = DATA / "mfa" / "michaelandsickmichael.derived.rttm"


def test_pyannote_sample_reads_as_documented() -> None:
    turns = read_rttm(SAMPLE_RTTM)
    assert len(turns) == 10
    assert speakers(turns) == ["speaker90", "speaker91"]
    assert turns[0] == Turn(6.69, 6.69 + 0.43, "speaker90")
    assert [t.start for t in turns] == sorted(t.start for t in turns)
    # The one overlap DATA.md names: speaker91 at 18.15 inside speaker90's 18.05-21.49.
    a, b = turns[6], turns[7]
    assert (a.speaker, b.speaker) == ("speaker90", "speaker91")
    assert a.start < b.start < b.end < a.end
    assert b.end == pytest.approx(18.59)


@pytest.mark.parametrize("path", [SAMPLE_RTTM, MICHAEL_RTTM])
def test_real_files_round_trip(path: Path, tmp_path: Path) -> None:
    turns = read_rttm(path)
    file_id = path.read_text().split()[1]
    out = write_rttm(tmp_path / "out.rttm", turns, file_id)
    assert read_rttm(out) == turns
    assert parse_rttm(format_rttm(turns, file_id), file_id) == turns
    # Written lines are the standard 10 fields; numbers equal the original's.
    for mine, theirs in zip(out.read_text().splitlines(), path.read_text().splitlines()):
        a, b = mine.split(), theirs.split()
        assert len(a) == 10
        assert a[:3] == b[:3] and a[5:] == b[5:]
        assert float(a[3]) == float(b[3]) and float(a[4]) == pytest.approx(float(b[4]), abs=1e-9)


def test_several_recordings_in_one_file() -> None:
    by_file = parse_rttm_by_file(AMI_RTTM.read_text())
    assert set(by_file) == {"dev00", "dev01"}
    assert read_rttm(AMI_RTTM, "dev00") == by_file["dev00"]
    assert by_file["dev00"][0] == Turn(1.44, 1.44 + 11.872, "MEE009")
    with pytest.raises(RttmError, match="several recordings"):
        read_rttm(AMI_RTTM)
    with pytest.raises(RttmError, match="no turns for recording 'dev07'"):
        read_rttm(AMI_RTTM, "dev07")


def test_comments_blank_lines_other_types_and_short_lines_are_fine() -> None:
    text = (
        "# made by hand\n"
        ";; another comment\n"
        "\n"
        "SPKR-INFO f 1 <NA> <NA> <NA> unknown ana <NA>\n"
        "SPEAKER f 1 2.5 1.0 <NA> <NA> bob <NA>\n"  # 9 fields: no slat column
        "  SPEAKER\tf 1 0.000 1.500 <NA> <NA> ana <NA> <NA>  \n"
    )
    assert parse_rttm(text) == [Turn(0.0, 1.5, "ana"), Turn(2.5, 3.5, "bob")]
    assert parse_rttm("") == []


GOOD = "SPEAKER f 1 0.0 1.0 <NA> <NA> ana <NA> <NA>\n"


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("SPEAKER f 1 0.0 1.0 <NA> <NA>", "at least 8 fields"),
        ("SPEAKER f 1 zero 1.0 <NA> <NA> ana <NA> <NA>", "start 'zero' is not a number"),
        ("SPEAKER f 1 0.0 -1.0 <NA> <NA> ana <NA> <NA>", "duration '-1.0' must be a finite number"),
        ("SPEAKER f 1 nan 1.0 <NA> <NA> ana <NA> <NA>", "start 'nan' must be a finite number"),
        ("SPEAKER f 1 0.0 inf <NA> <NA> ana <NA> <NA>", "duration 'inf' must be a finite number"),
        ("SPEAKER f 1 0.0 1.0 <NA> <NA> <NA> <NA> <NA>", "speaker name is missing"),
        ("speaker f 1 0.0 1.0 <NA> <NA> ana <NA> <NA>", "expected a SPEAKER line"),
    ],
)
def test_malformed_line_names_its_line(bad: str, reason: str) -> None:
    with pytest.raises(RttmError, match=reason) as err:
        parse_rttm(GOOD + "\n" + bad + "\n" + GOOD, source="talk.rttm")
    assert err.value.line == 3
    assert str(err.value).startswith("talk.rttm, line 3: ")
    assert isinstance(err.value, ValueError)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(RttmError, match="cannot be read"):
        read_rttm(tmp_path / "missing.rttm")


def test_names_with_spaces_cannot_be_written() -> None:
    with pytest.raises(RttmError, match="no spaces"):
        format_rttm([Turn(0, 1, "Ana Lopez")])
    with pytest.raises(RttmError, match="no spaces"):
        format_rttm([Turn(0, 1, "ana")], file_id="my talk")


def test_turn_refuses_bad_times_and_empty_speaker() -> None:
    with pytest.raises(ValueError):
        Turn(2.0, 1.0, "a")
    with pytest.raises(ValueError):
        Turn(0.0, math.nan, "a")
    with pytest.raises(ValueError):
        Turn(0.0, 1.0, "")
    assert Turn(1.0, 3.5, "a").duration == 2.5


times = st.floats(min_value=0, max_value=10_000, allow_nan=False)
turn_st = st.builds(
    lambda s, d, n: Turn(s, s + d, n), times, st.floats(0, 600), st.sampled_from(["A", "B", "spk_3", "Zoë"])
)
ms = st.integers(0, 10_000_000).map(lambda k: k / 1000)
ms_turn_st = st.builds(
    lambda s, d, n: Turn(s, s + d, n),
    ms,
    st.integers(0, 600_000).map(lambda k: k / 1000),
    st.sampled_from(["A", "B", "spk_3"]),
)


@given(st.lists(ms_turn_st, max_size=30))
def test_millisecond_turns_round_trip_exactly(turns: list[Turn]) -> None:
    """What diarizers and RTTM files hold: times in whole milliseconds."""
    assert parse_rttm(format_rttm(turns, "rec")) == sorted(turns, key=lambda t: (t.start, t.end))


@given(st.lists(turn_st, max_size=30))
def test_any_turns_round_trip_to_the_microsecond(turns: list[Turn]) -> None:
    back = parse_rttm(format_rttm(turns, "rec"))
    assert sorted(t.speaker for t in back) == sorted(t.speaker for t in turns)
    assert sorted(t.start for t in back) == pytest.approx(sorted(t.start for t in turns), abs=1e-6)
    assert sorted(t.duration for t in back) == pytest.approx(sorted(t.duration for t in turns), abs=2e-6)
    # A second round trip is exact: the text is already at the written precision.
    assert parse_rttm(format_rttm(back, "rec")) == back
