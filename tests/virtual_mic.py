"""A virtual microphone for end-to-end tests: a private PulseAudio server whose
null sink's monitor is the recording source, so whatever is played into the
sink is what a microphone "hears".

    from tests.virtual_mic import VirtualMic, virtual_mic  # the fixture, for pytest

    with VirtualMic() as mic:                 # or the `virtual_mic` fixture
        cap = MicCapture(device=mic.device)  # "pulse": PortAudio's ALSA->PulseAudio device
        cap.open(); cap.wait_ready()         # the first block takes 1-2 s; play after it
        mic.play(JFK_WAV)                    # blocks until played; wait=False returns the Popen

The server runs with private runtime/home/cookie folders and socket (the user's
own sound server is never touched); while it runs, PULSE_SERVER and PULSE_COOKIE
point this process at it. PortAudio fixes its device list when it starts, so
the list is re-scanned (audio.capture.rescan_devices) after start and after stop.
Skips (pytest.skip) with the reason when pulseaudio, paplay or the ALSA pulse
plugin is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio.capture import list_inputs, rescan_devices

SINK = "vsink"


class VirtualMicUnavailable(RuntimeError):
    """This machine cannot run the virtual microphone; the message says why."""


def unavailable_reason() -> str | None:
    for tool, package in (("pulseaudio", "pulseaudio"), ("paplay", "pulseaudio-utils"), ("pactl", "pulseaudio-utils")):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install {package})"
    return None


class VirtualMic:
    device = "pulse"  # the sounddevice input to open

    def __init__(self, rate: int = 16_000, channels: int = 1, start_timeout: float = 10.0) -> None:
        self.rate = rate
        self.channels = channels
        self.start_timeout = start_timeout
        self._dir: Path | None = None
        self._server: subprocess.Popen[bytes] | None = None
        self._saved_env: dict[str, str | None] = {}
        self._env: dict[str, str] = {}

    # -- life cycle

    def start(self) -> VirtualMic:
        reason = unavailable_reason()
        if reason:
            raise VirtualMicUnavailable(reason)
        self._dir = Path(tempfile.mkdtemp(prefix="hark-vmic-"))
        runtime, home = self._dir / "runtime", self._dir / "home"
        runtime.mkdir(mode=0o700)
        home.mkdir()
        socket = self._dir / "native"
        cookie = self._dir / "cookie"
        cookie.write_bytes(os.urandom(256))
        self._env = {
            "XDG_RUNTIME_DIR": str(runtime),
            "HOME": str(home),
            "PULSE_SERVER": f"unix:{socket}",
            "PULSE_COOKIE": str(cookie),
        }
        log = open(self._dir / "pulseaudio.log", "wb")  # noqa: SIM115 (handed to the server process)
        self._server = subprocess.Popen(
            [
                "pulseaudio",
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--log-target=stderr",
                f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
                f"--load=module-null-sink sink_name={SINK} rate={self.rate} channels={self.channels}",
            ],
            env={**os.environ, **self._env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        try:
            self._wait_for_server()
            self._pactl("set-default-sink", SINK)
            self._pactl("set-default-source", f"{SINK}.monitor")
            for key in ("PULSE_SERVER", "PULSE_COOKIE"):  # the ALSA pulse plugin in this process
                self._saved_env[key] = os.environ.get(key)
                os.environ[key] = self._env[key]
            if not rescan_devices():
                raise VirtualMicUnavailable("a microphone stream is open in this process; PortAudio cannot re-scan")
            if not any(d.name == self.device for d in list_inputs()):
                raise VirtualMicUnavailable("PortAudio lists no 'pulse' input (apt-get install libasound2-plugins)")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.terminate()
            try:
                self._server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
            self._server = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        rescan_devices()  # forget the 'pulse' device (no-op if a stream is still open)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> VirtualMic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- playing

    def play(self, path: str | Path, wait: bool = True, timeout: float = 120.0) -> subprocess.Popen[bytes]:
        """Play a file (anything libsndfile reads: wav, flac, ogg) into the microphone."""
        if self._server is None:
            raise RuntimeError("VirtualMic is not started")
        if not Path(path).is_file():
            raise FileNotFoundError(path)
        proc = subprocess.Popen(
            ["paplay", f"--device={SINK}", str(path)],
            env={**os.environ, **self._env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if wait:
            _, err = proc.communicate(timeout=timeout)
            if proc.returncode != 0:
                raise RuntimeError(f"paplay {path} failed: {err.decode(errors='replace').strip()}")
        return proc

    def play_samples(self, samples: np.ndarray, samplerate: int = 16_000, wait: bool = True) -> subprocess.Popen[bytes]:
        """Play mono float32 samples (written to a temporary 16-bit wav)."""
        assert self._dir is not None, "VirtualMic is not started"
        path = self._dir / f"play-{time.monotonic_ns()}.wav"
        pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(samplerate)
            w.writeframes(pcm.tobytes())
        return self.play(path, wait=wait)

    # -- helpers

    @property
    def log_text(self) -> str:
        if self._dir is None or not (self._dir / "pulseaudio.log").exists():
            return ""
        return (self._dir / "pulseaudio.log").read_text(errors="replace")

    def _pactl(self, *args: str) -> None:
        subprocess.run(["pactl", *args], env={**os.environ, **self._env}, check=True, capture_output=True, timeout=10)

    def _wait_for_server(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._server is not None
            if self._server.poll() is not None:
                raise VirtualMicUnavailable(f"pulseaudio exited: {self.log_text.strip()[-500:]}")
            ok = (
                subprocess.run(
                    ["pactl", "info"], env={**os.environ, **self._env}, capture_output=True, timeout=10
                ).returncode
                == 0
            )
            if ok:
                return
            time.sleep(0.05)
        raise VirtualMicUnavailable(f"pulseaudio did not start within {self.start_timeout} s")


_shared: VirtualMic | None = None
_shared_users = 0


@pytest.fixture(scope="session")
def virtual_mic() -> Iterator[VirtualMic]:
    """One virtual microphone for the test session; skips with the reason when unavailable.

    Test modules import this fixture; pytest then registers it once per module,
    so the instance is shared here and stopped when the last module is done.
    """
    global _shared, _shared_users
    if _shared is None:
        try:
            _shared = VirtualMic().start()
        except VirtualMicUnavailable as e:
            pytest.skip(f"virtual microphone unavailable: {e}")
    _shared_users += 1
    try:
        yield _shared
    finally:
        _shared_users -= 1
        if _shared_users == 0 and _shared is not None:
            _shared.stop()
            _shared = None
