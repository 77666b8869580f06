"""SIGTERM and SIGINT quit the real app within 2 s, after saving, whatever it is doing: the first-run
dialog (shown before the main event loop starts) and a modal dialog over the main window included."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.transcription.jobs import JobQueue, JobStatus, load_queue, save_queue
from tests.conftest import JFK_WAV

ROOT = Path(__file__).resolve().parents[1]
QUIT_WITHIN_S = 2.0


class Hark:
    """`python -m app` with a HOME, XDG folders, data and models of its own (a first run unless configured)."""

    def __init__(self, root: Path, conf: str | None = None, display: str | None = None) -> None:
        self.root = root
        home = root / "home"
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "HARK_DATA_DIR": str(root / "data"),
            "HARK_MODELS_DIR": str(root / "models"),
            "HARK_LOG_DIR": str(root / "log"),
            "QT_QPA_PLATFORM": "offscreen",
        }
        if display is not None:
            self.env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
            self.env.pop("WAYLAND_DISPLAY", None)
        self.conf = home / ".config" / "Hark" / "Hark.conf"
        self.conf.parent.mkdir(parents=True)
        (root / "models").mkdir()
        if conf is not None:
            self.conf.write_text(conf)
        self.queue = root / "data" / "queue.json"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> None:
        self._out = (self.root / "out.txt").open("wb")  # a file: an unread pipe could stall the app
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", *args], cwd=ROOT, env=self.env, stdout=self._out, stderr=self._out
        )

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted((self.root / "log").glob("*.log")))

    def wait_log(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log_text():
            assert self.proc is not None and self.proc.poll() is None, f"the app exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {needle!r} in the log:\n{self.output()}"
            time.sleep(0.05)

    def output(self) -> str:
        return (self.root / "out.txt").read_text(errors="replace") + "\n" + self.log_text()[-3000:]

    def quit_with(self, sig: int) -> tuple[int | None, float]:
        """Send `sig`; the exit status (None if still running) and how long it took."""
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc: int | None = self.proc.wait(QUIT_WITHIN_S + 3)  # a little longer, to report how late it was
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self._out.close()

    def jobs(self) -> list[tuple[str, JobStatus]]:
        """The saved queue as the next start reads it (a job saved as running is queued again then)."""
        queue, warning = load_queue(self.queue)
        assert warning is None, warning
        return [(Path(j.path).name, j.status) for j in queue.jobs]


@pytest.fixture
def hark(tmp_path: Path):
    apps: list[Hark] = []

    def make(conf: str | None = None, display: str | None = None) -> Hark:
        apps.append(Hark(tmp_path, conf, display))
        return apps[-1]

    yield make
    for a in apps:
        a.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_quits_from_the_first_run_dialog_after_saving(hark, tmp_path: Path, sig: int) -> None:
    app = hark()  # no settings at all: the welcome dialog opens, in its own event loop, before the main one
    media = tmp_path / "media" / "talk.wav"
    media.parent.mkdir()
    shutil.copyfile(JFK_WAV, media)
    q = JobQueue()
    q.add([media])
    save_queue(q, app.queue)  # a queued job: it starts while the dialog is open
    app.start()
    app.wait_log("first-run dialog open")
    rc, took = app.quit_with(sig)
    assert rc == 0 and took < QUIT_WITHIN_S, f"exit status {rc} after {took:.1f} s\n{app.output()}"
    assert "quitting on a signal" in app.log_text()
    assert app.jobs() == [("talk.wav", JobStatus.QUEUED)]  # it runs at the next start: not cancelled, not lost
    assert "first_run_done" not in (app.conf.read_text() if app.conf.exists() else "")  # asked again next time


@pytest.mark.slow
def test_sigterm_quits_with_a_modal_dialog_open_over_the_main_window(hark) -> None:
    from tests.target_field import Xvfb

    if shutil.which("xdotool") is None or shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb and xdotool")  # offscreen windows cannot be sent keys from outside
    with Xvfb() as display:
        app = hark("[General]\nfirst_run_done=true\n\n[preferences]\nengine=sphinx\n", display)
        app.start(str(JFK_WAV))
        app.wait_log("main window ready")

        def xdo(*args: str) -> str:
            r = subprocess.run(["xdotool", *args], env=app.env, capture_output=True, text=True, timeout=20)
            return r.stdout.strip() if r.returncode == 0 else ""

        main = xdo("search", "--sync", "--name", "^Hark$").split()[0]
        xdo("windowfocus", "--sync", main)
        xdo("key", "--window", main, "ctrl+comma")  # Tools > Settings…: a dialog that runs its own loop
        deadline = time.monotonic() + 20
        while not xdo("search", "--name", "^Hark Settings$"):
            assert time.monotonic() < deadline, f"the Settings dialog did not open\n{app.output()}"
            time.sleep(0.05)
        rc, took = app.quit_with(signal.SIGTERM)
    assert rc == 0 and took < QUIT_WITHIN_S, f"exit status {rc} after {took:.1f} s\n{app.output()}"
    assert "quitting on a signal" in app.log_text()
    assert app.jobs() in ([("jfk.wav", JobStatus.QUEUED)], [("jfk.wav", JobStatus.DONE)])
