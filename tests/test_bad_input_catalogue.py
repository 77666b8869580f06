"""A subset of the bad-input catalogue (bench/bad_input_catalogue.py, issue 14), one or more cases per exit code,
run through the same case definitions as the full catalogue in docs/reliability.md, so the two cannot drift.
None of these loads a whisper model: each fails before one is needed, or uses the offline engine."""

from __future__ import annotations

import pytest

from bench import bad_input_catalogue as catalogue

SUBSET = (
    "help",  # 0
    "cut-out-exists-force",  # 0: a real render
    "dictate-app-not-running",  # 1
    "cut-out-under-a-file",  # 1: an output that cannot be written
    "mistyped-command",  # 2
    "threads-0",  # 2
    "dash-file-name",  # 2: with the hint to write ./-talk.wav
    "cut-out-exists",  # 2: an output that exists
    "missing-file",  # 3
    "text-named-mp3",  # 3: corrupt
    "video-no-audio-track",  # 3
    "cut-5000-digit-int",  # 3: a broken project
    "cut-media-changed",  # 3: media that changed
    "unreadable-file",  # 3: as another user (skipped where user namespaces are off)
    "model-text-file",  # 4
    "models-import-garbage-bin",  # 4
    "sigterm-during-transcribe",  # 130
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("bad-input")
    models = root / "_models"
    models.mkdir()  # empty: nothing here needs a whisper model, and none is picked up by accident
    return root, catalogue.Assets(root / "_assets"), models


def test_the_subset_covers_every_exit_code():
    cases = {c.name: c for c in catalogue.CASES}
    assert set(SUBSET) <= set(cases)
    assert not any(cases[n].whisper for n in SUBSET)
    assert {cases[n].expect for n in SUBSET} == set(catalogue.EXIT_NAMES)


@pytest.mark.parametrize("name", SUBSET)
def test_bad_input_case(name: str, workspace) -> None:
    root, assets, models = workspace
    (case,) = catalogue.select([name], whisper=False)
    if case.other_user and not catalogue.can_run_as_other_user():
        pytest.skip("no unprivileged user namespaces here")
    r = catalogue.run_case(case, root, assets, models=models, timeout=180)
    assert r.code == case.expect, f"{r.command}: exit {r.code}\n{r.stderr}"
    assert "Traceback" not in r.stderr, r.stderr
    assert len(r.error_lines) == case.error_lines, r.stderr
    if case.expect == 130:
        assert r.stderr.strip() == "hark: cancelled", r.stderr
    assert r.problems == [], r.problems
