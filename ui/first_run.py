"""First run with no whisper model: download the recommended one, or start with the offline English engine."""
from __future__ import annotations

import html

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pipeline.models.catalog import KIND_WHISPER, CatalogModel
from pipeline.models.store import ModelStore
from ui.download_worker import Downloads, Progress, ask_to_stop, human_size, short_reason
from ui.model_table import is_quantized

Choice = tuple[str, str | None]  # ("download", name) or ("offline", None)


def recommended_model(store: ModelStore, locale: QLocale | None = None) -> CatalogModel | None:
    """base.en for English speakers, else the multilingual base; the smallest full model otherwise."""
    english = (locale or QLocale.system()).language() == QLocale.Language.English
    for name in (("base.en", "base") if english else ("base", "base.en")):
        entry = store.find(name)
        if entry is not None and entry.kind == KIND_WHISPER:
            return entry
    full = [m for m in store.catalog if m.kind == KIND_WHISPER and not is_quantized(m)]
    return min(full, key=lambda m: m.size) if full else None


class FirstRunDialog(QDialog):
    """`choice()` after it closes: ("download", name), ("offline", None), or None if dismissed."""

    def __init__(self, store: ModelStore, parent: QWidget | None = None, *, locale: QLocale | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Hark")
        self.store = store
        self.recommended = recommended_model(store, locale)
        self.downloads = Downloads(store, self)
        self._choice: Choice | None = None
        self._closing_result: int | None = None

        title = QLabel("Hark needs a speech model", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "Hark turns speech into text with a speech recognition model, which is downloaded once "
            "and then works offline. Download the recommended model now, or start right away with "
            "the built-in English engine, which needs no download but is less accurate.", self)
        intro.setWordWrap(True)

        entry = self.recommended
        label = f"Download {entry.name} ({human_size(entry.size)})" if entry else "Download a model"
        self.download_button = QPushButton(label, self)
        self.download_button.setDefault(True)
        self.download_button.setEnabled(entry is not None)
        self.download_button.clicked.connect(self.start_download)
        about = QLabel(self._about(entry), self)
        about.setWordWrap(True)
        about.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # secondary text, any theme

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel(self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel_download)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self._show_progress(False)

        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()

        self.offline_button = QPushButton("Use the Offline English Engine Now", self)
        self.offline_button.setAutoDefault(False)
        self.offline_button.clicked.connect(self.choose_offline)
        offline_about = QLabel("PocketSphinx: English only and lower accuracy, but nothing to download. "
                               "You can download a model later in Tools → Models…", self)
        offline_about.setWordWrap(True)
        offline_about.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.later_button = QPushButton("Not Now", self)
        self.later_button.setAutoDefault(False)
        self.later_button.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.later_button)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(8)
        layout.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(about)
        layout.addLayout(progress_row)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.error)
        layout.addSpacing(8)
        layout.addWidget(self.offline_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(offline_about)
        layout.addStretch(1)
        layout.addLayout(bottom)

        self.downloads.progressed.connect(self._on_progress)
        self.downloads.succeeded.connect(self._on_succeeded)
        self.downloads.failed.connect(self._on_failed)
        self.downloads.cancelled.connect(self._on_cancelled)
        self.downloads.all_stopped.connect(self._finish_closing)
        self.setMinimumWidth(520)

    @staticmethod
    def _about(entry: CatalogModel | None) -> str:
        if entry is None:
            return "No model is available in the catalog."
        kind = "English-only" if entry.english_only else "multilingual (about 100 languages)"
        return f"Whisper {entry.name}: {kind}, good accuracy on an ordinary computer."

    # --- results --------------------------------------------------------------------------------
    def choice(self) -> Choice | None:
        return self._choice

    def running_downloads(self) -> list[str]:
        return self.downloads.running()

    # --- actions --------------------------------------------------------------------------------
    def start_download(self) -> None:
        entry = self.recommended
        if entry is None or not self.downloads.start(entry):
            return
        self.error.hide()
        self.progress.setValue(0)
        self.progress_label.setText(f"Connecting to download {entry.name}…")
        self._show_progress(True)
        self._set_busy(True)

    def cancel_download(self) -> None:
        if self.recommended is not None:
            self.downloads.cancel(self.recommended.name)
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    def choose_offline(self) -> None:
        if self.downloads.running():
            return
        self._choice = ("offline", None)
        self.accept()

    # --- closing --------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        if self._closing_result is not None:
            return
        running = self.downloads.running()
        if running:
            if not ask_to_stop(self, running):
                return
            self._closing_result = result
            self.cancel_download()
            return
        super().done(result)

    def _finish_closing(self) -> None:
        if self._closing_result is not None:
            result, self._closing_result = self._closing_result, None
            super().done(result)

    # --- download reports -----------------------------------------------------------------------
    def _on_progress(self, name: str, progress: Progress) -> None:
        if not self.cancel_button.isEnabled():
            return  # cancelling: keep saying so
        self.progress.setValue(min(1000, progress.done * 1000 // max(1, progress.total)))
        sizes = f"{human_size(progress.done)} of {human_size(progress.total)}"
        self.progress_label.setText(
            progress.describe() if progress.complete else f"Downloading {name}: {sizes} · {progress.describe()}")

    def _on_succeeded(self, name: str, _path: str) -> None:
        self._choice = ("download", name)
        self._set_busy(False)
        if self._closing_result is None:
            self.accept()

    def _on_failed(self, name: str, message: str) -> None:
        self._show_progress(False)
        self._set_busy(False)
        self.error.setText(f"<b>Could not download {name}:</b> {html.escape(short_reason(message))}. "
                           "Try again, or use the offline engine for now.")
        self.error.setToolTip(message)
        self.error.show()

    def _on_cancelled(self, name: str, last: Progress | None) -> None:
        self._show_progress(False)
        self._set_busy(False)
        kept = f" ({human_size(last.done)} kept: it resumes from there)" if last and last.done else ""
        self.error.setText(f"Download of {name} cancelled{kept}.")
        self.error.setToolTip("")
        self.error.show()

    def _show_progress(self, show: bool) -> None:
        for w in (self.progress, self.progress_label, self.cancel_button):
            w.setVisible(show)
        self.cancel_button.setEnabled(show)

    def _set_busy(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy and self.recommended is not None)
        self.offline_button.setEnabled(not busy)


__all__ = ["FirstRunDialog", "recommended_model"]
