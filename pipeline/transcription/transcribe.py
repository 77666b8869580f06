"""Media file -> Transcript: decode, find speech, run the engine chunk by chunk, build captions.

Used the same way by the CLI and the desktop app. Memory stays flat however
long the file: audio flows through in blocks and the engine sees ~30 s at a time.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import importlib.metadata
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audio.decode import AudioStream
from audio.errors import SilentMediaError
from audio.vad import SileroVad
from pipeline.alignment.aligner import Aligner, WordSpan
from pipeline.alignment.apply import align_engine_words
from pipeline.alignment.file_align import BackgroundAligner, sections
from pipeline.captions.captions import CaptionRules, build_captions
from pipeline.engines.base import Engine, EngineWord, TranscribeOptions
from pipeline.engines.word_grouping import make_monotonic
from pipeline.models.store import sha256_file
from pipeline.transcription.chunking import SILENT_PEAK, AudioChunk, Chunker
from pipeline.transcription.voice_check import flag_unvoiced
from pipeline.transcripts.transcript import MediaRef, Provenance, Transcript, Word

ProgressFn = Callable[[float], None]
SAMPLE_RATE = 16_000
RESUME_MIN_SPEECH = 1.0  # s of speech the VAD heard after the engine's last word that make it decode again
MAX_RESUMES = 4  # per chunk


def _overlap(before: list[EngineWord], after: list[EngineWord], most: int = 6) -> int:
    """How many leading words of `after` repeat the last words of `before` (a resume inside a word
    that was already heard hears it again)."""

    def norm(w: EngineWord) -> str:
        return "".join(ch for ch in w.text.lower() if ch.isalnum())

    tail = [norm(w) for w in before[-most:]]
    head = [norm(w) for w in after[:most]]
    return next((n for n in range(min(len(tail), len(head)), 0, -1) if tail[-n:] == head[:n]), 0)


def _resume_skipped(
    chunk: AudioChunk,
    heard: list[EngineWord],
    engine: Engine,
    options: TranscribeOptions,
    cancel: threading.Event | None,
) -> list[tuple[EngineWord, float]]:
    """Decode again from where the engine stopped while the VAD still hears speech after it.

    whisper sometimes ends a 30 s window early (its end-of-text token after the first sentence) and
    whisper.cpp then moves on to the next window: the rest of the window's speech would be lost
    (tiny.en dropped a whole 11 s sentence after a cut this way). Returns words with the compact-time
    shift to add to their times."""
    out: list[tuple[EngineWord, float]] = []
    last = max((w.end for w in heard), default=0.0)
    total = len(chunk.samples) / SAMPLE_RATE
    for _ in range(MAX_RESUMES):
        if chunk.timemap.speech_after(last) < RESUME_MIN_SPEECH:
            break
        at = chunk.timemap.resume_point(last)
        tail = chunk.samples[int(at * SAMPLE_RATE) :]
        more = engine.transcribe(tail, options, cancel=cancel).words
        more = more[_overlap([*heard, *(w for w, _ in out)], more) :]
        if not more:
            break
        out += [(w, at) for w in more]
        last = min(total, at + max(w.end for w in more))
    return out


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


def hark_version() -> str:
    try:
        return importlib.metadata.version("hark")
    except importlib.metadata.PackageNotFoundError:
        return "dev"


def transcribe_file(
    path: str | Path,
    engine: Engine,
    options: TranscribeOptions = TranscribeOptions(),
    *,
    vad: SileroVad | None = None,
    rules: CaptionRules = CaptionRules(),
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    model_sha256: str | None = None,
    aligner: Aligner | None = None,
    voice_check: SileroVad | None = None,
) -> Transcript:
    """aligner: forced alignment of the recognised words once recognition is done, in source time
    (pipeline.alignment.file_align, a second decode of the file); without one, or for a language it
    lacks, word times are the engine's, trimmed to the audio and marked rough.

    voice_check: with `vad` None (nothing trimmed), a speech detector that only checks: captions with
    no voice under them are marked suspect (pipeline.transcription.voice_check)."""
    src = Path(path).expanduser().resolve()
    stream = AudioStream(src, cancel=cancel)
    expected = stream.info.duration or 0.0
    chunker = Chunker(vad.stream() if vad is not None else None)
    checker = voice_check.stream() if voice_check is not None and vad is None else None
    voice: list[np.ndarray] = []  # speech probability per frame, when checking
    words: list[Word] = []
    language = options.language
    share = 0.9 if aligner is not None else 1.0  # of the progress bar for recognition; the rest aligns
    chunk_options = options

    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as pool:
        digest = pool.submit(sha256_file, src, cancel=cancel)

        def run(chunk: AudioChunk) -> None:
            nonlocal language, chunk_options
            span = chunk.end - chunk.start

            def chunk_progress(f: float) -> None:
                if progress is not None and expected > 0:
                    progress(min(0.999, share * (chunk.start + f * span) / expected))

            result = engine.transcribe(chunk.samples, chunk_options, progress=chunk_progress, cancel=cancel)
            found = [(ew, 0.0) for ew in result.words]
            if vad is not None:  # only the VAD can tell speech the engine skipped from silence it rightly left
                found += _resume_skipped(chunk, result.words, engine, chunk_options, cancel)
            # the recogniser's times trimmed to the energy; forced alignment comes after, in source time
            spans = [WordSpan(ew.text, ew.start + shift, ew.end + shift) for ew, shift in found]
            timed = align_engine_words(chunk.samples, spans, None, cancel=cancel)
            for (ew, _), t in zip(found, timed):
                start, end = chunk.timemap.span_to_source(t.start, t.end)
                words.append(
                    Word(
                        id=len(words),
                        text=ew.text,
                        start=start,
                        end=end,
                        probability=ew.probability,
                        rough=t.rough,
                        suspect=ew.suspect,
                    )
                )
            if language is None and result.words and result.language:
                # Detect once, then hold it: a language flipping mid-file helps nobody.
                language = result.language
                chunk_options = TranscribeOptions(
                    language=language,
                    translate=options.translate,
                    initial_prompt=options.initial_prompt,
                    threads=options.threads,
                )
            chunk_progress(1.0)

        background: BackgroundAligner | None = None
        sent = 0  # words handed to the aligner

        def hand_over() -> None:
            """A finished chunk's words go to the aligner while recognition goes on: chunks end in pauses
            the VAD found (or at its longest chunk), so no word of a finished chunk changes after."""
            nonlocal background, sent
            if aligner is None or sent == len(words) or not aligner.supports(language):
                return
            spans = [WordSpan(w.text, w.start, w.end) for w in words[sent:]]
            parts = sections(spans)
            if parts and background is None:
                background = BackgroundAligner(src, aligner, cancel)
            for r in parts:
                assert background is not None
                background.add(spans[r.start : r.stop])
                sent += len(r)

        try:
            for block in stream:
                if checker is not None:
                    voice.append(checker.feed(block))
                for chunk in chunker.feed(block):
                    run(chunk)
                    hand_over()
            for chunk in chunker.finish():
                run(chunk)
                hand_over()
            if chunker.peak < SILENT_PEAK:
                digest.cancel()
                raise SilentMediaError(src)
            sha = digest.result()
        except BaseException:
            if background is not None:
                background.abort()
            raise
        finally:
            stream.close()  # an engine error or a cancel must not leave ffmpeg behind

    duration = stream.samples_read / SAMPLE_RATE
    aligned = background is not None
    if background is not None:
        timed = background.finish(None if progress is None else lambda f: progress(min(0.999, share + (1 - share) * f)))
        assert len(timed) == len(words)
        for w, t in zip(words, timed):
            w.start, w.end, w.rough = t.start, t.end, t.rough
    make_monotonic(words, duration)
    warnings = list(stream.warnings)
    if not words:
        warnings.append("no speech was recognised")
    captions = build_captions(words, rules, language)
    if checker is not None:
        voice.append(checker.flush())
        flag_unvoiced(words, captions, np.concatenate(voice))
    suspect = [w for w in words if w.suspect]
    if suspect:
        warnings.append(
            f"{len(suspect)} of {len(words)} words may be invented (no voice under them, or they fail "
            f"whisper's own no-speech, repetition or confidence tests), from {_clock(suspect[0].start)}: "
            "check them in the editor"
        )
    record = dict(engine.options_record(options))
    record["vad"] = vad is not None
    record["alignment"] = aligner.name if aligned and aligner is not None else "none"
    transcript = Transcript(
        media=MediaRef(path=str(src), duration=duration, sha256=sha, size=src.stat().st_size),
        language=language,
        provenance=Provenance(
            engine=engine.name,
            engine_version=engine.version,
            model=engine.model_name,
            model_sha256=model_sha256,
            options=record,
            hark_version=hark_version(),
        ),
        words=words,
        captions=captions,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        warnings=warnings,
    )
    if progress is not None:
        progress(1.0)
    return transcript
