"""The Dictation part of the Settings dialog: hotkey, mode, how text is inserted, microphone."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLineEdit, QWidget

MODES = {"push": "Hold the hotkey while speaking", "toggle": "Press to start, press again (or pause) to stop"}
INSERTS = {
    "auto": "Automatic (type short text, paste long text)",
    "type": "Type the words",
    "paste": "Paste through the clipboard (your clipboard is restored)",
}
FIELDS = (
    "dictation_enabled",
    "dictation_mode",
    "dictation_hotkey",
    "dictation_insert",
    "dictation_input",
    "dictation_silence",
    "dictation_vocabulary",
    "dictation_partials",
)


class DictationSettingsBox(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Dictation", parent)
        self.enabled_check = QCheckBox("Dictate into any app with a global hotkey", self)
        self.enabled_check.setToolTip(
            "Keeps the microphone ready so the first word is never clipped. Takes effect the next time Hark starts."
        )
        self.hotkey_edit = QLineEdit(self)
        self.hotkey_edit.setPlaceholderText("<ctrl>+<alt>+space")
        self.hotkey_edit.setToolTip(
            "Keys joined by +, e.g. <ctrl>+<alt>+space or <ctrl>+<shift>+d. On Wayland, bind "
            "'hark dictate --toggle' in your desktop's shortcut settings instead."
        )
        self.mode_combo = self._combo(MODES, "How the hotkey starts and stops a dictation")
        self.silence_spin = QDoubleSpinBox(self)
        self.silence_spin.setRange(0, 30)
        self.silence_spin.setSingleStep(0.5)
        self.silence_spin.setSuffix(" s")
        self.silence_spin.setSpecialValueText("never")
        self.silence_spin.setToolTip("In toggle mode, stop by itself after this much silence (0: only on a press)")
        self.insert_combo = self._combo(INSERTS, "How the text gets into the other app")
        self.input_combo = QComboBox(self)
        self.input_combo.setToolTip("The microphone to record from")
        self.input_combo.addItem("System default", None)
        try:
            from audio.capture import list_inputs

            for dev in list_inputs():
                self.input_combo.addItem(dev.name, dev.name)
        except Exception:
            pass
        self.vocabulary_edit = QLineEdit(self)
        self.vocabulary_edit.setPlaceholderText("Names and terms, separated by commas")
        self.vocabulary_edit.setToolTip("Words the speech engine should expect (passed to whisper as its prompt)")
        self.partials_check = QCheckBox("Show the words in the overlay while speaking", self)
        self.partials_check.setToolTip("Decodes about once a second while you speak; confirmed words never change")
        # No mnemonics here: the dialog's other fields use most letters already; Tab reaches these.
        form = QFormLayout(self)
        form.addRow("", self.enabled_check)
        form.addRow("Hotkey:", self.hotkey_edit)
        form.addRow("Mode:", self.mode_combo)
        form.addRow("Stop after silence:", self.silence_spin)
        form.addRow("Insert by:", self.insert_combo)
        form.addRow("Microphone:", self.input_combo)
        form.addRow("Vocabulary:", self.vocabulary_edit)
        form.addRow("", self.partials_check)
        self.form = form

    def _combo(self, items: dict[str, str], tip: str) -> QComboBox:
        c = QComboBox(self)
        for value, text in items.items():
            c.addItem(text, value)
        c.setToolTip(tip)
        return c

    def load(self, s: Any) -> None:
        self.enabled_check.setChecked(s.dictation_enabled)
        self.hotkey_edit.setText(s.dictation_hotkey)
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(s.dictation_mode)))
        self.insert_combo.setCurrentIndex(max(0, self.insert_combo.findData(s.dictation_insert)))
        i = self.input_combo.findData(s.dictation_input)
        if i < 0 and s.dictation_input:  # unplugged now: keep the choice
            self.input_combo.addItem(f"{s.dictation_input} (not connected)", s.dictation_input)
            i = self.input_combo.count() - 1
        self.input_combo.setCurrentIndex(max(0, i))
        self.silence_spin.setValue(s.dictation_silence)
        self.vocabulary_edit.setText(s.dictation_vocabulary)
        self.partials_check.setChecked(s.dictation_partials)

    def changes(self) -> dict[str, Any]:
        return {
            "dictation_enabled": self.enabled_check.isChecked(),
            "dictation_hotkey": self.hotkey_edit.text().strip() or "<ctrl>+<alt>+space",
            "dictation_mode": self.mode_combo.currentData(),
            "dictation_insert": self.insert_combo.currentData(),
            "dictation_input": self.input_combo.currentData(),
            "dictation_silence": self.silence_spin.value(),
            "dictation_vocabulary": self.vocabulary_edit.text().strip(),
            "dictation_partials": self.partials_check.isChecked(),
        }
