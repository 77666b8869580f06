"""Every English clip in ../shared/data that has a reference transcript of its own, one per stem.

Shared by the per-clip WER test (tests/test_clip_wer.py) and the benchmarks (bench/asr_bench.py), so
both measure the same corpus: MFA, LibriSpeech, LJSpeech, Common Voice and JFK clips; MFA annotation
such as <cutoff-x> or [laughter] is stripped from the references (whisper's normaliser drops it too:
stated here, not relied on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3")  # in this order: one file per stem (jfk.wav, not jfk.mp3 too)
REFERENCE_SUFFIXES = (".txt", ".lab")
NON_ENGLISH = ("se10x016-", "13697_")  # Swedish and Spanish clips in data/mfa
ANNOTATION = re.compile(r"<[^>]*>|\[[^\]]*\]")  # MFA's <cutoff-x>, <hes-x>, <unk>, [laughter]
FOLDERS = ("mfa", "lhotse", "whisper.cpp")


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    reference: str


def clean_reference(text: str) -> str:
    """One line, MFA annotation removed."""
    return " ".join(ANNOTATION.sub(" ", text).split())


def _reference_of(audio: Path) -> str | None:
    for suffix in REFERENCE_SUFFIXES:
        ref = audio.with_suffix(suffix)
        if ref.is_file():
            text = ref.read_text(encoding="utf-8-sig").strip()
            # lhotse's AMI excerpt has a table of supervisions, not a transcript
            return None if not text or text.startswith("#") else clean_reference(text)
    return None


def english_clips(data: Path) -> list[Clip]:
    """The clips under `data` (../shared/data), sorted by name."""
    clips: list[Clip] = []
    for folder in (data / f for f in FOLDERS):
        seen: set[str] = set()
        for suffix in AUDIO_SUFFIXES:
            for audio in sorted(folder.glob(f"*{suffix}")):
                if audio.stem in seen or audio.stem.startswith(NON_ENGLISH):
                    continue
                ref = _reference_of(audio)
                if ref:
                    seen.add(audio.stem)
                    clips.append(Clip(audio.stem, audio, ref))
    return sorted(clips, key=lambda c: c.name)
