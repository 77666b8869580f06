"""`hark transcribe --diarize`: the options, loading the pipeline once, and labelling each transcript."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from pipeline.captions.captions import CaptionRules
from pipeline.models.store import ModelStore
from pipeline.speakers.diarization import (
    DEFAULT_PRESET,
    SPEED_PRESETS,
    DiarizationOptions,
    Diarizer,
    downloaded_pipeline_dir,
    resolve_pipeline_dir,
)
from pipeline.transcripts.transcript import Transcript


def _speaker_count(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= v <= 50:
        raise argparse.ArgumentTypeError("must be within 1..50")
    return v


def add_arguments(p: argparse.ArgumentParser, *, switch: bool = True) -> None:
    """The speaker options; `switch` adds --diarize itself (eval always diarizes)."""
    g = p.add_argument_group("speakers (needs the diarize extra: torch + pyannote.audio)")
    if switch:
        g.add_argument(
            "--diarize", action="store_true", help="label every word with its speaker (pyannote.audio, offline, CPU)"
        )
    g.add_argument("--speakers", type=_speaker_count, metavar="N", help="exactly N speakers, when known")
    g.add_argument("--min-speakers", type=_speaker_count, metavar="N", help="at least N speakers")
    g.add_argument("--max-speakers", type=_speaker_count, metavar="N", help="at most N speakers")
    g.add_argument(
        "--speaker-speed",
        choices=tuple(SPEED_PRESETS),
        default=DEFAULT_PRESET,
        help="fast, balanced (default) or accurate (pyannote's own setting, ~4x slower than "
        "balanced): how densely speakers are sampled",
    )
    g.add_argument(
        "--diarization-model",
        metavar="DIR",
        help="pyannote pipeline folder (config.yaml with $model/ paths); default: "
        "$HARK_DIARIZATION_MODEL or the one from 'hark models download diarization'",
    )


def check_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    asked = (
        args.speakers
        or args.min_speakers
        or args.max_speakers
        or args.diarization_model
        or args.speaker_speed != DEFAULT_PRESET
    )
    if asked and not args.diarize:
        p.error("--speakers, --min-speakers, --max-speakers, --speaker-speed and --diarization-model need --diarize")
    if args.speakers and (args.min_speakers or args.max_speakers):
        p.error("--speakers gives the exact number; leave out --min-speakers and --max-speakers")
    if args.min_speakers and args.max_speakers and args.min_speakers > args.max_speakers:
        p.error("--min-speakers is more than --max-speakers")


def options_from(args: argparse.Namespace, threads: int | None) -> DiarizationOptions:
    return DiarizationOptions.for_preset(
        args.speaker_speed,
        num_speakers=args.speakers,
        min_speakers=args.min_speakers,
        max_speakers=args.max_speakers,
        threads=threads,
    )


def pipeline_folder(args: argparse.Namespace, store: ModelStore) -> Path:
    """The pipeline folder, found before any file is transcribed so that a missing model fails fast:
    --diarization-model, $HARK_DIARIZATION_MODEL, the app's Settings, then the downloaded one."""
    return resolve_pipeline_dir(args.diarization_model, _configured_folder(), downloaded_pipeline_dir(store.root))


def _configured_folder() -> str | None:
    """The folder chosen in the app's Settings → Speakers, so the command line and the app agree."""
    try:
        from app.settings import default_qsettings, load_settings

        return load_settings(default_qsettings()).diarization_model
    except Exception:
        return None


class LazyDiarizer:
    """Loads the pipeline (PyTorch: several seconds) when the first file needs it, so that a bad
    input fails at once."""

    def __init__(self, folder: Path, options: DiarizationOptions) -> None:
        self.folder, self.options = folder, options
        self._loaded: Diarizer | None = None

    def get(self) -> Diarizer:
        if self._loaded is None:
            self._loaded = Diarizer(self.folder, self.options)
        return self._loaded


def load_diarizer(args: argparse.Namespace, store: ModelStore, threads: int | None) -> LazyDiarizer:
    return LazyDiarizer(pipeline_folder(args, store), options_from(args, threads))


def label_speakers(
    src: Path, transcript: Transcript, lazy: LazyDiarizer, rules: CaptionRules, quiet: bool, cancel: threading.Event
) -> Transcript:
    from app.cli.common import progress_bar, run_cancellable
    from pipeline.speakers.diarize_media import add_speakers, diarize_media

    diarizer = lazy.get()
    bar = progress_bar(f"{src.name} (speakers)", quiet)

    def tick(f: float) -> None:
        bar.n = round(f * 100, 1)
        bar.refresh()

    try:
        result = run_cancellable(lambda ev: diarize_media(src, diarizer, progress=tick, cancel=ev), cancel)
    finally:
        bar.close()
    if not quiet:
        n = len(result.speakers)
        print(f"{src.name}: {n} speaker{'s' if n != 1 else ''}", file=sys.stderr)
    return add_speakers(transcript, result, diarizer, rules)
