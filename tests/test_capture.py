"""Microphone capture: real capture through a PulseAudio virtual microphone, and
device failures (unplug, stall, refusal) with a fake at the sounddevice boundary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import numpy as np
import pytest
import sounddevice as sd

import audio.capture as capture
from audio.capture import CaptureError, InputDevice, MicCapture, StreamResampler, level_dbfs, list_inputs, resolve_input
from audio.decode import decode_audio
from tests.conftest import JFK_WAV
from tests.virtual_mic import VirtualMic, virtual_mic

SR = 16_000


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def align(ref: np.ndarray, rec: np.ndarray) -> tuple[int, float]:
    """(offset, r): rec[i] best matches ref[i + offset]; r is Pearson's r over the overlap."""
    n = len(ref) + len(rec)
    corr = np.fft.irfft(np.fft.rfft(ref, n) * np.conj(np.fft.rfft(rec, n)), n)
    k = int(np.argmax(corr))
    offset = k if k < len(ref) else k - n
    a, b = max(0, -offset), min(len(rec), len(ref) - offset)
    r = float(np.corrcoef(rec[a:b], ref[a + offset : b + offset])[0, 1])
    return offset, r


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return decode_audio(JFK_WAV).samples


# --- a fake PortAudio: one USB microphone whose stream the test drives -------------------


class FakeStream:
    """Stands in for sd.InputStream; push() plays PortAudio's thread, unplug() its abort."""

    def __init__(self, pa: SimpleNamespace, *, samplerate: float, channels: int, callback, finished_callback, **kw):
        if pa.open_error is not None:
            raise pa.open_error
        self.samplerate, self.channels = samplerate, channels
        self.callback, self.finished_callback = callback, finished_callback
        self.latency = 0.01
        self.finished = False
        self._lock = threading.Lock()
        pa.streams.append(self)

    def start(self) -> None:
        pass

    def push(self, block: np.ndarray, overflow: bool = False) -> None:
        assert not self.finished, "pushed into a finished stream"
        flags = sd.CallbackFlags()
        flags.input_overflow = overflow
        data = np.repeat(block.astype(np.float32)[:, None], self.channels, axis=1)
        self.callback(data, len(block), None, flags)

    def unplug(self) -> None:
        self._finish()  # PortAudio aborts a stream whose device vanished and calls finished_callback

    def _finish(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.finished = True
        self.finished_callback()

    def stop(self) -> None:
        self._finish()

    def close(self) -> None:
        self._finish()


@pytest.fixture
def fake_pa(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    pa = SimpleNamespace(
        devices=[
            {
                "name": "USB Mic",
                "hostapi": 0,
                "max_input_channels": 1,
                "max_output_channels": 0,
                "default_samplerate": 48000.0,
            },
            {
                "name": "HDMI Output",
                "hostapi": 0,
                "max_input_channels": 0,
                "max_output_channels": 2,
                "default_samplerate": 48000.0,
            },
        ],
        rates={16000, 48000},
        streams=[],
        open_error=None,
    )

    def query_devices(device=None, kind=None):
        if kind == "input":
            if not pa.devices:
                raise sd.PortAudioError("Error querying device -1")
            return {**pa.devices[0], "index": 0}
        if device is None:
            return [dict(d, index=i) for i, d in enumerate(pa.devices)]
        return {**pa.devices[device], "index": device}

    def check_input_settings(device=None, channels=None, dtype=None, extra_settings=None, samplerate=None):
        if samplerate not in pa.rates:
            raise sd.PortAudioError("Error querying device: Invalid sample rate [PaErrorCode -9997]")

    monkeypatch.setattr(sd, "query_devices", query_devices)
    monkeypatch.setattr(sd, "query_hostapis", lambda index=None: ({"name": "ALSA"},))
    monkeypatch.setattr(sd, "check_input_settings", check_input_settings)
    monkeypatch.setattr(sd, "InputStream", lambda **kw: FakeStream(pa, **kw))
    monkeypatch.setattr(capture, "rescan_devices", lambda: False)  # nothing to re-scan in a fake
    return pa


def sine(n: int, freq: float = 440.0, rate: int = SR, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)


def test_missing_device_names_it_and_lists_the_inputs(fake_pa: SimpleNamespace) -> None:
    with pytest.raises(CaptureError) as e:
        MicCapture("Blue Yeti").open()
    msg = str(e.value)
    assert "'Blue Yeti' is not connected" in msg and "available inputs: USB Mic (default)" in msg
    assert "HDMI" not in msg  # outputs are not microphones


def test_no_microphone_at_all(fake_pa: SimpleNamespace) -> None:
    fake_pa.devices = []
    with pytest.raises(CaptureError, match="no microphone found"):
        MicCapture().open()


def test_open_failure_is_a_capture_error(fake_pa: SimpleNamespace) -> None:
    fake_pa.open_error = sd.PortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")
    with pytest.raises(
        CaptureError, match=r"cannot open microphone 'USB Mic': Error opening InputStream: Device unavailable"
    ):
        MicCapture("usb").open()


def test_unplug_mid_utterance_reports_and_keeps_the_audio(fake_pa: SimpleNamespace) -> None:
    errors: list[str] = []
    cap = MicCapture("USB Mic", on_error=errors.append)
    cap.open()
    stream = fake_pa.streams[-1]
    signal = sine(512 * 12)
    for i in range(3):  # before the hotkey: pre-roll
        stream.push(signal[i * 512 : (i + 1) * 512])
    cap.begin()
    for i in range(3, 12):
        stream.push(signal[i * 512 : (i + 1) * 512])
    stream.unplug()
    assert wait_until(lambda: bool(errors))
    assert "microphone 'USB Mic' stopped (unplugged?)" in errors[0] and "recorded so far is kept" in errors[0]
    assert cap.last_error == errors[0] and not cap.is_open
    got = cap.end()
    assert np.array_equal(got, signal)  # every sample, pre-roll included, in order
    # plugged back in: the next utterance reopens the device
    cap.begin()
    assert len(fake_pa.streams) == 2 and cap.is_open and cap.last_error is None
    fake_pa.streams[-1].push(signal[:512])
    cap.close()
    assert np.array_equal(cap.end()[-512:], signal[:512])


def test_stream_that_goes_quiet_is_reported(fake_pa: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "STALL_TIMEOUT", 0.3)
    errors: list[str] = []
    cap = MicCapture("USB Mic", on_error=errors.append)
    cap.open()
    stream = fake_pa.streams[-1]
    cap.begin()
    stream.push(sine(512))
    assert wait_until(lambda: bool(errors), timeout=5)  # callbacks stopped, no finished_callback (ALSA unplug)
    assert "stopped delivering audio" in errors[0]
    assert np.array_equal(cap.end(), sine(512))


def test_input_overflow_is_counted_not_fatal(fake_pa: SimpleNamespace) -> None:
    errors: list[str] = []
    with MicCapture("USB Mic", on_error=errors.append) as cap:
        stream = fake_pa.streams[-1]
        cap.begin()
        stream.push(sine(512), overflow=True)
        stream.push(sine(512))
        assert wait_until(lambda: cap.overflows == 1)
        ender = threading.Thread(target=lambda: out.append(cap.end()))
        out: list[np.ndarray] = []
        ender.start()
        while ender.is_alive():  # end() waits for latency + a block more of audio
            stream.push(np.zeros(512, np.float32))
            time.sleep(0.005)
        assert cap.is_open and not errors
        assert np.array_equal(out[0][:1024], np.concatenate([sine(512), sine(512)]))


def test_end_keeps_every_block_before_it_and_a_second_begin_loses_nothing(fake_pa: SimpleNamespace) -> None:
    with MicCapture("USB Mic") as cap:
        stream = fake_pa.streams[-1]
        pushed = [0]
        stop = threading.Event()

        def pump() -> None:  # PortAudio's thread: block k holds the value k
            while not stop.is_set():
                stream.push(np.full(512, pushed[0], dtype=np.float32))
                pushed[0] += 1
                time.sleep(0.002)

        pumper = threading.Thread(target=pump)
        pumper.start()
        try:
            assert wait_until(lambda: pushed[0] > 20)
            cap.begin()
            time.sleep(0.05)
            cap.begin()  # hotkey pressed again while recording: the utterance goes on
            time.sleep(0.05)
            before_end = pushed[0]
            got = cap.end()
        finally:
            stop.set()
            pumper.join()
    values = got[::512]
    assert np.array_equal(np.diff(values), np.ones(len(values) - 1))  # contiguous, no block lost
    assert values[-1] >= before_end - 1  # everything PortAudio delivered before end() is in
    assert len(got) >= round(0.3 * SR)  # pre-roll in front


def test_on_block_sees_preroll_and_every_block_and_may_end_the_utterance(fake_pa: SimpleNamespace) -> None:
    blocks: list[np.ndarray] = []
    results: list[np.ndarray] = []

    def on_block(block: np.ndarray) -> None:
        blocks.append(block)
        if sum(len(b) for b in blocks) >= 512 * 8:  # as toggle mode does on speech_end
            results.append(cap.end())

    cap = MicCapture("USB Mic", on_block=on_block)
    with cap:
        stream = fake_pa.streams[-1]
        signal = sine(512 * 10)
        stream.push(signal[:512])
        assert wait_until(lambda: cap.level_db > -10)
        cap.begin()
        for i in range(1, 10):
            stream.push(signal[i * 512 : (i + 1) * 512])
        assert wait_until(lambda: bool(results))
    assert np.array_equal(results[0], signal[: 512 * 8])
    assert np.array_equal(np.concatenate(blocks), results[0])
    assert len(blocks[0]) == 512  # the pre-roll came first
    assert level_dbfs(signal) == pytest.approx(cap.level_db, abs=0.1)


def test_cancel_drops_the_utterance(fake_pa: SimpleNamespace) -> None:
    seen: list[int] = []
    with MicCapture("USB Mic", on_block=lambda b: seen.append(len(b))) as cap:
        stream = fake_pa.streams[-1]
        cap.begin()
        stream.push(sine(512))
        assert wait_until(lambda: bool(seen))
        cap.cancel()
        n = len(seen)
        stream.push(sine(512))
        time.sleep(0.1)
        assert not cap.recording and len(seen) == n
        assert len(cap.end()) == 0


def test_device_refusing_16k_is_captured_at_its_rate_and_resampled(fake_pa: SimpleNamespace) -> None:
    fake_pa.rates = {48000}
    with MicCapture("USB Mic") as cap:
        stream = fake_pa.streams[-1]
        assert stream.samplerate == 48000 and cap.device_samplerate == 48000
        tone = sine(48000, freq=440.0, rate=48000)
        cap.begin()
        for i in range(0, len(tone), 1536):
            stream.push(tone[i : i + 1536])
        cap.close()  # flushes the resampler's tail
    got = cap.end()
    assert abs(len(got) - SR) <= 2
    expected = sine(SR, freq=440.0)
    assert np.max(np.abs(got[200:-200] - expected[200:-200])) < 2e-3


def test_preroll_must_cover_the_first_word() -> None:
    with pytest.raises(ValueError, match="at least 0.3"):
        MicCapture(preroll=0.1)


def test_resolve_prefers_exact_name_then_default_host_api() -> None:
    inputs = [
        InputDevice("Mic (USB) MME", 0, 44100.0, False, "MME"),
        InputDevice("Mic (USB)", 3, 48000.0, False, "Windows WASAPI"),
        InputDevice("Mic (USB)", 5, 48000.0, False, "MME"),
        InputDevice("Built-in", 6, 48000.0, True, "MME"),
    ]
    assert resolve_input("mic (usb)", inputs) == inputs[2]
    assert resolve_input("built", inputs) == inputs[3]
    assert resolve_input(None, inputs) == inputs[3]
    assert resolve_input("Nope", inputs) is None and resolve_input(9, inputs) is None


# --- resampling and the meter ---------------------------------------------------------


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 8000])
def test_resampled_sine_matches(rate: int) -> None:
    x = sine(rate, freq=440.0, rate=rate)
    r = StreamResampler(rate, SR)
    rng = np.random.default_rng(rate)
    parts, i = [], 0
    while i < len(x):
        step = int(rng.integers(1, 3000))
        parts.append(r.process(x[i : i + step]))
        i += step
    y = np.concatenate(parts + [r.flush()])
    assert len(y) == SR  # one second in, one second out
    assert np.max(np.abs(y[100:-100] - sine(SR, freq=440.0)[100:-100])) < 2e-3


def test_resampler_removes_what_16k_cannot_hold() -> None:
    r = StreamResampler(48000, SR)
    y = np.concatenate([r.process(sine(48000, freq=12000.0, rate=48000)), r.flush()])
    assert level_dbfs(y[200:-200]) < level_dbfs(sine(SR)) - 60  # would alias to 4 kHz otherwise


def test_level_dbfs() -> None:
    assert level_dbfs(sine(SR, amp=1.0)) == pytest.approx(-3.01, abs=0.01)
    assert level_dbfs(np.zeros(512, np.float32)) == capture.LEVEL_FLOOR_DB


# --- the real thing: PortAudio -> ALSA -> PulseAudio virtual microphone ------------------


@pytest.fixture(scope="module")
def warm_mic(virtual_mic: VirtualMic) -> Iterator[MicCapture]:
    cap = MicCapture(device=virtual_mic.device)
    cap.open()
    assert cap.wait_ready(), "the virtual microphone delivered no audio"
    yield cap
    cap.close()


def test_lists_the_virtual_microphone(virtual_mic: VirtualMic) -> None:
    names = [d.name for d in list_inputs()]
    assert "pulse" in names and sum(d.is_default for d in list_inputs()) == 1


def test_missing_device_lists_real_inputs(virtual_mic: VirtualMic) -> None:
    with pytest.raises(CaptureError, match=r"'Blue Yeti' is not connected; available inputs: .*pulse"):
        MicCapture("Blue Yeti").open()


def test_recording_correlates_with_the_played_file_and_the_meter_moves(
    virtual_mic: VirtualMic, warm_mic: MicCapture, jfk: np.ndarray
) -> None:
    time.sleep(0.2)
    quiet = warm_mic.level_db
    warm_mic.begin()
    player = virtual_mic.play(JFK_WAV, wait=False)
    levels = []
    while player.poll() is None:
        levels.append(warm_mic.level_db)
        time.sleep(0.05)
    time.sleep(0.1)
    got = warm_mic.end()
    assert player.returncode == 0
    assert got.dtype == np.float32
    offset, r = align(jfk, got)
    assert r > 0.9, f"recording vs file: r = {r:.3f}"
    assert len(got) >= len(jfk) - offset - SR // 10  # the whole file is in
    assert quiet < -60 and max(levels) > -30, (quiet, max(levels))
    print(f"capture r={r:.4f} offset={offset / SR:.3f}s meter {quiet:.0f} -> {max(levels):.0f} dBFS")


def test_preroll_keeps_the_first_word_spoken_before_begin(
    virtual_mic: VirtualMic, warm_mic: MicCapture, jfk: np.ndarray
) -> None:
    player = virtual_mic.play(JFK_WAV, wait=False)
    try:
        assert wait_until(lambda: warm_mic.level_db > -35), "playback never reached the microphone"
        time.sleep(0.3)  # the user started talking 0.3 s before the hotkey registered
        warm_mic.begin()
        time.sleep(1.0)
        got = warm_mic.end()
    finally:
        player.terminate()
        player.wait()
    offset, r = align(jfk, got)
    assert r > 0.9
    first_word = (int(0.35 * SR), int(0.6 * SR))  # "And" in jfk.wav
    assert offset <= first_word[0], f"utterance starts {offset / SR:.2f} s into the file: first word clipped"
    heard = got[first_word[0] - offset : first_word[1] - offset]
    assert level_dbfs(heard) > -30
    print(f"pre-roll: utterance starts {offset / SR:.3f} s into jfk.wav")


def test_cancel_on_the_real_microphone(virtual_mic: VirtualMic, warm_mic: MicCapture, jfk: np.ndarray) -> None:
    warm_mic.begin()
    virtual_mic.play_samples(jfk[: SR // 2])
    warm_mic.cancel()
    assert len(warm_mic.end()) == 0
    warm_mic.begin()  # and the next utterance works
    virtual_mic.play_samples(jfk[SR // 2 : SR])
    assert len(warm_mic.end()) > SR // 2


def test_real_device_refusing_16k(virtual_mic: VirtualMic, monkeypatch: pytest.MonkeyPatch, jfk: np.ndarray) -> None:
    real_check = sd.check_input_settings

    def refuse_16k(**kw):
        if kw.get("samplerate") == SR:
            raise sd.PortAudioError("Invalid sample rate [PaErrorCode -9997]")
        return real_check(**kw)

    monkeypatch.setattr(sd, "check_input_settings", refuse_16k)
    with MicCapture(device=virtual_mic.device) as cap:
        assert cap.device_samplerate == 44100  # the pulse device's own rate
        assert cap.wait_ready()
        cap.begin()
        virtual_mic.play_samples(jfk[: 3 * SR])
        got = cap.end()
    _offset, r = align(jfk[: 3 * SR], got)
    assert r > 0.9, f"resampled recording vs file: r = {r:.3f}"
    print(f"44.1 kHz capture resampled: r={r:.4f}")
