"""Live dictation: hotkey or command → microphone → journal → decoder → text in the focused app.

The pure state machine (pipeline/dictation/dictation_state.py) decides; this class
performs its actions and feeds back what happened. Audio is written to the
journal before it is decoded, so a crash loses nothing: pending utterances are
transcribed at the next start and land in the history.

The engine follows the settings and the models folder without a restart: a new
one loads beside the old (dictation goes on meanwhile), and is swapped in on the
dictation worker, so never while an utterance is being decoded; the old one is
closed after that.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import shutil
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.dictation.dictation_worker import LatestOnly, SerialWorker
from app.dictation.text_join import join_dictation
from app.engine_choice import EngineKey, engine_key
from app.settings import AppSettings
from audio.errors import HarkError
from pipeline.dictation import dictation_state as ds
from pipeline.dictation.utterance_journal import LiveRecording, UtteranceJournal
from pipeline.models.store import ModelStore
from ui.dictation.dictation_overlay import DictationOverlay, OverlayState

if TYPE_CHECKING:
    from app.dictation.hotkeys import GlobalHotkey
    from app.injection.base import Injector
    from audio.capture import MicCapture
    from audio.endpoint import Endpointer
    from audio.vad import SileroVad
    from pipeline.dictation.dictation_decoder import DictationDecoder

log = logging.getLogger(__name__)
PARTIAL_EVERY_MS = 1000


def active_window() -> str | None:
    """The X11 window with the keyboard focus (None where it cannot be known)."""
    if shutil.which("xdotool") is None:
        return None
    for query in ("getwindowfocus", "getactivewindow"):  # the input focus works without a window manager
        try:
            r = subprocess.run(["xdotool", query], capture_output=True, text=True, timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    return None


class DictationController(QObject):
    _event = Signal(object)  # state-machine events from other threads
    _partial = Signal(str)
    _message = Signal(str, bool)  # text, is_error
    inserted = Signal(str)  # what was typed (tests and the history window listen)
    status = Signal(str)  # one line for the main window's status bar
    history_changed = Signal()

    def __init__(self, settings: AppSettings, store: ModelStore, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store
        mode = ds.Mode.TOGGLE if settings.dictation_mode == "toggle" else ds.Mode.PUSH_TO_TALK
        self.state = ds.initial(mode)
        self.journal = UtteranceJournal(data_dir)
        self.overlay = DictationOverlay()
        self.capture: MicCapture | None = None  # opened by enable()
        self.decoder: DictationDecoder | None = None  # loaded in the background
        self.injector: Injector | None = None
        self.hotkey: GlobalHotkey | None = None
        self.endpointer: Endpointer | None = None
        self.ready = threading.Event()
        # Typing while the user holds the hotkey for the next utterance would add their modifiers
        # to our keystrokes (Ctrl+Alt+"a" is not "a"): insertion waits for the keys to be let go.
        self._keys_free = threading.Event()
        self._keys_free.set()
        self._worker = SerialWorker("hark-dictation")
        self._loads: SerialWorker | None = None  # loads engines one after another, beside the decoding
        self._engine_key: tuple[EngineKey, int] | None = None  # what chose the engine loaded or loading
        self._generation = 0  # bumped by each load asked for: an older one is not swapped in
        self._prepared = False  # VAD, endpointer and injector: once, by the first load
        self._stopping = False
        self._vad: SileroVad | None = None
        self._load_error: str | None = None
        self._partials = LatestOnly()
        self._journal_ids: dict[int, str] = {}
        self._audio: dict[int, np.ndarray] = {}
        self._blocks: list[np.ndarray] = []
        self._live: LiveRecording | None = None  # the utterance being recorded, on disk block by block
        self._blocks_lock = threading.Lock()  # guards _blocks and _live (the capture's thread appends)
        self._last_field: tuple[str | None, str] = (None, "")  # (window, the end of what we typed there)
        self._target: dict[int, str | None] = {}
        # What threads report arrives through these (queued: the receiver lives on the GUI thread); once
        # shut down, it is dropped: a late decode or message would bring the overlay back while Hark quits.
        self._event.connect(self._from_thread_event)
        self._partial.connect(self._from_thread_partial)
        self._message.connect(self._from_thread_message)
        self._meter = QTimer(self, interval=50)
        self._meter.timeout.connect(self._tick_meter)
        self._partial_timer = QTimer(self, interval=PARTIAL_EVERY_MS)
        self._partial_timer.timeout.connect(self._run_partial)

    # --- set-up -------------------------------------------------------------------------------
    def enable(self) -> None:
        """Open the microphone, start the hotkey, load the engine (in the background), recover."""
        from audio.capture import CaptureError, MicCapture

        try:
            self.capture = MicCapture(
                self.settings.dictation_input,
                on_block=self._on_block,
                on_error=self._capture_lost,
            )
            self.capture.open()
        except CaptureError as e:  # no microphone: say it quietly, transcription still works
            log.warning("dictation: %s", e)
            self.status.emit(f"Dictation is off: {e}")
            self.capture = None
        if self.capture is None:
            return  # nothing to dictate with: do not hold a model in memory for it
        self._start_hotkey()
        self.start_engine()

    def _capture_lost(self, msg: str) -> None:
        """The microphone failed (on the capture's thread): say so, and stop the recording."""
        self._message.emit(msg, True)
        self._event.emit(ds.DeviceLost())

    def _start_hotkey(self) -> None:
        from app.dictation.hotkeys import GlobalHotkey, HotkeyError

        try:
            self.hotkey = GlobalHotkey(
                self.settings.dictation_hotkey,
                lambda: self._event.emit(ds.Press()),
                lambda: self._event.emit(ds.Release()),
            )
            self.hotkey.start()
        except HotkeyError as e:
            log.info("no global hotkey: %s", e)
            self.status.emit(f"Dictation hotkey unavailable: {e}")
            self.hotkey = None

    def start_engine(self) -> None:
        """Load the engine the settings choose, in the background (enable() does, once the microphone is open)."""
        self._request_engine()

    def reload_engine(self) -> bool:
        """The settings or the models folder changed: if they now choose another engine or model, load it in
        the background and swap it in. Nothing happens before dictation has started its engine."""
        return self._engine_key is not None and self._request_engine()

    def _request_engine(self) -> bool:
        key = (engine_key(self.settings, self.store), self.settings.threads)
        if key == self._engine_key:
            return False
        self._engine_key = key
        self._generation += 1
        if self._loads is None:
            self._loads = SerialWorker("hark-dictation-load")
        settings, gen = dataclasses.replace(self.settings), self._generation  # as they are now, not when it runs
        self._loads.submit(lambda: self._load(settings, gen))
        return True

    # --- on the load thread -----------------------------------------------------------------------
    def _load(self, s: AppSettings, generation: int) -> None:
        if generation != self._generation:
            return  # a newer choice was made meanwhile: load that one instead
        if not self._prepared:
            self._prepare(s)
        try:
            decoder = self._make_decoder(s)
        except Exception as e:
            log.exception("dictation engine failed to load")
            self._load_error = str(e)
            self.status.emit(
                f"Dictation is off: {e}"
                if self.decoder is None
                else f"Dictation keeps its engine: the new one did not load: {e}"
            )
            self.ready.set()  # an utterance fails at once with the reason, instead of waiting for an engine
            return
        if self._stopping:
            _close_engine(decoder)
        elif self.decoder is None:  # the first engine: nothing decodes yet, so it goes in at once
            self._use(decoder)
            self._worker.submit(self._recover)
        else:
            self._worker.submit(lambda: self._swap(decoder, generation))

    def _prepare(self, s: AppSettings) -> None:
        from app.injection.detect import detect_injector
        from pipeline.transcription.engine_setup import load_vad

        self._prepared = True
        self._vad, _ = load_vad(self.store)
        if self._vad is not None and self.state.mode is ds.Mode.TOGGLE and s.dictation_silence > 0:
            from audio.endpoint import Endpointer

            self.endpointer = Endpointer(self._vad, silence_after=s.dictation_silence)
        try:
            self.injector = detect_injector("auto")  # the backend; s.dictation_insert is type/paste
        except (HarkError, RuntimeError, ValueError) as e:
            self._message.emit(f"Dictated text cannot be typed here: {e}", True)

    def _make_decoder(self, s: AppSettings) -> DictationDecoder:
        from pipeline.dictation.dictation_decoder import DictationDecoder
        from pipeline.engines.base import TranscribeOptions
        from pipeline.transcription.engine_setup import load_engine

        loaded = load_engine(s.engine, s.model, self.store, language=s.language, isolate=True)
        vocabulary = [v.strip() for v in s.dictation_vocabulary.split(",") if v.strip()]
        decoder = DictationDecoder(
            loaded.engine,
            TranscribeOptions(language=s.language, threads=s.threads),
            vad=self._vad,
            vocabulary=vocabulary,
        )
        try:
            decoder.warm_up()
        except BaseException:
            _close_engine(decoder)
            raise
        return decoder

    def _use(self, decoder: DictationDecoder) -> None:
        self.decoder = decoder
        self._load_error = None
        self.ready.set()
        log.info(
            "dictation ready: engine %s, model %s, hotkey %s, %s mode",
            decoder.engine.name,
            decoder.engine.model_name,
            self.settings.dictation_hotkey if self.hotkey else "none",
            self.state.mode.value,
        )

    # --- on the dictation worker (between utterances) ---------------------------------------------
    def _swap(self, decoder: DictationDecoder, generation: int) -> None:
        if generation != self._generation:
            _close_engine(decoder)  # overtaken by a newer choice, which is loading now
            return
        old = self.decoder
        self._use(decoder)
        self.status.emit(f"Dictation now uses {decoder.engine.model_name}")
        if old is not None:
            _close_engine(old)  # waits for a live partial still running on it

    def _recover(self) -> None:
        """Utterances recorded before a crash: transcribe them into the history (not typed: the field is gone)."""
        pending = self.journal.pending()
        decoder = self.decoder
        assert decoder is not None  # _load submits this right after _use(decoder)
        for p in pending:
            try:
                text = decoder.final(p.samples()).text
                self.journal.mark_done(p.id, text)
            except Exception as e:
                self.journal.mark_failed(p.id, str(e))
        if pending:
            self.history_changed.emit()
            self._message.emit(f"Recovered {len(pending)} dictation(s) from last time: see Dictation History", False)

    def apply_settings(self, settings: AppSettings) -> None:
        """New preferences: mode, hotkey, insertion and vocabulary take effect now, the engine and model as
        soon as they are loaded (in the background); the microphone at the next start."""
        old, self.settings = self.settings, settings
        mode = ds.Mode.TOGGLE if settings.dictation_mode == "toggle" else ds.Mode.PUSH_TO_TALK
        if mode is not self.state.mode:
            self.handle(ds.SetMode(mode))
        if settings.dictation_hotkey != old.dictation_hotkey and self.capture is not None:
            if self.hotkey is not None:
                self.hotkey.stop()
            self._start_hotkey()
        if not self.reload_engine() and settings.dictation_vocabulary != old.dictation_vocabulary:
            words = [v.strip() for v in settings.dictation_vocabulary.split(",") if v.strip()]
            self._worker.submit(lambda: self.decoder.set_vocabulary(words) if self.decoder is not None else None)

    def shutdown(self) -> None:
        self._stopping = True  # a load still running is not put in use; what threads report is dropped
        self._meter.stop()
        self._partial_timer.stop()  # no new partial decodes on an engine about to close
        if self.hotkey is not None:
            self.hotkey.stop()
        if self.capture is not None:
            self.capture.close()
        self._generation += 1
        if self._loads is not None:
            self._loads.stop(timeout=10)
        self._worker.stop(timeout=10)
        if self.decoder is not None:
            _close_engine(self.decoder)
        self.overlay.close()

    def _from_thread_event(self, event: ds.Event) -> None:
        if not self._stopping:
            self.handle(event)

    def _from_thread_partial(self, text: str) -> None:
        if not self._stopping:
            self.overlay.set_partial(text)

    def _from_thread_message(self, text: str, error: bool) -> None:
        if not self._stopping:
            self._show_message(text, error)

    # --- commands (hark dictate ..., tray) --------------------------------------------------------
    def command(self, name: str) -> None:
        listening = self.state.recording is not None
        if (
            name == "dictate-toggle"
            or (name == "dictate-start" and not listening)
            or (name == "dictate-stop" and listening)
        ):
            self.handle(ds.Toggle())
        elif name == "dictate-cancel":
            self.handle(ds.Cancel())

    # --- the state machine's actions --------------------------------------------------------------
    def handle(self, event: ds.Event) -> None:
        self.state, actions = ds.step(self.state, event)
        for action in actions:
            self._do(action)

    def _do(self, a: object) -> None:
        if isinstance(a, ds.StartRecording):
            self._start_recording(a.utterance_id)
        elif isinstance(a, ds.StopRecording):
            self._stop_recording(a.utterance_id)
        elif isinstance(a, ds.DiscardRecording):
            self._stop_live()
            if self.capture is not None:
                self.capture.cancel()
            with self._blocks_lock:
                live, self._live = self._live, None
            if live is not None:
                self.journal.discard(live.id)
        elif isinstance(a, ds.Decode):
            self._worker.submit(functools.partial(self._decode, a.utterance_id))
        elif isinstance(a, ds.Insert):
            self._worker.submit(functools.partial(self._insert, a.utterance_id, a.text))
        elif isinstance(a, ds.ReportFailure):
            jid = self._journal_ids.pop(a.utterance_id, None)
            if jid is not None:
                self.journal.mark_failed(jid, a.error)
                self.history_changed.emit()
            self._show_message(f"Dictation failed: {a.error} (the audio is kept in Dictation History)", True)
        elif isinstance(a, ds.ShowOverlay):
            kinds = {"listening": OverlayState.LISTENING, "decoding": OverlayState.TRANSCRIBING}
            if a.kind in kinds:
                self.overlay.set_state(kinds[a.kind])
        elif isinstance(a, ds.Notify):
            text = {"cancelled": "Dictation cancelled", "device_lost": "The microphone stopped; what was said is kept"}
            self._show_message(text.get(a.kind, a.kind), a.kind == "device_lost")

    def _start_recording(self, uid: int) -> None:
        if self.capture is None:
            self._show_message("No microphone: dictation is off (see the log for the devices found)", True)
            self.handle(ds.Cancel())
            return
        self._target[uid] = active_window()
        if self.state.held:
            self._keys_free.clear()
        try:  # on disk as it is spoken: a crash mid-utterance loses only the last block
            live: LiveRecording | None = self.journal.begin(mode=self.state.mode.value, target_app=self._target[uid])
        except HarkError as e:
            log.warning("dictation: the recording is kept in memory only until it ends: %s", e)
            live = None
        with self._blocks_lock:
            self._blocks = []
            self._live = live
        if self.endpointer is not None:
            self.endpointer.reset()
        self.capture.begin()
        self._meter.start()
        if self.settings.dictation_partials and self.decoder is not None:
            self._partial_timer.start()

    def _stop_live(self) -> None:
        self._keys_free.set()
        self._meter.stop()
        self._partial_timer.stop()

    def _stop_recording(self, uid: int) -> None:
        self._stop_live()
        samples = self.capture.end() if self.capture is not None else np.zeros(0, np.float32)
        with self._blocks_lock:
            live, self._live = self._live, None
        try:  # on disk before anything can go wrong with decoding; replaces the live recording
            self._journal_ids[uid] = self.journal.write(
                samples, mode=self.state.mode.value, target_app=self._target.get(uid), live=live
            )
        except HarkError as e:
            self._show_message(f"The dictation could not be saved: {e}", True)
        self._audio[uid] = samples

    def _decode(self, uid: int) -> None:
        samples = self._audio.pop(uid, np.zeros(0, np.float32))
        if not self.ready.wait(120) or self.decoder is None:
            self._event.emit(ds.Failed(uid, self._load_error or "the speech engine is not loaded"))
            return
        try:
            text = self.decoder.final(samples).text
        except Exception as e:
            log.exception("dictation decode failed")
            self._event.emit(ds.Failed(uid, str(e)))
            return
        self._event.emit(ds.Decoded(uid, text))

    def _insert(self, uid: int, text: str) -> None:
        from app.injection.base import inject

        self._keys_free.wait(120)
        target = self._target.pop(uid, None)
        last_window, tail = self._last_field
        same = target is not None and target == last_window
        typed = join_dictation(tail if same else None, text, same_field=same, language=self.settings.language)
        error = None
        if typed and self.injector is not None:
            try:
                inject(self.injector, typed, self.settings.dictation_insert)
                self._last_field = (target, ((tail if same else "") + typed)[-200:])
            except Exception as e:
                error = str(e)
        elif typed:
            error = "no way to type into other apps here"
        jid = self._journal_ids.pop(uid, None)
        if jid is not None:
            self.journal.mark_done(jid, text)
        self.history_changed.emit()
        if error:
            self._message.emit(f"Could not insert the text ({error}); copy it from Dictation History", True)
        else:
            self.inserted.emit(typed)
            self._message.emit(typed.strip() or "(nothing heard)", False)

    def insert_again(self, text: str) -> None:
        """Type a past dictation into the app that has the focus (after a moment for it to get it back)."""
        from app.injection.base import inject

        def run() -> None:
            threading.Event().wait(0.4)
            if self.injector is None:
                self._message.emit("no way to type into other apps here", True)
                return
            try:
                inject(self.injector, text, self.settings.dictation_insert)
            except Exception as e:
                self._message.emit(f"Could not insert the text: {e}", True)

        self._worker.submit(run)

    # --- live feedback ----------------------------------------------------------------------------
    def _on_block(self, block: np.ndarray) -> None:  # the capture's thread
        with self._blocks_lock:
            self._blocks.append(block.copy())
            live = self._live
        if live is not None:
            live.append(block)
        if self.endpointer is not None and self.state.recording is not None:
            for ev in self.endpointer.feed(block):
                if ev.kind == "speech_end":
                    self._event.emit(ds.Silence())

    def _tick_meter(self) -> None:
        if self.capture is not None:
            self.overlay.set_level(self.capture.level_db)

    def _run_partial(self) -> None:
        with self._blocks_lock:
            audio = np.concatenate(self._blocks) if self._blocks else None
        if audio is None or self.decoder is None:
            return
        decoder = self.decoder
        self._partials.try_run(lambda: self._partial.emit(_joined(decoder.partial(audio))))

    def _show_message(self, text: str, error: bool) -> None:
        if error:
            log.warning("dictation: %s", text)
        self.overlay.set_state(OverlayState.ERROR if error else OverlayState.INSERTED, text)


def _close_engine(decoder: DictationDecoder) -> None:
    close = getattr(decoder.engine, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            log.exception("closing a dictation engine failed")


def _joined(p: object) -> str:
    return " ".join(x for x in (getattr(p, "committed", ""), getattr(p, "tentative", "")) if x)
