"""Benchmarks, run by hand (`make bench`); never part of the tests.

Every figure is a median of several runs in this one process, printed as a
ratio against a baseline measured in the same run:
  engine  - `hark transcribe` (in process) vs bare pywhispercpp on the same audio,
            random-weight tiny- and base-shaped models
  decode  - our streaming decoder vs plain `ffmpeg ... -f s16le` into a pipe
  memory  - peak RSS of `hark transcribe` on a 60-minute file vs the model's size
  render  - trimmed export of a 10-minute 720p file with 20 cuts vs one plain ffmpeg re-encode
  timeline - the editor's timeline with 10k words: open, repaint, playhead steps vs an empty repaint
  dictation - end of speech to text ready, p50/p90 over 20+ utterances, audio_ctx on vs off
  diarization - pyannote real-time factor, its defaults vs Hark's tuning; speaker merge on 10k words
  dictation-trained - dictation with the trained tiny.en (f16, q8_0): p50/p90 and WER, fast path vs full decode
  asr     - the trained tiny.en: `hark transcribe` vs faster-whisper (wall, WER, peak RSS), the speed levers,
            word timing vs TextGrids (asr-process, asr-levers, asr-clips, asr-timing: one part each)
  kill    the kill -9 campaign (issue 14), 50 kills per part: `python -m bench.kill_campaign --help`;
          only when named (it takes about an hour)
  bad-input the bad-input catalogue (issue 14): every hostile input, its exit code and message:
          `python -m bench.bad_input_catalogue --help`; only when named (about 5 minutes)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from functools import partial

from bench.common import JFK, OUT, SILERO, engine_preset, medians, peak_rss, random_model, speech_file


# --- engine overhead -------------------------------------------------------------
def bench_engine(runs: int, threads: int) -> None:
    from pywhispercpp.model import Model

    from audio.vad import SileroVad
    from pipeline.captions.export import to_json, to_srt
    from pipeline.engines.base import TranscribeOptions
    from pipeline.engines.whispercpp import WhisperCppEngine
    from pipeline.transcription.transcribe import transcribe_file

    print(f"engine: {JFK.name} ({threads} threads), median of {runs}")
    vad = SileroVad(SILERO)
    for kind in ("tiny", "base"):
        path = random_model(kind)
        engine = WhisperCppEngine(path)
        bare = Model(
            str(path),
            redirect_whispercpp_logs_to=None,
            context_params={
                "flash_attn": False,
                "dtw_token_timestamps": True,
                "dtw_aheads_preset": engine_preset(kind),
            },
            n_threads=threads,
            print_progress=False,
            print_realtime=False,
            token_timestamps=True,
            suppress_nst=True,
            language="en",
        )
        opts = TranscribeOptions(language="en", threads=threads)

        def hark(use_vad: bool, engine: WhisperCppEngine = engine, opts: TranscribeOptions = opts) -> None:
            t = transcribe_file(JFK, engine, opts, vad=vad if use_vad else None)
            to_srt(t), to_json(t)

        base, plain, with_vad = medians(
            [partial(bare.transcribe, str(JFK)), lambda: hark(False), lambda: hark(True)], runs
        )
        print(
            f"  {kind:<5} bare pywhispercpp {base:6.2f} s | hark --no-vad {plain:6.2f} s  ratio {plain / base:5.3f}"
            f" | hark with VAD {with_vad:6.2f} s  ratio {with_vad / base:5.3f}"
        )
        engine.close()


# --- decode throughput -----------------------------------------------------------
def bench_decode(runs: int) -> None:
    from audio.decode import decode_audio

    src = speech_file(10, ".m4a")
    seconds = 600.0

    def plain_ffmpeg() -> None:
        proc = subprocess.Popen(
            [
                "ffmpeg",
                "-v",
                "error",
                "-nostdin",
                "-i",
                str(src),
                "-map",
                "0:a:0",
                "-ac",
                "1",
                "-ar",
                "16000",
                "-f",
                "s16le",
                "pipe:",
            ],
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None
        while proc.stdout.read(1 << 20):
            pass
        proc.wait()

    base, ours = medians([plain_ffmpeg, lambda: decode_audio(src)], runs)
    print(f"decode: 10 min AAC, median of {runs}")
    print(
        f"  ffmpeg -f s16le {base:5.2f} s ({seconds / base:5.0f}x real time) | hark decode {ours:5.2f} s "
        f"({seconds / ours:5.0f}x real time)  throughput ratio {base / ours:5.3f}"
    )


# --- memory ----------------------------------------------------------------------


def bench_memory(threads: int) -> None:
    src = speech_file(60, ".flac")
    model = random_model("tiny")
    out = OUT / "memory-run"
    cmd = [
        "app",
        "transcribe",
        str(src),
        "--model",
        str(model),
        "--language",
        "en",
        "--threads",
        str(threads),
        "--format",
        "srt,json",
        "--out",
        str(out),
        "-q",
    ]
    env = {**os.environ, "HARK_VAD_MODEL": str(SILERO)}
    t = time.perf_counter()
    rc, peak_mb, err = peak_rss(cmd, env)
    wall = time.perf_counter() - t
    if rc != 0:
        print(err)
        raise SystemExit("memory benchmark failed")
    # The model's own footprint is what bare pywhispercpp needs to run it: the weights plus
    # whisper.cpp's KV caches and compute buffers (~230 MiB for tiny with DTW), whatever the input length.
    clip = OUT / "speech-1min.wav"
    if not clip.exists():
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(src), "-t", "60", "-ar", "16000", "-ac", "1", str(clip)],
            check=True,
        )
    rc0, bare_mb, err0 = peak_rss(["bench.bare_whisper", str(model), str(clip), str(threads)], env)
    if rc0 != 0:
        print(err0)
        raise SystemExit("memory baseline failed")
    file_mb = model.stat().st_size / 2**20
    print("memory: hark transcribe, 60 min FLAC, random tiny model, VAD on (one run each)")
    print(
        f"  bare pywhispercpp, 1 min of the same speech: peak RSS {bare_mb:5.0f} MiB "
        f"(model file {file_mb:.0f} MiB + whisper.cpp buffers)"
    )
    print(
        f"  hark transcribe, 60 min:                     peak RSS {peak_mb:5.0f} MiB = model {bare_mb:.0f} MiB "
        f"+ {peak_mb - bare_mb:.0f} MiB; wall {wall:.0f} s ({3600 / wall:.1f}x real time)"
    )
    print(f"  ratio (hark peak - model) / 200 MiB budget: {(peak_mb - bare_mb) / 200:5.3f}  (goal <= 1)")


ASR_PARTS = ("asr-process", "asr-levers", "asr-clips", "asr-timing")
BENCHES = (
    "engine",
    "decode",
    "memory",
    "render",
    "timeline",
    "dictation",
    "dictation-trained",
    "diarization",
    "asr",
    *ASR_PARTS,
    "kill",
    "bad-input",
)


def main() -> None:
    p = argparse.ArgumentParser(prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", nargs="*", metavar="{" + ",".join(BENCHES) + "}", help="which benchmarks (default: all)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    which = args.which or [b for b in BENCHES if b not in (*ASR_PARTS, "kill", "bad-input")]
    unknown = sorted(set(which) - set(BENCHES))
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    if "decode" in which:
        bench_decode(args.runs)
    if "engine" in which:
        bench_engine(args.runs, args.threads)
    if "memory" in which:
        bench_memory(args.threads)
    if "render" in which:
        from bench.render_bench import run as bench_render

        bench_render(args.runs)
    if "timeline" in which:
        from bench.timeline_bench import run as bench_timeline

        bench_timeline(args.runs)
    if "dictation" in which:
        from bench.dictation_bench import run as bench_dictation

        bench_dictation(args.runs)
    if "diarization" in which:
        from bench.diarization_bench import run as bench_diarization

        bench_diarization(args.runs, args.threads)
    if "dictation-trained" in which:
        from bench.dictation_bench import run_trained

        run_trained(args.runs, args.threads)
    asr_parts = [p.removeprefix("asr-") for p in ASR_PARTS if p in which or "asr" in which]
    if asr_parts:
        from bench.asr_bench import run as bench_asr

        bench_asr(args.runs, args.threads, asr_parts)
    if "kill" in which:
        from bench.kill_campaign import main as kill_campaign

        if kill_campaign([]) != 0:
            raise SystemExit("the kill -9 campaign found violations")
    if "bad-input" in which:
        from bench.bad_input_catalogue import main as bad_input_catalogue

        if bad_input_catalogue([]) != 0:
            raise SystemExit("the bad-input catalogue found defects")


if __name__ == "__main__":
    main()
