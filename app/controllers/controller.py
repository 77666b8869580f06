"""Wires the main window to the queue, the runner, projects and settings.

Everything the user can lose is written to disk as soon as it changes: the
queue after every state change, a project after every edit (debounced).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.controllers.job_runner import JobResult, JobRunner, describe_os_error
from app.engine_choice import engine_label
from app.settings import AppSettings, save_settings
from app.system import paths
from audio.errors import HarkError
from audio.formats import expand_inputs
from pipeline.atomic_write import write_text_atomic
from pipeline.captions.export import export
from pipeline.models.store import ModelStore
from pipeline.transcription.jobs import JobQueue, JobStatus, estimate_eta, load_queue, save_queue
from pipeline.transcripts import project as projects
from pipeline.transcripts.project import Project
from ui.main.main_window import PROJECT_FILTER, MainWindow
from ui.main.queue_model import QueueModel
from ui.transcript.speaker_rename import undo_label

if TYPE_CHECKING:
    from app.controllers.editor_controller import EditorController
    from app.dictation.dictation_controller import DictationController
    from ui.dictation.dictation_history import DictationHistory
    from ui.main.tray import TrayIcon
    from ui.models.model_manager import ModelManagerDialog

log = logging.getLogger(__name__)
RECENT_MAX = 12
AUTOSAVE_MS = 400


class Controller(QObject):
    def __init__(
        self, settings: AppSettings, store: ModelStore, qsettings: QSettings | None = None, icon: QIcon | None = None
    ) -> None:
        super().__init__()
        self.settings = settings
        self.qsettings = qsettings
        self.store = store
        queue, warning = load_queue(paths.queue_file())
        self.model = QueueModel(queue, self)
        self.window = MainWindow(self.model, icon)
        self.runner = JobRunner(store, self)
        self.project: Project | None = None
        self.dictation: DictationController | None = None  # once started
        self._history: DictationHistory | None = None  # once shown
        self.editors: list[EditorController] = []  # open editor windows, one per project
        self._refresh_view = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)  # editor edits, shown here too
        self._refresh_view.timeout.connect(self._show_project_again)
        self._autosave = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_project)
        self._quitting = False
        self.tray: TrayIcon | None = None  # set by app.gui where there is a system tray

        w = self.window
        w.files_dropped.connect(self.add_paths)
        w.open_project_requested.connect(self.open_project)
        w.models_requested.connect(self.show_models)
        w.settings_requested.connect(self.show_settings)
        w.dictation_toggle_requested.connect(lambda: self.command("dictate-toggle"))
        w.dictation_history_requested.connect(self.show_dictation_history)
        w.can_close = self.confirm_close
        qv = w.queue_view
        qv.cancel_requested.connect(self.cancel_job)
        qv.retry_requested.connect(self.retry_job)
        qv.remove_requested.connect(self.remove_job)
        qv.reveal_requested.connect(self.reveal_job)
        qv.job_selected.connect(self.show_job)
        tv = w.transcript_view
        tv.project_changed.connect(self._project_edited)
        tv.speaker_renamed.connect(lambda p, old, new: self._project_edited(p, undo_label(old, new)))
        tv.export_requested.connect(self.export_current)
        tv.editor_requested.connect(lambda: self.open_editor())

        r = self.runner
        r.started.connect(self._job_started)
        r.progress.connect(self._job_progress)
        r.stage.connect(self._job_stage)
        r.finished.connect(self._job_finished)
        r.failed.connect(self._job_failed)
        r.cancelled.connect(self._job_cancelled)
        r.notice.connect(w.show_status)
        r.probed.connect(self._job_probed)

        w.set_recent(self.recent())
        self._update_engine_label()
        if warning:
            w.show_status(warning)
        for job in queue.jobs:
            if job.active and job.duration is None:
                self.runner.probe(job.id, job.path)
        QTimer.singleShot(0, self.start_next)

    # --- queue -------------------------------------------------------------------------------
    @property
    def queue(self) -> JobQueue:
        return self.model.queue

    def add_paths(self, items: list[str]) -> int:
        """Queue files, and the media files inside folders; returns how many were added."""
        files = [str(p) for p in expand_inputs([Path(i) for i in items])]
        added = self.model.add_paths(files)
        for job in added:
            self.runner.probe(job.id, job.path)
        if not added and items:
            self.window.show_status("Nothing new to add: no media files, or they are queued already")
        self.save_queue()
        self.start_next()
        return len(added)

    def save_queue(self) -> None:
        try:
            save_queue(self.queue, paths.queue_file())
        except (HarkError, OSError) as e:
            self.window.show_status(f"Could not save the queue: {e}")

    def start_next(self) -> None:
        if self.runner.busy() or self._quitting:
            return
        job = self.queue.next_queued()
        if job is None:
            self._update_activity()
            return
        self.queue.start(job.id)
        self.model.job_changed(job.id)
        self.save_queue()
        self.runner.run(job.id, job.path, self.settings)
        self._update_activity()

    def cancel_job(self, job_id: str) -> None:
        job = self.queue.get(job_id)
        if job.status is JobStatus.RUNNING and self.runner.job_id == job_id:
            self.runner.cancel()  # the runner reports back through _job_cancelled
            return
        self.queue.cancel(job_id)
        self._changed(job_id)

    def retry_job(self, job_id: str) -> None:
        self.queue.retry(job_id)
        self._changed(job_id)
        self.runner.probe(job_id, self.queue.get(job_id).path)
        self.start_next()

    def remove_job(self, job_id: str) -> None:
        if self.queue.get(job_id).status is JobStatus.RUNNING:
            return
        self.model.remove_job(job_id)
        self.save_queue()
        self._update_activity()

    def reveal_job(self, job_id: str) -> None:
        job = self.queue.get(job_id)
        target = Path(job.outputs[0]).parent if job.outputs else Path(job.path).parent
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

    def _changed(self, job_id: str) -> None:
        self.model.job_changed(job_id)
        self.save_queue()
        self._update_activity()

    # --- runner signals ----------------------------------------------------------------------
    def _job_started(self, job_id: str) -> None:
        self.window.show_status(f"Transcribing {self.queue.get(job_id).name}…")

    def _job_stage(self, job_id: str, stage: str) -> None:
        self.queue.get(job_id).stage = stage
        self._changed(job_id)

    def _job_progress(self, job_id: str, fraction: float) -> None:
        job = self.queue.get(job_id)
        elapsed = time.time() - (job.started or time.time())
        self.queue.set_progress(job_id, fraction, estimate_eta(fraction, elapsed))
        self.model.job_changed(job_id)
        self._update_activity()

    def _job_probed(self, job_id: str, duration: object, error: object) -> None:
        try:
            job = self.queue.get(job_id)
        except KeyError:
            return  # removed meanwhile
        if error and job.status is JobStatus.QUEUED:
            self.queue.fail(job_id, str(error))  # fails alone, before it ever reaches the engine
        elif isinstance(duration, (int, float)):
            job.duration = float(duration)
        self._changed(job_id)

    def _job_finished(self, job_id: str, result: JobResult) -> None:
        self.queue.finish(job_id, result.project, result.outputs)
        job = self.queue.get(job_id)
        job.warnings = list(result.warnings)
        self._changed(job_id)
        self.add_recent(result.project)
        note = f" ({result.warnings[0]})" if result.warnings else ""
        self.window.show_status(f"Done: {job.name}{note}")
        selected = self.window.queue_view.selected_job()
        if self.project is None or (selected is not None and selected.id == job_id):
            self.window.queue_view.select_job(job_id)
            self.show_job(job_id)
        self.start_next()

    def _job_failed(self, job_id: str, message: str) -> None:
        self.queue.fail(job_id, message)
        self._changed(job_id)
        self.window.show_status(f"Failed: {self.queue.get(job_id).name}: {message}")
        self.start_next()

    def _job_cancelled(self, job_id: str) -> None:
        if self._quitting:  # unfinished work survives the restart
            self.queue.retry(job_id)
        else:
            self.queue.cancel(job_id)
            self.window.show_status(f"Cancelled: {self.queue.get(job_id).name}")
        self._changed(job_id)
        self.start_next()

    def _update_activity(self) -> None:
        counts = self.queue.counts()
        running = self.queue.running()
        waiting = counts[JobStatus.QUEUED]
        if running is not None:
            text = f"{running.stage or 'Transcribing'} {running.name} · {round(running.progress * 100)}%"
            if waiting:
                text += f" · {waiting} waiting"
        else:
            text = f"{counts[JobStatus.DONE]} done" + (
                f", {counts[JobStatus.FAILED]} failed" if counts[JobStatus.FAILED] else ""
            )
        if self.tray is not None:
            self.tray.set_activity(text, running is not None)

    # --- projects ----------------------------------------------------------------------------
    def show_job(self, job_id: str) -> None:
        if not job_id:
            return
        job = self.queue.get(job_id)
        if job.status is JobStatus.DONE and job.project:
            self.open_project(job.project)
        elif job.status is JobStatus.FAILED:
            self.save_project()
            self.project = None
            self.window.transcript_view.show_message(f"{job.name} failed", job.error or "no reason was given")

    def open_project(self, path: str) -> bool:
        self.save_project()  # never lose pending edits of the one being left
        editing = self._editor_for(path)  # open in an editor: share its project, never a second copy
        try:
            project = editing.project if editing is not None else projects.load(path)
        except HarkError as e:
            QMessageBox.warning(self.window, "Cannot open project", str(e))
            self.forget_recent(path)
            return False
        if projects.media_missing(project) and not self._find_media(project):
            self.window.show_status(f"{project.title}: the media file is missing; the transcript is shown without it")
        self.project = project
        self.window.transcript_view.set_project(project)
        self.window.setWindowTitle(f"{project.title} — Hark")
        self.add_recent(path)
        return True

    def _find_media(self, project: Project) -> bool:
        """The media moved: look next to the project, then ask the user where it went."""
        if project.path is not None:
            found = projects.find_moved_media(project, [project.path.parent])
            if found is not None and projects.relink_media(project, found, check_hash=False):
                projects.save(project)
                return True
        answer = QMessageBox.question(
            self.window,
            "Media file moved",
            f"The media of this project is no longer at\n{project.media_path}\n\nDo you know where it went?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        path, _ = QFileDialog.getOpenFileName(self.window, f"Where is {project.title}?")
        if not path:
            return False
        if not projects.relink_media(project, path):
            QMessageBox.warning(
                self.window, "Not the same file", f"{Path(path).name} is not the media this project was made from."
            )
            return False
        projects.save(project)
        return True

    def _project_edited(self, project: Project, label: str = "Correct word") -> None:
        self.project = project
        editor = self._editor_for(project.path)
        if editor is not None:  # one undo history and one writer per project: the editor's
            editor.external_edit(project.transcript, label)
            return
        self._autosave.start()

    def save_project(self) -> None:
        self._autosave.stop()
        if self.project is None or self.project.path is None:
            return
        editor = self._editor_for(self.project.path)
        if editor is not None:
            editor.save()
            return
        try:
            projects.save(self.project)
        except (HarkError, OSError) as e:
            msg = describe_os_error(e) if isinstance(e, OSError) else str(e)
            QMessageBox.warning(self.window, "Could not save", f"Your edits could not be saved: {msg}")

    def export_current(self, fmt: str) -> None:
        if self.project is None:
            return
        default = str(self.project.media_path.with_suffix(f".{fmt}"))
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export {fmt.upper()}", default)
        if not path:
            return
        try:
            out = export(self.project.transcript, fmt, path, highlight_words=self.settings.highlight_words)
        except (HarkError, OSError) as e:
            msg = describe_os_error(e) if isinstance(e, OSError) else str(e)
            QMessageBox.warning(self.window, "Export failed", msg)
            return
        self.window.show_status(f"Exported {out}")

    # --- the editor --------------------------------------------------------------------------
    def _editor_for(self, path: str | Path | None) -> EditorController | None:
        if path is None:
            return None
        want = Path(path).resolve()
        return next((e for e in self.editors if e.project.path is not None and e.project.path.resolve() == want), None)

    def open_editor(self, path: str | None = None) -> EditorController | None:
        """Open `path` (default: the project shown) in an editor window; its window if one is open already."""
        from app.controllers.editor_controller import EditorController

        shown = (
            self.project is not None
            and self.project.path is not None
            and path is not None
            and Path(path).resolve() == self.project.path.resolve()
        )
        if path is not None and not shown and not self.open_project(path):
            return None
        project = self.project
        if project is None:
            self.window.show_status("Select a finished transcript to edit it")
            return None
        editor = self._editor_for(project.path)
        if editor is None:
            self.save_project()
            media_ok = not projects.media_missing(project) or self._find_media(project)
            editor = EditorController(project, bool(media_ok), self)
            editor.project_changed.connect(self._editor_edited)
            editor.closed.connect(self._editor_closed)
            editor.open_project_requested.connect(lambda e=editor: self._choose_project_for_editor(e))
            self.editors.append(editor)
        editor.show()
        return editor

    def _choose_project_for_editor(self, editor: EditorController) -> None:
        path, _ = QFileDialog.getOpenFileName(editor.window, "Open a project", "", PROJECT_FILTER)
        if path:
            self.open_editor(path)

    def _editor_edited(self, project: Project) -> None:
        if project is self.project:
            self._refresh_view.start()  # debounced: a long transcript takes a moment to lay out

    def _show_project_again(self) -> None:
        if self.project is not None:
            self.window.transcript_view.set_project(self.project)

    def _editor_closed(self, editor: EditorController) -> None:
        if editor in self.editors:
            self.editors.remove(editor)
        if editor.project is self.project:
            self._refresh_view.stop()
            self._show_project_again()

    # --- recent projects ---------------------------------------------------------------------
    def recent(self) -> list[str]:
        try:
            data = json.loads(paths.recent_file().read_text(encoding="utf-8"))
            return [str(p) for p in data if isinstance(p, str)][:RECENT_MAX]
        except (OSError, ValueError, TypeError):
            return []

    def add_recent(self, path: str) -> None:
        self._write_recent([path, *[p for p in self.recent() if p != path]])

    def forget_recent(self, path: str) -> None:
        self._write_recent([p for p in self.recent() if p != path])

    def _write_recent(self, items: list[str]) -> None:
        try:
            write_text_atomic(paths.recent_file(), json.dumps(items[:RECENT_MAX], indent=1) + "\n")
        except (HarkError, OSError):
            log.warning("could not save the recent projects list", exc_info=True)
        self.window.set_recent(items[:RECENT_MAX])

    # --- dialogs -----------------------------------------------------------------------------
    def show_models(self) -> None:
        self.models_dialog().exec()
        self.models_changed()

    def models_dialog(self) -> ModelManagerDialog:
        """Tools → Models, wired to the settings (not shown yet)."""
        from ui.models.model_manager import ModelManagerDialog

        dlg = ModelManagerDialog(self.store, self.window, model=self.settings.model, engine=self.settings.engine)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.model_chosen.connect(self._model_chosen)
        dlg.models_changed.connect(self.models_changed)
        return dlg

    def models_changed(self) -> None:
        """A model was downloaded, imported or removed: what "best installed" means may have changed.
        The next job finds out by itself (JobRunner keys its engine on the model file)."""
        self._update_engine_label()
        if self.dictation is not None:
            self.dictation.reload_engine()

    def _model_chosen(self, name: str) -> None:
        self.settings.model = name
        if self.settings.engine == "sphinx":
            self.settings.engine = "auto"
        self._save_settings()
        self.window.show_status(f"Model: {Path(name).name}")

    def installed_models(self) -> list[str]:
        """The names the Settings dialog offers: downloaded whisper models, then imported ones."""
        downloaded = [m.name for m in self.store.catalog if m.kind == "whisper" and self.store.is_installed(m)]
        return downloaded + [m.name for m in self.store.imported()]

    def show_settings(self) -> None:
        from ui.settings.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.settings, self.installed_models(), self.window)
        if dlg.exec():
            self.settings = dlg.settings()
            self._save_settings()

    def _update_engine_label(self) -> None:
        self.window.show_engine(engine_label(self.settings, self.store))

    def _save_settings(self) -> None:
        self._update_engine_label()
        if self.dictation is not None:
            self.dictation.apply_settings(self.settings)
        if self.qsettings is not None:
            save_settings(self.settings, self.qsettings)

    def needs_first_run(self) -> bool:
        """No model chosen, none installed (downloaded or imported), and the welcome not shown before."""
        if self.settings.engine == "sphinx" or self.settings.model or self.store.whisper_files():
            return False
        qs = self.qsettings
        return qs is None or str(qs.value("first_run_done", "")) != "true"

    def maybe_first_run(self) -> None:
        """With no whisper model and no choice made yet, offer one (or the offline engine) once."""
        if not self.needs_first_run():
            return
        from ui.main.first_run import FirstRunDialog

        dlg = FirstRunDialog(self.store, self.window)
        QTimer.singleShot(0, dlg, lambda: log.info("first-run dialog open"))  # runs in its loop: it is up
        dlg.exec()
        if self._quitting:
            return  # ended by a signal: no choice was made, so the welcome comes again next time
        choice = dlg.choice()
        if choice is not None:
            kind, name = choice
            if kind in ("download", "imported") and name:
                self.settings.model, self.settings.engine = name, "auto"
            elif kind == "offline":
                self.settings.engine = "sphinx"
            self._save_settings()
        if self.qsettings is not None:
            self.qsettings.setValue("first_run_done", "true")

    # --- quitting ----------------------------------------------------------------------------
    def confirm_close(self) -> bool:
        if self.runner.busy():
            job = self.queue.running()
            name = job.name if job else "a file"
            answer = QMessageBox.question(
                self.window,
                "Quit Hark?",
                f"Hark is transcribing {name}.\nQuit anyway? The job stops now and starts again next time.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.shutdown()
        return True

    # --- dictation ---------------------------------------------------------------------------
    def start_dictation(self) -> None:
        """Keep the microphone ready and listen for the hotkey (unless turned off in Settings)."""
        from app.dictation.dictation_controller import DictationController
        from app.system.paths import data_dir

        if not self.settings.dictation_enabled or self.dictation is not None:
            return
        self.dictation = DictationController(self.settings, self.store, data_dir(), self)
        self.dictation.status.connect(self.window.show_status)
        self.dictation.enable()

    def command(self, name: str) -> None:
        """A command from `hark dictate ...` (another process, over the local socket)."""
        if name == "show-history":
            self.show_dictation_history()
        elif self.dictation is None:
            self.window.show_status("Dictation is turned off in Settings")
        else:
            self.dictation.command(name)

    def show_dictation_history(self) -> None:
        from ui.dictation.dictation_history import DictationHistory

        if self.dictation is None:
            self.window.show_status("Dictation is turned off in Settings")
            return
        if self._history is None:
            self._history = DictationHistory(self.dictation.journal, self.window)
            self._history.insert_requested.connect(self.dictation.insert_again)
            self.dictation.history_changed.connect(self._history.refresh)
        self._history.refresh()
        self._history.show()
        self._history.raise_()

    def shutdown(self) -> None:
        self._quitting = True
        if self.dictation is not None:
            self.dictation.shutdown()
        running = self.queue.running()
        self.runner.cancel()
        self.runner.wait(30)
        self.runner.deliver()  # what the worker said last (finished, cancelled) still counts
        if running is not None and running.status is JobStatus.RUNNING:
            self.queue.retry(running.id)  # the cancel signal may not arrive once the loop stops
        for editor in list(self.editors):
            editor.window.close()  # saves its project
        self.save_project()
        self.save_queue()
        if self.qsettings is not None:
            self.qsettings.sync()  # a signal's exit may never destroy it
        self.runner.shutdown()
