"""One open editor: the window, saving every edit, the waveform, and the export dialog.

Every change is saved at once, atomically. Writing a 10,000-word project takes
~0.1 s here (mostly JSON encoding), too long for the GUI thread on each key, so
a saver thread writes the newest transcript; transcripts are immutable values,
so the thread can serialize one while the user goes on editing. A kill at any
moment leaves the last complete save on disk.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.controllers.job_runner import describe_os_error
from audio.errors import HarkError
from pipeline.alignment.aligner import LazyAligner
from pipeline.transcripts import project as projects
from pipeline.transcripts.project import Project
from pipeline.transcripts.transcript import Transcript
from ui.editor.editor_window import EditorWindow
from ui.editor.export_dialog import BackgroundTask, ExportDialog

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
PEAKS_PER_SECOND = 100
POLL_MS = 50


class ProjectSaver:
    """Writes the newest project state on its own thread; never touches Qt.

    `save()` only hands over a snapshot; a burst of edits while a write runs
    ends in one more write of the last state. Failures wait in `errors`.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: Project | None = None
        self._busy = False
        self._stop = False
        self.errors: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.saved = 0  # completed writes (the GUI shows "Saved")
        self._thread = threading.Thread(target=self._run, name="hark-autosave", daemon=True)
        self._thread.start()

    def save(self, p: Project) -> None:
        snapshot = Project(transcript=p.transcript, settings=dict(p.settings), path=p.path)
        with self._cond:
            self._pending = snapshot
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stop:
                    self._cond.wait()
                if self._pending is None:
                    return
                p, self._pending, self._busy = self._pending, None, True
            try:
                projects.save(p)
                self.saved += 1
            except OSError as e:
                self.errors.put(describe_os_error(e))
            except (HarkError, ValueError) as e:
                self.errors.put(str(e))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def idle(self) -> bool:
        with self._cond:
            return self._pending is None and not self._busy

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything handed over is on disk; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def close(self, timeout: float = 30.0) -> bool:
        done = self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return done


class EditorController(QObject):
    project_changed = Signal(object)  # the Project, after each edit (the main window shows it too)
    closed = Signal(object)  # this controller, once its window closed and everything is saved
    open_project_requested = Signal()

    def __init__(self, project: Project, media_available: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        media = project.media_path if media_available and project.media_path.is_file() else None
        self.window = EditorWindow(project.transcript, project.title, media)
        self.saver = ProjectSaver()
        self._peaks: BackgroundTask | None = None
        self._media = media
        self._realigns: list[BackgroundTask] = []
        self._aligner = LazyAligner()  # loaded by the first re-alignment's worker thread
        self.export_dialog: ExportDialog | None = None
        self._pump = QTimer(self, interval=POLL_MS)
        self._pump.timeout.connect(self._report_saves)
        self._pump.start()
        self._shown_saves = 0
        self._closed = False

        w = self.window
        w.session.changed.connect(self._edited)
        w.can_close = self._closing
        w.destroyed.connect(self._window_gone)
        w.export_requested.connect(self.export)
        w.open_project_requested.connect(self.open_project_requested)
        w.editor_actions.export.setEnabled(media is not None)
        if media is None:
            w.show_status("The media file is missing: the text can be edited, but not played or exported")
        else:
            self._load_peaks(media)

    # --- saving ------------------------------------------------------------------------------
    def _edited(self, t: Transcript, _select: list[int]) -> None:
        before = self.project.transcript
        self.project.transcript = t
        self.save()
        self.project_changed.emit(self.project)
        self._realign(before, t)

    # --- re-alignment after a correction -----------------------------------------------------
    def _realign(self, before: Transcript, t: Transcript) -> None:
        """Corrected text, so its times follow: align the changed captions again in the background and
        fold the new times into the same undo step."""
        from pipeline.alignment.aligner import can_align
        from pipeline.alignment.realign import changed_captions, realign

        if self._media is None or self._closed or not can_align(t.language):
            return
        captions = changed_captions(before, t)
        if not captions:
            return
        media, lazy = self._media, self._aligner

        def work(progress: Callable[[float], None], cancel: threading.Event) -> dict[int, tuple[float, float]]:
            # plain values only: a worker holding the controller could destroy it off the GUI thread
            aligner = lazy.get(t.language)
            return realign(media, t, captions, aligner, cancel=cancel) if aligner is not None else {}

        task = BackgroundTask(work, self, "hark-realign", receiver=self.window)
        task.finished.connect(lambda times: self._realigned(t, times))
        task.failed.connect(lambda msg: log.warning("re-alignment failed: %s", msg))
        self._realigns.append(task)
        task.start()

    def _realigned(self, t: Transcript, times: dict[int, tuple[float, float]]) -> None:
        from pipeline.editing.editing import apply_alignment

        self._realigns = [x for x in self._realigns if x.running()]
        if times and not self._closed:
            self.window.session.amend(t, apply_alignment(t, times))

    def realign_tasks(self) -> list[BackgroundTask]:
        return list(self._realigns)

    def save(self) -> None:
        if self.project.path is not None:
            self.window.set_save_state("Saving…", f"Saving to {self.project.path}")
            self.saver.save(self.project)

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until the newest edit is on disk (tests, quitting)."""
        done = self.saver.flush(timeout)
        self._report_saves()
        return done

    def _report_saves(self) -> None:
        errors = []
        while True:
            try:
                errors.append(self.saver.errors.get_nowait())
            except queue.Empty:
                break
        if errors:
            self.window.show_status(f"Could not save your edits: {errors[-1]}")
            self.window.set_save_state("Not saved", f"Saving failed: {errors[-1]}. Hark tries again at the next edit.")
        elif self.saver.saved != self._shown_saves and self.saver.idle():
            self._shown_saves = self.saver.saved
            self.window.set_save_state("Saved", f"Every edit is saved to {self.project.path} as you make it")

    def external_edit(self, transcript: Transcript, label: str = "Edit in the transcript view") -> None:
        """The same project was edited elsewhere (the main window's transcript view): record it here too."""
        if transcript is not self.window.session.transcript:
            self.window.session.push(label, transcript)

    # --- waveform ----------------------------------------------------------------------------
    def _load_peaks(self, media: Path) -> None:
        from pipeline.render.waveform import load_or_compute_peaks

        p = self.project
        cache = (
            Path(f"{p.path}.peaks.npz")
            if p.path is not None
            else Path(tempfile.gettempdir()) / f"hark-{p.transcript.media.sha256[:16] or 'media'}.peaks.npz"
        )
        sha = p.transcript.media.sha256

        def work(progress: Callable[[float], None], cancel: threading.Event) -> np.ndarray:
            return load_or_compute_peaks(media, cache, sha, PEAKS_PER_SECOND, progress=progress, cancel=cancel)

        task = BackgroundTask(work, self, "hark-peaks", receiver=self.window)
        task.finished.connect(lambda peaks: self.window.timeline.set_peaks(peaks, PEAKS_PER_SECOND))
        task.failed.connect(lambda msg: self.window.show_status(f"No waveform: {msg}"))
        self._peaks = task
        task.start()

    def peaks_task(self) -> BackgroundTask | None:
        return self._peaks

    # --- export ------------------------------------------------------------------------------
    def export(self) -> ExportDialog:
        if self.export_dialog is None or not self.export_dialog.isVisible():
            self.export_dialog = ExportDialog(
                self.window.session.transcript, self.window.preview.has_video(), self.window
            )
        self.export_dialog.open()
        return self.export_dialog

    # --- closing -----------------------------------------------------------------------------
    def _closing(self) -> bool:
        if self._closed:
            return True
        self._closed = True
        if self.export_dialog is not None and self.export_dialog.task is not None and self.export_dialog.task.running():
            self.export_dialog.task.cancel()
            self.export_dialog.task.wait(10)
        self._stop_background()
        self.save()
        if not self.saver.close():
            log.warning("the project was still being saved when the editor closed")
        self._report_saves()
        self._pump.stop()
        self.closed.emit(self)
        return True

    def _stop_background(self) -> None:
        # This controller outlives its window (Qt or a test deletes it after the close): what the work
        # still reports is dropped, never shown in widgets that may be gone.
        if self._peaks is not None:
            self._peaks.abandon()
        for task in self._realigns:
            task.abandon()
        self._aligner.close()  # does not wait: a re-alignment still running ends with an error, unseen

    def _window_gone(self) -> None:
        """The window was deleted without being closed: stop and save as a close does, touching no widget."""
        if self._closed:
            return
        self._closed = True
        self._pump.stop()
        self._stop_background()
        if self.project.path is not None:
            self.saver.save(self.project)
        if not self.saver.close():
            log.warning("the project was still being saved when the editor window was deleted")
        self.closed.emit(self)

    def show(self) -> None:
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()


__all__ = ["EditorController", "ProjectSaver"]
