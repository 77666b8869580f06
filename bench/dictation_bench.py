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

run_trained (`make bench ARGS=dictation-trained`): the trained tiny.en (the built-in model, imported
as ggml f16 and q8_0, loaded text-only as the app loads it for dictation: token times, flash
attention on), these decodes of each utterance:
  fast       - DictationDecoder as the app runs it: audio_ctx sized to the utterance, one greedy pass
  fast+fallbk - the same with whisper's temperature fallback on
  fast, >=15s - the fast path with audio_ctx at least 750 (15 s of encoder) for short utterances
  full ctx   - the same with whisper's full 30 s context (audio_ctx off), one greedy pass
  file-style - full context with temperature fallback: what a file transcript decodes
on the same utterances as above plus every whole English clip of <= 15 s with a reference
(bench.asr_bench.english_clips). WER of each against the whole clips' references (goal: fast <=
full + 1 point), and, on the cut utterances (no reference of their own), the words each decode
changes relative to the file-style one (word edit distance / words of the file-style decode).
"""

from __future__ import annotations

import logging
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from audio.vad import SileroVad
    from pipeline.dictation.dictation_decoder import DictationDecoder
    from pipeline.engines.base import Engine

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
    from bench.common import SHARED

    data = SHARED / "data"
    sources = [
        data / "whisper.cpp" / "jfk.wav",
        data / "mfa" / "cold_corpus.wav",
        data / "lhotse" / "2412-153948-0000.flac",
        data / "lhotse" / "2412-153948-0001.flac",
        data / "lhotse" / "libri-1088-134315-0000.wav",
        data / "mfa" / "61-70968-0000.flac",
        *sorted((data / "mfa").glob("mfa_*.flac")),
    ]
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
                out.append(Utterance(src.name, a, audio[int(a * SR) : int(b * SR)].copy()))
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
    from bench.common import SILERO, random_model
    from pipeline.dictation.dictation_decoder import DictationDecoder, audio_ctx_for
    from pipeline.engines.base import TranscribeOptions, default_threads
    from pipeline.engines.sphinx import SphinxEngine
    from pipeline.engines.whispercpp import WhisperCppEngine

    runs = max(1, runs)
    threads = threads or default_threads()
    vad = SileroVad(SILERO)
    utts = cut_utterances(vad)
    lengths = [u.seconds for u in utts]
    print(
        f"dictation: end of speech -> text ready (VAD trim + final decode + join), {len(utts)} utterances "
        f"of {min(lengths):.1f}-{max(lengths):.1f} s (median {statistics.median(lengths):.1f} s) of real speech, "
        f"{threads} threads, median of {runs} per utterance"
    )

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
    print(
        f"    audio_ctx on  (sized, e.g. {audio_ctx_for(5.0)} for 5 s): {line(results['on'])}"
        f"   encoder alone p50 {percentile(encode['on'], 50):6.0f} ms"
    )
    print(
        f"    audio_ctx off (1500, 30 s):            {line(results['off'])}"
        f"   encoder alone p50 {percentile(encode['off'], 50):6.0f} ms"
    )
    ratios = [a / b for a, b in zip(results["off"], results["on"])]
    enc_ratios = [a / b for a, b in zip(encode["off"], encode["on"]) if b > 0]
    print(
        f"    ratio off/on: p50 {p50_off / p50_on:4.2f}x  p90 {p90_off / p90_on:4.2f}x  "
        f"(per utterance median {statistics.median(ratios):4.2f}x; encoder alone "
        f"{statistics.median(enc_ratios) if enc_ratios else float('nan'):4.2f}x)"
    )
    k = min(range(len(utts)), key=lambda i: abs(utts[i].seconds - 5.0))
    print(
        f"    the utterance nearest 5 s ({utts[k].seconds:.1f} s, {utts[k].source}): on {results['on'][k]:.0f} ms, "
        f"off {results['off'][k]:.0f} ms: {results['off'][k] / results['on'][k]:.1f}x faster with audio_ctx"
    )
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


# --- the trained tiny.en -------------------------------------------------------------------------
MAX_WHOLE_S = 15.0
WER_MARGIN = 0.01  # goal: WER(fast) <= WER(full) + 1 point


@dataclass
class Referenced(Utterance):
    reference: str = ""


def whole_clips() -> list[Referenced]:
    """Every English clip with a reference, whole, when it is short enough to be dictated."""
    from bench.asr_bench import decode, english_clips

    out = []
    for c in english_clips():
        samples = decode(c.path)
        if len(samples) / SR <= MAX_WHOLE_S:
            out.append(Referenced(c.path.name, 0.0, samples, c.reference))
    return out


def _decoders(engine: Engine, vad: SileroVad, threads: int) -> dict[str, DictationDecoder]:
    from bench.asr_bench import Adjusted
    from pipeline.dictation.dictation_decoder import DictationDecoder, audio_ctx_for
    from pipeline.engines.base import TranscribeOptions

    opts = TranscribeOptions(language="en", threads=threads)

    def floor_750(seconds: float) -> int:
        return audio_ctx_for(seconds, floor=750)

    return {
        "fast": DictationDecoder(engine, opts, vad=vad),
        # levers on the fast path: whisper's fallback back on (it re-decodes a run-away result), or an
        # encoder of at least 15 s (750 positions) however short the utterance
        "fast+fallbk": DictationDecoder(Adjusted(engine, fallback=True), opts, vad=vad),
        "fast, >=15s": DictationDecoder(Adjusted(engine, ctx=floor_750), opts, vad=vad),
        "full ctx": DictationDecoder(engine, opts, vad=vad, audio_ctx=False),
        # DictationDecoder always turns fallback off; the wrapper turns it back on, with the full context
        "file-style": DictationDecoder(Adjusted(engine, audio_ctx=0, fallback=True), opts, vad=vad),
    }


def _decode_all(
    decoders: dict[str, DictationDecoder], utts: list[Utterance], runs: int
) -> tuple[dict[str, list[float]], dict[str, list[str]]]:
    """Per decoder: each utterance's median latency (ms) and its text; decoders alternate per run."""
    ms: dict[str, list[float]] = {k: [] for k in decoders}
    texts: dict[str, list[str]] = {k: [] for k in decoders}
    for u in utts:
        per: dict[str, list[float]] = {k: [] for k in decoders}
        last: dict[str, str] = {}
        for _ in range(runs):
            for name, dec in decoders.items():
                t = time.perf_counter()
                last[name] = dec.final(u.samples).text
                per[name].append((time.perf_counter() - t) * 1000.0)
        for name in decoders:
            ms[name].append(statistics.median(per[name]))
            texts[name].append(last[name])
    return ms, texts


def run_trained(runs: int, threads: int | None = None, quants: Sequence[str] = ("f16", "q8_0")) -> None:
    from audio.vad import SileroVad
    from bench.asr_bench import bench_models, score, total, wer_text
    from bench.common import SILERO
    from pipeline.engines.base import default_threads
    from pipeline.engines.whispercpp import WhisperCppEngine

    runs = max(1, runs)
    threads = threads or default_threads()
    vad = SileroVad(SILERO)
    cut, whole = cut_utterances(vad), whole_clips()
    models = bench_models()
    lengths = [u.seconds for u in whole]
    print(
        f"dictation, trained tiny.en: {len(cut)} utterances cut at pauses (as above) + {len(whole)} whole clips "
        f"with references ({min(lengths):.1f}-{max(lengths):.1f} s, median {statistics.median(lengths):.1f} s), "
        f"{threads} threads, median of {runs} per utterance"
    )
    for q in quants:
        engine = WhisperCppEngine(models[q], dtw=False)  # as the app loads it for dictation: text only
        decoders = _decoders(engine, vad, threads)
        for d in decoders.values():
            d.warm_up()
        ms_cut, texts_cut = _decode_all(decoders, list(cut), runs)
        ms_whole, texts_whole = _decode_all(decoders, list(whole), runs)
        engine.close()
        print(
            f"  {q}:  {'decode':<11} {'cut p50':>8} {'p90':>6} {'whole p50':>10} {'p90':>6}   WER on whole clips"
            f"  words changed vs file-style (cut)"
        )
        wers = {}
        for name in decoders:
            wers[name] = total(score(u.reference, t) for u, t in zip(whole, texts_whole[name]))
            change = total(score(full, mine) for full, mine in zip(texts_cut["file-style"], texts_cut[name]))
            print(
                f"       {name:<11} {percentile(ms_cut[name], 50):6.0f}ms {percentile(ms_cut[name], 90):4.0f}ms "
                f"{percentile(ms_whole[name], 50):8.0f}ms {percentile(ms_whole[name], 90):4.0f}ms   "
                f"{wer_text(wers[name]):<24} {'' if name == 'file-style' else f'{100 * (change.wer or 0):4.1f} %'}"
            )
        loops = [
            u.source if isinstance(u, Referenced) else f"{u.source}@{u.start:.1f}s"
            for u, a, b in zip(
                [*cut, *whole],
                [*texts_cut["fast"], *texts_whole["fast"]],
                [*texts_cut["full ctx"], *texts_whole["full ctx"]],
            )
            if len(a.split()) >= max(6, 3 * len(b.split()))
        ]
        if loops:
            print(
                f"       the fast path ran away (>= 3x the words of the full-context decode) on {len(loops)}: "
                f"{', '.join(loops)}"
            )
        full = wers["full ctx"].wer or 0.0
        for name in ("fast", "fast+fallbk", "fast, >=15s"):
            fast = wers[name].wer or 0.0
            goal = "met" if fast <= full + WER_MARGIN else "NOT met"
            print(
                f"       goal WER({name}) <= WER(full ctx) + 1 point: {goal} ({100 * fast:.1f} vs {100 * full:.1f} %)"
            )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--trained",
        nargs="*",
        choices=("f16", "q8_0"),
        default=None,
        metavar="QUANT",
        help="the trained tiny.en instead (f16, q8_0; default both)",
    )
    a = ap.parse_args()
    if a.trained is None:
        run(a.runs, a.threads)
    else:
        run_trained(a.runs, a.threads, a.trained or ("f16", "q8_0"))
