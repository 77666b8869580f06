"""The `hark` command line.

Exit codes (the table in `hark --help` and docs/reliability.md): 0 ok, 1 failure, 2 usage, 3 bad input,
4 model problem, 130 cancelled (Ctrl+C or SIGTERM). A user error prints one line, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from app.cli import models_diarization as diarization_model
from app.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CANCELLED,
    EXIT_FAIL,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    clamp_threads,
    positive_int,
    progress_bar,
    run_cancellable,
    thread_count,
)
from app.cli.diarize import add_arguments as add_diarize_arguments
from app.cli.diarize import check_arguments as check_diarize_arguments
from audio.errors import Cancelled, HarkError, MediaError
from audio.formats import expand_inputs
from audio.probe import check_path
from pipeline.captions.captions import CaptionRules
from pipeline.captions.export import FORMATS, export, free_stem
from pipeline.engines.base import TranscribeOptions, default_threads
from pipeline.errors import ModelError
from pipeline.models.store import ModelStore
from pipeline.transcription.engine_setup import ENGINES, load_engine, load_vad

if TYPE_CHECKING:
    from tqdm import tqdm

    from app.cli.diarize import LazyDiarizer
    from audio.vad import SileroVad
    from pipeline.alignment.aligner import Aligner
    from pipeline.models.catalog import CatalogModel
    from pipeline.transcription.engine_setup import LoadedEngine
    from pipeline.transcripts.transcript import Transcript

__all__ = [  # the exit codes and argument types live in app.cli.common; callers may take them from here
    "EXIT_BAD_INPUT",
    "EXIT_CANCELLED",
    "EXIT_FAIL",
    "EXIT_MODEL",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "clamp_threads",
    "first_word_error",
    "main",
    "run_cancellable",
    "thread_count",
    "wants_gui",
]

log = logging.getLogger("hark")


def _formats(text: str) -> list[str]:
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(bad) or text!r}; choose from {','.join(FORMATS)}")
    return list(dict.fromkeys(chosen))


class OneLineErrors(argparse.ArgumentParser):
    """A usage mistake prints one line that names the help to read, not the whole usage block.
    Subcommands' parsers are of the same class (argparse makes them with type(parent))."""

    dash_files: tuple[str, ...] = ()  # arguments that look like options but name existing files

    def error(self, message: str) -> NoReturn:
        hint = ""
        if self.dash_files:
            name = self.dash_files[0]
            hint = f"; {name} is a file: write ./{name} or put -- before it"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}{hint} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineErrors(
        prog="hark",
        usage="hark [FILE ...]  |  hark [-v] COMMAND ...",
        description="Offline dictation, transcription with word-level timestamps (whisper.cpp), captions, and "
        "trimming video by editing its text. "
        "Run with no arguments, or with media files, to open the desktop app.",
        epilog="Exit codes: 0 ok, 1 failure (e.g. an output that cannot be written), 2 usage (a mistyped "
        "command or option, an output that exists), 3 bad input (a missing, unreadable, corrupt or silent "
        "file or one with no speech, a broken project, media that changed), 4 model problem, 130 cancelled (Ctrl+C or "
        "SIGTERM). "
        "Put -- before file names that start with '-'.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", prog="hark")

    t = sub.add_parser(
        "transcribe",
        help="transcribe audio or video files to SRT/VTT/TXT/JSON",
        description="Transcribe audio or video files (or folders of them) to captions and text.",
    )
    t.add_argument("inputs", nargs="+", metavar="INPUT", help="media files or folders")
    t.add_argument(
        "--model",
        help="whisper model: a catalog name (see 'hark models list') or a .bin path; "
        "default: $HARK_MODEL or the best installed model",
    )
    t.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto: whisper if a model is installed, else the offline English engine (default)",
    )
    t.add_argument("--language", default="auto", help="language code such as en, de, fr; 'auto' detects (default)")
    t.add_argument("--translate", action="store_true", help="translate the speech into English")
    t.add_argument("--prompt", help="initial prompt: names and terms the speech contains")
    t.add_argument(
        "--threads",
        type=thread_count,
        default=default_threads(),
        help=f"CPU threads for the engine (default {default_threads()})",
    )
    t.add_argument(
        "--format",
        type=_formats,
        default=["srt", "vtt", "txt", "json"],
        help=f"comma-separated output formats from {','.join(FORMATS)} (default: all)",
    )
    t.add_argument("--out", type=Path, help="output folder (default: next to each input)")
    t.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing output files (default: write NAME-2.srt etc. beside them)",
    )
    t.add_argument("--highlight-words", action="store_true", help="VTT marks each word as it is spoken")
    t.add_argument("--max-line-chars", type=positive_int, default=42, help="caption line length (default 42)")
    t.add_argument("--max-lines", type=positive_int, default=2, help="lines per caption (default 2)")
    t.add_argument("--no-vad", action="store_true", help="do not trim silence before transcribing")
    t.add_argument(
        "--word-timing",
        choices=("token", "dtw"),
        default="token",
        help="whisper's word times: token timestamps (default; unbiased with VAD) or DTW over the "
        "alignment heads (lags ~0.35 s with tiny.en, and turns flash attention off)",
    )
    t.add_argument(
        "--no-align",
        action="store_true",
        help="skip forced alignment: word times stay the recogniser's, marked rough (faster; "
        "cuts and highlighting are less exact). English is aligned with PocketSphinx",
    )
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    add_diarize_arguments(t)
    t.set_defaults(func=cmd_transcribe, parser=t)

    m = sub.add_parser("models", help="list, download, locate or remove models (whisper, VAD, speaker diarization)")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ml = msub.add_parser("list", help="the catalog, with what is installed")
    ml.add_argument("--all", action="store_true", help="include quantized variants")
    ml.set_defaults(func=cmd_models_list)
    md = msub.add_parser(
        "download",
        help="download models (resumes, verifies sha256)",
        description="Download models. 'diarization' is the speaker diarization pipeline "
        "(pyannote speaker-diarization-community-1), a gated Hugging Face repo: "
        "accept its conditions there, then give your access token.",
    )
    md.add_argument("names", nargs="+", metavar="NAME", help="catalog names (see 'hark models list'), or diarization")
    diarization_model.add_download_arguments(md)
    md.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    md.set_defaults(func=cmd_models_download)
    mp = msub.add_parser("path", help="where models are stored, or the file of one model")
    mp.add_argument("name", nargs="?", metavar="NAME", help="a catalog name, or diarization (its folder)")
    mp.set_defaults(func=cmd_models_path)
    mr = msub.add_parser("remove", help="delete downloaded or imported models")
    mr.add_argument("names", nargs="+", metavar="NAME", help="catalog or imported names, or diarization")
    mr.set_defaults(func=cmd_models_remove)
    from app.cli.models_import import add_parser as add_import_parser

    add_import_parser(msub)

    from app.cli.cut import add_parser as add_cut_parser
    from app.cli.dictate import add_parser as add_dictate_parser
    from app.cli.eval import add_parser as add_eval_parser

    add_cut_parser(sub)
    add_dictate_parser(sub)
    add_eval_parser(sub)
    return p


def _output_paths(inputs: list[Path], out: Path | None, formats: list[str], overwrite: bool) -> dict[Path, Path]:
    """Output stem per input: inputs sharing a stem in one folder get -2, -3, ...; so do files
    that would replace existing ones (a reference transcript next to the media), unless `overwrite`."""
    taken: set[Path] = set()
    result: dict[Path, Path] = {}
    for src in inputs:
        folder = out if out is not None else src.parent
        if overwrite:
            stem, n = folder / src.stem, 2
            while any(stem.with_name(f"{stem.name}.{f}") in taken for f in formats):
                stem, n = folder / f"{src.stem}-{n}", n + 1
        else:
            stem = free_stem(folder, src.stem, formats, taken)
        taken.update(stem.with_name(f"{stem.name}.{f}") for f in formats)
        result[src] = stem
    return result


def cmd_transcribe(args: argparse.Namespace) -> int:
    from pipeline.alignment.aligner import aligner_for

    check_diarize_arguments(args.parser, args)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        args.parser.error(f"--out must be a folder, and {args.out} is a file")
    inputs = _once_each(expand_inputs(args.inputs))
    if not inputs:
        raise MediaError(args.inputs[0], "no media files found")
    failures: list[tuple[Path, HarkError]] = []
    for src in inputs:  # cheap checks first: no model is loaded for a batch of typos
        try:
            check_path(src)
        except MediaError as e:
            failures.append((src, e))
    for _, err in failures:
        print(f"hark: error: {err}", file=sys.stderr)
    if len(failures) == len(inputs):
        return EXIT_BAD_INPUT
    bad = {src for src, _ in failures}
    store = ModelStore()
    diarizer = None
    if args.diarize:
        from app.cli.diarize import load_diarizer

        diarizer = load_diarizer(args, store, args.threads)
    language = None if args.language.lower() == "auto" else args.language.lower()
    if language is not None:
        from pipeline.engines.whispercpp import known_language

        if not known_language(language):
            args.parser.error(f"unknown language code {language!r} (use a code such as en, de, fr, or auto)")
    loaded = load_engine(args.engine, args.model, store, language=language, dtw=args.word_timing == "dtw")
    for notice in loaded.notices:
        log.warning("%s", notice)
    if language not in (None, "en") and not getattr(loaded.engine, "multilingual", False):
        raise ModelError(f"{loaded.engine.model_name} is English-only; choose a multilingual model for {language!r}")
    vad = check = None
    if not args.no_vad:
        vad, vad_notice = load_vad(store)
        if vad_notice:
            log.warning("%s", vad_notice)
    else:  # nothing trimmed; the speech detector, where installed, still marks text with no voice under it
        check, _ = load_vad(store)
    options = TranscribeOptions(
        language=language, translate=args.translate, initial_prompt=args.prompt, threads=args.threads
    )
    aligner = None if args.no_align or args.translate else aligner_for(language or "en")
    rules = CaptionRules(max_line_chars=args.max_line_chars, max_lines=args.max_lines)
    stems = _output_paths(inputs, args.out, args.format, args.overwrite)
    try:
        return _transcribe_each(
            args, inputs, bad, failures, loaded, options, vad, check, aligner, diarizer, rules, stems
        )
    finally:
        close = getattr(aligner, "close", None)
        if close is not None:  # its worker process, before Python's exit joins it (a traceback at exit)
            close()


def _transcribe_each(
    args: argparse.Namespace,
    inputs: list[Path],
    bad: set[Path],
    failures: list[tuple[Path, HarkError]],
    loaded: LoadedEngine,
    options: TranscribeOptions,
    vad: SileroVad | None,
    check: SileroVad | None,
    aligner: Aligner | None,
    diarizer: LazyDiarizer | None,
    rules: CaptionRules,
    stems: dict[Path, Path],
) -> int:
    from pipeline.transcription.transcribe import transcribe_file

    cancel = threading.Event()
    for src in inputs:
        if src in bad:
            continue
        bar = progress_bar(src.name, args.quiet)

        def job(ev: threading.Event, src: Path = src, bar: tqdm = bar) -> Transcript:
            def tick(f: float) -> None:
                bar.n = round(f * 100, 1)  # noqa: B023 (tick's own parameter, not a loop variable)
                bar.refresh()

            return transcribe_file(
                src,
                loaded.engine,
                options,
                vad=vad,
                rules=rules,
                progress=tick,
                cancel=ev,
                model_sha256=loaded.model_sha256,
                aligner=aligner,
                voice_check=check,
            )

        try:
            transcript = run_cancellable(job, cancel)
        except (MediaError, OSError) as e:
            bar.close()
            err = e if isinstance(e, MediaError) else MediaError(src, e.strerror or str(e))
            print(f"hark: error: {err}", file=sys.stderr)
            failures.append((src, err))
            continue
        bar.close()
        if diarizer is not None:
            from app.cli.diarize import label_speakers

            try:
                transcript = label_speakers(src, transcript, diarizer, rules, args.quiet, cancel)
            except (MediaError, OSError) as e:
                err = e if isinstance(e, MediaError) else MediaError(src, e.strerror or str(e))
                print(f"hark: error: {err}", file=sys.stderr)
                failures.append((src, err))
                continue
        if not transcript.words:  # like digital silence: nothing to transcribe is bad input, and nothing is written
            err = MediaError(src, "no speech was recognised (music, noise or silence?); nothing written")
            print(f"hark: error: {err}", file=sys.stderr)
            failures.append((src, err))
            continue
        for w in transcript.warnings:
            log.warning("%s: %s", src.name, w)
        stem = stems[src]
        try:
            for fmt in args.format:
                target = stem.with_name(f"{stem.name}.{fmt}")
                out = export(transcript, fmt, target, highlight_words=args.highlight_words)
                log.info("wrote %s", out)
        except (OSError, HarkError) as e:  # this file's outputs cannot be written: say so, go on with the others
            unwritten = HarkError(
                f"{src}: {e}"
                if isinstance(e, HarkError)
                else f"{src}: could not write {e.filename or target}: {e.strerror or e}"
            )
            print(f"hark: error: {unwritten}", file=sys.stderr)
            failures.append((src, unwritten))
            continue
        print(f"{src} -> {', '.join(str(stem.with_name(f'{stem.name}.{f}')) for f in args.format)}")
    if failures:
        if len(inputs) > 1:  # the errors scrolled by among the progress bars: repeat them together
            done = len(inputs) - len(failures)
            print(f"hark: {done} of {len(inputs)} files transcribed; failed:", file=sys.stderr)
            for _src, failure in failures:
                print(f"  {failure}", file=sys.stderr)
        # Bad input alone is 3; anything else (an output that could not be written) is a failure.
        return EXIT_BAD_INPUT if all(isinstance(e, MediaError) for _, e in failures) else EXIT_FAIL
    return EXIT_OK


def _once_each(inputs: list[Path]) -> list[Path]:
    """The inputs without repeats (the same file named twice, or also inside a folder given)."""
    seen: dict[Path, Path] = {}
    for p in inputs:
        try:
            key = p.resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop (reported as missing by check_path)
            key = p
        if key in seen:
            print(f"hark: warning: {p} is given more than once; transcribing it once", file=sys.stderr)
            continue
        seen[key] = p
    return list(seen.values())


def _human(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def cmd_models_list(args: argparse.Namespace) -> int:
    store = ModelStore()
    rows = [m for m in store.catalog if args.all or "-q" not in m.name]
    print(f"models folder: {store.root}")
    print(f"  {'NAME':<22} {'SIZE':>9}  {'INSTALLED':<9}  DESCRIPTION")
    for m in rows:
        mark = "yes" if store.is_installed(m) else "-"
        about = re.sub(r"\s*\([\d.]+ [KMG]i?B\)$", "", m.description)  # the SIZE column says it already
        print(f"  {m.name:<22} {_human(m.size):>9}  {mark:<9}  {about}")
    print(diarization_model.list_row(store.root, _human))
    imported = store.imported()
    if imported:
        print("imported (hark models import):")
        for im in imported:
            print(f"  {im.name:<22} {_human(im.size):>9}  {'yes':<9}  {im.description}")
    if not args.all:
        print("  (quantized variants: hark models list --all)")
    return EXIT_OK


def _entry(store: ModelStore, name: str) -> CatalogModel:
    entry = store.find(name)
    if entry is None:
        raise ModelError(f"unknown model {name!r} (see: hark models list --all)")
    return entry


def cmd_models_download(args: argparse.Namespace) -> int:
    store = ModelStore()
    entries = [n if diarization_model.is_name(n) else _entry(store, n) for n in args.names]
    cancel = threading.Event()
    for entry in entries:
        if isinstance(entry, str):  # the diarization pipeline: a folder from Hugging Face, with a token
            diarization_model.download(store.root, args.token_file, args.quiet, cancel)
            continue
        if store.is_installed(entry):
            print(f"{entry.name}: already installed at {store.path_for(entry)}")
            continue
        from tqdm import tqdm

        with tqdm(
            total=entry.size,
            desc=entry.name,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=True if args.quiet else None,
            file=sys.stderr,
        ) as bar:

            def tick(done: int, total: int) -> None:
                bar.n = done
                bar.refresh()

            def fetch(ev: threading.Event, e: CatalogModel = entry) -> Path:
                return store.download(e, progress=tick, cancel=ev)

            path = run_cancellable(fetch, cancel)
        print(f"{entry.name}: {path}")
    return EXIT_OK


def cmd_models_path(args: argparse.Namespace) -> int:
    store = ModelStore()
    if not args.name:
        print(store.root)
        return EXIT_OK
    if diarization_model.is_name(args.name):
        print(diarization_model.path(store.root))
        return EXIT_OK
    if store.find(args.name) is None and any(m.name == args.name for m in store.imported()):
        print(store.resolve(args.name).path)
        return EXIT_OK
    print(store.resolve(args.name, _entry(store, args.name).kind).path)
    return EXIT_OK


def cmd_models_remove(args: argparse.Namespace) -> int:
    store = ModelStore()
    for name in args.names:
        if diarization_model.is_name(name):
            print(f"{name}: {'removed' if diarization_model.remove(store.root) else 'was not installed'}")
            continue
        if store.find(name) is None and store.remove_imported(name):
            print(f"{name}: removed")
            continue
        entry = _entry(store, name)
        print(f"{name}: {'removed' if store.remove(entry) else 'was not installed'}")
    return EXIT_OK


def _cancelled_exit(process_entry: bool) -> int:
    """EXIT_CANCELLED. After a cancel inside pyannote, PyTorch's native teardown at interpreter exit
    aborts the process ("terminate called without an active exception", SIGABRT); everything is
    written by now, so a process that is ending anyway skips that teardown."""
    if process_entry and "torch" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_CANCELLED)
    return EXIT_CANCELLED


COMMANDS = ("transcribe", "models", "cut", "dictate", "eval")


def wants_gui(argv: Sequence[str]) -> bool:
    """`hark` alone, or `hark FILE...` (the first one there), opens the desktop app; commands and options
    stay on the terminal, and so does a first word that is neither (see first_word_error)."""
    return not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-") and os.path.exists(argv[0]))


def first_word_error(word: str) -> tuple[int, str]:
    """The exit code and message for a first argument that is no command and no existing file: a
    mistyped command, or media that is not there (not a desktop app with a file called "transcibe")."""
    import difflib

    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.6)
    if close:
        return EXIT_USAGE, f"unknown command '{word}'; did you mean '{close[0]}'? (see 'hark --help')"
    if os.sep in word or (os.altsep and os.altsep in word) or Path(word).suffix:
        return EXIT_BAD_INPUT, f"{word}: no such file"
    return EXIT_USAGE, f"unknown command '{word}'; commands: {', '.join(COMMANDS)} (see 'hark --help')"


def _terminate_as_interrupt() -> None:
    """SIGTERM does what Ctrl+C does: the job is cancelled, its partial files removed, exit 130."""
    import signal

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: signal.default_int_handler(signal.SIGINT, None))


def main(argv: Sequence[str] | None = None) -> int:
    process_entry = argv is None  # the `hark` command itself, not a caller in this process
    argv = list(sys.argv[1:] if argv is None else argv)
    if wants_gui(argv):
        from app.gui import main as gui_main

        return gui_main(argv)
    if argv[0] not in COMMANDS and not argv[0].startswith("-"):
        code, message = first_word_error(argv[0])
        print(f"hark: error: {message}", file=sys.stderr)
        return code
    if process_entry:
        _terminate_as_interrupt()
    parser = build_parser()
    until = argv.index("--") if "--" in argv else len(argv)
    OneLineErrors.dash_files = tuple(a for a in argv[1:until] if a.startswith("-") and len(a) > 1 and os.path.isfile(a))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="hark: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("hark").setLevel(logging.INFO if args.verbose else logging.WARNING)
    if not getattr(args, "func", None):  # e.g. `hark -v` alone
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except (Cancelled, KeyboardInterrupt):
        print("hark: cancelled", file=sys.stderr)
        return _cancelled_exit(process_entry)
    except ModelError as e:
        print(f"hark: error: {e}", file=sys.stderr)
        return EXIT_MODEL
    except MediaError as e:
        print(f"hark: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except HarkError as e:
        print(f"hark: error: {e}", file=sys.stderr)
        return EXIT_FAIL
    except OSError as e:  # e.g. an output folder that cannot be created
        where = f": {e.filename}" if e.filename else ""
        print(f"hark: error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
