"""The settings dialog and its pages (settings_dialog, dictation_settings, speaker_settings)."""
