"""The kill -9 campaign (issue 14): kill Hark at random moments and check that nothing saved is lost.

    python -m bench.kill_campaign [--kills N] [--part file|editor|dictation] [--seed S]

Three parts, each N kills (seeded, so a run can be repeated), each followed by the checks:
  file      `hark transcribe jfk.wav --format srt,vtt,txt,json` (the installed model) killed at a random
            moment of the run, or just as it starts writing its outputs: every output present equals the
            uninterrupted run's (never half a file), a later run into the same folder works, no child
            process outlives it; temporary files left behind are listed (litter).
  editor    a headless editor (offscreen Qt) applying a scripted series of corrections, cuts, restores
            and caption splits to a real transcript (tiled to ~2,000 words), logging each edit and each
            completed autosave: the project on disk must load, be exactly a state the editor had, and
            hold every edit reported saved. Measured: how old the oldest lost edit was at the kill.
  dictation the real DictationController (offscreen, no hotkey: `hark dictate --start/--stop`'s path), with
            a virtual microphone (PulseAudio null sink) playing real speech, killed mid-utterance or
            after it: what the journal recovers at the next start must hold all but <= 1 s of the
            speech played before the kill. Measured: audio lost (an upper bound: playback start-up and
            the sound server's buffering count as lost).

Results go into docs/reliability.md. The tests (tests/test_kill_campaign.py) run a few kills of each.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import queue
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HARK_SHARED", ROOT.parent / "shared"))
JFK = SHARED / "data" / "whisper.cpp" / "jfk.wav"
SPEECH = SHARED / "data" / "lhotse" / "2412-153948-0000.flac"  # 11.7 s of read speech, for dictation
FORMATS = ("srt", "vtt", "txt", "json")
MAX_DICTATION_LOSS = 1.0  # s, the bound


@dataclass
class Kill:
    part: str
    index: int
    at: float  # s after the moment the part counts from (its start, or the event it waited for)
    phase: str
    violations: list[str] = field(default_factory=list)
    figure: float | None = None  # editor: age of the oldest lost edit; dictation: audio lost (s)
    litter: list[str] = field(default_factory=list)
    orphans: int = 0


# --- processes ---------------------------------------------------------------------------------
class Child:
    """A child in its own process group whose stdout lines are read as they come, time-stamped."""

    def __init__(
        self, cmd: list[str], *, env: dict[str, str] | None = None, log: Path | None = None, stdin: bool = False
    ) -> None:
        self.log = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            text=True,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self.lines: queue.SimpleQueue[tuple[str, float]] = queue.SimpleQueue()
        self.seen: list[tuple[str, float]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((line.strip(), time.monotonic()))

    def drain(self) -> list[tuple[str, float]]:
        with contextlib.suppress(queue.Empty):
            while True:
                self.seen.append(self.lines.get_nowait())
        return self.seen

    def wait_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for text, _ in self.drain():
                if text.startswith(prefix):
                    return text
            if self.proc.poll() is not None and self.lines.empty():
                raise RuntimeError(f"the child exited ({self.proc.returncode}) before {prefix!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {prefix!r} from the child within {timeout:.0f} s")
            time.sleep(0.01)

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def kill9(self) -> float:
        """SIGKILL to the process itself (not its group: what its own children do is part of the test)."""
        t = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.drain()
        return t

    def orphans(self, grace: float = 3.0) -> int:
        """Processes of its group still alive `grace` s after it died (then killed, so none pile up)."""
        deadline = time.monotonic() + grace
        while (left := group_members(self.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        if not isinstance(self.log, int):  # a file of ours, not subprocess.DEVNULL
            self.log.close()
        return len(left)


def group_members(pgid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d.name))
    return out


def python_cmd(*args: str) -> list[str]:
    return [sys.executable, *args]


# --- part 1: a file job ------------------------------------------------------------------------
SRT_TIME = re.compile(r"^\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}$")


def srt_problem(text: str) -> str | None:
    if not text.endswith("\n"):
        return "does not end with a newline"
    for n, block in enumerate(text.strip("\n").split("\n\n"), 1):
        lines = block.split("\n")
        if len(lines) < 3 or lines[0] != str(n) or not SRT_TIME.match(lines[1]):
            return f"caption {n} is malformed: {block[:80]!r}"
    return None


def output_problem(path: Path, ref: dict[str, str]) -> str | None:
    """Why an output file is not a complete output of the job (None: it is)."""
    from pipeline.transcripts import transcript_json

    fmt = path.suffix[1:]
    text = path.read_text(encoding="utf-8", errors="replace")
    if fmt == "json":
        try:
            t = transcript_json.load(path)
        except Exception as e:
            return f"does not load: {e}"
        want = transcript_json.loads(ref["json"])
        return (
            None
            if [w.text for w in t.words] == [w.text for w in want.words] and t.captions == want.captions
            else "loads, but differs from the uninterrupted run"
        )
    if fmt == "srt" and (why := srt_problem(text)):
        return why
    if fmt == "vtt" and not text.startswith("WEBVTT"):
        return "no WEBVTT header"
    return None if text == ref[fmt] else f"differs from the uninterrupted run ({len(text)} vs {len(ref[fmt])} chars)"


def scan_outputs(folder: Path, stem: str) -> tuple[list[Path], list[str]]:
    """(output files, litter) in `folder`: litter is anything that is not `stem[-N].FORMAT`."""
    name = re.compile(rf"^{re.escape(stem)}(-\d+)?\.({'|'.join(FORMATS)})$")
    outputs: list[Path] = []
    litter: list[Path] = []
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        (outputs if name.match(p.name) else litter).append(p)
    return outputs, [p.name for p in litter]


def transcribe(src: Path, out: Path, env: dict[str, str], log: Path | None = None) -> Child:
    return Child(
        python_cmd("-m", "app", "transcribe", str(src), "--format", ",".join(FORMATS), "--out", str(out), "-q"),
        env=env,
        log=log,
    )


@dataclass
class Reference:
    outputs: dict[str, str]  # format -> text
    duration: float  # s, start to exit
    first_write: float  # s, start to the first output (or temporary file) appearing
    writing: float  # s, first output to the last one


def file_reference(src: Path, work: Path, env: dict[str, str]) -> Reference:
    out = work / "reference"
    t0 = time.monotonic()
    child = transcribe(src, out, env, work / "reference.log")
    first = last = None
    while child.proc.poll() is None:
        with contextlib.suppress(FileNotFoundError):
            names = os.listdir(out)
            now = time.monotonic() - t0
            if names and first is None:
                first = now
            if sum(n.endswith(FORMATS) and not n.startswith(".") for n in names) == len(FORMATS) and last is None:
                last = now
        time.sleep(0.0005)
    duration = time.monotonic() - t0
    if child.proc.returncode != 0:
        raise RuntimeError(f"hark transcribe failed; see {work / 'reference.log'}")
    first = duration if first is None else first
    outputs = {f: (out / f"{src.stem}.{f}").read_text(encoding="utf-8") for f in FORMATS}
    return Reference(outputs, duration, first, (last or duration) - first)


def wait_for_entry(folder: Path, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            if os.listdir(folder):
                return True
        time.sleep(0.0002)
    return False


def file_part(
    kills: int,
    seed: int,
    work: Path,
    *,
    src: Path = JFK,
    env: dict[str, str] | None = None,
    moments: list[tuple[str, float]] | None = None,
    rerun: bool = True,
) -> list[Kill]:
    """`moments`: fixed (mode, seconds) instead of random ones; mode "run" counts from the start, "write"
    from the first output appearing."""
    env = dict(env or os.environ)
    work.mkdir(parents=True, exist_ok=True)
    media = work / src.name
    shutil.copyfile(src, media)
    ref = file_reference(media, work, env)
    print(
        f"file: reference run {ref.duration:.2f} s, first output at {ref.first_write:.2f} s, outputs written "
        f"in {ref.writing * 1000:.1f} ms",
        flush=True,
    )
    rng = random.Random(seed)
    plan = moments or [
        ("run", rng.uniform(0, ref.duration * 1.05))
        if i % 2 == 0
        else ("write", rng.uniform(0, max(ref.writing, 0.002) * 1.5))
        for i in range(kills)
    ]
    results = []
    for i, (mode, delay) in enumerate(plan):
        out = work / f"kill-{i:03d}"
        t0 = time.monotonic()
        child = transcribe(media, out, env, work / f"kill-{i:03d}.log")
        if mode == "write":
            wait_for_entry(out, ref.duration * 3)
            time.sleep(delay)
        else:
            time.sleep(max(0.0, t0 + delay - time.monotonic()))
        exited = child.proc.poll() is not None
        t_kill = child.kill9()
        k = Kill("file", i, delay if mode == "write" else t_kill - t0, "")
        k.orphans = child.orphans()
        outputs, k.litter = scan_outputs(out, media.stem)
        found = len(outputs)
        for p in outputs:
            if why := output_problem(p, ref.outputs):
                k.violations.append(f"{p.name}: {why}")
        tmp = any(n.endswith(".tmp") for n in k.litter)
        if exited:
            k.phase = "after exit"
        elif 0 < len(outputs) < len(FORMATS) or tmp:
            k.phase = "writing outputs"
        elif len(outputs) == len(FORMATS):
            k.phase = "outputs written, before exit"
        else:
            quarter = min(3, int(4 * (t_kill - t0) / ref.first_write)) if ref.first_write else 3
            k.phase = f"before outputs ({25 * quarter}-{25 * quarter + 25} % of the way)"
        if k.orphans:
            k.violations.append(f"{k.orphans} child process(es) outlived hark")
        if rerun:  # a later run into the same folder must not trip over what the kill left
            again = transcribe(media, out, env, work / f"kill-{i:03d}-rerun.log")
            if again.proc.wait(ref.duration * 10 + 60) != 0:
                k.violations.append(f"the next run into the same folder failed (exit {again.proc.returncode})")
            again.orphans(0)
            outputs, left = scan_outputs(out, media.stem)
            for p in outputs:
                if why := output_problem(p, ref.outputs):
                    k.violations.append(f"after the next run, {p.name}: {why}")
            if left:
                k.litter.append(f"still there after the next run: {', '.join(left)}")
        results.append(k)
        print(
            f"  file {i:3d}: {mode:5s} {k.at:6.3f} s  {k.phase:40s} {found} outputs  "
            f"{'; '.join(k.violations) or 'ok'}{'  litter: ' + ', '.join(k.litter) if k.litter else ''}",
            flush=True,
        )
    return results


# --- part 2: an editor session -----------------------------------------------------------------
Op = list[Any]  # [kind, *args], JSON-friendly


def apply_op(t: Any, op: Op) -> Any:
    from pipeline.editing import editing

    kind, *args = op
    if kind == "correct":
        return editing.correct_word(t, args[0], args[1])
    if kind == "cut":
        return editing.cut_words(t, args[0])
    if kind == "restore":
        return editing.restore_words(t, args[0])
    if kind == "split":
        return editing.split_caption(t, args[0], args[1])
    raise ValueError(kind)


def edit_script(t: Any, n: int, rng: random.Random) -> tuple[list[Op], list[Any]]:
    """`n` edits that each change the transcript, and the n + 1 states they lead through."""
    from pipeline.editing import editing

    ops: list[Op] = []
    states = [t]
    while len(ops) < n:
        cur = states[-1]
        words = editing.effective_words(cur)
        kind = rng.choices(["correct", "cut", "restore", "split"], [4, 3, 1, 2])[0]
        k = rng.randrange(len(words))
        if kind == "correct":
            op: Op = ["correct", words[k].id, f"edit{len(ops) + 1}"]
        elif kind == "cut":
            op = ["cut", [w.id for w in words[k : k + rng.randint(1, 3)]]]
        elif kind == "restore":
            cut = sorted(editing.cut_word_ids(cur))
            if not cut:
                continue
            op = ["restore", [rng.choice(cut)]]
        else:
            i = rng.randrange(len(cur.captions))
            ids = cur.captions[i].word_ids
            if len(ids) < 2:
                continue
            op = ["split", i, ids[rng.randrange(1, len(ids))]]
        try:
            after = apply_op(cur, op)
        except editing.EditError:
            continue
        if after != cur:
            ops.append(op)
            states.append(after)
    return ops, states


def tiled(t: Any, copies: int) -> Any:
    """The transcript repeated `copies` times end to end: a long project from a real one."""
    from pipeline.captions.captions import build_captions
    from pipeline.transcripts.transcript import Transcript

    dur = t.media.duration
    words = [
        dataclasses.replace(w, id=k * len(t.words) + j, start=w.start + k * dur, end=w.end + k * dur)
        for k in range(copies)
        for j, w in enumerate(t.words)
    ]
    return Transcript(
        dataclasses.replace(t.media, duration=dur * copies),
        t.language,
        t.provenance,
        words,
        build_captions(words, language=t.language),
        created=t.created,
    )


def _say(lock: threading.Lock, text: str) -> None:
    with lock:  # one write per line: the saver thread prints too
        sys.stdout.write(f"{text} {time.monotonic():.6f}\n")
        sys.stdout.flush()


def editor_child(project: str, script: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from app.controllers.editor_controller import EditorController
    from pipeline.transcripts import project as projects

    plan = json.loads(Path(script).read_text())
    ops, delays = plan["ops"], plan["delays"]
    lock = threading.Lock()
    index: dict[int, int] = {}
    keep: list[Any] = []  # ids stay unique while the states live
    real_save = projects.save

    def save(
        p: projects.Project, path: str | Path | None = None
    ) -> Path:  # the autosave thread's write, reported once on disk
        out = real_save(p, path)
        _say(lock, f"saved {index.get(id(p.transcript), -1)}")
        return out

    projects.save = save
    ed = EditorController(projects.load(project), media_available=False)
    ed.show()
    keep.append(ed.window.session.transcript)
    index[id(keep[-1])] = 0

    def step(k: int) -> None:
        if k > len(ops):
            _say(lock, "done")
            return

        def op(t: Any) -> Any:
            after = apply_op(t, ops[k - 1])
            keep.append(after)
            index[id(after)] = k  # before the saver can see it
            return after

        ed.window.session.apply(f"edit {k}", op)
        _say(lock, f"edit {k}")
        QTimer.singleShot(round(delays[k - 1] * 1000), lambda: step(k + 1))

    _say(lock, "ready")
    QTimer.singleShot(0, lambda: step(1))
    app.exec()


def editor_part(
    kills: int,
    seed: int,
    work: Path,
    *,
    source: Path | None = None,
    env: dict[str, str] | None = None,
    copies: int = 100,
    edits: int = 60,
    moments: list[float] | None = None,
) -> list[Kill]:
    """`source`: a transcript JSON to build the project from (default: jfk.wav transcribed by the CLI);
    `moments`: fixed seconds after the first edit instead of random ones."""
    from pipeline.transcripts import project as projects
    from pipeline.transcripts import transcript_json
    from pipeline.transcripts.project import Project

    env = {**(env or os.environ), "QT_QPA_PLATFORM": "offscreen"}
    work.mkdir(parents=True, exist_ok=True)
    if source is None:
        shutil.copyfile(JFK, work / JFK.name)
        run = transcribe(work / JFK.name, work / "source", env, work / "source.log")
        if run.proc.wait(300) != 0:
            raise RuntimeError(f"hark transcribe failed; see {work / 'source.log'}")
        source = work / "source" / f"{JFK.stem}.json"
    base = tiled(transcript_json.load(source), copies)
    rng = random.Random(seed)
    ops, states = edit_script(base, edits, rng)

    def session(folder: Path) -> tuple[Path, Child, float]:
        """A fresh copy of the project, an editor child editing it; when its first edit was made."""
        folder.mkdir(exist_ok=True)
        path = projects.save(Project(base, {"engine": "whisper"}), folder / "jfk.hark")
        script = folder / "script.json"
        script.write_text(json.dumps({"ops": ops, "delays": [rng.uniform(0.005, 0.12) for _ in ops]}))
        child = Child(
            python_cmd("-m", "bench.kill_campaign", "--child", "editor", str(path), str(script)),
            env=env,
            log=folder / "child.log",
        )
        return path, child, float(child.wait_line("edit 1 ", 120).split()[-1])  # the child's monotonic clock

    # One session left to finish: how long a session lasts, and how long an edit waits to be on disk.
    _, child, start = session(work / "calibration")
    child.wait_line("done", 600)
    child.wait_line(f"saved {len(ops)} ", 60)
    child.kill9()
    child.orphans()
    edit_at = {int(t.split()[1]): float(t.split()[2]) for t, _ in child.seen if t.startswith("edit ")}
    saved_at = sorted((int(t.split()[1]), float(t.split()[2])) for t, _ in child.seen if t.startswith("saved "))
    waits = [next(ts for j, ts in saved_at if j >= k) - at for k, at in edit_at.items()]
    length = max(edit_at.values()) - start
    print(
        f"editor: {len(base.words)} words, {len(ops)} edits in {length:.1f} s per session; an edit is on disk "
        f"{statistics.median(waits) * 1000:.0f} ms after it was made (median), {max(waits) * 1000:.0f} ms at most",
        flush=True,
    )
    results = []
    for i in range(len(moments) if moments is not None else kills):
        folder = work / f"kill-{i:03d}"
        path, child, start = session(folder)
        delay = moments[i] if moments is not None else rng.uniform(0, length + 0.3)
        time.sleep(max(0.0, start + delay - time.monotonic()))
        t_kill = child.kill9()
        k = Kill("editor", i, t_kill - start, "")
        k.orphans = child.orphans()
        edited: dict[int, float] = {}
        saved = 0
        for text, _ in child.seen:
            what, *rest = text.split()
            if what == "edit":
                edited[int(rest[0])] = float(rest[1])
            elif what == "saved":
                saved = max(saved, int(rest[0]))
        k.litter = [p.name for p in folder.iterdir() if p.name not in {"jfk.hark", "script.json", "child.log"}]
        try:
            disk = projects.load(path).transcript
        except Exception as e:
            k.violations.append(f"the project does not load: {e}")
            k.phase = "?"
            results.append(k)
            continue
        m = next(
            (
                j
                for j in range(len(states) - 1, -1, -1)
                if disk.edits == states[j].edits and disk.captions == states[j].captions
            ),
            None,
        )
        if m is None:
            k.violations.append("the project on disk is no state the editor ever had")
        elif m < saved:
            k.violations.append(f"edit {saved} was reported saved, the disk holds only up to edit {m}")
        last = max(edited, default=0)
        lost = [j for j in edited if m is not None and j > m]
        k.figure = t_kill - edited[min(lost)] if lost else 0.0
        projects.save(projects.load(path))  # what the next autosave does: it must clear what the kill left
        left = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
        if left:
            k.litter.append(f"still there after the next save: {', '.join(left)}")
        k.phase = (
            "mid-write (temporary file left)"
            if any(n.endswith(".tmp") for n in k.litter)
            else "after the last edit"
            if last == len(ops) and saved == last
            else "save pending"
            if saved < last
            else "everything saved"
        )
        results.append(k)
        print(
            f"  editor {i:3d}: {k.at:6.3f} s  {k.phase:32s} edits {last:3d}, reported saved {saved:3d}, "
            f"on disk {m}, oldest lost edit {k.figure * 1000:5.0f} ms old  {'; '.join(k.violations) or 'ok'}"
            f"{'  litter: ' + ', '.join(k.litter) if k.litter else ''}",
            flush=True,
        )
    return results


# --- part 3: dictation -------------------------------------------------------------------------
def dictation_child(data: str, engine: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.pop("DISPLAY", None)  # no global hotkey: driven like `hark dictate --start/--stop`
    from PySide6.QtCore import QObject, QTimer, Signal, Slot
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from app.dictation.dictation_controller import DictationController
    from app.settings import AppSettings
    from pipeline.models.store import ModelStore

    lock = threading.Lock()
    settings = AppSettings(
        engine=engine,
        language="en",
        threads=2,
        dictation_mode="push",
        dictation_insert="type",
        dictation_partials=False,
    )
    d = DictationController(settings, ModelStore(), Path(data))
    d.history_changed.connect(lambda: _say(lock, "history"))
    d.enable()
    if d.capture is None:
        _say(lock, "error: no microphone")
        raise SystemExit(2)

    class Commands(QObject):
        got = Signal(str)  # from the stdin thread; queued to the GUI thread, where this object lives

        @Slot(str)
        def run(self, cmd: str) -> None:
            d.command(f"dictate-{cmd}")
            _say(lock, {"start": "recording", "stop": "stopped"}.get(cmd, cmd))

    commands = Commands()
    commands.got.connect(commands.run)

    def read_commands() -> None:
        for line in sys.stdin:
            commands.got.emit(line.strip())

    threading.Thread(target=read_commands, daemon=True).start()

    def ready() -> None:
        if d.ready.is_set() and d.capture is not None and d.capture.wait_ready(0):
            _say(lock, "ready")
        else:
            QTimer.singleShot(50, ready)

    ready()
    app.exec()


def coverage(recorded: np.ndarray, clip: np.ndarray, rate: int = 16_000) -> float:
    """Seconds of `clip`, from its start, found in `recorded` (cross-correlation, then a check of the match)."""
    if len(recorded) < rate // 20 or not np.any(recorded):
        return 0.0
    n = 1 << int(np.ceil(np.log2(len(recorded) + len(clip))))
    corr = np.fft.irfft(np.fft.rfft(recorded, n) * np.conj(np.fft.rfft(clip, n)), n)[: len(recorded)]
    lag = int(np.argmax(corr))  # recorded[lag + i] ~ clip[i]
    k = min(len(clip), len(recorded) - lag)
    a, b = recorded[lag : lag + k], clip[:k]
    if k < rate // 20 or np.std(a) == 0 or np.corrcoef(a, b)[0, 1] < 0.8:
        return 0.0
    return k / rate


def recovered_audio(data: Path) -> tuple[np.ndarray, list[str]]:
    """The audio in the journal: delivered (the history's, recovered at the next start or before the kill)
    and still pending (what UtteranceJournal.pending(), which the next start decodes, offers); and the
    files left that are neither."""
    from pipeline.dictation.utterance_journal import UtteranceJournal, read_wav

    j = UtteranceJournal(data)
    parts = [p.samples() for p in j.pending()]
    parts += [read_wav(h.audio_path) for h in reversed(j.history(10)) if h.audio_path is not None]
    pending = j.pending_dir
    known = {p.stem for p in pending.glob("*.wav")}
    litter = [p.name for p in pending.iterdir() if p.name.split(".")[0] not in known]
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), litter


@contextlib.contextmanager
def virtual_microphone() -> Iterator[Any]:
    from tests.virtual_mic import VirtualMic

    with VirtualMic() as mic:
        yield mic


def dictation_part(
    kills: int,
    seed: int,
    work: Path,
    *,
    clip_path: Path = SPEECH,
    engine: str = "whisper",
    env: dict[str, str] | None = None,
    moments: list[float] | None = None,
    mic: Any = None,
    recover: bool = True,
) -> list[Kill]:
    """`moments`: fixed seconds after the speech starts playing, instead of random ones; `mic`: a started
    tests.virtual_mic.VirtualMic (default: one of its own); `recover`: start the controller again after
    each kill and let it recover (decode) what was pending, as the app does at its next start."""
    from audio.decode import decode_audio

    work.mkdir(parents=True, exist_ok=True)
    clip = decode_audio(clip_path).samples
    dur = len(clip) / 16_000
    rng = random.Random(seed)
    results = []
    with contextlib.nullcontext(mic) if mic is not None else virtual_microphone() as mic:
        pulse = {k: os.environ[k] for k in ("PULSE_SERVER", "PULSE_COOKIE") if k in os.environ}  # the virtual mic
        child_env = {**(env or os.environ), **pulse, "QT_QPA_PLATFORM": "offscreen"}
        print(f"dictation: {clip_path.name} ({dur:.1f} s), engine {engine}", flush=True)
        for i in range(len(moments) if moments is not None else kills):
            data = work / f"kill-{i:03d}"
            child = Child(
                python_cmd("-m", "bench.kill_campaign", "--child", "dictation", str(data), engine),
                env=child_env,
                log=work / f"kill-{i:03d}.log",
                stdin=True,
            )
            child.wait_line("ready", 180)
            child.send("start")
            child.wait_line("recording", 30)
            t_play = time.monotonic()
            player = mic.play(clip_path, wait=False)
            delay = moments[i] if moments is not None else rng.uniform(0, dur + 1.5)
            stop_at = t_play + dur + 0.3
            stopped = False
            if t_play + delay > stop_at:
                time.sleep(max(0.0, stop_at - time.monotonic()))
                child.send("stop")
                stopped = True
            time.sleep(max(0.0, t_play + delay - time.monotonic()))
            t_kill = child.kill9()
            with contextlib.suppress(ProcessLookupError):
                player.kill()
            player.wait(10)
            k = Kill("dictation", i, t_kill - t_play, "")
            k.orphans = child.orphans()
            delivered = any(text.startswith("history") for text, _ in child.seen)
            if not delivered and recover:  # the next start decodes what was pending into the history
                again = Child(
                    python_cmd("-m", "bench.kill_campaign", "--child", "dictation", str(data), engine),
                    env=child_env,
                    log=work / f"kill-{i:03d}-recovery.log",
                    stdin=True,
                )
                again.wait_line("ready", 180)
                if any((data / "dictation" / "pending").glob("*.*")):
                    try:
                        again.wait_line("history", 120)
                    except TimeoutError:
                        k.violations.append("what was pending was not recovered at the next start")
                again.kill9()
                again.orphans()
            audio, k.litter = recovered_audio(data)
            played = min(max(0.0, t_kill - t_play), dur)
            k.figure = max(0.0, played - coverage(audio, clip))
            quarter = 25 * min(3, int(4 * played / dur))
            k.phase = (
                "delivered"
                if delivered
                else "after stop (saving, decoding)"
                if stopped
                else "before the speech reached the mic"
                if played < 0.3
                else f"mid-utterance ({quarter}-{quarter + 25} % of the speech)"
            )
            if k.figure > MAX_DICTATION_LOSS:
                k.violations.append(
                    f"{k.figure:.2f} s of the {played:.2f} s played were lost ({len(audio) / 16000:.2f} s recovered)"
                )
            if k.orphans:
                k.violations.append(f"{k.orphans} child process(es) outlived Hark")
            results.append(k)
            print(
                f"  dictation {i:3d}: {k.at:6.2f} s  {k.phase:36s} played {played:5.2f} s, recovered "
                f"{len(audio) / 16000:5.2f} s, lost {k.figure:5.2f} s  {'; '.join(k.violations) or 'ok'}"
                f"{'  litter: ' + ', '.join(k.litter) if k.litter else ''}",
                flush=True,
            )
    return results


# --- report ------------------------------------------------------------------------------------
def _temp_pattern(name: str) -> str:
    """A temporary file's name with its random part (and writer's pid) masked, to count alike ones."""
    name = re.sub(r"\.\d+\.[a-z0-9_]{8}\.tmp$", ".PID.XXXXXXXX.tmp", name)
    return re.sub(r"\.[a-z0-9_]{8}\.tmp$", ".XXXXXXXX.tmp", name)


def report(results: list[Kill]) -> str:
    lines = []
    for part in dict.fromkeys(k.part for k in results):
        ks = [k for k in results if k.part == part]
        bad = [k for k in ks if k.violations]
        figures = [k.figure for k in ks if k.figure is not None]
        lines.append(
            f"{part}: {len(ks)} kills, {len(bad)} with violations, "
            f"{sum(k.orphans for k in ks)} orphaned child processes, {sum(bool(k.litter) for k in ks)} "
            f"with litter"
        )
        for phase, n in sorted(Counter(k.phase for k in ks).items()):
            lines.append(f"    {n:4d}  {phase}")
        if figures:
            name = {"editor": "oldest lost edit's age at the kill", "dictation": "audio lost"}.get(part, "figure")
            lines.append(f"    {name}: median {statistics.median(figures):.3f} s, max {max(figures):.3f} s")
        for k in bad:
            lines.append(f"    VIOLATION kill {k.index} ({k.phase}, {k.at:.3f} s): {'; '.join(k.violations)}")
        litter = Counter(_temp_pattern(x) for k in ks for x in k.litter)
        for name, n in litter.items():
            lines.append(f"    litter x{n}: {name}")
    return "\n".join(lines)


PARTS: dict[str, Callable[..., list[Kill]]] = {"file": file_part, "editor": editor_part, "dictation": dictation_part}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.kill_campaign", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--kills", type=int, default=50, help="kills per part (default 50)")
    p.add_argument("--part", choices=[*PARTS, "all"], default="all")
    p.add_argument("--seed", type=int, default=14)
    p.add_argument("--work", type=Path, help="keep everything here (default: a temporary folder, removed)")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        {"editor": editor_child, "dictation": dictation_child}[args.child[0]](*args.child[1:])
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="hark-kill-"))
    results: list[Kill] = []
    try:
        for name in PARTS if args.part == "all" else [args.part]:
            results += PARTS[name](args.kills, args.seed, work / name)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n" + report(results))
    return 1 if any(k.violations for k in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
