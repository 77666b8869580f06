"""`hark cut PROJECT`: render a project's cuts into a trimmed copy of its media, with captions that line up."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from audio.errors import HarkError, MediaError
from pipeline.models.store import ModelStore
from pipeline.transcripts import project as projects
from pipeline.transcripts import transcript_json
from pipeline.transcripts.edit_view import EditError

# Kept here (not imported) so that `hark --help` does not load the renderer.
CAPTION_CHOICES = ("srt", "vtt", "burn", "none")
QUALITIES = ("fast", "balanced", "quality")


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "cut",
        help="export a project's media without the words it cuts, plus matching captions",
        description="Render the cuts made in a project (words deleted in the editor) into a trimmed copy of "
        "its media. Cut points move into the nearest silence so no kept word is clipped; every "
        "join gets a short audio crossfade. The source media is never overwritten.",
    )
    c.add_argument("project", type=Path, metavar="PROJECT", help="a .hark project, or a transcript .json")
    c.add_argument(
        "--out",
        type=Path,
        help="output file (default: MEDIA-trimmed.EXT next to the media); "
        "its suffix picks the container, e.g. .mp4, .mkv, .m4a, .mp3, .wav",
    )
    c.add_argument(
        "--captions",
        choices=CAPTION_CHOICES,
        default="srt",
        help="srt/vtt: write a caption file beside the output, re-timed to it; burn: draw them "
        "into the video; none (default: srt)",
    )
    c.add_argument("--quality", choices=QUALITIES, default="balanced", help="video re-encode preset (default balanced)")
    c.add_argument(
        "--mode",
        choices=("auto", "reencode", "copy"),
        default="auto",
        help="copy: keep the video stream as it is (only when every cut starts on a keyframe); "
        "auto: copy when possible, else re-encode (default)",
    )
    c.add_argument(
        "--crossfade",
        type=float,
        default=20.0,
        metavar="MS",
        help="audio crossfade at each join in milliseconds, 0-500 (default 20)",
    )
    c.add_argument("--no-snap", action="store_true", help="cut exactly at the word edges, not in the nearest silence")
    c.add_argument("--edl", action="store_true", help="also write the cut list as a CMX 3600 EDL beside the output")
    c.add_argument("--media", type=Path, help="where the project's media is now, if it moved (checked by content)")
    c.add_argument(
        "--accept-changed-media",
        action="store_true",
        help="render from the media as it is now although its content changed since the project was "
        "made (the word times may no longer fit it)",
    )
    c.add_argument(
        "--force",
        action="store_true",
        help="replace an existing output file and its caption/EDL files (default: refuse)",
    )
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_cut)


def _load(path: Path) -> projects.Project:
    if not path.exists():
        raise MediaError(path, "no such file")
    try:
        if path.suffix == projects.SUFFIX:
            return projects.load(path)
        return projects.Project(transcript=transcript_json.load(path), path=None)
    except transcript_json.TranscriptFormatError as e:  # a broken project is bad input, like a broken media file
        message = str(e)
        raise MediaError(path, message.removeprefix(f"{path}: ")) from e


def _output_problem(out: Path, captions: str) -> str | None:
    """What is wrong with --out before anything is rendered (a usage mistake, exit 2), or None."""
    from pipeline.render.render_plan import AUDIO_CODECS, VIDEO_SUFFIXES

    suffix = out.suffix.lower()
    if out.is_dir():
        return f"--out {out} is a folder: give a file name such as {out / 'trimmed.mp4'}"
    if suffix not in VIDEO_SUFFIXES and suffix not in AUDIO_CODECS:
        choices = " ".join(sorted(VIDEO_SUFFIXES | AUDIO_CODECS.keys()))
        return f"--out {out}: {'no extension' if not suffix else suffix + ' is not a format Hark writes'}; use one of {choices}"
    if captions == "burn" and suffix not in VIDEO_SUFFIXES:
        return f"--captions burn needs a video output ({' '.join(sorted(VIDEO_SUFFIXES))}), not {suffix}"
    return None


def _taken_outputs(out: Path, captions: str, edl: bool) -> list[Path]:
    """The files this cut would write that are there already."""
    wanted = [
        out,
        *([out.with_suffix(f".{captions}")] if captions in ("srt", "vtt") else []),
        *([out.with_suffix(".edl")] if edl else []),
    ]
    return [p for p in wanted if p.exists()]


def cmd_cut(args: argparse.Namespace) -> int:
    import threading

    from app.cli.common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, progress_bar, run_cancellable
    from pipeline.render.trim_export import TrimExportOptions, TrimExportResult, default_output, export_trimmed
    from pipeline.transcripts.media_check import check_media_unchanged

    if not 0 <= args.crossfade <= 500:
        print("hark: error: --crossfade must be between 0 and 500 ms (see 'hark cut --help')", file=sys.stderr)
        return EXIT_USAGE
    project = _load(args.project)
    t = project.transcript
    if args.media is not None:
        if not args.media.is_file():
            raise MediaError(args.media, "no such file")
        if not projects.relink_media(project, args.media, check_hash=not args.accept_changed_media):
            raise MediaError(
                args.media,
                "is not the media this project was made from (its content differs); "
                "--accept-changed-media uses it all the same",
            )
    elif projects.media_missing(project):
        raise MediaError(
            project.media_path, "the project's media is not there any more; pass --media PATH to say where it is now"
        )
    elif not args.accept_changed_media:
        check_media_unchanged(
            t.media,
            hint="pass --media PATH to the original, or --accept-changed-media to render from this file all the same",
        )
    out = args.out or default_output(project.media_path)
    if out.parent.exists() and not out.parent.is_dir():  # cannot be written (1), like an unwritable folder
        print(f"hark: error: cannot write {out}: {out.parent} is a file, not a folder", file=sys.stderr)
        return EXIT_FAIL
    problem = _output_problem(out, args.captions)
    if problem:
        print(f"hark: error: {problem} (see 'hark cut --help')", file=sys.stderr)
        return EXIT_USAGE
    if out.exists() and project.media_path.exists() and os.path.samefile(out, project.media_path):
        print("hark: error: the export would overwrite the source media: choose another --out", file=sys.stderr)
        return EXIT_USAGE
    taken = [] if args.force else _taken_outputs(out, args.captions, args.edl)
    if taken:
        print(
            f"hark: error: {', '.join(map(str, taken))} already exists; choose another --out, or pass --force "
            "to replace it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    vad_path = ModelStore().vad_path() if not args.no_snap else None
    options = TrimExportOptions(
        captions=args.captions,
        preset=args.quality,
        mode=args.mode,
        snap=not args.no_snap,
        vad_model=vad_path,
        crossfade=args.crossfade / 1000,
        edl=args.edl,
    )
    bar = progress_bar(out.name, args.quiet)

    def job(ev: threading.Event) -> TrimExportResult:
        def tick(f: float) -> None:
            bar.n = round(f * 100, 1)
            bar.refresh()

        return export_trimmed(t, out, options, progress=tick, cancel=ev)

    try:
        result = run_cancellable(job, threading.Event())
    except EditError as e:  # e.g. everything is cut: the project has nothing to render
        raise MediaError(args.project, str(e)) from e
    finally:
        bar.close()
    for note in result.notes:
        print(f"hark: {note}", file=sys.stderr)
    written = [result.media, *(p for p in (result.captions, result.edl) if p is not None)]
    print(
        f"{args.project} -> {', '.join(map(str, written))} ({_clock(result.duration)} kept of "
        f"{_clock(t.media.duration)}, {len(result.keep)} ranges)"
    )
    return EXIT_OK


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:06.3f}"


__all__ = ["HarkError", "add_parser", "cmd_cut"]
