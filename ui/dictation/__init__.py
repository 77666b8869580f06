"""Dictation's visible parts: the overlay shown while dictating (dictation_overlay) and the history of dictated text (dictation_history)."""
