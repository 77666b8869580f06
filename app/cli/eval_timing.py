"""`hark eval timing`: how close Hark's word times come to reference word timings (Praat TextGrids).

Each AUDIO is transcribed once per timing method (forced alignment of the recognised words, Hark's
default; whisper's own token timestamps; DTW over the alignment heads) with the same model, and the words are scored against the TextGrid's
word tier by pipeline.alignment.timing_eval: words paired by text, start/end errors, the share
within 50/100/200 ms at both ends, boundary F1 at a 100 ms collar.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from audio.probe import check_path
from pipeline.alignment.timing_eval import Boundaries, TimedWord, TimingScore, score_timing

if TYPE_CHECKING:
    from pipeline.transcripts.transcript import Transcript

METHODS = ("aligned", "token", "dtw")
_EPILOG = """\
Methods: aligned = whisper's token times, then forced alignment (Hark's default); token = whisper's
token timestamps alone; dtw = DTW over whisper's alignment heads.

Words are paired by their text (case and punctuation ignored), and only runs of two or more
consecutive matching words count, so a misrecognised word is left out rather than paired with
the wrong reference word. Errors are Hark minus reference: a positive start error is late.

Columns: MATCHED = paired words / reference words; START and END = median and 90th percentile of
|error| in ms, then the signed median; <=50/<=100/<=200 = share of paired words with both ends
within that many ms; F1 = word-boundary F1 at a 100 ms collar (every start and end, text ignored).

References: --textgrid FILE (one AUDIO only) or --textgrid DIR holding STEM.TextGrid for each
AUDIO; without it, STEM.TextGrid beside each AUDIO. The word tier is 'words' (MFA's name) unless
--tier names another."""


def add_parser(esub: argparse._SubParsersAction) -> None:
    from app.cli.common import thread_count
    from pipeline.engines.base import default_threads

    t = esub.add_parser(
        "timing",
        help="word start/end errors against reference TextGrids, per timing method",
        description="Score Hark's word times against reference word timings (Praat TextGrids), for each\n"
        "word-timing method side by side: median and p90 errors, share within 50/100/200 ms, F1.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio or video files")
    t.add_argument(
        "--textgrid",
        type=Path,
        metavar="FILE|DIR",
        help="the reference TextGrid (one AUDIO), or a folder of STEM.TextGrid files (default: beside each AUDIO)",
    )
    t.add_argument("--tier", help="the TextGrid tier with the words (default: words)")
    t.add_argument(
        "--method",
        action="append",
        choices=METHODS,
        dest="methods",
        help="timing method to score; repeat for several (default: all)",
    )
    t.add_argument("--model", help="whisper model: a catalog or imported name, or a .bin path")
    t.add_argument("--language", default="en", help="language of the speech (default en)")
    t.add_argument(
        "--threads", type=thread_count, default=default_threads(), help=f"CPU threads (default {default_threads()})"
    )
    t.add_argument("--no-vad", action="store_true", help="do not trim silence (as 'hark transcribe --no-vad')")
    t.add_argument("--json", action="store_true", help="one JSON object per file and method, then the totals")
    t.set_defaults(func=cmd_eval_timing, parser=t)


def textgrid_for(audio: Path, given: Path | None) -> Path:
    if given is not None and not given.is_dir():
        return given
    folder = given if given is not None else audio.parent
    return folder / f"{audio.stem}.TextGrid"


def cmd_eval_timing(args: argparse.Namespace) -> int:
    from app.cli.common import EXIT_OK, run_cancellable
    from pipeline.alignment.aligner import aligner_for
    from pipeline.alignment.textgrid_words import read_textgrid_words
    from pipeline.engines.base import TranscribeOptions
    from pipeline.engines.whispercpp import WhisperCppEngine
    from pipeline.errors import ModelError
    from pipeline.models.store import ModelStore
    from pipeline.transcription.engine_setup import load_engine, load_vad
    from pipeline.transcription.transcribe import transcribe_file

    if args.textgrid is not None and args.textgrid.is_file() and len(args.inputs) > 1:
        args.parser.error(
            f"--textgrid {args.textgrid} is one reference, but {len(args.inputs)} audio files were "
            "given; give a folder of STEM.TextGrid files instead"
        )
    inputs = [Path(p) for p in args.inputs]
    for src in inputs:
        check_path(src)
    refs = {src: read_textgrid_words(textgrid_for(src, args.textgrid), args.tier) for src in inputs}
    methods = list(dict.fromkeys(args.methods or METHODS))
    store = ModelStore()
    first = load_engine("whisper", args.model, store, language=args.language).engine
    assert isinstance(first, WhisperCppEngine)
    vad = None
    if not args.no_vad:
        vad, notice = load_vad(store)
        if vad is None:
            raise ModelError(f"{notice}; or pass --no-vad")
    options = TranscribeOptions(language=args.language, threads=args.threads)
    # aligned and token times come from the same decode settings: one context serves both
    by_dtw = {
        dtw: WhisperCppEngine(first.model_path, model_name=first.model_name, dtw=dtw)
        for dtw in sorted({m == "dtw" for m in methods})
    }
    engines = {m: by_dtw[m == "dtw"] for m in methods}
    first.close()
    aligner = aligner_for(args.language) if "aligned" in methods else None
    if "aligned" in methods and aligner is None:
        raise ModelError(f"no forced aligner for language {args.language!r}; leave out --method aligned")
    if not args.json:
        print(f"model {engines[methods[0]].model_name}, VAD {'off' if vad is None else 'on'}, {args.threads} threads")
        print(_header(_width(inputs)))
    per_method: dict[str, list[tuple[list[TimedWord], list[TimedWord]]]] = {m: [] for m in methods}
    cancel = threading.Event()
    try:
        for src in inputs:
            for m in methods:

                def transcribe(ev: threading.Event, m: str = m, src: Path = src) -> Transcript:
                    return transcribe_file(
                        src, engines[m], options, vad=vad, cancel=ev, aligner=aligner if m == "aligned" else None
                    )

                transcript = run_cancellable(transcribe, cancel)
                hyp = [(w.text, w.start, w.end) for w in transcript.words]
                per_method[m].append((hyp, refs[src]))
                _print(src.name, m, score_timing(hyp, refs[src]), _width(inputs), args.json)
        for m in methods:
            _print("total", m, _total(per_method[m]), _width(inputs), args.json)
    finally:
        for e in by_dtw.values():
            e.close()
    return EXIT_OK


def _total(files: list[tuple[list[TimedWord], list[TimedWord]]]) -> TimingScore:
    """All files' pairs and boundary counts together."""
    scores = [score_timing(h, r) for h, r in files]
    b = Boundaries(
        sum(s.boundaries.hits for s in scores),
        sum(s.boundaries.hypothesis for s in scores),
        sum(s.boundaries.reference for s in scores),
    )
    return TimingScore(sum(s.reference_words for s in scores), tuple(p for s in scores for p in s.pairs), b)


def _width(inputs: list[Path]) -> int:
    return max([len("total"), *(len(p.name) for p in inputs)])


def _header(w: int) -> str:
    return (
        f"{'FILE':<{w}}  {'METHOD':<6} {'MATCHED':>8}  {'START med/p90/signed ms':>23}  "
        f"{'END med/p90/signed ms':>21}  {'<=50':>5} {'<=100':>5} {'<=200':>5}  {'F1':>5}"
    )


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{1000 * x:.0f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _print(name: str, method: str, s: TimingScore, w: int, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "file": name,
                    "total": name == "total",
                    "method": method,
                    "matched": s.matched,
                    "reference_words": s.reference_words,
                    "start_median": s.median("start_error"),
                    "start_p90": s.p90("start_error"),
                    "start_signed_median": s.signed_median("start_error"),
                    "end_median": s.median("end_error"),
                    "end_p90": s.p90("end_error"),
                    "end_signed_median": s.signed_median("end_error"),
                    "within_50ms": s.within(0.05),
                    "within_100ms": s.within(0.1),
                    "within_200ms": s.within(0.2),
                    "boundary_precision": s.boundaries.precision,
                    "boundary_recall": s.boundaries.recall,
                    "boundary_f1": s.boundaries.f1,
                }
            )
        )
    else:
        signed = s.signed_median("start_error"), s.signed_median("end_error")
        start = f"{_ms(s.median('start_error'))}/{_ms(s.p90('start_error'))}/{_signed(signed[0])}"
        end = f"{_ms(s.median('end_error'))}/{_ms(s.p90('end_error'))}/{_signed(signed[1])}"
        print(
            f"{name:<{w}}  {method:<6} {f'{s.matched}/{s.reference_words}':>8}  {start:>23}  {end:>21}  "
            f"{_pct(s.within(0.05)):>5} {_pct(s.within(0.1)):>5} {_pct(s.within(0.2)):>5}  "
            f"{s.boundaries.f1:5.2f}"
        )
    sys.stdout.flush()


def _signed(x: float | None) -> str:
    return "-" if x is None else f"{1000 * x:+.0f}"
