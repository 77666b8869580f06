"""`hark eval`: score Hark against references.

`hark eval asr`: the word and character error rates of Hark's transcripts against reference
transcripts, next to those of bare pywhispercpp on the same audio with the same model and
parameters in the same run: Hark's pipeline must add no error to the engine's.

`hark eval diarization`: for each audio file the DER (pyannote.metrics: missed, false alarm and
confusion over the scored time) and the word-level speaker error of the merged transcript:
words from the chosen engine, labelled by the diarization, checked against the speaker the
reference turns give each word.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audio.errors import MediaError
from audio.probe import check_path, probe
from pipeline.transcription.asr_eval import ErrorCounts as AsrCounts
from pipeline.transcription.asr_eval import Score as AsrScore
from pipeline.transcription.engine_setup import ENGINES

if TYPE_CHECKING:
    from audio.vad import SileroVad
    from pipeline.engines.bare_whisper import BareWhisper
    from pipeline.engines.whispercpp import WhisperCppEngine
    from pipeline.speakers.diarization import Diarization
    from pipeline.speakers.speaker_turns import Turn
    from pipeline.transcripts.transcript import Transcript


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "eval",
        help="score Hark against references (speech recognition WER, word timing, diarization)",
        description="Evaluate Hark's output against reference annotations: 'asr' scores the "
        "transcripts (WER/CER, against bare whisper.cpp too), 'timing' the word "
        "times (against TextGrids), 'diarization' the speaker labels (DER).",
    )
    esub = e.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    _add_asr_parser(esub)
    from app.cli.eval_timing import add_parser as add_timing_parser

    add_timing_parser(esub)
    d = esub.add_parser(
        "diarization",
        help="DER and word-level speaker error against an RTTM",
        description="Diarize each AUDIO with the configured pipeline and score it against the reference "
        "RTTM: DER (pyannote.metrics) and the word-level speaker error of the merged transcript.",
    )
    d.add_argument(
        "inputs",
        nargs="+",
        metavar="AUDIO",
        help="audio or video files; the RTTM file id is each file's name without extension (or the RTTM's only file)",
    )
    d.add_argument("--rttm", required=True, type=Path, help="reference speaker turns")
    d.add_argument(
        "--uem",
        type=Path,
        help="scored regions (default: from the first turn to the last, of the reference or the diarization)",
    )
    d.add_argument(
        "--collar",
        type=float,
        default=0.0,
        help="seconds forgiven around reference boundaries (default 0, as pyannote reports)",
    )
    d.add_argument("--skip-overlap", action="store_true", help="do not score overlapped speech")
    d.add_argument(
        "--engine", choices=ENGINES, default="sphinx", help="engine for the words (default: sphinx, the offline one)"
    )
    d.add_argument("--model", help="whisper model, with --engine whisper")
    d.add_argument("--no-words", action="store_true", help="DER only: do not transcribe")
    d.add_argument("--json", action="store_true", help="one JSON object per file instead of text")
    from app.cli.diarize import add_arguments

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


def _reference(rttm: Path, src: Path) -> list[Turn]:
    from pipeline.speakers.speaker_turns import RttmError, parse_rttm_by_file

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

    from app.cli.common import EXIT_BAD_INPUT, EXIT_OK, run_cancellable
    from app.cli.diarize import check_arguments, load_diarizer
    from pipeline.engines.base import TranscribeOptions, default_threads
    from pipeline.models.store import ModelStore
    from pipeline.speakers.diarization_eval import diarization_error, read_uem
    from pipeline.speakers.diarize_media import add_speakers, diarize_media
    from pipeline.speakers.speaker_metrics import word_speaker_error
    from pipeline.speakers.speaker_turns import speakers

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
        from pipeline.transcription.engine_setup import load_engine, load_vad

        loaded = load_engine(args.engine, args.model, store, language="en" if args.engine == "sphinx" else None)
        vad, _ = load_vad(store)
    cancel = threading.Event()
    scores: list[FileScore] = []
    for src in inputs:
        ref = refs[src]
        uem = read_uem(args.uem, src.stem) if args.uem else None
        t0 = time.perf_counter()

        def diarize(ev: threading.Event, s: Path = src) -> Diarization:
            return diarize_media(s, diarizer, cancel=ev)

        result = run_cancellable(diarize, cancel)
        took = time.perf_counter() - t0
        der = diarization_error(ref, result.turns, uem=uem, collar=args.collar, skip_overlap=args.skip_overlap)
        score = FileScore(
            file=str(src),
            duration=probe(src).duration or 0.0,
            speakers_ref=len(speakers(ref)),
            speakers_hyp=len(result.speakers),
            der=der.der,
            missed=der.missed,
            false_alarm=der.false_alarm,
            confusion=der.confusion,
            scored=der.total,
            diarize_seconds=took,
        )
        if loaded is not None:
            from pipeline.transcription.transcribe import transcribe_file

            def transcribe(ev: threading.Event, s: Path = src) -> Transcript:
                return transcribe_file(s, loaded.engine, TranscribeOptions(threads=threads), vad=vad, cancel=ev)

            transcript = run_cancellable(transcribe, cancel)
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
    print(
        f"{s.file}: DER {100 * s.der:.1f}% (missed {s.missed:.2f} s, false alarm {s.false_alarm:.2f} s, "
        f"confusion {s.confusion:.2f} s of {s.scored:.2f} s); speakers {s.speakers_hyp} vs {s.speakers_ref} "
        f"in the reference; diarized in {s.diarize_seconds:.1f} s (RTF {rtf:.3f})"
    )
    if s.words is not None:
        print(f"  word speaker error {100 * (s.word_speaker_error or 0):.1f}% ({s.words_wrong} of {s.words} words)")
    sys.stdout.flush()


# --- hark eval asr --------------------------------------------------------------------------------
_ASR_EPILOG = """\
Each AUDIO is transcribed by Hark's pipeline (decoding, chunking, word grouping) and by bare
pywhispercpp (its own Model.transcribe on the decoded samples), with the same model file,
language, threads and whisper parameters (greedy, temperature fallback, non-speech tokens
suppressed). Both transcripts are normalised as whisper's evaluations do (case,
punctuation, contractions, numbers; fillers such as "uh" and anything in <...> or [...]
dropped) and scored with jiwer. The total adds up errors and reference words over all files.

VAD: the bare engine has none, so by default Hark runs without it too (like 'hark transcribe
--no-vad'): the strict same-settings comparison. --vad also runs Hark as 'hark transcribe' does
by default, with Silero VAD trimming silence, and scores that in its own columns.

At fallback temperatures whisper.cpp samples from a random generator its context keeps across
calls, so a file's text can depend on the files decoded before it. Each system has a context of
its own and gets the files in the same order; Hark calls the engine once per file up to 30 s
(and per chunk of at most 30 s beyond), the bare engine once per file.

Columns: WORDS in the normalised reference; WER and CER of each system; DIFF = WER hark minus
WER bare, in percentage points; S/D/I = substituted, deleted and inserted words; AUDIO s and
each system's seconds, wall time from the file to the text, decoding included.

References: --ref FILE (one AUDIO only), or --ref DIR holding STEM.txt or STEM.lab for each
AUDIO; without --ref, STEM.txt or STEM.lab beside each AUDIO (mind that 'hark transcribe'
writes STEM.txt there too). A reference is plain text; all its lines are one transcript."""


def _add_asr_parser(esub: argparse._SubParsersAction) -> None:
    from app.cli.common import thread_count
    from pipeline.engines.base import default_threads

    a = esub.add_parser(
        "asr",
        help="WER/CER against reference transcripts, next to bare whisper.cpp",
        description="Word and character error rates of Hark's transcripts against reference transcripts,\n"
        "per file and in total, next to those of bare pywhispercpp on the same audio and settings.",
        epilog=_ASR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio or video files")
    a.add_argument(
        "--ref",
        type=Path,
        metavar="FILE|DIR",
        help="the reference transcript (one AUDIO), or a folder of STEM.txt / STEM.lab files "
        "(default: beside each AUDIO)",
    )
    a.add_argument(
        "--model",
        help="whisper model: a catalog or imported name, or a .bin path; "
        "default: $HARK_MODEL or the best installed model",
    )
    a.add_argument(
        "--language",
        default="en",
        help="language code of the speech (default en); it also picks "
        "the normaliser: whisper's English one for en, else its basic one",
    )
    a.add_argument(
        "--threads",
        type=thread_count,
        default=default_threads(),
        help=f"CPU threads, for Hark and the bare engine alike (default {default_threads()})",
    )
    a.add_argument(
        "--vad",
        action="store_true",
        help="also score Hark with Silero VAD trimming silence (its 'hark transcribe' default)",
    )
    a.add_argument("--no-baseline", action="store_true", help="do not run the bare engine")
    a.add_argument("--json", action="store_true", help="one JSON object per file and one for the total")
    a.set_defaults(func=cmd_eval_asr, parser=a)


@dataclass
class AsrRun:
    """One system's transcript of one file, scored."""

    text: str
    score: AsrScore
    seconds: float


@dataclass
class AsrFile:
    file: str
    reference: str
    duration: float
    runs: dict[str, AsrRun]  # by system: "hark", "bare", "hark_vad"


HARK, BARE, HARK_VAD = "hark", "bare", "hark_vad"


def _check_asr_arguments(args: argparse.Namespace) -> str:
    from pipeline.engines.bare_whisper import known_language

    if args.ref is not None and args.ref.is_file() and len(args.inputs) > 1:
        args.parser.error(
            f"--ref {args.ref} is one transcript, but {len(args.inputs)} audio files were given; "
            "give a folder of STEM.txt/STEM.lab files instead"
        )
    language = args.language.strip().lower()
    if language == "auto" or not known_language(language):
        args.parser.error(f"--language needs the language code of the speech, such as en or de, not {args.language!r}")
    return language


def cmd_eval_asr(args: argparse.Namespace) -> int:
    from app.cli.common import EXIT_OK
    from pipeline.transcription.asr_eval import references

    language = _check_asr_arguments(args)
    inputs = [Path(p) for p in args.inputs]
    for src in inputs:
        check_path(src)
    refs = references(inputs, args.ref)  # every reference is read before a model loads
    systems = _AsrSystems(args, language)
    if not args.json:
        print(systems.describe())
        print(_asr_header(systems.names, _name_width(inputs)))
    results: list[AsrFile] = []
    cancel = threading.Event()
    for src in inputs:
        ref_path, ref_text = refs[src]
        result = systems.run(src, ref_path, ref_text, cancel)
        results.append(result)
        _asr_print(result, systems.names, _name_width(inputs), args.json)
    _asr_print_total(results, systems.names, _name_width(inputs), args.json)
    return EXIT_OK


class _AsrSystems:
    """Hark (and with --vad Hark with VAD) and the bare engine, loaded once for all files."""

    def __init__(self, args: argparse.Namespace, language: str) -> None:
        from pipeline.engines.base import TranscribeOptions
        from pipeline.engines.whispercpp import WhisperCppEngine
        from pipeline.errors import ModelError
        from pipeline.models.store import ModelStore
        from pipeline.transcription.engine_setup import load_engine, load_vad

        store = ModelStore()
        engine = load_engine("whisper", args.model, store, language=language).engine
        assert isinstance(engine, WhisperCppEngine)  # what load_engine("whisper") gives
        if language != "en" and not engine.multilingual:
            raise ModelError(f"{engine.model_name} is English-only; choose a multilingual model for {language!r}")
        self.engine, self.language = engine, language
        self.options = TranscribeOptions(language=language, threads=args.threads)
        self.with_vad: tuple[WhisperCppEngine, SileroVad] | None = None
        if args.vad:
            vad, notice = load_vad(store)
            if vad is None:
                raise ModelError(f"--vad: {notice}")
            # Its own context: at fallback temperatures whisper.cpp samples from a random generator that the
            # context keeps across calls, so sharing Hark's would make the no-VAD runs decode differently
            # from the bare engine's (whose context sees one call per file, as Hark's then does).
            twin = WhisperCppEngine(engine.model_path, model_name=engine.model_name, dtw=engine.timestamps == "dtw")
            self.with_vad = twin, vad
        self.bare: BareWhisper | None = None
        if not args.no_baseline:
            from pipeline.engines.bare_whisper import BareWhisper

            self.bare = BareWhisper(
                engine.model_path, multilingual=engine.multilingual, context_overrides=engine.context_overrides
            )
        self.names = [HARK] + ([BARE] if self.bare else []) + ([HARK_VAD] if self.with_vad else [])

    def describe(self) -> str:
        e = self.engine
        line = (
            f"model {e.model_name} ({e.model_path}), language {self.language}, {self.options.threads} threads; "
            "hark = Hark without VAD"
        )
        if self.bare is not None:
            line += ", bare = pywhispercpp Model.transcribe, same model file, audio and whisper parameters"
        if self.with_vad is not None:
            line += "; hark_vad = Hark with Silero VAD (its default)"
        return line

    def run(self, src: Path, ref_path: Path, reference: str, cancel: threading.Event) -> AsrFile:
        from app.cli.common import run_cancellable

        text, seconds, duration = run_cancellable(lambda ev: self._hark(src, self.engine, None, ev), cancel)
        runs = {HARK: self._scored(text, seconds, reference)}
        if self.bare is not None:
            text, seconds = run_cancellable(lambda ev: self._bare(src, ev), cancel)
            runs[BARE] = self._scored(text, seconds, reference)
        if self.with_vad is not None:
            vad_engine, vad = self.with_vad
            text, seconds, _ = run_cancellable(lambda ev: self._hark(src, vad_engine, vad, ev), cancel)
            runs[HARK_VAD] = self._scored(text, seconds, reference)
        return AsrFile(file=str(src), reference=str(ref_path), duration=duration, runs=runs)

    def _scored(self, text: str, seconds: float, reference: str) -> AsrRun:
        from pipeline.transcription.asr_eval import score

        return AsrRun(text=text, score=score(reference, text, self.language), seconds=seconds)

    def _hark(
        self, src: Path, engine: WhisperCppEngine, vad: SileroVad | None, cancel: threading.Event
    ) -> tuple[str, float, float]:
        """Text, seconds taken, and seconds of decoded audio."""
        from pipeline.transcription.transcribe import transcribe_file

        t0 = time.perf_counter()
        transcript = transcribe_file(src, engine, self.options, vad=vad, cancel=cancel)
        return transcript.text(), time.perf_counter() - t0, transcript.media.duration

    def _bare(self, src: Path, cancel: threading.Event) -> tuple[str, float]:
        from audio.decode import decode_audio

        assert self.bare is not None
        t0 = time.perf_counter()
        samples = decode_audio(src, cancel=cancel).samples  # Hark's decoder: the very same samples
        text = self.bare.transcribe(samples, self.options, cancel=cancel)
        return text, time.perf_counter() - t0


# --- hark eval asr: output -------------------------------------------------------------------------
@dataclass
class _Row:
    name: str
    words: int  # in the reference
    duration: float  # seconds of audio
    runs: dict[str, AsrRun]


def _columns(names: list[str]) -> list[tuple[str, str, str]]:
    """(header, what, system) per column; S/D/I = substituted, deleted, inserted words."""
    cols = [("WORDS", "words", "")] + [(f"WER {n}", "wer", n) for n in names]
    if BARE in names:  # right after WER bare: it is hark minus bare
        cols.insert(names.index(BARE) + 2, ("DIFF", "diff", ""))
    cols += [(f"CER {n}", "cer", n) for n in names] + [(f"S/D/I {n}", "sdi", n) for n in names]
    return cols + [("AUDIO s", "audio", "")] + [(f"{n} s", "seconds", n) for n in names]


def _cell(what: str, system: str, row: _Row) -> str:
    if what == "words":
        return str(row.words)
    if what == "audio":
        return f"{row.duration:.1f}"
    if what == "diff":
        return _difference(row.runs[HARK].score, row.runs[BARE].score)
    run = row.runs[system]
    if what == "seconds":
        return f"{run.seconds:.2f}"
    if what == "sdi":
        return _sdi(run.score.words)
    return _pct(run.score.wer if what == "wer" else run.score.cer)


def _line(first: str, cells: list[str], headers: list[str], width: int) -> str:
    return "  ".join([f"{first:<{width}}", *(f"{c:>{max(len(h), 7)}}" for c, h in zip(cells, headers))])


def _asr_header(names: list[str], width: int) -> str:
    headers = [h for h, _, _ in _columns(names)]
    return _line("FILE", headers, headers, width)


def _asr_row(row: _Row, names: list[str], width: int) -> str:
    cols = _columns(names)
    return _line(row.name, [_cell(what, n, row) for _, what, n in cols], [h for h, _, _ in cols], width)


def _name_width(inputs: list[Path]) -> int:
    return max([len("total"), *(len(p.name) for p in inputs)])


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _sdi(c: AsrCounts) -> str:
    return f"{c.substitutions}/{c.deletions}/{c.insertions}"


def _difference(hark: AsrScore, bare: AsrScore) -> str:
    """Hark's WER minus the bare engine's, in percentage points (word errors when there is no reference word)."""
    if hark.wer is None or bare.wer is None or not hark.words.length:
        return f"{hark.words.errors - bare.words.errors:+d}w"
    return f"{100 * (hark.wer - bare.wer):+.1f}"


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def _run_json(run: AsrRun, with_text: bool) -> dict[str, object]:
    w, c = run.score.words, run.score.chars
    out: dict[str, object] = {
        "wer": _round(run.score.wer),
        "cer": _round(run.score.cer),
        "errors": w.errors,
        "substitutions": w.substitutions,
        "deletions": w.deletions,
        "insertions": w.insertions,
        "char_errors": c.errors,
        "chars": c.length,
        "seconds": _round(run.seconds),
    }
    if with_text:
        out["text"] = run.text
    return out


def _asr_json(head: dict[str, object], runs: dict[str, AsrRun], with_text: bool) -> str:
    obj: dict[str, object] = {**head, "words": runs[HARK].score.words.length}
    obj.update({n: _run_json(r, with_text) for n, r in runs.items()})
    if BARE in runs:
        obj["error_difference"] = runs[HARK].score.words.errors - runs[BARE].score.words.errors
    return json.dumps(obj)


def _asr_print(f: AsrFile, names: list[str], width: int, as_json: bool) -> None:
    if as_json:
        print(
            _asr_json(
                {"file": f.file, "reference": f.reference, "duration": round(f.duration, 3)}, f.runs, with_text=True
            )
        )
    else:
        print(_asr_row(_Row(Path(f.file).name, f.runs[HARK].score.words.length, f.duration, f.runs), names, width))
    sys.stdout.flush()


def _asr_print_total(files: list[AsrFile], names: list[str], width: int, as_json: bool) -> None:
    from pipeline.transcription.asr_eval import total

    runs = {n: AsrRun("", total(f.runs[n].score for f in files), sum(f.runs[n].seconds for f in files)) for n in names}
    duration = sum(f.duration for f in files)
    if as_json:
        print(_asr_json({"total": True, "files": len(files), "duration": round(duration, 3)}, runs, with_text=False))
        return
    print(_asr_row(_Row("total", runs[HARK].score.words.length, duration, runs), names, width))
    for n in names:
        if BARE in runs and n != BARE:
            print(_verdict(n, runs[n].score, runs[BARE].score))


def _verdict(name: str, hark: AsrScore, bare: AsrScore) -> str:
    more = hark.words.errors - bare.words.errors
    counts = (
        f"{name}: {hark.words.errors} word errors, bare: {bare.words.errors} "
        f"(WER {_pct(hark.wer)} vs {_pct(bare.wer)} over {hark.words.length} reference words)"
    )
    if more == 0:
        return f"{counts}: {name} adds no error"
    return f"{counts}: {name} has {abs(more)} {'more' if more > 0 else 'fewer'}"
