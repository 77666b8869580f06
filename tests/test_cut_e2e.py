"""End to end with real speech: transcribe, delete a word, export, transcribe the result.

The offline engine (PocketSphinx) hears JFK's "... fellow Americans, ask not
what your country can do for you ..." (roughly); the test cuts "Americans", renders the trimmed video and its SRT through
`hark cut`, and checks by transcribing the output that the word is gone, its
neighbours remain, and the re-timed captions line up with the speech.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from pipeline.editing import editing as ed
from pipeline.engines.base import TranscribeOptions
from pipeline.engines.sphinx import SphinxEngine
from pipeline.transcription.transcribe import transcribe_file
from pipeline.transcripts import project as projects
from tests.conftest import SHARED, SILERO, ffmpeg

JFK = SHARED / "data" / "whisper.cpp" / "jfk.wav"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():
    return SphinxEngine()


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """JFK's speech under a moving test picture: a real H.264+AAC video."""
    out = tmp_path_factory.mktemp("media") / "speech.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-i",
        str(JFK),
        "-shortest",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-c:a",
        "aac",
        str(out),
    )
    return out


def words_of(path: Path, engine) -> list[tuple[str, float, float]]:
    t = transcribe_file(path, engine, TranscribeOptions(language="en"))
    return [(w.text.lower().strip(".,?!"), w.start, w.end) for w in ed.effective_words(t)]


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    def secs(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    out = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        a, b = lines[1].split(" --> ")
        out.append((secs(a), secs(b), " ".join(lines[2:])))
    return out


def test_cut_a_word_export_and_transcribe_again(tmp_path, video, engine, monkeypatch, capsys):
    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    t = transcribe_file(video, engine, TranscribeOptions(language="en"))
    heard = [w.text.lower() for w in t.words]
    assert "not" in heard and "america" in heard and "country" in heard, heard
    target = next(w for w in t.words if w.text.lower() == "america")
    u = ed.cut_words(t, [target.id])
    project = projects.Project(transcript=u)
    path = projects.save(project, tmp_path / "speech.hark")
    out = tmp_path / "out" / "trimmed.mp4"
    out.parent.mkdir()

    rc = main(["cut", str(path), "--out", str(out), "--captions", "srt", "--edl", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert out.is_file() and out.with_suffix(".srt").is_file() and out.with_suffix(".edl").is_file()
    assert video.is_file() and video.stat().st_size > 0  # the source is untouched

    again = words_of(out, engine)
    texts = [w for w, _, _ in again]
    assert "america" not in texts, texts
    for neighbour in ("fellow", "not", "country"):
        assert neighbour in texts, " ".join(texts) + " | before: " + " ".join(heard)
    # Output length = the source minus the cut (the cut points moved into silence, so roughly)
    from audio.decode import decode_audio

    src_len, out_len = decode_audio(video).duration, decode_audio(out).duration
    removed = src_len - out_len
    assert target.end - target.start <= removed <= (target.end - target.start) + 1.6, (src_len, out_len)

    # The re-timed captions line up: each recognised word of the output lies inside a caption holding it.
    captions = parse_srt(out.with_suffix(".srt").read_text())
    assert "america" not in " ".join(c[2].lower() for c in captions).split()
    matched = 0
    for word, s, e in again:
        mid = (s + e) / 2
        holding = [c for c in captions if c[0] - 0.3 <= mid <= c[1] + 0.3]
        if any(word in c[2].lower() for c in holding):
            matched += 1
    assert matched >= 0.8 * len(again), (again, captions)


def test_cut_refuses_to_overwrite_the_source_and_explains_missing_media(tmp_path, video, engine, capsys):
    t = transcribe_file(video, engine, TranscribeOptions(language="en"))
    u = ed.cut_words(t, [t.words[0].id])
    path = projects.save(projects.Project(transcript=u), tmp_path / "p.hark")
    assert main(["cut", str(path), "--out", str(video), "--no-snap", "-q"]) != 0
    assert "overwrite the source" in capsys.readouterr().err
    moved = tmp_path / "moved.mp4"
    moved.write_bytes(video.read_bytes())
    u.media.path = str(tmp_path / "gone.mp4")
    projects.save(projects.Project(transcript=u), path)
    assert main(["cut", str(path), "-q"]) == 3
    assert "--media" in capsys.readouterr().err
    out = tmp_path / "x.m4a"
    assert (
        main(["cut", str(path), "--media", str(moved), "--out", str(out), "--no-snap", "-q", "--captions", "vtt"]) == 0
    )
    assert out.is_file() and out.with_suffix(".vtt").read_text().startswith("WEBVTT")


def test_cut_help_is_listed():
    r = subprocess.run([sys.executable, "-m", "app", "cut", "--help"], capture_output=True, text=True, timeout=60)
    text = " ".join(r.stdout.split())
    assert r.returncode == 0 and "--captions" in text and "never overwritten" in text


# --- with the built-in trained whisper model ---------------------------------------------------
LIBRI = SHARED / "data" / "mfa" / "61-70968-0000.flac"  # "he began a confused complaint ... on the left"
LIBRI2 = SHARED / "data" / "lhotse" / "2412-153948-0000.flac"  # "if the reader will excuse me ..."


def plain_words(words) -> list[str]:
    import re

    return [re.sub(r"[^a-z0-9']", "", w.lower()) for w in words if re.sub(r"[^a-z0-9']", "", w.lower())]


@pytest.fixture(scope="module")
def three_sentences(tmp_path_factory) -> Path:
    """Three sentences by three speakers under a test picture: LibriSpeech, JFK, LibriSpeech."""
    out = tmp_path_factory.mktemp("media") / "three.mp4"
    graph = "".join(f"[{i}:a]aresample=16000,aformat=channel_layouts=mono[a{i}];" for i in range(3))
    graph += "[a0][a1][a2]concat=n=3:v=0:a=1[a]"
    ffmpeg(
        "-i",
        str(LIBRI),
        "-i",
        str(JFK),
        "-i",
        str(LIBRI2),
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-filter_complex",
        graph,
        "-map",
        "3:v",
        "-map",
        "[a]",
        "-shortest",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "25",
        "-c:a",
        "aac",
        str(out),
    )
    return out


def cut_and_hear_again(tmp_path: Path, t, word_ids: list[int], engine, opts, capsys) -> tuple[Path, list[str]]:
    """Cut `word_ids`, render with `hark cut` (and an SRT), transcribe the output: (output, its words)."""
    from audio.vad import SileroVad

    path = projects.save(projects.Project(transcript=ed.cut_words(t, word_ids)), tmp_path / "edit.hark")
    out = tmp_path / "out" / "trimmed.mp4"
    out.parent.mkdir()
    assert main(["cut", str(path), "--out", str(out), "--captions", "srt", "-q"]) == 0, capsys.readouterr().err
    return out, plain_words(w.text for w in transcribe_file(out, engine, opts, vad=SileroVad(SILERO)).words)


def test_delete_a_sentence_render_and_hear_it_gone_with_the_trained_model(
    tmp_path, three_sentences, trained_tiny_en, monkeypatch, capsys
):
    """Delete JFK's sentence from the middle in the transcript, `hark cut`, transcribe the result again:
    his words are gone and every word of the sentences around the cut is still there."""
    from pipeline.engines.whispercpp import WhisperCppEngine

    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    from audio.vad import SileroVad

    engine = WhisperCppEngine(trained_tiny_en)  # token timestamps: with DTW's +0.35 s lag "And" leaked
    try:
        opts = TranscribeOptions(language="en", threads=2)
        t = transcribe_file(three_sentences, engine, opts, vad=SileroVad(SILERO))
        said = plain_words(w.text for w in t.words)
        first = said.index("and")
        last = next(i for i in range(first, len(said)) if said[i - 2 : i + 1] == ["for", "your", "country"])
        assert said[first : first + 5] == ["and", "so", "my", "fellow", "americans"], said
        assert said[last + 1 : last + 4] == ["if", "the", "reader"], said
        out, again = cut_and_hear_again(tmp_path, t, [w.id for w in t.words[first : last + 1]], engine, opts, capsys)
    finally:
        engine.close()
    kept = said[:first] + said[last + 1 :]
    assert not {"fellow", "americans", "ask"} & set(again), again
    assert again == kept, (again, kept)  # every word around the cut, nothing invented at the join
    srt = out.with_suffix(".srt").read_text().lower()
    assert "americans" not in srt and "the left" in srt and "if the reader" in srt


def test_cut_one_word_from_real_speech_with_aligned_times_leaves_no_fragment(
    tmp_path, three_sentences, trained_tiny_en, monkeypatch, capsys
):
    """Forced alignment's word times are what a cut trusts: delete "vanished" from LibriSpeech's "... the wizard
    who had vanished behind the curtain ...", `hark cut`, transcribe the result: no fragment of it is heard and
    every word around it is. (tiny.en mishears some joins whatever the times: cutting "confused" from "a
    confused complaint" was heard back as "to complain to", so the test cuts a word whose join it hears.)"""
    from audio.vad import SileroVad
    from pipeline.alignment.aligner import aligner_for
    from pipeline.engines.whispercpp import WhisperCppEngine

    monkeypatch.setenv("HARK_VAD_MODEL", str(SILERO))
    engine = WhisperCppEngine(trained_tiny_en)
    try:
        opts = TranscribeOptions(language="en", threads=2)
        t = transcribe_file(three_sentences, engine, opts, vad=SileroVad(SILERO), aligner=aligner_for("en"))
        said = plain_words(w.text for w in t.words)
        k = said.index("vanished")
        assert said[k - 2 : k + 4] == ["who", "had", "vanished", "behind", "the", "curtain"], said
        assert not t.words[k].rough and not t.words[k - 1].rough and not t.words[k + 1].rough
        _, again = cut_and_hear_again(tmp_path, t, [t.words[k].id], engine, opts, capsys)
    finally:
        engine.close()
    assert not any(w.startswith("van") for w in again), again
    j = again.index("who")
    assert again[j : j + 5] == ["who", "had", "behind", "the", "curtain"], again
    assert again[:j] == said[: k - 2] and again[j + 2 :] == said[k + 1 :], (again, said)  # nothing else changed
