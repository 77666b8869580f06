"""First run with no whisper model: use the built-in one, download the recommended one, import one the user
has, or start with the offline English engine."""

from __future__ import annotations

import html
from pathlib import Path

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

from pipeline.models.bundled import bundled_folder
from pipeline.models.catalog import KIND_WHISPER, CatalogModel
from pipeline.models.model_import import ImportResult
from pipeline.models.store import ModelStore
from ui.models.download_worker import Downloads, Progress, ask_to_stop, human_size, short_reason
from ui.models.import_worker import Importer
from ui.models.model_import_box import add_source_menu, pick_model_source, progress_text
from ui.models.model_table import is_quantized

Choice = tuple[str, str | None]  # ("download", name), ("imported", name) or ("offline", None)


def recommended_model(store: ModelStore, locale: QLocale | None = None) -> CatalogModel | None:
    """base.en for English speakers, else the multilingual base; the smallest full model otherwise."""
    english = (locale or QLocale.system()).language() == QLocale.Language.English
    for name in ("base.en", "base") if english else ("base", "base.en"):
        entry = store.find(name)
        if entry is not None and entry.kind == KIND_WHISPER:
            return entry
    full = [m for m in store.catalog if m.kind == KIND_WHISPER and not is_quantized(m)]
    return min(full, key=lambda m: m.size) if full else None


def _secondary(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # secondary text, any theme
    return label


class FirstRunDialog(QDialog):
    """`choice()` after it closes: ("download", name), ("imported", name), ("offline", None), or None if
    dismissed. `bundled`: offer the built-in model (default: when it is installed)."""

    def __init__(
        self,
        store: ModelStore,
        parent: QWidget | None = None,
        *,
        locale: QLocale | None = None,
        bundled: bool | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Hark")
        self.store = store
        self.recommended = recommended_model(store, locale)
        self.has_bundled = bundled_folder() is not None if bundled is None else bundled
        self.downloads = Downloads(store, self)
        self.importer = Importer(store.root, self)
        self._choice: Choice | None = None
        self._closing_result: int | None = None

        title = QLabel("Hark needs a speech model", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "Hark turns speech into text with a speech recognition model, which runs on this computer: "
            "nothing you say leaves it. Choose one to start with; Tools → Models… changes it at any time.",
            self,
        )
        intro.setWordWrap(True)

        self.bundled_button = QPushButton("Use the Built-in Model (tiny.en, no download)", self)
        self.bundled_button.clicked.connect(self.use_bundled)
        bundled_about = _secondary(
            "Whisper tiny.en comes with Hark: English only, fast, fair accuracy. Ready in a few seconds.", self
        )
        for w in (self.bundled_button, bundled_about):
            w.setVisible(self.has_bundled)

        entry = self.recommended
        label = f"Download {entry.name} ({human_size(entry.size)})" if entry else "Download a model"
        self.download_button = QPushButton(label, self)
        self.download_button.setEnabled(entry is not None)
        self.download_button.clicked.connect(self.start_download)
        for b in (self.bundled_button, self.download_button):
            b.setAutoDefault(False)
        (self.bundled_button if self.has_bundled else self.download_button).setDefault(True)
        about = _secondary(self._about(entry), self)

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

        self.file_button = QPushButton("Use a Model File…", self)
        self.file_button.setAutoDefault(False)
        self.file_menu = add_source_menu(self.file_button, self.choose_and_import)
        self.file_action, self.folder_action = self.file_menu.actions()
        file_about = _secondary(
            "A whisper model you have already: a whisper.cpp .bin, an OpenAI .pt, or a "
            "CTranslate2 / faster-whisper folder. Hark copies it into its models folder.",
            self,
        )

        self.offline_button = QPushButton("Use the Offline English Engine Now", self)
        self.offline_button.setAutoDefault(False)
        self.offline_button.clicked.connect(self.choose_offline)
        offline_about = _secondary(
            "PocketSphinx: English only and lower accuracy, but nothing to download. "
            "You can download a model later in Tools → Models…",
            self,
        )

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
        layout.addLayout(progress_row)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.error)
        choices = [(self.bundled_button, bundled_about)] if self.has_bundled else []
        choices += [(self.download_button, about), (self.file_button, file_about), (self.offline_button, offline_about)]
        for button, text in choices:
            layout.addSpacing(8)
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
            layout.addWidget(text)
        layout.addStretch(1)
        layout.addLayout(bottom)

        self.downloads.progressed.connect(self._on_progress)
        self.downloads.succeeded.connect(self._on_succeeded)
        self.downloads.failed.connect(self._on_failed)
        self.downloads.cancelled.connect(self._on_cancelled)
        self.downloads.all_stopped.connect(self._finish_closing)
        self.importer.progressed.connect(self._on_import_progress)
        self.importer.succeeded.connect(self._on_imported)
        self.importer.failed.connect(self._on_import_failed)
        self.importer.cancelled.connect(lambda: self._stopped("Import cancelled: nothing was kept."))
        self.importer.stopped.connect(self._finish_closing)
        self.setMinimumWidth(560)

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

    def busy(self) -> bool:
        return bool(self.downloads.running()) or self.importer.running()

    # --- actions --------------------------------------------------------------------------------
    def start_download(self) -> None:
        entry = self.recommended
        if entry is None or not self.downloads.start(entry):
            return
        self._begin(f"Connecting to download {entry.name}…")

    def use_bundled(self) -> None:
        if not self.busy() and self.importer.import_bundled():
            self._begin("Preparing the built-in model…")

    def choose_and_import(self, folder: bool) -> None:
        if self.busy():
            return
        path = pick_model_source(self, folder, Path.home())
        if path is not None and self.importer.import_path(path):
            self._begin(f"Reading {Path(path).name}…")

    def cancel_download(self) -> None:
        """Cancel what runs: the download or the import."""
        if self.recommended is not None:
            self.downloads.cancel(self.recommended.name)
        self.importer.cancel()
        self.cancel_button.setEnabled(False)
        self.progress_label.setText("Cancelling…")

    def choose_offline(self) -> None:
        if self.busy():
            return
        self._choice = ("offline", None)
        self.accept()

    def _begin(self, what: str) -> None:
        self.error.hide()
        self.progress.setValue(0)
        self.progress_label.setText(what)
        self._show_progress(True)
        self._set_busy(True)

    # --- closing --------------------------------------------------------------------------------
    def done(self, result: int) -> None:
        """Closing stops a download (after asking: it resumes later) or an import, and waits for its thread."""
        if self._closing_result is not None:
            return
        running = self.downloads.running()
        if running and not ask_to_stop(self, running):
            return
        if self.busy():
            self._closing_result = result
            self.cancel_download()
            return
        super().done(result)

    def _finish_closing(self) -> None:
        if self._closing_result is not None and not self.busy():
            result, self._closing_result = self._closing_result, None
            super().done(result)

    # --- download reports -----------------------------------------------------------------------
    def _on_progress(self, name: str, progress: Progress) -> None:
        if not self.cancel_button.isEnabled():
            return  # cancelling: keep saying so
        self.progress.setValue(min(1000, progress.done * 1000 // max(1, progress.total)))
        sizes = f"{human_size(progress.done)} of {human_size(progress.total)}"
        self.progress_label.setText(
            progress.describe() if progress.complete else f"Downloading {name}: {sizes} · {progress.describe()}"
        )

    def _on_succeeded(self, name: str, _path: str) -> None:
        self._choice = ("download", name)
        self._set_busy(False)
        if self._closing_result is None:
            self.accept()

    def _on_failed(self, name: str, message: str) -> None:
        self._show_progress(False)
        self._set_busy(False)
        self.error.setText(
            f"<b>Could not download {name}:</b> {html.escape(short_reason(message))}. "
            "Try again, or use the offline engine for now."
        )
        self.error.setToolTip(message)
        self.error.show()

    def _on_cancelled(self, name: str, last: Progress | None) -> None:
        kept = f" ({human_size(last.done)} kept: it resumes from there)" if last and last.done else ""
        self._stopped(f"Download of {name} cancelled{kept}.")

    # --- import reports -------------------------------------------------------------------------
    def _on_import_progress(self, done: int, total: int) -> None:
        if self.cancel_button.isEnabled():  # cancelling: keep saying so
            self.progress.setValue(min(1000, done * 1000 // max(1, total)))
            self.progress_label.setText(progress_text(done, total))

    def _on_imported(self, result: ImportResult) -> None:
        self._choice = ("imported", result.model.name)
        self._set_busy(False)
        if self._closing_result is None:
            self.accept()

    def _on_import_failed(self, message: str) -> None:
        head, _, why = message.partition(": ")  # "Could not import the model: <why>."
        self._stopped(f"<b>{html.escape(head)}:</b> {html.escape(why)} Try another, or choose one of the others.")

    def _stopped(self, text: str) -> None:
        """An attempt ended without a model: say why, and offer every choice again."""
        self._show_progress(False)
        self._set_busy(False)
        self.error.setText(text)
        self.error.setToolTip("")
        self.error.show()

    def _show_progress(self, show: bool) -> None:
        for w in (self.progress, self.progress_label, self.cancel_button):
            w.setVisible(show)
        self.cancel_button.setEnabled(show)

    def _set_busy(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy and self.recommended is not None)
        for button in (self.bundled_button, self.file_button, self.offline_button):
            button.setEnabled(not busy)


__all__ = ["FirstRunDialog", "recommended_model"]
