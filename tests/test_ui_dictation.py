"""The dictation overlay and history window, offscreen."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from pipeline.dictation.utterance_journal import UtteranceJournal
from ui.dictation.dictation_history import DictationHistory
from ui.dictation.dictation_overlay import DictationOverlay, OverlayState


def test_overlay_never_takes_the_focus_and_shows_the_newest_words(qtbot):
    o = DictationOverlay()
    qtbot.addWidget(o)
    flags = o.windowFlags()
    assert flags & Qt.WindowType.WindowDoesNotAcceptFocus and flags & Qt.WindowType.WindowStaysOnTopHint
    assert o.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    o.set_state(OverlayState.LISTENING)
    assert o.isVisible() and o.meter.isVisible() and o.label.text() == "Listening…"
    o.set_level(-20)
    assert 0.6 < o.meter.level < 0.7
    long = " ".join(f"word{i}" for i in range(200)) + " newest"
    o.set_partial(long)
    assert o.label.text().endswith("newest") and o.label.text().startswith("…")
    o.set_state(OverlayState.INSERTED, "Hello there.")
    assert not o.meter.isVisible() and o.label.text() == "Hello there."
    qtbot.waitUntil(lambda: not o.isVisible(), timeout=3000)  # goes away by itself


def test_history_lists_copies_and_offers_insert_again(qtbot, tmp_path):
    journal = UtteranceJournal(tmp_path)
    a = journal.write(np.zeros(1600, np.float32), mode="push_to_talk")
    journal.mark_done(a, "first words")
    b = journal.write(np.zeros(1600, np.float32), mode="toggle")
    journal.mark_failed(b, "the engine stopped")
    h = DictationHistory(journal)
    qtbot.addWidget(h)
    h.refresh()
    assert h.list.count() == 2 and "failed" in h.list.item(0).text()  # newest first
    h.list.setCurrentRow(1)
    assert h.selected_text() == "first words"
    h.copy()
    assert QGuiApplication.clipboard().text() == "first words"
    with qtbot.waitSignal(h.insert_requested) as sig:
        h.insert_button.click()
    assert sig.args == ["first words"]
    h.list.setCurrentRow(0)
    assert not h.insert_button.isEnabled()  # nothing to insert from a failed one


def test_what_dictation_threads_report_after_shutdown_is_dropped(qtbot, tmp_path):
    """A decode, partial or message finishing after the app began to quit must not bring the overlay back
    (nor reach any widget): results from threads are dropped once the controller is shut down."""
    import threading

    from app.dictation.dictation_controller import DictationController
    from app.settings import AppSettings
    from pipeline.dictation import dictation_state as ds
    from pipeline.models.store import ModelStore

    d = DictationController(AppSettings(engine="sphinx"), ModelStore(), tmp_path / "dictation")
    d.handle(ds.Toggle())  # recording (no microphone here: it cancels itself and says so)
    qtbot.waitUntil(lambda: d.overlay.isVisible(), timeout=3000)
    d.overlay.set_state(OverlayState.HIDDEN)
    d.shutdown()

    def late() -> None:  # as the dictation worker and a live partial would, from their threads
        d._message.emit("Recovered 1 dictation(s) from last time", False)
        d._partial.emit("late words")
        d._event.emit(ds.Failed(1, "the speech engine is not loaded"))

    th = threading.Thread(target=late)
    th.start()
    th.join()
    qtbot.wait(100)  # the queued signals arrive
    assert not d.overlay.isVisible() and d.overlay.state is OverlayState.HIDDEN
