"""`hark eval diarization`: score the configured diarization pipeline against reference turns.

For each audio file it prints the DER (pyannote.metrics: missed, false alarm and
confusion over the scored time) and the word-level speaker error of the merged
transcript: words from the chosen engine, labelled by the diarization, checked
against the speaker the reference turns give each word.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from audio.errors import MediaError
from audio.probe import check_path, probe
from pipeline.engine_setup import ENGINES


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    e = sub.add_parser("eval", help="score Hark against references (diarization)",
                       description="Evaluate Hark's output against reference annotations.")
    esub = e.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    d = esub.add_parser(
        "diarization", help="DER and word-level speaker error against an RTTM",
        description="Diarize each AUDIO with the configured pipeline and score it against the reference "
                    "RTTM: DER (pyannote.metrics) and the word-level speaker error of the merged transcript.")
    d.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio or video files; the RTTM file id is each "
                   "file's name without extension (or the RTTM's only file)")
    d.add_argument("--rttm", required=True, type=Path, help="reference speaker turns")
    d.add_argument("--uem", type=Path, help="scored regions (default: from the first turn to the last, "
                   "of the reference or the diarization)")
    d.add_argument("--collar", type=float, default=0.0, help="seconds forgiven around reference boundaries "
                   "(default 0, as pyannote reports)")
    d.add_argument("--skip-overlap", action="store_true", help="do not score overlapped speech")
    d.add_argument("--engine", choices=ENGINES, default="sphinx",
                   help="engine for the words (default: sphinx, the offline one)")
    d.add_argument("--model", help="whisper model, with --engine whisper")
    d.add_argument("--no-words", action="store_true", help="DER only: do not transcribe")
    d.add_argument("--json", action="store_true", help="one JSON object per file instead of text")
    from app.cli_diarize import add_arguments

    add_arguments(d, switch=False)
    d.set_defaults(func=cmd_eval_diarization, parser=d, diarize=True)


@dataclass
class FileScore:
    file: str
    duration: float
    speakers_ref: int
    speakers_hyp: int
    der: float
    missed: float
    false_alarm: float
    confusion: float
    scored: float
    diarize_seconds: float
    words: int | None = None
    word_speaker_error: float | None = None
    words_wrong: int | None = None


def _reference(rttm: Path, src: Path) -> list:  # type: ignore[type-arg]
    from pipeline.speaker_turns import RttmError, parse_rttm_by_file

    try:
        by_file = parse_rttm_by_file(rttm.read_text(encoding="utf-8"), str(rttm))
    except OSError as e:
        raise MediaError(rttm, e.strerror or str(e)) from None
    except RttmError as e:  # bad input, like a missing file: exit 3
        raise MediaError(rttm, f"line {e.line}: {e.reason}" if e.line else e.reason) from None
    except UnicodeDecodeError:
        raise MediaError(rttm, "not a text file (RTTM)") from None
    if src.stem in by_file:
        return by_file[src.stem]
    if len(by_file) == 1:
        return next(iter(by_file.values()))
    raise MediaError(rttm, f"no turns for file id {src.stem!r} (it has {', '.join(sorted(by_file))})")


def cmd_eval_diarization(args: argparse.Namespace) -> int:
    import time

    from app.cli import EXIT_BAD_INPUT, EXIT_OK, run_cancellable
    from app.cli_diarize import check_arguments, load_diarizer
    from pipeline.diarization_eval import diarization_error, read_uem
    from pipeline.diarize_media import add_speakers, diarize_media
    from pipeline.engines.base import TranscribeOptions, default_threads
    from pipeline.models.store import ModelStore
    from pipeline.speaker_metrics import word_speaker_error
    from pipeline.speaker_turns import speakers

    check_arguments(args.parser, args)
    inputs = [Path(p) for p in args.inputs]
    for src in inputs:
        check_path(src)
    refs = {src: _reference(args.rttm, src) for src in inputs}
    store = ModelStore()
    threads = default_threads()
    diarizer = load_diarizer(args, store, threads).get()
    loaded = vad = None
    if not args.no_words:
        from pipeline.engine_setup import load_engine, load_vad

        loaded = load_engine(args.engine, args.model, store, language="en" if args.engine == "sphinx" else None)
        vad, _ = load_vad(store)
    cancel = threading.Event()
    scores: list[FileScore] = []
    for src in inputs:
        ref = refs[src]
        uem = read_uem(args.uem, src.stem) if args.uem else None
        t0 = time.perf_counter()
        result = run_cancellable(lambda ev, s=src: diarize_media(s, diarizer, cancel=ev), cancel)
        took = time.perf_counter() - t0
        der = diarization_error(ref, result.turns, uem=uem, collar=args.collar, skip_overlap=args.skip_overlap)
        score = FileScore(file=str(src), duration=probe(src).duration or 0.0, speakers_ref=len(speakers(ref)),
                          speakers_hyp=len(result.speakers), der=der.der, missed=der.missed,
                          false_alarm=der.false_alarm, confusion=der.confusion, scored=der.total,
                          diarize_seconds=took)
        if loaded is not None:
            from pipeline.transcribe import transcribe_file

            transcript = run_cancellable(
                lambda ev, s=src: transcribe_file(s, loaded.engine, TranscribeOptions(threads=threads), vad=vad,
                                                  cancel=ev), cancel)
            labelled = add_speakers(transcript, result, diarizer)
            wse = word_speaker_error(labelled, ref)
            score.words, score.word_speaker_error, score.words_wrong = wse.scored, wse.rate, wse.wrong
        scores.append(score)
        _print(score, args.json)
    if len(scores) > 1 and not args.json:
        total = sum(s.scored for s in scores)
        errors = sum(s.der * s.scored for s in scores)
        print(f"overall: DER {100 * errors / total if total else 0:.1f}% over {total:.1f} s scored")
    return EXIT_OK if scores else EXIT_BAD_INPUT


def _print(s: FileScore, as_json: bool) -> None:
    if as_json:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(s).items()}))
        return
    rtf = s.diarize_seconds / s.duration if s.duration else 0.0
    print(f"{s.file}: DER {100 * s.der:.1f}% (missed {s.missed:.2f} s, false alarm {s.false_alarm:.2f} s, "
          f"confusion {s.confusion:.2f} s of {s.scored:.2f} s); speakers {s.speakers_hyp} vs {s.speakers_ref} "
          f"in the reference; diarized in {s.diarize_seconds:.1f} s (RTF {rtf:.3f})")
    if s.words is not None:
        print(f"  word speaker error {100 * (s.word_speaker_error or 0):.1f}% "
              f"({s.words_wrong} of {s.words} words)")
    sys.stdout.flush()
