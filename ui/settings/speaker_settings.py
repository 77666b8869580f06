"""The Speakers part of the Settings dialog: identify speakers, the pipeline folder, how many speakers."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from pipeline.errors import ModelError
from pipeline.models.store import default_models_dir
from pipeline.speakers.diarization import (
    DEFAULT_PRESET,
    ENV_MODEL,
    SPEED_PRESETS,
    check_pipeline_dir,
    diarization_available,
    downloaded_pipeline_dir,
)

FIELDS = ("diarize", "diarization_model", "num_speakers")
MAX_SPEAKERS = 20
SPEED_LABELS = {"fast": "Fast", "balanced": "Balanced", "accurate": "Accurate (slow)"}
assert set(SPEED_LABELS) == set(SPEED_PRESETS)
UNAVAILABLE = "Needs PyTorch and pyannote.audio: pip install 'hark[diarize]'"


class SpeakerSettingsBox(QGroupBox):
    def __init__(self, parent: QWidget | None = None, available: bool | None = None) -> None:
        super().__init__("Speakers", parent)
        self.available = diarization_available() if available is None else available
        self._folder_dialog: QFileDialog | None = None
        self.enabled_check = QCheckBox("Identif&y speakers (diarization)", self)
        self.enabled_check.setToolTip(
            "After transcribing, find out who speaks when and label every caption "
            "with its speaker (SPEAKER_00, …; rename them in the transcript). "
            "Takes about as long again as transcribing."
        )
        self.folder_edit = QLineEdit(self)
        downloaded = downloaded_pipeline_dir(default_models_dir())
        self.folder_edit.setPlaceholderText(
            "The downloaded one"
            if (downloaded / "config.yaml").is_file()
            else "None yet: download it in Tools → Models, or choose a folder"
        )
        self.folder_edit.setClearButtonEnabled(True)
        self.folder_edit.setToolTip(
            f"A pyannote speaker-diarization pipeline folder (with config.yaml). Empty: "
            f"${ENV_MODEL} if set, else the one downloaded in Tools → Models."
        )
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.setToolTip("Choose the diarization pipeline folder.")
        self.browse_button.clicked.connect(self._browse)
        self.speakers_spin = QSpinBox(self)
        self.speakers_spin.setRange(0, MAX_SPEAKERS)
        self.speakers_spin.setSpecialValueText("Auto")
        self.speakers_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.speakers_spin.setToolTip(
            "How many people speak, when you know it exactly (more accurate). Auto lets diarization decide."
        )
        self.speed_combo = QComboBox(self)
        for key, label in SPEED_LABELS.items():
            self.speed_combo.addItem(label, key)
        self.speed_combo.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.speed_combo.setToolTip(
            "How densely the audio is sampled for voices. Balanced takes about a sixth "
            "of the audio's length on two cores; Accurate uses pyannote's own setting "
            "and takes about four times as long as Balanced."
        )
        self.hint_label = QLabel(self)  # why it cannot be used, or what is wrong with the folder
        self.hint_label.setWordWrap(True)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        self.folder_label = QLabel("Model fol&der:", self)
        self.folder_label.setBuddy(self.folder_edit)
        self.speakers_label = QLabel("Spe&akers:", self)
        self.speakers_label.setBuddy(self.speakers_spin)
        form = QFormLayout(self)
        form.addRow("", self.enabled_check)
        form.addRow(self.folder_label, folder_row)
        form.addRow(self.speakers_label, self.speakers_spin)
        self.speed_label = QLabel("&Quality:", self)
        self.speed_label.setBuddy(self.speed_combo)
        form.addRow(self.speed_label, self.speed_combo)
        form.addRow("", self.hint_label)
        self.form = form

        self.enabled_check.toggled.connect(self._update)
        self.folder_edit.textChanged.connect(self._update)
        self._update()

    def load(self, s: Any) -> None:
        self.enabled_check.setChecked(s.diarize)
        self.folder_edit.setText(s.diarization_model or "")
        self.speakers_spin.setValue(max(0, min(MAX_SPEAKERS, s.num_speakers)))
        self.speed_combo.setCurrentIndex(max(0, self.speed_combo.findData(s.speaker_speed)))
        self._update()

    def changes(self) -> dict[str, Any]:
        return {
            "diarize": self.enabled_check.isChecked(),
            "diarization_model": self.folder_edit.text().strip() or None,
            "num_speakers": self.speakers_spin.value(),
            "speaker_speed": self.speed_combo.currentData() or DEFAULT_PRESET,
        }

    def _update(self) -> None:
        # Unavailable: everything greyed but the reason, which says how to add the missing parts.
        on = self.available and self.enabled_check.isChecked()
        self.enabled_check.setEnabled(self.available)
        for w in (
            self.folder_label,
            self.folder_edit,
            self.browse_button,
            self.speakers_label,
            self.speakers_spin,
            self.speed_label,
            self.speed_combo,
        ):
            w.setEnabled(on)
        problem = UNAVAILABLE if not self.available else self._folder_problem() if on else ""
        self.hint_label.setText(problem)
        self.form.setRowVisible(self.hint_label, bool(problem))

    def _folder_problem(self) -> str:
        folder = self.folder_edit.text().strip()
        if not folder:
            return ""
        try:
            check_pipeline_dir(folder)
        except ModelError as e:
            return str(e)[:1].upper() + str(e)[1:]
        return ""

    def _browse(self) -> None:
        if self._folder_dialog is None:
            self._folder_dialog = QFileDialog(self, "Choose the diarization pipeline folder")
            self._folder_dialog.setFileMode(QFileDialog.FileMode.Directory)
            self._folder_dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
            self._folder_dialog.fileSelected.connect(lambda p: self.folder_edit.setText(p) if p else None)
        if self.folder_edit.text().strip():
            self._folder_dialog.setDirectory(self.folder_edit.text().strip())
        self._folder_dialog.open()


__all__ = ["FIELDS", "UNAVAILABLE", "SpeakerSettingsBox"]
