"""Export an edited transcript's media without its cuts, with captions re-timed to the result.

The steps: keep-ranges from the cuts; cut points moved into the nearest
silence (Silero VAD when a model is given, else signal energy) so no kept word
is clipped; one render (pipeline/render/render.py); captions and an EDL for the
output. The source media is never written.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from audio.decode import decode_audio
from audio.errors import Cancelled
from pipeline.atomic_write import write_text_atomic
from pipeline.captions.export import to_srt, to_vtt
from pipeline.editing.output_timeline import output_transcript
from pipeline.render import edl as edl_format
from pipeline.render.render import Mode, Quality, RenderOptions, probe_media, render_trimmed
from pipeline.transcripts.edit_view import EditError, Range, cut_word_ids, effective_words, keep_ranges
from pipeline.transcripts.transcript import Transcript

CAPTION_CHOICES = ("srt", "vtt", "burn", "none")
AUDIO_SUFFIXES = {".mp3", ".wav", ".flac", ".m4a", ".aac", ".ogg", ".opus", ".wma", ".aiff", ".aif"}


@dataclass(frozen=True)
class TrimExportOptions:
    captions: str = "srt"  # "srt" | "vtt" | "burn" | "none"
    preset: Quality = "balanced"  # render quality: fast | balanced | quality
    mode: Mode = "auto"  # auto | reencode | copy
    snap: bool = True  # move cut points into the nearest silence
    vad_model: Path | None = None  # Silero VAD; None: snap by signal energy alone
    crossfade: float = 0.020  # s at each join
    edl: bool = False  # also write a CMX 3600 EDL beside the output


@dataclass
class TrimExportResult:
    media: Path
    captions: Path | None
    duration: float  # seconds of output
    keep: list[Range]  # the source ranges rendered, after snapping
    edl: Path | None = None
    notes: list[str] = field(default_factory=list)


def default_output(media: Path) -> Path:
    """`<stem>-trimmed<suffix>` beside the media, numbered when taken; never the media itself."""
    suffix = media.suffix or ".mp4"
    n, candidate = 1, media.with_name(f"{media.stem}-trimmed{suffix}")
    while candidate.exists():
        n += 1
        candidate = media.with_name(f"{media.stem}-trimmed-{n}{suffix}")
    return candidate


def snapped_keep_ranges(
    t: Transcript, keep: list[Range], *, vad_model: Path | None, cancel: threading.Event | None = None
) -> list[Range]:
    """Move each cut point into the quietest moment between the words on either side of it."""
    from audio.vad import SileroVad
    from pipeline.editing.silence_snap import snap_keep_ranges

    audio = decode_audio(Path(t.media.path), cancel=cancel)
    probs = SileroVad(vad_model).probabilities(audio.samples) if vad_model is not None else None
    if cancel is not None and cancel.is_set():
        raise Cancelled()
    cut = cut_word_ids(t)
    words = effective_words(t)
    kept_words = [(w.start, w.end) for w in words if w.id not in cut and w.end > w.start]
    cut_words = [(w.start, w.end) for w in words if w.id in cut and w.end > w.start]
    return snap_keep_ranges(keep, kept_words, cut_words, audio.samples, vad_probs=probs, duration=t.media.duration)


def export_trimmed(
    t: Transcript,
    out: str | Path,
    options: TrimExportOptions = TrimExportOptions(),
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
) -> TrimExportResult:
    """Render `t`'s media without its cuts to `out`, plus captions (and an EDL) that match it."""
    if options.captions not in CAPTION_CHOICES:
        raise EditError(f"unknown caption choice {options.captions!r}; choose from {', '.join(CAPTION_CHOICES)}")
    out = Path(out)
    keep = keep_ranges(t)
    if not keep:
        raise EditError("everything is cut: restore something to export")
    report = progress or (lambda _f: None)
    notes: list[str] = []
    if options.snap and keep != [(0.0, t.media.duration)]:  # there are cut points to place
        keep = snapped_keep_ranges(t, keep, vad_model=options.vad_model, cancel=cancel)
        if options.vad_model is None:
            notes.append("cut points were placed by loudness alone (no VAD model installed)")
    report(0.05)
    out_t = output_transcript(t, keep)
    burn: Path | None = None
    with tempfile.TemporaryDirectory(prefix="hark-cut-") as tmp:
        if options.captions == "burn":
            burn = Path(tmp) / "captions.srt"
            burn.write_text(to_srt(out_t), encoding="utf-8")
        result = render_trimmed(
            Path(t.media.path),
            keep,
            out,
            RenderOptions(
                mode=options.mode,
                quality=options.preset,
                crossfade=options.crossfade,
                burn_subtitles=burn,
            ),
            progress=lambda f: report(0.05 + 0.95 * f),
            cancel=cancel,
        )
    if result.note:
        notes.append(result.note)
    captions = None
    if options.captions in ("srt", "vtt"):
        text = to_srt(out_t) if options.captions == "srt" else to_vtt(out_t)
        captions = write_text_atomic(result.path.with_suffix(f".{options.captions}"), text)
    edl_path = None
    if options.edl:
        facts = probe_media(t.media.path)
        edl_path = edl_format.write_edl(
            result.path.with_suffix(".edl"),
            keep,
            fps=facts.fps,
            media=t.media.path,
            title=result.path.stem,
            has_video=facts.has_video,
        )
    report(1.0)
    return TrimExportResult(
        media=result.path, captions=captions, duration=result.duration, keep=keep, edl=edl_path, notes=notes
    )
