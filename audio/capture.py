"""Microphone capture for live dictation: one warm PortAudio input stream.

Why it is built this way:
- The stream is opened once and kept running, and the last `preroll` seconds
  are always kept in a ring buffer, so an utterance starts with audio from
  *before* the hotkey press: the first word is never clipped by device
  start-up time or a late key event.
- The PortAudio callback only copies each block into a queue. A worker thread
  (the "audio thread" below) does the rest: downmix, resample, ring buffer,
  the utterance, the level meter and `on_block`. So nothing slow ever runs
  in the callback, and a slow `on_block` delays audio but never drops it.
- `end()` waits until the audio captured up to the moment it was called (plus
  the device's input latency) has been processed, so the last word is kept.
- A device that stops mid-utterance (unplugged: PortAudio aborts the stream,
  or the callbacks silently stop) is reported once through `on_error`;
  `end()` still returns everything captured. The next `begin()` reopens.

sounddevice is imported lazily so that a missing PortAudio library becomes a
CaptureError a user can act on, not an import crash of the whole app.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audio.errors import HarkError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MIN_PREROLL = 0.3  # s; less than this clips plosives of a word started with the key press
LEVEL_FLOOR_DB = -100.0  # level_db of digital silence (a meter wants a finite number)
STARTUP_TIMEOUT = 5.0  # s a new stream may take before its first block (PulseAudio: 1.3-2 s)
STALL_TIMEOUT = 2.0  # s without a block after the first one: the device is gone
END_WAIT_LIMIT = 10.0  # s end() waits for the worker at most (a stuck on_block)


class CaptureError(HarkError):
    """The microphone cannot be opened or used; the message is meant for a user."""


@dataclass(frozen=True)
class InputDevice:
    name: str
    index: int
    default_samplerate: float
    is_default: bool
    hostapi: str = ""  # the same mic appears once per host API on Windows (MME, WASAPI, ...)


def _sd() -> Any:
    try:
        import sounddevice
    except OSError as e:  # libportaudio missing
        raise CaptureError(
            "cannot use the microphone: the PortAudio library is missing (Debian/Ubuntu: apt-get install libportaudio2)"
        ) from e
    return sounddevice


# --- device list ------------------------------------------------------------

_registry_lock = threading.Lock()
_open_streams = 0  # streams of this process; PortAudio cannot re-scan while any is open


def list_inputs() -> list[InputDevice]:
    """Every device with input channels, as PortAudio saw them at its last scan."""
    sd = _sd()
    try:
        default_in = sd.query_devices(kind="input")["index"]  # honours sd.default.device
    except Exception:  # no default input (no devices at all): none is marked default
        default_in = -1
    hostapis = [h["name"] for h in sd.query_hostapis()]
    out = []
    for i, info in enumerate(sd.query_devices()):
        if info["max_input_channels"] > 0:
            out.append(
                InputDevice(
                    name=info["name"],
                    index=i,
                    default_samplerate=float(info["default_samplerate"]),
                    is_default=i == default_in,
                    hostapi=hostapis[info["hostapi"]] if info["hostapi"] < len(hostapis) else "",
                )
            )
    return out


def rescan_devices() -> bool:
    """Make PortAudio look for devices again (one plugged in after start-up).

    PortAudio fixes its device list when it initialises and can only re-scan
    with no stream open; returns False (and does nothing) while one is.
    """
    sd = _sd()
    with _registry_lock:
        if _open_streams:
            return False
        sd._terminate()  # sounddevice offers no public re-scan; these two are its own init/exit
        sd._initialize()
    return True


def describe_inputs(inputs: list[InputDevice]) -> str:
    if not inputs:
        return "no microphone is connected"
    names = [f"{d.name}{' (default)' if d.is_default else ''}" for d in inputs]
    return "available inputs: " + ", ".join(names)


def resolve_input(device: str | int | None, inputs: list[InputDevice]) -> InputDevice | None:
    """The input a setting names: None = the default; a name matches exactly, then as a substring."""
    if not inputs:
        return None
    if device is None:
        return next((d for d in inputs if d.is_default), inputs[0])
    if isinstance(device, int):
        return next((d for d in inputs if d.index == device), None)
    want = device.casefold()
    matches = [d for d in inputs if d.name.casefold() == want] or [d for d in inputs if want in d.name.casefold()]
    if not matches:
        return None
    default_api = next((d.hostapi for d in inputs if d.is_default), None)
    matches.sort(key=lambda d: (d.hostapi != default_api, d.index))
    return matches[0]


# --- resampling ---------------------------------------------------------------


class StreamResampler:
    """Rational-rate windowed-sinc resampler for audio arriving in blocks.

    Polyphase FIR (Kaiser window, 16 zero crossings each side) with its
    cutoff just below the lower Nyquist frequency, so 48 kHz -> 16 kHz does
    not fold 8-24 kHz into the speech band. The output is time-aligned with
    the input (no delay); each call returns what can be computed so far,
    which lags the input by ~1 ms, and `flush()` returns the rest.
    """

    def __init__(self, in_rate: int, out_rate: int, zero_crossings: int = 16, beta: float = 8.6) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        g = math.gcd(in_rate, out_rate)
        self.up, self.down = out_rate // g, in_rate // g
        fc = min(1.0, self.up / self.down) * 0.94  # cutoff as a fraction of the input Nyquist
        self.half = math.ceil(zero_crossings / fc)  # taps each side, in input samples
        j = np.arange(2 * self.half)
        frac = np.arange(self.up)[:, None] / self.up
        tau = frac + self.half - 1 - j[None, :]  # distance from each output instant to each tap
        ratio = np.clip(tau / self.half, -1.0, 1.0)
        table = fc * np.sinc(fc * tau) * np.i0(beta * np.sqrt(1.0 - ratio**2)) / np.i0(beta)
        table[np.abs(tau) >= self.half] = 0.0
        self._table = (table / table.sum(axis=1, keepdims=True)).astype(np.float32)  # unity DC gain
        self._taps = np.arange(2 * self.half)
        self.reset()

    def reset(self) -> None:
        self._buf = np.zeros(self.half, dtype=np.float32)  # silence before the first sample
        self._base = -self.half  # input index of _buf[0]
        self._n = 0  # next output index

    def process(self, x: np.ndarray) -> np.ndarray:
        self._buf = np.concatenate([self._buf, np.asarray(x, dtype=np.float32)])
        last_ok = self._base + len(self._buf) - 1 - self.half  # latest centre with all taps present
        return self._emit(-((-(last_ok + 1) * self.up) // self.down))

    def flush(self) -> np.ndarray:
        """The tail, treating the future as silence."""
        end_in = self._base + len(self._buf)
        self._buf = np.concatenate([self._buf, np.zeros(self.half, dtype=np.float32)])
        out = self._emit(-((-end_in * self.up) // self.down))
        self.reset()
        return out

    def _emit(self, n_end: int) -> np.ndarray:
        if n_end <= self._n:
            return np.zeros(0, dtype=np.float32)
        n = np.arange(self._n, n_end)
        i0, phase = np.divmod(n * self.down, self.up)
        idx = (i0 - self.half + 1 - self._base)[:, None] + self._taps[None, :]
        y = np.einsum("ij,ij->i", self._buf[idx], self._table[phase])
        self._n = n_end
        keep_from = (self._n * self.down) // self.up - self.half + 1 - self._base
        if keep_from > 0:
            self._buf = self._buf[keep_from:]
            self._base += keep_from
        return y.astype(np.float32)


def level_dbfs(x: np.ndarray) -> float:
    if len(x) == 0:
        return LEVEL_FLOOR_DB
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return max(LEVEL_FLOOR_DB, 20.0 * math.log10(rms)) if rms > 0 else LEVEL_FLOOR_DB


# --- the capture --------------------------------------------------------------

_STOPPED = object()  # queue sentinel: the stream finished (closed by us or died)


@dataclass(eq=False)
class _Link:
    """One opened PortAudio stream and the worker that drains it."""

    device: InputDevice
    rate: int
    channels: int
    tail_frames: int  # device frames end() waits for beyond its call: input latency + a block
    q: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    stream: Any = None
    worker: threading.Thread | None = None
    resampler: StreamResampler | None = None
    started_at: float = field(default_factory=time.monotonic)
    last_block_at: float | None = None
    frames_in: int = 0  # written by the callback only
    frames_done: int = 0  # written by the worker only
    closing: bool = False
    alive: bool = True
    counted: bool = False  # in _open_streams
    first_block: threading.Event = field(default_factory=threading.Event)


class MicCapture:
    """A warm microphone with pre-roll; utterances are cut out of it with begin()/end().

    Callbacks (both run on this object's audio worker thread, never in the
    PortAudio callback; keep them short, hand heavy work such as decoding to
    another thread, and do not call close() from them):
    - `on_block(block)`: each block of the current utterance, float32 at
      `samplerate`, starting with the pre-roll. Blocks are ~block_seconds long
      (the pre-roll comes as one longer block). All of an utterance's blocks
      are delivered before end() returns, unless end() is called from
      on_block itself (toggle mode stopping on a speech_end), in which case
      it returns at once with the audio up to that block.
    - `on_error(message)`: the stream died (device unplugged); one line for a
      user. What was captured stays and end() returns it.

    Every public method is thread-safe.
    """

    def __init__(
        self,
        device: str | int | None = None,
        samplerate: int = SAMPLE_RATE,
        preroll: float = 0.5,
        block_seconds: float = 0.032,
        *,
        on_block: Callable[[np.ndarray], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if preroll < MIN_PREROLL:
            raise ValueError(f"preroll must be at least {MIN_PREROLL} s so the first word is not clipped")
        if not 0.002 <= block_seconds <= 0.5:
            raise ValueError("block_seconds must be between 0.002 and 0.5")
        self.device = device
        self.samplerate = int(samplerate)
        self.preroll = float(preroll)
        self.block_seconds = float(block_seconds)
        self.on_block = on_block
        self.on_error = on_error
        self.level_db: float = LEVEL_FLOOR_DB  # RMS dBFS of the latest block (any time the stream runs)
        self.overflows = 0  # blocks PortAudio flagged as having lost input (system too busy)
        self._open_lock = threading.Lock()  # serialises open/close
        self._cond = threading.Condition()  # guards everything below
        self._link: _Link | None = None
        self._ring = np.zeros(max(1, round(self.preroll * self.samplerate)), dtype=np.float32)
        self._ring_pos = 0
        self._ring_filled = 0
        self._recording = False
        self._chunks: list[np.ndarray] = []
        self._delivered = 0  # chunks already given to on_block
        self._utterance = 0  # counts begin()s, so late deliveries of an old utterance stop
        self._end_at: int | None = None  # device frame count that completes the pending end()
        self._result: np.ndarray | None = None
        self._error: str | None = None
        self._need_rescan = False

    # -- properties

    @property
    def is_open(self) -> bool:
        link = self._link
        return link is not None and link.alive

    @property
    def recording(self) -> bool:
        return self._recording

    @property
    def last_error(self) -> str | None:
        return self._error

    @property
    def input_device(self) -> InputDevice | None:
        link = self._link
        return link.device if link else None

    @property
    def device_samplerate(self) -> int | None:
        link = self._link
        return link.rate if link else None

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> bool:
        """Block until the stream has delivered its first block (PulseAudio needs 1-2 s)."""
        link = self._link
        return bool(link and link.first_block.wait(timeout))

    # -- open / close

    def open(self) -> None:
        """Open and start the stream (no-op when already running). Raises CaptureError."""
        global _open_streams
        with self._open_lock:
            if self.is_open:
                return
            self._retire(self._link)
            self._link = None
            sd = _sd()
            if self._need_rescan:
                rescan_devices()
            inputs = list_inputs()
            dev = resolve_input(self.device, inputs)
            if dev is None and rescan_devices():  # plugged in since PortAudio last looked?
                inputs = list_inputs()
                dev = resolve_input(self.device, inputs)
            if dev is None:
                if self.device is None or not inputs:
                    raise CaptureError(
                        "no microphone found: connect one, or check that the system's sound server is running"
                    )
                raise CaptureError(f"microphone {self.device!r} is not connected; {describe_inputs(inputs)}")
            rate, channels = self._negotiate(sd, dev, inputs)
            link = _Link(device=dev, rate=rate, channels=channels, tail_frames=0)
            if rate != self.samplerate:
                link.resampler = StreamResampler(rate, self.samplerate)
            q = link.q

            def callback(indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
                # PortAudio's thread: copy and hand over, nothing else.
                q.put((indata.copy(), bool(status and status.input_overflow)))
                link.frames_in += frames
                link.last_block_at = time.monotonic()

            def finished() -> None:
                q.put(_STOPPED)

            try:
                link.stream = sd.InputStream(
                    device=dev.index,
                    samplerate=rate,
                    channels=channels,
                    dtype="float32",
                    blocksize=max(1, round(rate * self.block_seconds)),
                    callback=callback,
                    finished_callback=finished,
                )
                link.stream.start()
            except Exception as e:  # PortAudioError, or ValueError for odd settings
                if link.stream is not None:
                    self._retire(link)
                self._need_rescan = True
                raise CaptureError(
                    f"cannot open microphone {dev.name!r}: {_reason(e)}; {describe_inputs(inputs)}"
                ) from e
            with _registry_lock:
                _open_streams += 1
                link.counted = True
            latency = float(getattr(link.stream, "latency", 0.0) or 0.0)
            link.tail_frames = round((latency + self.block_seconds + 0.05) * rate)
            with self._cond:
                self._ring_filled = 0  # audio from a previous stream is not pre-roll for this one
                self._error = None
                self._link = link
            self._need_rescan = False
            link.worker = threading.Thread(target=self._work, args=(link,), name="hark-mic", daemon=True)
            link.worker.start()
            log.info("microphone %r open at %d Hz, %d channel(s)", dev.name, rate, channels)

    def close(self) -> None:
        """Stop the stream. An utterance in progress is kept: end() still returns it."""
        with self._open_lock:
            link = self._link
            if link is None:
                return
            self._retire(link)
            if link.worker is not None and link.worker is not threading.current_thread():
                link.worker.join(timeout=2.0)
            with self._cond:
                link.alive = False
                self._cond.notify_all()

    def __enter__(self) -> MicCapture:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- utterances

    def begin(self) -> None:
        """Start an utterance with the pre-roll in front; opens the stream if needed.

        Called while an utterance is running it does nothing: that utterance
        goes on (a second hotkey press never loses a recording).
        """
        with self._cond:
            if self._recording:
                log.debug("begin() during an utterance: it continues")
                return
        if not self.is_open:
            self.open()
        with self._cond:
            if self._recording:
                return
            self._result = None
            self._end_at = None
            self._chunks = [self._ring_contents()] if self._ring_filled else []
            self._delivered = 0
            self._utterance += 1
            self._recording = True

    def end(self) -> np.ndarray:
        """Finish the utterance; float32 at `samplerate` (empty when none was running)."""
        link = self._link
        with self._cond:
            if not self._recording:
                return np.zeros(0, dtype=np.float32)
            on_worker = link is not None and link.worker is threading.current_thread()
            if on_worker or link is None or not link.alive:
                self._finish()
            else:
                self._end_at = link.frames_in + link.tail_frames
                deadline = time.monotonic() + END_WAIT_LIMIT
                while self._result is None and self._recording:
                    if not link.alive:  # closed or died meanwhile: the worker has drained
                        self._finish()
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        log.warning("microphone worker did not catch up; ending with what was processed")
                        self._finish()
                        break
                    self._cond.wait(min(left, 0.25))
            out, self._result = self._result, None
            return out if out is not None else np.zeros(0, dtype=np.float32)

    def cancel(self) -> None:
        """Drop the current utterance, if any."""
        with self._cond:
            self._recording = False
            self._chunks = []
            self._end_at = None
            self._result = None
            self._cond.notify_all()

    # -- internals

    def _negotiate(self, sd: Any, dev: InputDevice, inputs: list[InputDevice]) -> tuple[int, int]:
        """Prefer mono at our rate; else what the device offers (resampled/downmixed by us)."""
        max_ch = int(sd.query_devices(dev.index)["max_input_channels"])
        channel_options = list(dict.fromkeys(c for c in (1, 2, max_ch) if 1 <= c <= max_ch))
        rate_options = list(dict.fromkeys([self.samplerate, round(dev.default_samplerate), 48_000, 44_100]))
        last: Exception | None = None
        for rate in rate_options:
            for ch in channel_options:
                try:
                    sd.check_input_settings(device=dev.index, channels=ch, dtype="float32", samplerate=rate)
                    return int(rate), ch
                except Exception as e:
                    last = e
        raise CaptureError(f"microphone {dev.name!r} cannot record: {_reason(last)}; {describe_inputs(inputs)}")

    def _ring_contents(self) -> np.ndarray:
        n, size = self._ring_filled, len(self._ring)
        if n < size:
            return self._ring[:n].copy()
        return np.concatenate([self._ring[self._ring_pos :], self._ring[: self._ring_pos]])

    def _ring_write(self, x: np.ndarray) -> None:
        size = len(self._ring)
        if len(x) >= size:
            self._ring[:] = x[-size:]
            self._ring_pos, self._ring_filled = 0, size
            return
        first = min(len(x), size - self._ring_pos)
        self._ring[self._ring_pos : self._ring_pos + first] = x[:first]
        self._ring[: len(x) - first] = x[first:]
        self._ring_pos = (self._ring_pos + len(x)) % size
        self._ring_filled = min(size, self._ring_filled + len(x))

    def _finish(self) -> None:
        """Close the utterance (caller holds _cond)."""
        self._result = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)
        self._chunks = []
        self._recording = False
        self._end_at = None
        self._cond.notify_all()

    def _work(self, link: _Link) -> None:
        while True:
            try:
                item = link.q.get(timeout=0.25)
            except queue.Empty:
                if self._stalled(link):
                    self._die(link, "stopped delivering audio")
                    return
                continue
            if item is _STOPPED:
                if link.closing:
                    if link.resampler is not None:
                        self._take(link, link.resampler.flush())
                    with self._cond:
                        link.alive = False
                        self._cond.notify_all()
                else:
                    self._die(link, "stopped")
                return
            data, overflow = item
            if overflow:
                self.overflows += 1
                log.warning("microphone input overflow: a few ms of audio were lost (system too busy)")
            mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
            link.frames_done += len(mono)
            link.first_block.set()
            self._take(link, link.resampler.process(mono) if link.resampler is not None else mono)

    def _take(self, link: _Link, x: np.ndarray) -> None:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if len(x):
            self.level_db = level_dbfs(x)
        with self._cond:
            if len(x):
                self._ring_write(x)
            if self._recording and len(x):
                self._chunks.append(x)
            todo = self._chunks[self._delivered :] if self._recording else []
            self._delivered = len(self._chunks)
            utterance = self._utterance
            callback = self.on_block
        if callback is not None:
            for block in todo:
                if self._utterance != utterance or not self._recording:
                    break  # ended or cancelled from a callback (or another thread) meanwhile
                try:
                    callback(block)
                except Exception:  # a consumer's bug must not stop the microphone
                    log.exception("on_block failed")
        with self._cond:
            if self._recording and self._end_at is not None and link.frames_done >= self._end_at:
                self._finish()

    def _stalled(self, link: _Link) -> bool:
        if link.closing:
            return False
        now = time.monotonic()
        if link.last_block_at is None:
            return now - link.started_at > STARTUP_TIMEOUT
        return now - link.last_block_at > STALL_TIMEOUT

    def _die(self, link: _Link, what: str) -> None:
        """The device went away: keep the audio, close the utterance if end() waits, tell the user."""
        message = (
            f"microphone {link.device.name!r} {what} (unplugged?); the audio recorded so far is kept. "
            "Reconnect it or choose another input."
        )
        with self._cond:
            link.alive = False
            self._error = message
            self._need_rescan = True
            if self._recording and self._end_at is not None:
                self._finish()
            self._cond.notify_all()
        log.warning("%s", message)
        # A dead stream may hang in stop/close (seen with ALSA and CoreAudio): do it off-thread.
        threading.Thread(target=self._retire, args=(link,), name="hark-mic-close", daemon=True).start()
        callback = self.on_error
        if callback is not None:
            try:
                callback(message)
            except Exception:
                log.exception("on_error failed")

    def _retire(self, link: _Link | None) -> None:
        """Stop and close a stream; safe to call twice and on a dead stream."""
        global _open_streams
        if link is None:
            return
        with _registry_lock:
            if link.closing:
                return
            link.closing = True
        stream = link.stream
        if stream is not None:
            try:
                stream.stop()
            except Exception as e:
                log.debug("stopping the microphone stream: %s", e)
            try:
                stream.close()
            except Exception as e:
                log.debug("closing the microphone stream: %s", e)
            link.q.put(_STOPPED)  # in case PortAudio did not call finished_callback
        with _registry_lock:
            if link.counted:
                link.counted = False
                _open_streams -= 1


def _reason(e: BaseException | None) -> str:
    if e is None:
        return "unknown error"
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
