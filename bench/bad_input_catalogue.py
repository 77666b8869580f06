"""The bad-input catalogue (issue 14): every hostile input we could think of, given to the real `hark` command.

    python -m bench.bad_input_catalogue [--markdown] [--only NAME ...] [--keep DIR] [--fast]

Each case builds real files in a folder of its own (ffmpeg for media, real speech from ../shared, the
trained tiny.en for whisper), runs `hark` there as a subprocess with its own HOME, XDG_CONFIG_HOME and
models folder (holding the trained model, when this machine has it), and records the exit code and
what was printed. A case passes when:
  - the exit code is the one the exit-code table gives (`hark --help`): 0 ok, 1 failure (an output that
    cannot be written), 2 usage, 3 bad input, 4 model problem, 130 cancelled;
  - stderr holds no Python traceback, and exactly as many "hark: error:" lines as expected (one for a
    failure, none for success; a batch says one per bad file);
  - a failure wrote nothing into the case's folder (no half-written output, no temporary file).
The results go into docs/reliability.md ("Bad-input catalogue", --markdown prints its table).
tests/test_bad_input_catalogue.py runs a subset of these same cases.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HARK_SHARED", ROOT.parent / "shared"))
JFK = SHARED / "data" / "whisper.cpp" / "jfk.wav"
JFK_MP3 = SHARED / "data" / "whisper.cpp" / "jfk.mp3"
SILERO = SHARED / "models" / "silero-vad" / "silero_vad.onnx"
MFA = SHARED / "data" / "mfa"
# The trained tiny.en that `hark models import --bundled` writes (tiny.en-bundled.bin and its record).
IMPORTED = Path(
    os.environ.get("HARK_CATALOGUE_MODELS", Path.home() / ".local" / "share" / "hark" / "models" / "imported")
)
TRAINED = "tiny.en-bundled"

ERROR_LINE = re.compile(r"^hark(?: [\w-]+)*: error: ")  # "hark: error: ..." or "hark transcribe: error: ..."
EXIT_NAMES = {0: "ok", 1: "failure", 2: "usage", 3: "bad input", 4: "model problem", 130: "cancelled"}
# The words cut from jfk.wav in the test project, as in tests/test_cli_reliability.py (seconds).
JFK_WORDS = [
    ("And", 0.32, 0.54),
    ("so,", 0.54, 1.08),
    ("my", 1.08, 1.38),
    ("fellow", 1.38, 1.80),
    ("Americans,", 1.80, 2.60),
    ("ask", 3.26, 3.98),
    ("not", 3.98, 4.30),
]


# --- the shared media, built once per run ----------------------------------------------------------
def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


class Assets:
    """Files several cases copy: built on first use into one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, name: str) -> Path:
        path = self.folder / name
        if not path.exists():
            getattr(self, "_" + name.replace(".", "_").replace("-", "_"))(path)
        return path

    @staticmethod
    def _jfk_wav(p: Path) -> None:
        shutil.copy(JFK, p)

    @staticmethod
    def _jfk_mp3(p: Path) -> None:
        shutil.copy(JFK_MP3, p)

    @staticmethod
    def _silence_wav(p: Path) -> None:  # digital silence: every sample 0
        ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "5", "-c:a", "pcm_s16le", str(p))

    @staticmethod
    def _tone_wav(p: Path) -> None:
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "5", str(p))

    @staticmethod
    def _noise_wav(p: Path) -> None:
        ffmpeg("-f", "lavfi", "-i", "anoisesrc=color=white:amplitude=0.3:sample_rate=16000:seed=1", "-t", "8", str(p))

    @staticmethod
    def _speech_mp4(p: Path) -> None:  # ffmpeg's default: the index (moov) at the end, as cameras write it
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=25",
            "-i",
            str(JFK),
            "-t",
            "11",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(p),
        )

    @staticmethod
    def _speech_faststart_mp4(p: Path) -> None:  # the index first, as web video is written
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=25",
            "-i",
            str(JFK),
            "-t",
            "11",
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
            "-shortest",
            str(p),
        )

    @staticmethod
    def _noaudio_mp4(p: Path) -> None:
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=25",
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(p),
        )

    @staticmethod
    def _other_wav(p: Path) -> None:  # other speech: jfk.mp3 re-encoded and shortened (same name as jfk.wav later)
        ffmpeg("-i", str(JFK_MP3), "-ar", "16000", "-ac", "1", "-t", "9", str(p))

    @staticmethod
    def _speech_66s_wav(p: Path) -> None:
        ffmpeg("-stream_loop", "5", "-i", str(JFK), "-c:a", "pcm_s16le", str(p))

    @staticmethod
    def _random_tiny_bin(p: Path) -> None:  # a multilingual model with whisper tiny's shapes and random weights
        from bench.random_ggml import write_random_model

        write_random_model(
            SHARED / "models" / "whisper.cpp-for-tests" / "for-tests-ggml-tiny.bin", p, kind="tiny", seed=0
        )

    def _jfk_half_mp3(self, p: Path) -> None:
        data = self.get("jfk.mp3").read_bytes()
        p.write_bytes(data[: len(data) // 2])

    def _jfk_head_mp3(self, p: Path) -> None:  # the first KiB: a header and a frame or two
        p.write_bytes(self.get("jfk.mp3").read_bytes()[:1024])

    def _speech_half_mp4(self, p: Path) -> None:
        data = self.get("speech.mp4").read_bytes()
        p.write_bytes(data[: len(data) // 2])

    def _speech_faststart_half_mp4(self, p: Path) -> None:
        data = self.get("speech-faststart.mp4").read_bytes()
        p.write_bytes(data[: len(data) // 2])

    @staticmethod
    def _ggml_half_bin(p: Path) -> None:
        src = IMPORTED / f"{TRAINED}.bin"
        if not src.is_file():  # no trained model here: the shared test model's first half does as well
            src = SHARED / "models" / "whisper.cpp-for-tests" / "for-tests-ggml-tiny.en.bin"
        with open(src, "rb") as f:
            p.write_bytes(f.read(src.stat().st_size // 2))

    @staticmethod
    def _ggml_head_bin(p: Path) -> None:
        src = SHARED / "models" / "whisper.cpp-for-tests" / "for-tests-ggml-tiny.en.bin"
        with open(src, "rb") as f:
            p.write_bytes(f.read(4096))


# --- a case ------------------------------------------------------------------------------------------
class Ctx:
    """What a case's build step gets: its folder (the command's working directory), the shared assets,
    and the environment the command will run with (a case may change it)."""

    def __init__(self, folder: Path, assets: Assets, env: dict[str, str]) -> None:
        self.dir = folder
        self.assets = assets
        self.env = env

    def copy(self, asset: str, name: str | None = None) -> str:
        target = self.dir / (name or asset)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.assets.get(asset), target)
        return str(target.relative_to(self.dir))

    def link(self, asset: str, name: str | None = None) -> str:
        """A big asset (a model) symlinked in, not copied."""
        (self.dir / (name or asset)).symlink_to(self.assets.get(asset))
        return name or asset

    def write(self, name: str, data: bytes | str) -> str:
        target = self.dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
        return name

    def mkdir(self, name: str) -> str:
        (self.dir / name).mkdir(parents=True, exist_ok=True)
        return name

    def project(self, *, cut: tuple[int, ...] = (3,), name: str = "jfk.hark", media: str = "jfk.wav") -> str:
        """A real project over a copy of jfk.wav (absolute media path, sha256 and size), words cut."""
        from pipeline.editing import editing
        from pipeline.models.store import sha256_file
        from pipeline.transcripts import project as projects
        from pipeline.transcripts.transcript import Caption, MediaRef, Provenance, Transcript, Word

        path = self.dir / self.copy("jfk.wav", media)
        words = [Word(i, t, s, e, 0.9) for i, (t, s, e) in enumerate(JFK_WORDS)]
        t = Transcript(
            media=MediaRef(str(path.resolve()), 11.0, sha256_file(path), path.stat().st_size),
            language="en",
            provenance=Provenance("whisper.cpp", "1.5.1", "tiny.en"),
            words=words,
            captions=[Caption(0.32, 4.30, [w.id for w in words], [" ".join(w.text for w in words)])],
        )
        if cut:
            t = editing.cut_words(t, list(cut))
        projects.save(projects.Project(transcript=t), self.dir / name)
        return name

    def edit_project(self, fn: Callable[[dict], object], name: str = "jfk.hark") -> str:
        """The project above, its JSON changed by `fn` (which edits the dict in place)."""
        self.project(name=name)
        path = self.dir / name
        data = json.loads(path.read_text(encoding="utf-8"))
        fn(data)
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return name

    def trained_model(self, name: str = "tiny.en.bin") -> str:
        """The trained tiny.en's ggml file, linked into the case's folder."""
        (self.dir / name).symlink_to(IMPORTED / f"{TRAINED}.bin")
        return name

    def empty_models_dir(self) -> None:
        root = self.dir.parent / "models"
        root.mkdir(exist_ok=True)
        self.env["HARK_MODELS_DIR"] = str(root)

    def models_dir(self, name: str = "models") -> str:
        """A models folder of this case's own (for cases that change it), holding the trained model."""
        root = self.dir.parent / name
        link_trained_model(root)
        self.env["HARK_MODELS_DIR"] = str(root)
        return str(root)


@dataclass(frozen=True)
class Case:
    name: str
    command: str  # hark's part: transcribe, cut, models, eval, top level
    expect: int
    build: Callable[[Ctx], list[str]]  # makes the files, returns the arguments after `hark`
    errors: int | None = None  # "hark: error:" lines expected; default: 1 when expect != 0, else 0
    whisper: bool = False  # needs the trained whisper model (most of these run it: slow); the rest never load it
    other_user: bool = False  # run as nobody in a user namespace (root reads every file)
    keeps: tuple[str, ...] = ()  # files a failing run may write all the same (a batch's good file)
    chatty: bool = False  # a failure may print more than its error line (a batch's summary)
    send: tuple[int, float] | None = None  # (signal, seconds after the start): interrupt the run
    note: str = ""

    @property
    def error_lines(self) -> int:
        return self.errors if self.errors is not None else (0 if self.expect == 0 else 1)


CASES: list[Case] = []


def case(
    name: str,
    command: str,
    expect: int,
    *,
    errors: int | None = None,
    whisper: bool = False,
    other_user: bool = False,
    keeps: tuple[str, ...] = (),
    chatty: bool = False,
    send: tuple[int, float] | None = None,
    note: str = "",
) -> Callable[[Callable[[Ctx], list[str]]], Callable[[Ctx], list[str]]]:
    """Register the decorated function as a Case (the keywords are Case's fields)."""

    def add(fn: Callable[[Ctx], list[str]]) -> Callable[[Ctx], list[str]]:
        if any(c.name == name for c in CASES):
            raise ValueError(f"two cases named {name}")
        CASES.append(
            Case(
                name,
                command,
                expect,
                fn,
                errors=errors,
                whisper=whisper,
                other_user=other_user,
                keeps=keeps,
                chatty=chatty,
                send=send,
                note=note,
            )
        )
        return fn

    return add


SPHINX = ("--engine", "sphinx", "-q")
WHISPER = ("--model", TRAINED, "-q")


# --- top level -------------------------------------------------------------------------------------
@case("help", "top", 0)
def _(c: Ctx) -> list[str]:
    return ["--help"]


@case("verbose-alone", "top", 2, errors=0, note="prints the help, exit 2")
def _(c: Ctx) -> list[str]:
    return ["-v"]


@case("mistyped-command", "top", 2)
def _(c: Ctx) -> list[str]:
    return ["transcibe", "x.wav"]


@case("unknown-command", "top", 2)
def _(c: Ctx) -> list[str]:
    return ["frobnicate"]


@case("unknown-option", "top", 2)
def _(c: Ctx) -> list[str]:
    return ["--frobnicate"]


@case("missing-file-top", "top", 3)
def _(c: Ctx) -> list[str]:
    return ["missing.wav"]


@case("missing-file-in-folder-top", "top", 3)
def _(c: Ctx) -> list[str]:
    return ["no/such/folder/talk.mp4"]


@case("models-no-action", "top", 2)
def _(c: Ctx) -> list[str]:
    return ["models"]


@case("eval-no-what", "top", 2)
def _(c: Ctx) -> list[str]:
    return ["eval"]


@case("dictate-no-action", "top", 2)
def _(c: Ctx) -> list[str]:
    return ["dictate"]


@case("dictate-app-not-running", "top", 1)
def _(c: Ctx) -> list[str]:
    c.env["XDG_RUNTIME_DIR"] = c.mkdir("run")
    return ["dictate", "--toggle"]


# --- transcribe: the inputs ------------------------------------------------------------------------
@case("transcribe-no-input", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe"]


@case("missing-file", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", "missing.wav", *SPHINX]


@case("empty-file", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.write("empty.wav", b""), *SPHINX]


@case("a-folder-with-no-media", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    c.write("notes/readme.txt", "not media\n")
    return ["transcribe", "notes", *SPHINX]


@case("empty-folder", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.mkdir("empty"), *SPHINX]


@case("text-named-mp3", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.write("song.mp3", "this is not an mp3 file\n" * 50), *SPHINX]


@case("random-bytes-wav", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.write("noise.wav", os.urandom(64 * 1024)), *SPHINX]


@case("wav-header-only", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.write("head.wav", JFK.read_bytes()[:44]), *SPHINX]


@case("mp3-first-kib", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk-head.mp3"), *SPHINX]


@case("mp3-truncated-half", "transcribe", 0, whisper=True, note="the half that is there is transcribed")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk-half.mp3"), *WHISPER]


@case("mp4-truncated-index-at-end", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("speech-half.mp4"), *SPHINX]


@case("mp4-truncated-faststart", "transcribe", 0, whisper=True, note="the half that is there is transcribed")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("speech-faststart-half.mp4"), *WHISPER]


@case("video-no-audio-track", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("noaudio.mp4"), *SPHINX]


@case("digital-silence", "transcribe", 3, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("silence.wav"), *WHISPER]


@case("digital-silence-no-vad", "transcribe", 3, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("silence.wav"), "--no-vad", *WHISPER]


@case("tone-no-speech", "transcribe", 3, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("tone.wav"), *WHISPER]


@case("white-noise", "transcribe", 3, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("noise.wav"), *WHISPER]


@case("white-noise-no-vad", "transcribe", 3, whisper=True, note="whisper may invent words over noise")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("noise.wav"), "--no-vad", *WHISPER]


@case("tone-sphinx", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("tone.wav"), *SPHINX]


@case("dev-null", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    return ["transcribe", "/dev/null", *SPHINX]


@case("fifo", "transcribe", 3, note="a named pipe nobody writes to: must not hang")
def _(c: Ctx) -> list[str]:
    os.mkfifo(c.dir / "pipe.wav")
    return ["transcribe", "pipe.wav", *SPHINX]


@case("dangling-symlink", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    (c.dir / "gone.wav").symlink_to(c.dir / "nowhere.wav")
    return ["transcribe", "gone.wav", *SPHINX]


@case("symlink-loop", "transcribe", 3)
def _(c: Ctx) -> list[str]:
    (c.dir / "a.wav").symlink_to(c.dir / "b.wav")
    (c.dir / "b.wav").symlink_to(c.dir / "a.wav")
    return ["transcribe", "a.wav", *SPHINX]


@case("dash-file-name", "transcribe", 2, note="says: write ./-talk.wav or put -- before it")
def _(c: Ctx) -> list[str]:
    c.copy("jfk.wav", "-talk.wav")
    return ["transcribe", "-talk.wav", *SPHINX]


@case("dash-file-after-double-dash", "transcribe", 0, whisper=True)
def _(c: Ctx) -> list[str]:
    c.copy("jfk.wav", "-talk.wav")
    return ["transcribe", *WHISPER, "--format", "txt", "--", "-talk.wav"]


@case("odd-file-name", "transcribe", 0, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav", "ünï cödé\n'quote' $x.wav"), *WHISPER, "--format", "srt"]


@case("wav-named-txt", "transcribe", 0, whisper=True, note="the content decides, not the suffix")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav", "speech.txt"), *WHISPER, "--format", "srt"]


@case("unreadable-file", "transcribe", 3, other_user=True)
def _(c: Ctx) -> list[str]:
    name = c.copy("jfk.wav", "locked.wav")
    (c.dir / name).chmod(0)
    return ["transcribe", name, *SPHINX]


@case("unreadable-folder", "transcribe", 3, other_user=True)
def _(c: Ctx) -> list[str]:
    c.copy("jfk.wav", "locked/jfk.wav")
    (c.dir / "locked").chmod(0)
    return ["transcribe", "locked", *SPHINX]


@case("same-input-twice", "transcribe", 0, whisper=True, note="a warning, then transcribed once")
def _(c: Ctx) -> list[str]:
    name = c.copy("jfk.wav")
    return ["transcribe", name, f"./{name}", *WHISPER, "--format", "txt"]


@case(
    "batch-one-missing",
    "transcribe",
    3,
    whisper=True,
    keeps=("jfk.txt",),
    chatty=True,
    note="the good file is written all the same",
)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "missing.wav", *WHISPER, "--format", "txt"]


@case(
    "batch-one-corrupt",
    "transcribe",
    3,
    whisper=True,
    keeps=("jfk.txt",),
    chatty=True,
    note="the good file is written all the same",
)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), c.write("bad.mp3", os.urandom(4096)), *WHISPER, "--format", "txt"]


@case("batch-all-bad", "transcribe", 3, errors=2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", "missing.wav", c.write("empty.wav", b""), *SPHINX]


# --- transcribe: the options -----------------------------------------------------------------------
@case("threads-0", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--threads", "0", *SPHINX]


@case("threads-negative", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--threads", "-1", *SPHINX]


@case("threads-word", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--threads", "two", *SPHINX]


@case("threads-10000", "transcribe", 0, whisper=True, note="clamped to the CPU count")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--threads", "10000", *WHISPER, "--format", "txt"]


@case("format-bogus", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--format", "docx", *SPHINX]


@case("format-empty", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--format", "", *SPHINX]


@case("engine-bogus", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--engine", "google"]


@case("max-line-chars-0", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--max-line-chars", "0", *SPHINX]


@case("out-is-a-file", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--out", c.write("out.txt", "x"), *SPHINX]


@case("out-under-a-file", "transcribe", 1, whisper=True)
def _(c: Ctx) -> list[str]:
    c.write("out.txt", "x")
    return ["transcribe", c.copy("jfk.wav"), "--out", "out.txt/sub", *WHISPER]


@case("out-read-only-folder", "transcribe", 1, whisper=True, other_user=True)
def _(c: Ctx) -> list[str]:
    c.mkdir("ro")
    (c.dir / "ro").chmod(0o555)
    return ["transcribe", c.copy("jfk.wav"), "--out", "ro", *WHISPER, "--format", "txt"]


@case("out-folder-created", "transcribe", 0, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--out", "new/deeper", *WHISPER, "--format", "txt"]


@case("outputs-exist-already", "transcribe", 0, whisper=True, note="writes jfk-2.txt beside jfk.txt")
def _(c: Ctx) -> list[str]:
    c.write("jfk.txt", "my own notes\n")
    return ["transcribe", c.copy("jfk.wav"), *WHISPER, "--format", "txt"]


@case("model-a-folder", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--model", c.mkdir("models.bin"), "-q"]


@case("model-missing-file", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--model", "./ggml-nope.bin", "-q"]


@case("model-unknown-name", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--model", "huge-v9", "-q"]


@case("model-empty-file", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--model", c.write("empty.bin", b""), "-q"]


@case("model-text-file", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--model", c.write("model.bin", "not a model\n" * 1000), "-q"]


@case("model-ggml-header-only", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--model", c.copy("ggml-head.bin"), "-q"]


@case("model-ggml-truncated", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--model", c.copy("ggml-half.bin"), "-q"]


@case("language-bogus", "transcribe", 2, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--language", "xx", *WHISPER]


@case("language-german-english-only-model", "transcribe", 4, whisper=True, note="tiny.en knows English only")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--language", "de", *WHISPER]


@case("language-german-sphinx", "transcribe", 4, note="the offline engine knows English only")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--language", "de", *SPHINX]


@case("language-bogus-multilingual-model", "transcribe", 2, note="a multilingual model (random weights)")
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--language", "xx", "--model", c.link("random-tiny.bin"), "-q"]


@case("language-bogus-sphinx", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--language", "xx", *SPHINX]


@case("language-german-no-model-installed", "transcribe", 4, note="an empty models folder: the offline engine")
def _(c: Ctx) -> list[str]:
    c.empty_models_dir()
    return ["transcribe", c.copy("jfk.wav"), "--language", "de", "-q"]


@case("prompt-20000-chars", "transcribe", 0, whisper=True)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--prompt", "Kennedy " * 2500, *WHISPER, "--format", "txt"]


@case("diarize-no-model", "transcribe", 4)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--diarize", "--diarization-model", "no-such-folder", *SPHINX]


@case("speakers-0", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--diarize", "--speakers", "0", *SPHINX]


@case("speakers-without-diarize", "transcribe", 2)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("jfk.wav"), "--speakers", "2", *SPHINX]


# --- transcribe: cancelled ------------------------------------------------------------------------
@case(
    "sigterm-during-transcribe",
    "transcribe",
    130,
    errors=0,
    send=(signal.SIGTERM, 4.0),
    note="SIGTERM 4 s into 66 s of speech: 'hark: cancelled', nothing written",
)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("speech-66s.wav"), *SPHINX]


@case(
    "ctrl-c-during-transcribe",
    "transcribe",
    130,
    errors=0,
    send=(signal.SIGINT, 4.0),
    note="SIGINT (Ctrl+C) 4 s into 66 s of speech",
)
def _(c: Ctx) -> list[str]:
    return ["transcribe", c.copy("speech-66s.wav"), *SPHINX]


# --- cut -------------------------------------------------------------------------------------------
CUT = ("-q", "--no-snap")


@case("cut-missing-project", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", "talk.hark", *CUT]


@case("cut-project-is-a-folder", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.mkdir("talk.hark"), *CUT]


@case("cut-empty-project", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.write("talk.hark", b""), *CUT]


@case("cut-malformed-json", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.write("talk.hark", '{"format": "hark-project", "version": 1, "transcript": {'), *CUT]


@case("cut-binary-garbage", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.write("talk.hark", os.urandom(4096)), *CUT]


@case("cut-not-a-project", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.write("talk.hark", '{"hello": "world"}'), *CUT]


@case("cut-5000-digit-int", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.write("talk.hark", '{"format": "hark-project", "version": ' + "9" * 5000 + "}"), *CUT]


@case("cut-deep-nesting", "cut", 3)
def _(c: Ctx) -> list[str]:
    return [
        "cut",
        c.write(
            "talk.hark", '{"format": "hark-project", "version": 1, "settings": ' + "[" * 100_000 + "]" * 100_000 + "}"
        ),
        *CUT,
    ]


@case("cut-newer-version", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d.update(version=99)), *CUT]


@case("cut-negative-times", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d["transcript"]["words"][2].update(start=-5.0)), *CUT]


@case("cut-end-before-start", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d["transcript"]["words"][2].update(end=0.1)), *CUT]


@case("cut-nan-time", "cut", 3)
def _(c: Ctx) -> list[str]:
    name = c.edit_project(lambda d: d["transcript"]["words"][2].update(start=float("nan")))
    return ["cut", name, *CUT]


@case("cut-1e999-time", "cut", 3)
def _(c: Ctx) -> list[str]:
    name = c.project()
    path = c.dir / name
    path.write_text(path.read_text().replace('"end": 4.3', '"end": 1e999', 1))
    return ["cut", name, *CUT]


@case("cut-duplicate-ids", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d["transcript"]["words"][2].update(id=1)), *CUT]


@case("cut-caption-names-unknown-word", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d["transcript"]["captions"][0]["words"].append(999)), *CUT]


@case("cut-wrong-types", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d["transcript"].update(words={"0": "And"})), *CUT]


@case("cut-negative-cut", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d["transcript"]["edits"]["cuts"].append({"start": -3, "end": -1})), *CUT]


@case("cut-media-missing", "cut", 3)
def _(c: Ctx) -> list[str]:
    name = c.project()
    (c.dir / "jfk.wav").unlink()
    return ["cut", name, *CUT]


@case("cut-media-changed", "cut", 3)
def _(c: Ctx) -> list[str]:
    name = c.project()
    c.copy("other.wav", "jfk.wav")
    return ["cut", name, *CUT]


@case("cut-media-truncated", "cut", 3)
def _(c: Ctx) -> list[str]:
    name = c.project()
    media = c.dir / "jfk.wav"
    media.write_bytes(media.read_bytes()[: media.stat().st_size // 2])
    return ["cut", name, *CUT]


@case("cut-media-replaced-by-garbage-accepted", "cut", 3, note="--accept-changed-media with a file that is not media")
def _(c: Ctx) -> list[str]:
    name = c.project()
    c.write("jfk.wav", os.urandom(8192))
    return ["cut", name, "--accept-changed-media", *CUT]


@case("cut-media-is-a-folder", "cut", 3)
def _(c: Ctx) -> list[str]:
    name = c.project()
    (c.dir / "jfk.wav").unlink()
    c.mkdir("jfk.wav")
    return ["cut", name, *CUT]


@case("cut-media-flag-other-file", "cut", 3)
def _(c: Ctx) -> list[str]:
    name = c.project()
    return ["cut", name, "--media", c.copy("other.wav"), *CUT]


@case("cut-media-flag-missing", "cut", 3)
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--media", "moved/jfk.wav", *CUT]


@case("cut-out-exists", "cut", 2)
def _(c: Ctx) -> list[str]:
    name = c.project()
    return ["cut", name, "--out", c.write("out.wav", b"mine"), *CUT]


@case("cut-caption-file-exists", "cut", 2)
def _(c: Ctx) -> list[str]:
    name = c.project()
    c.write("out.srt", "mine\n")
    return ["cut", name, "--out", "out.wav", *CUT]


@case("cut-out-exists-force", "cut", 0)
def _(c: Ctx) -> list[str]:
    name = c.project()
    return ["cut", name, "--out", c.write("out.wav", b"mine"), "--force", *CUT]


@case("cut-out-is-the-source", "cut", 2)
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--out", "jfk.wav", *CUT]


@case("cut-out-is-the-source-force", "cut", 2)
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--out", "jfk.wav", "--force", *CUT]


@case("cut-out-is-a-folder", "cut", 2)
def _(c: Ctx) -> list[str]:
    name = c.project()
    return ["cut", name, "--out", c.mkdir("out"), *CUT]


@case("cut-out-is-a-folder-force", "cut", 2)
def _(c: Ctx) -> list[str]:
    name = c.project()
    return ["cut", name, "--out", c.mkdir("out"), "--force", *CUT]


@case("cut-out-under-a-file", "cut", 1)
def _(c: Ctx) -> list[str]:
    name = c.project()
    c.write("out.txt", "x")
    return ["cut", name, "--out", "out.txt/trimmed.wav", *CUT]


@case("cut-out-unknown-suffix", "cut", 2)
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--out", "trimmed.xyz", *CUT]


@case("cut-out-no-suffix", "cut", 2)
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--out", "trimmed", *CUT]


@case("cut-burn-into-audio", "cut", 2, note="--captions burn, and the output has no picture")
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--out", "trimmed.wav", "--captions", "burn", *CUT]


@case("cut-crossfade-900", "cut", 2)
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--crossfade", "900", *CUT]


@case("cut-crossfade-nan", "cut", 2)
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--crossfade", "nan", *CUT]


@case("cut-everything", "cut", 3, note="nothing would be left to export")
def _(c: Ctx) -> list[str]:
    return ["cut", c.edit_project(lambda d: d["transcript"]["edits"].update(cuts=[{"start": 0.0, "end": 11.0}])), *CUT]


@case("cut-transcript-json", "cut", 0, note="a transcript .json instead of a project")
def _(c: Ctx) -> list[str]:
    from pipeline.transcripts import project as projects
    from pipeline.transcripts import transcript_json

    transcript_json.save(projects.load(c.dir / c.project()).transcript, c.dir / "jfk.json")
    (c.dir / "jfk.hark").unlink()
    return ["cut", "jfk.json", "--out", "o.wav", *CUT]


@case("cut-nothing", "cut", 0, note="no cuts: a copy of the whole media")
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(cut=()), "--out", "copy.wav", *CUT]


@case("cut-beyond-the-end", "cut", 0, note="a cut past the media's end is clipped to it")
def _(c: Ctx) -> list[str]:
    name = c.edit_project(lambda d: d["transcript"]["edits"]["cuts"].append({"start": 10.5, "end": 900.0}))
    return ["cut", name, "--out", "short.wav", *CUT]


@case("cut-copy-mode-on-audio", "cut", 0, note="--mode copy with no video stream: nothing to copy, audio re-encoded")
def _(c: Ctx) -> list[str]:
    return ["cut", c.project(), "--mode", "copy", "--out", "o.wav", *CUT]


# --- models ----------------------------------------------------------------------------------------
@case("models-list", "models", 0)
def _(c: Ctx) -> list[str]:
    return ["models", "list"]


@case("models-list-corrupt-record", "models", 0, note="a broken import record is skipped")
def _(c: Ctx) -> list[str]:
    root = Path(c.models_dir())
    (root / "imported" / "broken.json").write_text("{not json")
    return ["models", "list"]


@case("models-dir-under-a-file", "models", 1, whisper=True, note="HARK_MODELS_DIR=file/models, file a regular file")
def _(c: Ctx) -> list[str]:
    c.write("file", "x")
    c.env["HARK_MODELS_DIR"] = str(c.dir / "file" / "models")
    return ["models", "import", c.trained_model(), "-q"]


@case("models-download-unknown", "models", 4)
def _(c: Ctx) -> list[str]:
    return ["models", "download", "huge-v9", "-q"]


@case("models-download-no-network", "models", 4, note="HARK_MODEL_MIRROR=http://127.0.0.1:9 (nothing listens)")
def _(c: Ctx) -> list[str]:
    c.models_dir()
    c.env["HARK_MODEL_MIRROR"] = "http://127.0.0.1:9"
    return ["models", "download", "tiny.en", "-q"]


@case(
    "models-download-diarization-no-token", "models", 4, note="no $HF_TOKEN, no terminal to ask on, nothing reachable"
)
def _(c: Ctx) -> list[str]:
    c.env.pop("HF_TOKEN", None)
    c.env["HF_ENDPOINT"] = "http://127.0.0.1:9"
    return ["models", "download", "diarization", "-q"]


@case("models-path-unknown", "models", 4)
def _(c: Ctx) -> list[str]:
    return ["models", "path", "huge-v9"]


@case("models-remove-unknown", "models", 4)
def _(c: Ctx) -> list[str]:
    return ["models", "remove", "huge-v9"]


@case("models-remove-not-installed", "models", 0)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "remove", "tiny.en"]


@case("models-import-missing", "models", 3)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "import", "no-such-model.bin", "-q"]


@case("models-import-no-path", "models", 2)
def _(c: Ctx) -> list[str]:
    return ["models", "import"]


@case("models-import-garbage-bin", "models", 4)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "import", c.write("ggml-model.bin", os.urandom(1 << 20)), "-q"]


@case("models-import-empty-file", "models", 4)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "import", c.write("ggml-model.bin", b""), "-q"]


@case("models-import-text-pt", "models", 4)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "import", c.write("tiny.pt", "import torch\n"), "-q"]


@case("models-import-empty-folder", "models", 4)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "import", c.mkdir("faster-whisper-tiny"), "-q"]


@case("models-import-bad-ct2-folder", "models", 4)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    c.write("fw/config.json", "{}")
    c.write("fw/model.bin", os.urandom(4096))
    c.write("fw/vocabulary.json", "[]")
    return ["models", "import", "fw", "-q"]


@case("models-import-truncated-ggml", "models", 4)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "import", c.copy("ggml-half.bin"), "-q"]


@case("models-import-bad-name", "models", 2, whisper=True)
def _(c: Ctx) -> list[str]:
    c.models_dir()
    return ["models", "import", c.trained_model(), "--name", "../../evil", "-q"]


@case("models-import-bundled-with-path", "models", 2)
def _(c: Ctx) -> list[str]:
    return ["models", "import", "--bundled", "x.bin"]


# --- eval ------------------------------------------------------------------------------------------
@case("eval-asr-missing-reference", "eval", 3)
def _(c: Ctx) -> list[str]:
    return ["eval", "asr", c.copy("jfk.wav"), "--no-baseline"]


@case("eval-asr-ref-file-missing", "eval", 3)
def _(c: Ctx) -> list[str]:
    return ["eval", "asr", c.copy("jfk.wav"), "--ref", "jfk-ref.txt", "--no-baseline"]


@case("eval-asr-empty-reference", "eval", 3)
def _(c: Ctx) -> list[str]:
    c.write("jfk.txt", "")
    return ["eval", "asr", c.copy("jfk.wav"), "--no-baseline"]


@case("eval-asr-missing-audio", "eval", 3)
def _(c: Ctx) -> list[str]:
    c.write("talk.txt", "hello world\n")
    return ["eval", "asr", "talk.wav", "--no-baseline"]


@case("eval-asr-ref-file-two-audio", "eval", 2)
def _(c: Ctx) -> list[str]:
    c.copy("jfk.wav", "b.wav")
    return ["eval", "asr", c.copy("jfk.wav"), "b.wav", "--ref", c.write("ref.txt", "and so\n"), "--no-baseline"]


@case("eval-asr-threads-0", "eval", 2)
def _(c: Ctx) -> list[str]:
    return ["eval", "asr", c.copy("jfk.wav"), "--threads", "0"]


@case("eval-asr-model-missing", "eval", 4)
def _(c: Ctx) -> list[str]:
    c.write("jfk.txt", "and so my fellow americans\n")
    return ["eval", "asr", c.copy("jfk.wav"), "--model", "./nope.bin"]


@case("eval-asr-language-german-english-only-model", "eval", 4, whisper=True)
def _(c: Ctx) -> list[str]:
    c.write("jfk.txt", "and so my fellow americans\n")
    return ["eval", "asr", c.copy("jfk.wav"), "--language", "de", "--model", TRAINED, "--no-baseline"]


@case("eval-timing-missing-textgrid", "eval", 3)
def _(c: Ctx) -> list[str]:
    return ["eval", "timing", c.copy("jfk.wav")]


@case("eval-timing-malformed-textgrid", "eval", 3)
def _(c: Ctx) -> list[str]:
    c.write("jfk.TextGrid", 'File type = "ooTextFile"\nObject class = "TextGrid"\nxmin = banana\n')
    return ["eval", "timing", c.copy("jfk.wav")]


@case("eval-timing-wrong-tier", "eval", 3)
def _(c: Ctx) -> list[str]:
    shutil.copy(MFA / "61-70968-0000.TextGrid", c.dir / "talk.TextGrid")
    shutil.copy(MFA / "61-70968-0000.flac", c.dir / "talk.flac")
    return ["eval", "timing", "talk.flac", "--tier", "sentences"]


@case("eval-diarization-missing-rttm", "eval", 3)
def _(c: Ctx) -> list[str]:
    return ["eval", "diarization", c.copy("jfk.wav"), "--rttm", "ref.rttm", "--no-words"]


@case("eval-diarization-malformed-rttm", "eval", 3)
def _(c: Ctx) -> list[str]:
    return [
        "eval",
        "diarization",
        c.copy("jfk.wav"),
        "--rttm",
        c.write("ref.rttm", "SPEAKER jfk 1 zero\n"),
        "--no-words",
    ]


@case("eval-diarization-no-rttm-flag", "eval", 2)
def _(c: Ctx) -> list[str]:
    return ["eval", "diarization", c.copy("jfk.wav")]


# --- running them ----------------------------------------------------------------------------------
def link_trained_model(root: Path) -> bool:
    """`root` as a models folder holding the trained tiny.en (symlinked); False when this machine has none."""
    (root / "imported").mkdir(parents=True, exist_ok=True)
    if not (IMPORTED / f"{TRAINED}.bin").is_file():
        return False
    for suffix in (".bin", ".json"):
        link = root / "imported" / f"{TRAINED}{suffix}"
        if not link.exists():
            link.symlink_to(IMPORTED / f"{TRAINED}{suffix}")
    return True


def hark_command() -> list[str]:
    script = Path(sys.executable).parent / "hark"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "app"]


def can_run_as_other_user() -> bool:
    return (
        shutil.which("unshare") is not None
        and subprocess.run(["unshare", "-U", "true"], capture_output=True).returncode == 0
    )


@dataclass
class Result:
    case: Case
    args: list[str]
    code: int | None  # None: it did not finish in time
    stdout: str
    stderr: str
    seconds: float
    new_files: list[str] = field(default_factory=list)
    skipped: str = ""
    work: Path | None = None  # the case's folder: shown as "" in messages, so they read as the user's would

    def clean(self, text: str) -> str:
        if self.work is None:
            return text
        text = text.replace(f"{self.work}/", "")
        return text.replace(str(self.work.parent.parent), "$TMP")

    @property
    def command(self) -> str:
        shown = [a if len(a) <= 40 else a[:20] + "…" for a in self.args]
        return "hark " + shlex.join(shown)

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ERROR_LINE.match(ln)]

    @property
    def message(self) -> str:
        """The error line; else the first line on stderr; else the first on stdout."""
        lines = [ln.strip() for ln in self.stderr.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ERROR_LINE.match(ln)]
        if errors or lines:
            return self.clean((errors or lines)[0])
        out = [ln.strip() for ln in self.stdout.splitlines() if ln.strip()]
        return f"(stdout) {self.clean(out[0])}" if out else ""

    @property
    def problems(self) -> list[str]:
        if self.skipped:
            return []
        found = []
        if self.code is None:
            found.append("did not finish (timeout)")
        elif self.code != self.case.expect:
            found.append(f"exit {self.code}, the table says {self.case.expect} ({EXIT_NAMES[self.case.expect]})")
        if "Traceback" in self.stderr:
            found.append("a Python traceback")
        if len(self.error_lines) != self.case.error_lines:
            found.append(f"{len(self.error_lines)} 'hark: error:' lines, expected {self.case.error_lines}")
        left = [f for f in self.new_files if f not in self.case.keeps]
        if self.code not in (0, None) and left:
            found.append(f"left behind: {', '.join(left)}")
        return found

    @property
    def remarks(self) -> list[str]:
        """Lesser things: a line printed twice, a failure that says more than its error."""
        if self.skipped:
            return []
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        found = []
        repeated = sorted({ln for ln in lines if lines.count(ln) > 1})
        if repeated:
            found.append(f"printed {lines.count(repeated[0])} times: {self.clean(repeated[0])[:160]}")
        others = [
            ln
            for ln in lines
            if not ERROR_LINE.match(ln) and ln != "hark: cancelled" and "Traceback" not in self.stderr
        ]
        if self.code not in (0, None) and others and not self.case.chatty:
            found.append(f"besides the error: {self.clean(others[0])[:160]}")
        return found


def _files(folder: Path) -> set[str]:
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        for n in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            found.add(os.path.relpath(os.path.join(dirpath, n), folder))
    return found


def run_case(case: Case, root: Path, assets: Assets, *, models: Path, timeout: float = 300) -> Result:
    """Build `case` in a folder of its own under `root` and run `hark` on it."""
    base = root / case.name
    work, home = base / "work", base / "home"
    for d in (work, home / ".config"):
        d.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARK_", "HF_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        QT_QPA_PLATFORM="offscreen",
        HARK_MODELS_DIR=str(models),
        HARK_VAD_MODEL=str(SILERO),
        HARK_DATA_DIR=str(home / "hark"),
        HARK_LOG_DIR=str(home / "logs"),
        PYTHONPATH=str(ROOT),
        LC_ALL="C.UTF-8",
    )
    ctx = Ctx(work, assets, env)
    args = case.build(ctx)
    cmd = hark_command() + args
    if case.other_user:
        if not can_run_as_other_user():
            return Result(case, args, None, "", "", 0.0, skipped="no unprivileged user namespaces here")
        for d in (root, base, work, home):
            d.chmod(0o755)
        cmd = ["unshare", "-U", *cmd]
    before = _files(work)
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    code: int | None
    try:
        if case.send is not None:
            sig, after = case.send
            try:
                proc.wait(timeout=after)
            except subprocess.TimeoutExpired:
                proc.send_signal(sig)
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
    seconds = time.perf_counter() - t
    for dirpath, dirnames, _ in os.walk(work):  # give the cases' locked folders back, so they can be removed
        for name in dirnames:
            p = Path(dirpath, name)
            if not p.is_symlink():
                p.chmod(0o755)
    new = sorted(_files(work) - before)
    return Result(case, args, code, out, err, seconds, new, work=work)


def select(names: list[str] | None = None, *, whisper: bool = True) -> list[Case]:
    chosen = [c for c in CASES if (not names or c.name in names) and (whisper or not c.whisper)]
    unknown = set(names or ()) - {c.name for c in CASES}
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
    return chosen


def run_all(cases: list[Case], root: Path, progress: bool = True) -> list[Result]:
    assets = Assets(root / "_assets")
    models = root / "_models"
    have_model = link_trained_model(models)
    results = []
    for i, case in enumerate(cases, 1):
        if case.whisper and not have_model:
            r = Result(case, [], None, "", "", 0.0, skipped=f"no trained model at {IMPORTED}")
        else:
            r = run_case(case, root, assets, models=models)
        results.append(r)
        if progress:
            mark = "SKIP" if r.skipped else ("ok  " if not r.problems else "FAIL")
            print(
                f"[{i:3}/{len(cases)}] {mark} {case.name:<42} exit {r.code!s:>4} {r.seconds:5.1f}s  {r.message[:90]}",
                file=sys.stderr,
            )
    return results


def _cell(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("`", "'")


def markdown(results: list[Result]) -> str:
    rows = [
        "| # | case | command (short) | exit | expected | message (first line) |",
        "|---|------|-----------------|------|----------|----------------------|",
    ]
    for i, r in enumerate(results, 1):
        code = "skipped" if r.skipped else ("timeout" if r.code is None else str(r.code))
        flag = "" if not r.problems else " **✗**"
        rows.append(
            f"| {i} | {r.case.name} | `{_cell(r.command, 90)}` | {code}{flag} "
            f"| {r.case.expect} | {_cell(r.message or r.skipped)} |"
        )
    return "\n".join(rows)


def problems_markdown(results: list[Result]) -> str:
    bad = [r for r in results if r.problems]
    lines = [
        "Defects (the exit code is not the table's, a traceback, not exactly one error line, or files left behind):",
        "",
    ]
    if not bad:
        lines.append("- none")
    for r in bad:
        lines.append(f"- **{r.case.name}**: {'; '.join(r.problems)}. `{_cell(r.command, 200)}`")
    noted = [r for r in results if r.remarks]
    if noted:
        lines += ["", "Remarks (lesser: a line printed more than once, a failure that says more than its error):", ""]
        for r in noted:
            lines.append(f"- **{r.case.name}**: {_cell('; '.join(r.remarks), 240)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.bad_input_catalogue",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--markdown", action="store_true", help="print the table for docs/reliability.md")
    p.add_argument("--only", nargs="+", metavar="NAME", help="run these cases only")
    p.add_argument("--fast", action="store_true", help="skip the cases that run the whisper model")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--keep", type=Path, metavar="DIR", help="build the cases in DIR and keep them")
    args = p.parse_args(argv)
    cases = select(args.only, whisper=not args.fast)
    if args.list:
        for c in cases:
            print(f"{c.name:<44} {c.command:<10} expect {c.expect}{'  (whisper)' if c.whisper else ''}")
        return 0
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = run_all(cases, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="hark-bad-input-") as d:
            results = run_all(cases, Path(d))
    bad = [r for r in results if r.problems]
    if args.markdown:
        print(markdown(results))
        print()
        print(problems_markdown(results))
    else:
        for r in results:
            state = "skipped: " + r.skipped if r.skipped else f"exit {r.code}"
            print(f"{r.case.name}: {r.command}\n  {state} (expected {r.case.expect})")
            for ln in r.stderr.strip().splitlines()[:6]:
                print(f"  | {ln}")
            for prob in r.problems:
                print(f"  !! {prob}")
            for rem in r.remarks:
                print(f"  ~~ {rem}")
    ran = sum(1 for r in results if not r.skipped)
    print(f"{ran} cases run, {len(results) - ran} skipped, {len(bad)} with problems", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
