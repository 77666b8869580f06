"""Export the edit: the media without its cuts, with captions as files or burned in, off the GUI thread.

The render runs pipeline.render.trim_export.export_trimmed in a plain thread
(BackgroundTask): the thread never touches Qt, it leaves its progress and its
outcome where a GUI-thread timer picks them up (emitting Qt signals from
Python threads has deadlocked here under load; see app/controllers/job_runner.py).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QPalette, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audio.errors import Cancelled, HarkError
from pipeline.models.store import ModelStore
from pipeline.render.trim_export import TrimExportOptions, TrimExportResult, default_output, export_trimmed
from pipeline.transcripts.media_check import check_media_unchanged
from pipeline.transcripts.transcript import Transcript
from ui.editor.media_preview import clock

log = logging.getLogger(__name__)
POLL_MS = 50
CAPTIONS = [
    ("none", "No captions"),
    ("srt", "SubRip file beside it (.srt)"),
    ("vtt", "WebVTT file beside it (.vtt)"),
    ("burn", "Burned into the picture"),
]
PRESETS = [("fast", "Fast (larger file)"), ("balanced", "Balanced"), ("quality", "Best quality (slower)")]
Work = Callable[[Callable[[float], None], threading.Event], object]


class BackgroundTask(QObject):
    """Runs `work(progress, cancel)` in a thread; reports on the GUI thread. One run per task.

    Work can end after the window it was for: `abandon()` it when that window closes, and name the window as
    `receiver` (default: the parent), so that nothing is reported once Qt has deleted it, closed or not."""

    progress = Signal(float)
    finished = Signal(object)  # what `work` returned
    failed = Signal(str)  # a message for the user
    cancelled = Signal()

    def __init__(
        self, work: Work, parent: QObject | None = None, name: str = "hark-task", *, receiver: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._work, self._name = work, name
        self._receiver = receiver if receiver is not None else parent
        self._abandoned = False
        self.cancel_event = threading.Event()
        self._events: queue.SimpleQueue[tuple[str, object]] = queue.SimpleQueue()
        self._latest: float | None = None  # only the newest progress matters: no flood of events
        self._thread: threading.Thread | None = None
        self._pump = QTimer(self, interval=POLL_MS)
        self._pump.timeout.connect(self.deliver)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._pump.start()
        self._thread.start()

    def _run(self) -> None:
        def progress(f: float) -> None:
            self._latest = f

        try:
            result = self._work(progress, self.cancel_event)
        except Cancelled:
            self._events.put(("cancelled", None))
        except HarkError as e:
            self._events.put(("failed", str(e)))
        except OSError as e:
            where = f": {e.filename}" if e.filename else ""
            self._events.put(("failed", f"{e.strerror or e}{where}"))
        except Exception as e:  # a bug: say so in words, keep the app running, log the details
            log.exception("background task %s failed", self._name)
            self._events.put(("failed", f"unexpected error ({type(e).__name__}: {e})"))
        else:
            self._events.put(("finished", result))

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        self.cancel_event.set()

    def abandon(self) -> None:
        """Cancel, and report nothing more, whatever the thread still leaves: nobody is listening any more.
        (A cancel alone is not enough: work that ended just before it still reports `finished`.)"""
        self._abandoned = True
        self.cancel_event.set()
        self._pump.stop()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running()

    def deliver(self) -> None:
        """Emit what the thread left (the timer calls this; tests may too)."""
        if not self._abandoned and self._receiver is not None and not shiboken6.isValid(self._receiver):
            self.abandon()  # its window was deleted without being closed
        if self._abandoned:
            return
        latest, self._latest = self._latest, None
        if latest is not None:
            self.progress.emit(latest)
        while True:
            try:
                name, value = self._events.get_nowait()
            except queue.Empty:
                return
            self._pump.stop()
            getattr(self, name).emit(*(() if name == "cancelled" else (value,)))


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


class ExportDialog(QDialog):
    outcome: TrimExportResult | None  # set when the export has finished

    def __init__(self, transcript: Transcript, has_video: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Trimmed Media")
        self.transcript = transcript
        self.media = Path(transcript.media.path)
        self.task: BackgroundTask | None = None
        self.outcome = None

        self.path = QLineEdit(str(default_output(self.media)), self)
        self.path.setAccessibleName("Output file")
        self.path.setToolTip("Where to write the trimmed media; the original is never overwritten")
        self.browse = QPushButton("Choose…", self)
        self.browse.setToolTip("Choose the output file")
        self.browse.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        self.captions = self._combo(CAPTIONS, "srt", "Captions: a file beside the media, burned in, or none")
        if not has_video:  # nothing to burn captions into
            model = self.captions.model()
            assert isinstance(model, QStandardItemModel)  # a combo box's own model
            model.item(3).setEnabled(False)
        self.preset = self._combo(PRESETS, "balanced", "Encoding speed against file size and picture quality")
        self.edl = QCheckBox("Also write the cut list as an &EDL (CMX 3600)", self)
        self.edl.setToolTip("For finishing the edit in another editor (Resolve, Premiere, Avid…)")
        form = QFormLayout()
        for text, field, layout in (
            ("&Save as:", self.path, row),
            ("&Captions:", self.captions, None),
            ("&Quality:", self.preset, None),
        ):
            label = QLabel(text, self)
            label.setBuddy(field)
            form.addRow(label, layout if layout is not None else field)
        form.addRow("", self.edl)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Export progress")
        self.progress.hide()
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.reveal_button = self.buttons.addButton("Show in &Folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.reveal_button.hide()
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.reveal_button.clicked.connect(self.reveal)
        self.cancel_button.clicked.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.message)
        lay.addStretch(1)
        lay.addWidget(self.buttons)
        self.resize(560, 240)

    def _combo(self, items: list[tuple[str, str]], current: str, tip: str) -> QComboBox:
        box = QComboBox(self)
        for value, label in items:
            box.addItem(label, value)
        box.setCurrentIndex(box.findData(current))
        box.setToolTip(tip)
        return box

    def _choose(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export trimmed media", self.path.text())
        if path:
            self.path.setText(path)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        pal = self.palette()
        if error:  # a red that reads on the window colour, light theme or dark
            dark = pal.color(QPalette.ColorRole.Window).lightnessF() < 0.5
            pal.setColor(QPalette.ColorRole.WindowText, QColor(255, 120, 110) if dark else QColor(180, 30, 20))
        self.message.setPalette(pal)

    def output(self) -> Path:
        return Path(self.path.text().strip()).expanduser()

    def check_output(self) -> str:
        """Why the output path cannot be used ("" when it can)."""
        text = self.path.text().strip()
        if not text:
            return "Choose where to save the trimmed media."
        out = self.output()
        if same_file(out, self.media):
            return "That is the original media: choose another name so it is not overwritten."
        if out.is_dir():
            return "That is a folder: add a file name."
        if not out.parent.is_dir():
            return f"The folder {out.parent} does not exist."
        if not out.suffix:
            return f"Add an extension (such as {self.media.suffix or '.mp4'}) so the format is known."
        return ""

    # --- running -----------------------------------------------------------------------------
    def start(self) -> bool:
        """Check the choices and start the render; False (with the reason shown) when it cannot start."""
        if self.task is not None and self.task.running():
            return False
        problem = self.check_output()
        if problem:
            self._say(problem, error=True)
            return False
        out = self.output()
        if (
            out.exists()
            and QMessageBox.question(self, "Replace file?", f"{out.name} exists. Replace it?")
            != QMessageBox.StandardButton.Yes
        ):
            return False
        options = TrimExportOptions(
            captions=self.captions.currentData(),
            preset=self.preset.currentData(),
            vad_model=ModelStore().vad_path(),
            edl=self.edl.isChecked(),
        )
        t = self.transcript

        def work(progress: Callable[[float], None], cancel: threading.Event) -> object:
            # The word times are true only of the bytes transcribed: a clip re-exported under the same
            # name would be cut in the wrong places.
            check_media_unchanged(t.media, hint="put the original back, or transcribe this file again")
            return export_trimmed(t, out, options, progress=progress, cancel=cancel)

        self.task = BackgroundTask(work, self, "hark-export")
        self.task.progress.connect(lambda f: self.progress.setValue(round(f * 1000)))
        self.task.finished.connect(self._finished)
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(self._cancelled)
        self._running(True)
        self._say(f"Exporting to {out.name}…")
        self.task.start()
        return True

    def _running(self, on: bool) -> None:
        for w in (self.path, self.browse, self.captions, self.preset, self.edl, self.export_button):
            w.setEnabled(not on)
        self.progress.setVisible(on or self.progress.value() > 0)
        self.reveal_button.hide()
        if on:
            self.progress.setValue(0)
        self.cancel_button.setText("Cancel" if on else "Close")
        self.cancel_button.setToolTip("Stop the export" if on else "Close this dialog")

    def _finished(self, result: TrimExportResult) -> None:
        self.outcome = result
        self._running(False)
        self.progress.setValue(1000)
        lines = [f"Exported {clock(result.duration)} to {result.media}"]
        if result.captions is not None:
            lines.append(f"Captions: {result.captions}")
        lines += [n[:1].upper() + n[1:] for n in result.notes]
        self._say("\n".join(lines))
        self.reveal_button.show()
        self.export_button.setText("Export &Again")

    def _failed(self, message: str) -> None:
        self._running(False)
        self.progress.hide()
        self._say(f"Export failed: {message}", error=True)

    def _cancelled(self) -> None:
        self._running(False)
        self.progress.hide()
        self._say("Export cancelled; nothing was written.")

    def reveal(self) -> None:
        media = self.outcome.media if self.outcome is not None else self.output()
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(media.parent)))

    def reject(self) -> None:
        """Cancel (or Esc) stops a running export first; the dialog closes once nothing runs."""
        if self.task is not None and self.task.running():
            self.task.cancel()
            self._say("Cancelling…")
            return
        super().reject()


__all__ = ["BackgroundTask", "ExportDialog"]
