"""Diarization: real-time factor on this machine's cores, and the word merge's cost on 10k words.

The pipeline has the real architectures (segmentation-3.0 PyanNet, WeSpeaker
ResNet34, PLDA) with random weights made by bench.random_diarization: the
compute does not depend on the weight values, and pyannote embeds every (chunk,
local speaker) pair whatever the segmentation says. The audio is the AMI meeting
excerpts (dev00 + dev01, two speakers, 60 s).

Baselines, measured in the same run:
  RTF   - pyannote's own settings (segmentation step 0.1, batch 32, as community-1 ships)
  merge - building the captions of the same 10k words without speakers
"""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.common import OUT, SHARED, medians

if TYPE_CHECKING:
    from pipeline.speakers.speaker_turns import Turn
    from pipeline.transcripts.transcript import Transcript


def _audio() -> np.ndarray:
    from audio.decode import decode_audio

    ami = SHARED / "data" / "pyannote" / "ami-debug"
    return np.concatenate([decode_audio(ami / f"dev0{i}.wav").samples for i in (0, 1)])


def _pipeline() -> Path:
    from bench.random_diarization import write_random_pipeline

    folder = OUT / "random-diarization"
    if not (folder / "config.yaml").exists():
        write_random_pipeline(folder, seed=0)
    return folder


def bench_rtf(runs: int, threads: int) -> None:
    from pipeline.speakers.diarization import (
        DEFAULT_PRESET,
        PYANNOTE_SEGMENTATION_STEP,
        SPEED_PRESETS,
        DiarizationOptions,
        Diarizer,
    )

    samples = _audio()
    seconds = samples.size / 16000
    folder = _pipeline()
    configs = [
        (
            "pyannote defaults (step 0.1, batch 32)",
            DiarizationOptions(
                segmentation_step=PYANNOTE_SEGMENTATION_STEP,
                embedding_batch_size=32,
                shared_trunk=False,
                threads=threads,
            ),
        ),
    ] + [
        (
            f"Hark {name}{' (default)' if name == DEFAULT_PRESET else ''}: step {step}, trunk once per chunk",
            DiarizationOptions.for_preset(name, threads=threads),
        )
        for name, step in sorted(SPEED_PRESETS.items(), key=lambda kv: kv[1])
    ]
    print(
        f"diarization: {seconds:.0f} s of AMI meeting audio, {threads} threads, random-weight community-1 "
        f"shapes, median of {runs}"
    )
    base = None
    for label, options in configs:
        d = Diarizer(folder, options)
        # The slow baseline gets fewer runs: at RTF ~1.5 each run takes minutes.
        n = max(1, min(runs, 3)) if not options.shared_trunk else runs
        (took,) = medians([partial(d, samples)], n)
        base = base or took
        print(
            f"  {label:<52} {took:6.1f} s  RTF {took / seconds:5.3f}  speed-up x{base / took:4.1f}  (goal RTF <= 0.15)"
        )


def _transcript(n_words: int) -> tuple[Transcript, list[Turn]]:
    from pipeline.captions.captions import CaptionRules, build_captions
    from pipeline.speakers.speaker_turns import Turn
    from pipeline.transcripts.transcript import MediaRef, Provenance, Transcript, Word

    rng = random.Random(7)
    vocab = [
        "so",
        "the",
        "model",
        "runs",
        "offline",
        "and",
        "writes",
        "captions",
        "for",
        "every",
        "word",
        "you",
        "say",
        "in",
        "the",
        "show",
        "today.",
    ]
    words: list[Word] = []
    t = 0.3
    for i in range(n_words):
        length = rng.uniform(0.12, 0.45)
        words.append(Word(id=i, text=rng.choice(vocab), start=t, end=t + length))
        t += length + rng.uniform(0.02, 0.1) + (0.6 if i % 12 == 11 else 0.0)
    turns: list[Turn] = []
    s, k = 0.0, 0
    while s < t:  # a turn every 3-15 s, with short overlaps, three speakers
        e = s + rng.uniform(3, 15)
        turns.append(Turn(s, min(e + rng.uniform(0, 0.5), t), f"SPEAKER_0{k % 3}"))
        s, k = e, k + rng.choice((1, 2))
    tr = Transcript(
        media=MediaRef(path="bench.wav", duration=t, sha256="0" * 64),
        language="en",
        provenance=Provenance(engine="bench", engine_version="0", model="none"),
        words=words,
        captions=build_captions(words, CaptionRules(), "en"),
    )
    return tr, turns


def bench_merge(runs: int) -> None:
    from pipeline.captions.captions import CaptionRules, build_captions
    from pipeline.speakers.speaker_merge import diarize_transcript

    n = 10_000
    t, turns = _transcript(n)
    rules = CaptionRules()
    base, merge = medians(
        [lambda: build_captions(t.words, rules, "en"), lambda: diarize_transcript(t, turns, rules)], runs
    )
    print(f"merge: {n} words, {len(turns)} turns, median of {runs}")
    print(
        f"  captions alone {base * 1000:6.1f} ms | speakers merged + captions split {merge * 1000:6.1f} ms"
        f"  ratio {merge / base:5.2f}"
    )


def run(runs: int, threads: int) -> None:
    bench_merge(runs)
    bench_rtf(runs, threads)
