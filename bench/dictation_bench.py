"""Live dictation: end of speech -> text ready, on the decode side.

What is timed is DictationDecoder.final() on one finished utterance: VAD trim,
the engine's decode, joining the words (the lead adds the typing time, measured
apart). Utterances: 2-10 s of real speech cut at pauses from the shared
LibriSpeech, cold_corpus, JFK and MFA clips, each with 0.3 s before and 0.5 s
after the speech (the key comes up a moment after the last word). Engines:
  whisper  - random weights of the real base.en shapes, audio_ctx sized to the
             utterance (on) vs whisper's full 30 s context (off): the ratio is the
             gain. Random weights do not know when to stop and trip whisper's
             temperature fallback (up to 5 re-decodes), so the decoder part is slower
             than a trained model's; the encoder part (what audio_ctx shrinks) is not,
             and is reported on its own from whisper.cpp's timings.
  sphinx   - the offline engine (PocketSphinx, in process).
Each utterance is decoded `runs` times per configuration (alternating); its
median is kept; p50/p90 are over the utterances. Goal with audio_ctx on:
p50 <= 250 ms, p90 <= 400 ms.
"""
from __future__ import annotations

import logging
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from audio.vad import SileroVad
    from pipeline.dictation_decoder import DictationDecoder

SR = 16_000
MIN_S, MAX_S = 2.0, 10.0
LEAD_S, TAIL_S = 0.3, 0.5
GOAL_P50_MS, GOAL_P90_MS = 250.0, 400.0
MAX_UTTERANCES = 24


@dataclass
class Utterance:
    source: str
    start: float
    samples: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.samples) / SR


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def cut_utterances(vad: SileroVad) -> list[Utterance]:
    """Real speech cut at the VAD's pauses into 2-10 s utterances (plus lead and tail)."""
    from audio.decode import decode_audio
    from audio.vad import VadParams
    from bench.__main__ import SHARED

    data = SHARED / "data"
    sources = [data / "whisper.cpp" / "jfk.wav", data / "mfa" / "cold_corpus.wav",
               data / "lhotse" / "2412-153948-0000.flac", data / "lhotse" / "2412-153948-0001.flac",
               data / "lhotse" / "libri-1088-134315-0000.wav", data / "mfa" / "61-70968-0000.flac",
               *sorted((data / "mfa").glob("mfa_*.flac"))]
    out: list[Utterance] = []
    for src in sources:
        audio = decode_audio(src).samples
        total = len(audio) / SR
        regions = vad.speech_regions(audio, VadParams(min_silence=0.25, pad=0.0))
        i = 0
        while i < len(regions):
            start, end = regions[i]
            j = i
            # join following regions while the utterance stays under the maximum
            while j + 1 < len(regions) and regions[j + 1][1] - start <= MAX_S:
                j += 1
                end = regions[j][1]
            end = min(end, start + MAX_S)  # one region longer than the maximum: cut it
            if end - start >= MIN_S:
                a, b = max(0.0, start - LEAD_S), min(total, end + TAIL_S)
                out.append(Utterance(src.name, a, audio[int(a * SR):int(b * SR)].copy()))
            i = j + 1
    return out[:MAX_UTTERANCES]


class WhisperTimings(logging.Handler):
    """Reads whisper.cpp's own timing report (routed to logging by the engine)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.encode_ms: list[float] = []
        self.fallbacks: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if m := re.search(r"encode time =\s*([\d.]+) ms", msg):
            self.encode_ms.append(float(m.group(1)))
        elif m := re.search(r"fallbacks =\s*(\d+) p", msg):
            self.fallbacks.append(int(m.group(1)))


def timed_final(decoder: DictationDecoder, utt: Utterance, probe: Callable[[], None] | None = None) -> float:
    """End of speech -> text ready, in ms (wall time around final(): trim + decode + join)."""
    t = time.perf_counter()
    decoder.final(utt.samples)
    ms = (time.perf_counter() - t) * 1000.0
    if probe is not None:
        probe()
    return ms


def run(runs: int, threads: int | None = None) -> None:
    import _pywhispercpp as pw

    from audio.vad import SileroVad
    from bench.__main__ import SILERO, random_model
    from pipeline.dictation_decoder import DictationDecoder, audio_ctx_for
    from pipeline.engines.base import TranscribeOptions, default_threads
    from pipeline.engines.sphinx import SphinxEngine
    from pipeline.engines.whispercpp import WhisperCppEngine

    runs = max(1, runs)
    threads = threads or default_threads()
    vad = SileroVad(SILERO)
    utts = cut_utterances(vad)
    lengths = [u.seconds for u in utts]
    print(f"dictation: end of speech -> text ready (VAD trim + final decode + join), {len(utts)} utterances "
          f"of {min(lengths):.1f}-{max(lengths):.1f} s (median {statistics.median(lengths):.1f} s) of real speech, "
          f"{threads} threads, median of {runs} per utterance")

    t = time.perf_counter()
    for u in utts:
        vad.probabilities(u.samples)
    print(f"  VAD alone: {(time.perf_counter() - t) * 1000 / len(utts):.0f} ms per utterance on average")

    engine = WhisperCppEngine(random_model("base"), dtw=False)  # as the app loads it for dictation: text only
    opts = TranscribeOptions(language="en", threads=threads)
    on = DictationDecoder(engine, opts, vad=vad)
    off = DictationDecoder(engine, opts, vad=vad, audio_ctx=False)
    on.warm_up()
    off.warm_up()
    timings = WhisperTimings()
    wlog = logging.getLogger("pipeline.engines.whispercpp")
    old_level = wlog.level
    wlog.setLevel(logging.DEBUG)
    wlog.addHandler(timings)

    def probe() -> None:
        pw.whisper_print_timings(engine._ctx)
        pw.whisper_reset_timings(engine._ctx)

    results: dict[str, list[float]] = {"on": [], "off": []}
    encode: dict[str, list[float]] = {"on": [], "off": []}
    fallbacks: list[int] = []
    try:
        pw.whisper_reset_timings(engine._ctx)
        for u in utts:
            per: dict[str, list[float]] = {"on": [], "off": []}
            enc: dict[str, list[float]] = {"on": [], "off": []}
            for _ in range(runs):
                for name, dec in (("on", on), ("off", off)):
                    n_enc = len(timings.encode_ms)
                    per[name].append(timed_final(dec, u, probe))
                    enc[name].append(sum(timings.encode_ms[n_enc:]))
                    # whisper.cpp's fallback count is cumulative: the change is this decode's
                    if name == "on" and len(timings.fallbacks) >= 2:
                        fallbacks.append(timings.fallbacks[-1] - timings.fallbacks[-2])
            for name in per:
                results[name].append(statistics.median(per[name]))
                encode[name].append(statistics.median(enc[name]))
    finally:
        wlog.removeHandler(timings)
        wlog.setLevel(old_level)
        engine.close()

    def line(ms: list[float]) -> str:
        p50, p90 = percentile(ms, 50), percentile(ms, 90)
        return f"p50 {p50:7.0f} ms  p90 {p90:7.0f} ms"

    p50_on, p90_on = percentile(results["on"], 50), percentile(results["on"], 90)
    p50_off, p90_off = percentile(results["off"], 50), percentile(results["off"], 90)
    print("  whisper, random base.en weights:")
    print(f"    audio_ctx on  (sized, e.g. {audio_ctx_for(5.0)} for 5 s): {line(results['on'])}"
          f"   encoder alone p50 {percentile(encode['on'], 50):6.0f} ms")
    print(f"    audio_ctx off (1500, 30 s):            {line(results['off'])}"
          f"   encoder alone p50 {percentile(encode['off'], 50):6.0f} ms")
    ratios = [a / b for a, b in zip(results["off"], results["on"])]
    enc_ratios = [a / b for a, b in zip(encode["off"], encode["on"]) if b > 0]
    print(f"    ratio off/on: p50 {p50_off / p50_on:4.2f}x  p90 {p90_off / p90_on:4.2f}x  "
          f"(per utterance median {statistics.median(ratios):4.2f}x; encoder alone "
          f"{statistics.median(enc_ratios) if enc_ratios else float('nan'):4.2f}x)")
    k = min(range(len(utts)), key=lambda i: abs(utts[i].seconds - 5.0))
    print(f"    the utterance nearest 5 s ({utts[k].seconds:.1f} s, {utts[k].source}): on {results['on'][k]:.0f} ms, "
          f"off {results['off'][k]:.0f} ms: {results['off'][k] / results['on'][k]:.1f}x faster with audio_ctx")
    if fallbacks:
        print(f"    temperature fallbacks per decode (random weights): median {statistics.median(fallbacks):.0f}")
    goal = "met" if p50_on <= GOAL_P50_MS and p90_on <= GOAL_P90_MS else "NOT met"
    print(f"    goal p50 <= {GOAL_P50_MS:.0f} ms, p90 <= {GOAL_P90_MS:.0f} ms with audio_ctx on: {goal}")

    sphinx = SphinxEngine()
    dec = DictationDecoder(sphinx, TranscribeOptions(language="en"), vad=vad)
    dec.warm_up()
    sph: list[float] = []
    for u in utts:
        sph.append(statistics.median(timed_final(dec, u) for _ in range(runs)))
    sphinx.close()
    print(f"  sphinx (offline engine, in process):     {line(sph)}")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    run(a.runs, a.threads)
