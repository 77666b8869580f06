"""`hark cut PROJECT`: render a project's cuts into a trimmed copy of its media, with captions that line up."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audio.errors import HarkError, MediaError
from pipeline import project as projects
from pipeline import transcript_json
from pipeline.models.store import ModelStore

# Kept here (not imported) so that `hark --help` does not load the renderer.
CAPTION_CHOICES = ("srt", "vtt", "burn", "none")
QUALITIES = ("fast", "balanced", "quality")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    c = sub.add_parser(
        "cut", help="export a project's media without the words it cuts, plus matching captions",
        description="Render the cuts made in a project (words deleted in the editor) into a trimmed copy of "
                    "its media. Cut points move into the nearest silence so no kept word is clipped; every "
                    "join gets a short audio crossfade. The source media is never overwritten.")
    c.add_argument("project", type=Path, metavar="PROJECT", help="a .hark project, or a transcript .json")
    c.add_argument("--out", type=Path, help="output file (default: MEDIA-trimmed.EXT next to the media); "
                                            "its suffix picks the container, e.g. .mp4, .mkv, .m4a, .mp3, .wav")
    c.add_argument("--captions", choices=CAPTION_CHOICES, default="srt",
                   help="srt/vtt: write a caption file beside the output, re-timed to it; burn: draw them "
                        "into the video; none (default: srt)")
    c.add_argument("--quality", choices=QUALITIES, default="balanced",
                   help="video re-encode preset (default balanced)")
    c.add_argument("--mode", choices=("auto", "reencode", "copy"), default="auto",
                   help="copy: keep the video stream as it is (only when every cut starts on a keyframe); "
                        "auto: copy when possible, else re-encode (default)")
    c.add_argument("--crossfade", type=float, default=20.0, metavar="MS",
                   help="audio crossfade at each join in milliseconds, 0-500 (default 20)")
    c.add_argument("--no-snap", action="store_true", help="cut exactly at the word edges, not in the nearest silence")
    c.add_argument("--edl", action="store_true", help="also write the cut list as a CMX 3600 EDL beside the output")
    c.add_argument("--media", type=Path, help="where the project's media is now, if it moved (checked by content)")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_cut)


def _load(path: Path) -> projects.Project:
    if not path.exists():
        raise MediaError(path, "no such file")
    if path.suffix == projects.SUFFIX:
        return projects.load(path)
    return projects.Project(transcript=transcript_json.load(path), path=None)


def cmd_cut(args: argparse.Namespace) -> int:
    import threading

    from app.cli import EXIT_BAD_INPUT, EXIT_OK, _progress_bar, run_cancellable
    from pipeline.trim_export import TrimExportOptions, default_output, export_trimmed

    project = _load(args.project)
    t = project.transcript
    if args.media is not None:
        if not projects.relink_media(project, args.media):
            raise MediaError(args.media, "is not the media this project was made from (its content differs)")
    elif projects.media_missing(project):
        raise MediaError(project.media_path, "the project's media is not there any more; "
                                             "pass --media PATH to say where it is now")
    if not 0 <= args.crossfade <= 500:
        print("hark: error: --crossfade must be between 0 and 500 ms", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or default_output(project.media_path)
    vad_path = ModelStore().vad_path() if not args.no_snap else None
    options = TrimExportOptions(captions=args.captions, preset=args.quality, mode=args.mode, snap=not args.no_snap,
                                vad_model=vad_path, crossfade=args.crossfade / 1000, edl=args.edl)
    bar = _progress_bar(out.name, args.quiet)

    def job(ev: threading.Event):  # type: ignore[no-untyped-def]
        def tick(f: float) -> None:
            bar.n = round(f * 100, 1)
            bar.refresh()

        return export_trimmed(t, out, options, progress=tick, cancel=ev)

    try:
        result = run_cancellable(job, threading.Event())
    finally:
        bar.close()
    for note in result.notes:
        print(f"hark: {note}", file=sys.stderr)
    written = [result.media, *(p for p in (result.captions, result.edl) if p is not None)]
    print(f"{args.project} -> {', '.join(map(str, written))} ({_clock(result.duration)} kept of "
          f"{_clock(t.media.duration)}, {len(result.keep)} ranges)")
    return EXIT_OK


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:06.3f}"


__all__ = ["add_parser", "cmd_cut", "HarkError"]
