"""Runs transcription jobs off the GUI thread and reports back through Qt signals.

One job at a time on a worker thread: the engine runs in native code with the
GIL released, so the GUI stays responsive. The loaded engine is kept and
reused while the settings that chose it, and the model file they resolve to,
stay the same.

Worker threads never touch Qt: they put events on a plain queue, and a timer
on the GUI thread turns them into signals. (Emitting Qt signals from Python
threads while the GUI thread is busy in Qt has deadlocked here under load.)
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import errno
import logging
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.controllers.job_speakers import SpeakerStep
from app.engine_choice import engine_key
from app.settings import AppSettings, to_caption_rules, to_options
from audio.errors import Cancelled, HarkError, MediaError
from audio.probe import probe
from pipeline.alignment.aligner import Aligner, LazyAligner
from pipeline.captions.export import export, free_stem
from pipeline.errors import ModelError
from pipeline.models.store import ModelStore
from pipeline.transcription.engine_setup import LoadedEngine, load_engine, load_vad
from pipeline.transcripts.project import Project, project_name_for
from pipeline.transcripts.project import save as save_project

if TYPE_CHECKING:
    from audio.vad import SileroVad

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.1  # seconds between progress signals: smooth, without flooding the event loop
EVENT_POLL_MS = 30
# The row's bar when speakers are identified too: transcription fills the first part, diarization
# the rest (on CPU, diarization costs about what whisper's small models do).
TRANSCRIBE_SHARE = 0.5


@dataclass
class JobResult:
    project: str
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def describe_os_error(e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return f"the disk is full{f' ({e.filename})' if e.filename else ''}: free some space and retry"
    where = f": {e.filename}" if e.filename else ""
    return f"{e.strerror or e}{where}"


class JobRunner(QObject):
    started = Signal(str)  # job id
    progress = Signal(str, float)  # job id, 0..1
    finished = Signal(str, object)  # job id, JobResult
    failed = Signal(str, str)  # job id, one-line reason
    cancelled = Signal(str)  # job id
    stage = Signal(str, str)  # job id, what it does now ("Identifying speakers")
    notice = Signal(str)  # something the user should know (e.g. "using the offline engine")
    probed = Signal(str, object, object)  # job id, duration or None, error message or None

    def __init__(self, store: ModelStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._thread: threading.Thread | None = None
        self._active = False  # a job is running (cleared by the worker just before its last event)
        self._cancel = threading.Event()
        self._job_id: str | None = None
        self._engine_key: tuple[object, ...] | None = None
        self._engine: LoadedEngine | None = None
        self._vad: SileroVad | None = None
        self._vad_loaded = False
        self._aligners = LazyAligner()
        self._speakers = SpeakerStep(store)
        self._probe_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hark-probe")
        self._events: queue.SimpleQueue[tuple[str, tuple[object, ...]]] = queue.SimpleQueue()
        self._pump = QTimer(self, interval=EVENT_POLL_MS)
        self._pump.timeout.connect(self.deliver)
        self._pump.start()

    def _post(self, signal: str, *args: object) -> None:
        """From any thread: deliver `signal(*args)` on the GUI thread."""
        self._events.put((signal, args))

    def deliver(self) -> None:
        """Emit what the workers posted (called by the timer; tests may call it too)."""
        while True:
            try:
                name, args = self._events.get_nowait()
            except queue.Empty:
                return
            getattr(self, name).emit(*args)

    # --- probing (duration, and early failure of files that are not media) -----------------
    def probe(self, job_id: str, path: str) -> None:
        def work() -> None:
            try:
                info = probe(path)
                self._post("probed", job_id, info.duration, None)
            except MediaError as e:  # the row names the file already: the reason is enough
                self._post("probed", job_id, None, e.reason)
            except HarkError as e:
                self._post("probed", job_id, None, str(e))
            except OSError as e:
                self._post("probed", job_id, None, describe_os_error(e))

        self._probe_pool.submit(work)

    # --- running ---------------------------------------------------------------------------
    def busy(self) -> bool:
        return self._active

    @property
    def job_id(self) -> str | None:
        return self._job_id if self.busy() else None

    def run(self, job_id: str, path: str, settings: AppSettings) -> None:
        if self.busy():
            raise RuntimeError("a job is already running")
        self._cancel = threading.Event()
        self._job_id = job_id
        self._active = True
        self._thread = threading.Thread(
            target=self._work,
            args=(job_id, path, dataclasses.replace(settings), self._cancel),
            name="hark-job",
            daemon=True,
        )
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the running job has stopped; True if it did within `timeout`."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def shutdown(self) -> None:
        self.cancel()
        self.wait(10)
        self._pump.stop()
        self._probe_pool.shutdown(wait=False, cancel_futures=True)
        self._close_engine()
        self._aligners.close()
        self._speakers.close()

    def _close_engine(self) -> None:
        if self._engine is not None:
            close = getattr(self._engine.engine, "close", None)
            if close is not None:
                close()
            self._engine = None

    def _engine_for(self, s: AppSettings) -> LoadedEngine:
        # Keyed on the model file "best installed" finds now, not only on the settings: a model added
        # since the last job (while the offline engine ran for want of one) is used by the next.
        key = engine_key(s, self.store)
        if self._engine is None or key != self._engine_key:
            self._close_engine()  # let the old model go before loading the new one
            self._engine = load_engine(s.engine, s.model, self.store, language=s.language, isolate=True)
            self._engine_key = key
            for n in self._engine.notices:
                self._post("notice", for_gui(n))
        return self._engine

    def _vad_for(self, s: AppSettings, *, check_only: bool = False) -> SileroVad | None:
        """The VAD that trims silence; check_only: the same model when trimming is off, only to mark text
        with no voice under it (pipeline.transcription.voice_check)."""
        if not s.use_vad and not check_only:
            return None
        if not self._vad_loaded:
            self._vad, note = load_vad(self.store)
            self._vad_loaded = self._vad is not None
            if note and not check_only:
                self._post("notice", for_gui(note))
        return self._vad

    def _aligner_for(self, s: AppSettings) -> Aligner | None:
        """Loaded on the worker thread, once (PocketSphinx's model takes ~0.4 s to load)."""
        return None if not s.align_words or s.translate else self._aligners.get(s.language or "en")

    def _work(self, job_id: str, path: str, s: AppSettings, cancel: threading.Event) -> None:
        from pipeline.transcription.transcribe import transcribe_file

        self._post("started", job_id)
        last, shown = [0.0], [0.0]
        share = TRANSCRIBE_SHARE if s.diarize else 1.0

        def tick(f: float) -> None:
            if f < shown[0]:
                return  # never backwards, whichever step reports
            now = time.monotonic()
            if now - last[0] >= PROGRESS_INTERVAL or f >= 1.0:
                last[0], shown[0] = now, f
                self._post("progress", job_id, f)

        try:
            loaded = self._engine_for(s)
            vad = self._vad_for(s)
            check = None if vad is not None else self._vad_for(s, check_only=True)
            transcript = transcribe_file(
                path,
                loaded.engine,
                to_options(s),
                vad=vad,
                rules=to_caption_rules(s),
                progress=lambda f: tick(f * share),
                cancel=cancel,
                model_sha256=loaded.model_sha256,
                aligner=self._aligner_for(s),
                voice_check=check,
            )
            if cancel.is_set():
                raise Cancelled()
            warnings = list(transcript.warnings)
            if s.diarize and transcript.words:
                self._post("stage", job_id, "Identifying speakers")
                self._post("notice", f"Identifying speakers in {Path(path).name}…")
                transcript, problem = self._speakers.run(
                    path, transcript, s, lambda f: tick(share + (1 - share) * f), cancel
                )
                warnings += [problem] if problem else []
                if cancel.is_set():
                    raise Cancelled()
            projects = Path(s.projects_folder)
            projects.mkdir(parents=True, exist_ok=True)
            project = Project(transcript, settings=_settings_record(s))
            project_file = save_project(project, project_name_for(Path(path), projects))
            outputs = self._export(project, s)
            final: tuple[str, *tuple[object, ...]] = (
                "finished",
                job_id,
                JobResult(str(project_file), outputs, warnings),
            )
        except Cancelled:
            final = ("cancelled", job_id)
        except MediaError as e:
            final = ("failed", job_id, e.reason if Path(e.path) == Path(path) else str(e))
        except ModelError as e:  # worded for the terminal; here the fix is a menu away
            msg = for_gui(str(e))
            final = ("failed", job_id, msg)
        except HarkError as e:
            final = ("failed", job_id, str(e))
        except OSError as e:
            final = ("failed", job_id, describe_os_error(e))
        except Exception as e:  # a bug: this job fails, the app and the queue go on
            log.exception("job %s failed unexpectedly", job_id)
            final = ("failed", job_id, f"unexpected error: {e} (details in the log)")
        # Not busy any more before the GUI hears of it, so it can start the next job at once.
        self._active = False
        self._post(*final)

    @staticmethod
    def _export(project: Project, s: AppSettings) -> list[str]:
        src = project.media_path
        folder = Path(s.output_folder) if s.output_folder else src.parent
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        stem = free_stem(folder, src.stem, s.formats)  # never replaces a file already there
        for fmt in s.formats:
            target = stem.with_name(f"{stem.name}.{fmt}")
            out.append(str(export(project.transcript, fmt, target, highlight_words=s.highlight_words)))
        return out


def for_gui(message: str) -> str:
    """Messages worded for the terminal point at the menu instead of a command."""
    return re.sub(r"run: hark models download (\S+)", r"download \1 in Tools → Models", message)


def _settings_record(s: AppSettings) -> dict[str, object]:
    keep = (
        "engine",
        "model",
        "language",
        "translate",
        "threads",
        "max_line_chars",
        "max_lines",
        "use_vad",
        "align_words",
        "diarize",
        "num_speakers",
    )
    return {k: getattr(s, k) for k in keep}
