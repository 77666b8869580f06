"""The model manager's speaker diarization section: download pyannote's pipeline with a Hugging Face token.

The repository is gated, so the user pastes an access token into a password
field. The token lives only in that field and in the download thread; it is
never saved, and the field is cleared once the download has succeeded.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audio.errors import Cancelled
from pipeline.errors import ModelError
from pipeline.models.catalog import CatalogModel
from pipeline.models.store import ModelStore
from pipeline.speakers import diarization_download as dd
from ui.models.download_worker import DownloadWorker, Progress, human_size

log = logging.getLogger(__name__)

NAME = dd.NAMES[0]
# DownloadWorker reports by entry name; this stands for the pipeline folder (never downloaded as one file).
_ENTRY = CatalogModel(
    name=NAME,
    kind="diarization",
    filename=dd.REPO.split("/")[1],
    url=dd.MODEL_PAGE,
    size=0,
    sha256=None,
    sha1=None,
    english_only=False,
    description="speaker diarization pipeline",
)


class PipelineDownloadWorker(DownloadWorker):
    """DownloadWorker's thread, throttled progress and speed, running the pipeline download instead."""

    def __init__(self, store: ModelStore, token: str, parent: QObject | None = None) -> None:
        super().__init__(store, _ENTRY, parent)
        self._token = token

    def _run(self) -> None:
        token, self._token = self._token, ""  # held by this frame only
        try:
            path = dd.download_pipeline(self.store.root, token, progress=self._on_bytes, cancel=self._cancel)
        except Cancelled:
            self.cancelled.emit(NAME, self._last)
        except ModelError as e:
            self.failed.emit(NAME, str(e))
        except OSError as e:
            self.failed.emit(NAME, f"cannot write {dd.WHAT}: {e.strerror or e}")
        except Exception as e:  # a bug must fail this section, never the app
            log.exception("download of %s failed", NAME)
            self.failed.emit(NAME, f"unexpected error: {type(e).__name__}")
        else:
            self.succeeded.emit(NAME, str(path))


class DiarizationModelBox(QGroupBox):
    """Token field, Download / Cancel / Remove, progress, and what to do on huggingface.co first."""

    stopped = Signal()  # a download ended, however it ended
    changed = Signal()  # installed or removed

    def __init__(self, store: ModelStore, parent: QWidget | None = None) -> None:
        super().__init__("Speaker diarization (who spoke when)", parent)
        self.store = store
        self._worker: PipelineDownloadWorker | None = None
        self._retired: list[PipelineDownloadWorker] = []  # see Downloads._retired: no QObject dies in its thread
        self._cancelling = False
        self._last: Progress | None = None

        self.note = QLabel(
            f'pyannote <a href="{dd.MODEL_PAGE}">speaker-diarization-community-1</a> is gated: on Hugging Face, '
            "sign in and accept the model's conditions, then paste an access token "
            f'(<a href="{dd.TOKENS_PAGE}">make a read token</a>). The token is used for this download only '
            "and is not saved.",
            self,
        )
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.setOpenExternalLinks(True)

        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("Hugging Face access token (hf_…)")
        self.token.setToolTip("Used for this download only; not saved")
        self.token.textChanged.connect(self._update)
        self.token.returnPressed.connect(self.start_download)
        self.download_button = QPushButton("Download", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.remove_button = QPushButton("Remove", self)
        self.download_button.setToolTip("Download the pipeline (about 32 MB; resumes a cancelled download)")
        self.remove_button.setToolTip("Delete the downloaded pipeline from the models folder")
        for b in (self.download_button, self.cancel_button, self.remove_button):
            b.setAutoDefault(False)
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button.clicked.connect(self.cancel)
        self.remove_button.clicked.connect(self.remove)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Token:", self))
        controls.addWidget(self.token, 1)
        for b in (self.download_button, self.cancel_button, self.remove_button):
            controls.addWidget(b)

        self.status = QLabel(self)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.hide()
        state_row = QHBoxLayout()
        state_row.addWidget(self.status, 1)
        state_row.addWidget(self.progress, 1)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # errors quote URLs and server text
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(controls)
        layout.addLayout(state_row)
        layout.addWidget(self.message)
        self._update()

    # --- queries ----------------------------------------------------------------------------------
    def running(self) -> list[str]:
        return [NAME] if self._worker is not None else []

    def is_installed(self) -> bool:
        return dd.is_installed(self.store.root)

    def status_text(self) -> str:
        return self.status.text()

    # --- actions ----------------------------------------------------------------------------------
    def start_download(self) -> None:
        token = self.token.text().strip()
        if self._worker is not None or not token or self.is_installed():
            return
        worker = PipelineDownloadWorker(self.store, token)
        queued = Qt.ConnectionType.QueuedConnection
        worker.progressed.connect(self._on_progress, queued)
        worker.succeeded.connect(self._on_succeeded, queued)
        worker.failed.connect(self._on_failed, queued)
        worker.cancelled.connect(self._on_cancelled, queued)
        self._worker, self._cancelling, self._last = worker, False, None
        self._say("")
        worker.start()
        self._update()

    def cancel(self) -> None:
        if self._worker is not None and not self._cancelling:
            self._worker.cancel()
            self._cancelling = True
            self._update()

    def remove(self) -> None:
        if self._worker is not None:
            return
        what = "the speaker diarization model" if self.is_installed() else "the partial download"
        answer = QMessageBox.question(
            self,
            "Remove model?",
            f"Delete {what} from {self.store.root}?\nDownloading it again needs the token.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            dd.remove(self.store.root)
        except OSError as e:
            self._say(f"Could not remove it: {e.strerror or e}")
            return
        self._say("Removed the speaker diarization model.")
        self._update()
        self.changed.emit()

    # --- worker reports (GUI thread) --------------------------------------------------------------
    def _end(self) -> None:
        if self._worker is not None:
            self._retired = [w for w in self._retired if w.is_alive()] + [self._worker]
        self._worker, self._cancelling = None, False
        self._update()
        self.stopped.emit()

    def _on_progress(self, _name: str, progress: Progress) -> None:
        if self._worker is not None:
            self._last = progress
            self._update()

    def _on_succeeded(self, _name: str, _path: str) -> None:
        self.token.clear()
        self._say("The speaker diarization model is installed.")
        self._end()
        self.changed.emit()

    def _on_failed(self, _name: str, message: str) -> None:
        message = message.replace(" (or pass --diarization-model DIR)", "")  # the command line's option
        self._say(message[:1].upper() + message[1:])
        self._end()

    def _on_cancelled(self, _name: str, _last: object) -> None:
        self._say("Download cancelled; Download resumes it.")
        self._end()

    # --- state ------------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _update(self) -> None:
        running = self._worker is not None
        installed = not running and self.is_installed()
        partial = not running and not installed and dd.has_partial(self.store.root)
        if running:
            p = self._last
            text = (
                "Cancelling…"
                if self._cancelling
                else (
                    f"Downloading: {human_size(p.done)} of {human_size(p.total)} · {p.describe()}"
                    if p and p.total
                    else "Downloading: asking Hugging Face for the files…"
                )
            )
        elif installed:
            text = (
                f"Installed ({human_size(dd.installed_size(self.store.root))}) in "
                f"{dd.default_pipeline_dir(self.store.root)}"
            )
        else:
            text = "Partly downloaded: Download resumes it" if partial else "Not installed"
        self.status.setText(text)
        self.progress.setVisible(running)
        if running and self._last is not None and self._last.total:
            self.progress.setValue(min(1000, self._last.done * 1000 // self._last.total))
        elif running:
            self.progress.setValue(0)
        self.token.setEnabled(not running and not installed)
        self.download_button.setEnabled(not running and not installed and bool(self.token.text().strip()))
        self.download_button.setText("Resume" if partial else "Download")
        self.cancel_button.setEnabled(running and not self._cancelling)
        self.remove_button.setEnabled(not running and (installed or partial))


__all__ = ["DiarizationModelBox", "PipelineDownloadWorker"]
