"""Launching the desktop app as a user does: real processes, one instance, files handed over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli.main import wants_gui
from app.system.single_instance import InstanceServer, hand_off
from tests.conftest import DATA, JFK_WAV

ROOT = Path(__file__).resolve().parents[1]


def test_what_opens_the_window(tmp_path: Path) -> None:
    talk, a, b = (tmp_path / n for n in ("talk.mp4", "a.wav", "b.wav"))
    for f in (talk, a, b):
        f.write_bytes(b"media")
    assert wants_gui([]) and wants_gui([str(talk)]) and wants_gui([str(a), str(b)]) and wants_gui([str(tmp_path)])
    # A first word that is neither a command nor a file is answered on the terminal (app.cli.main.first_word_error)
    assert not wants_gui([str(tmp_path / "not-there.mp4")]) and not wants_gui(["transcibe", "a.wav"])
    assert not wants_gui(["transcribe", "a.wav"]) and not wants_gui(["models", "list"])
    assert not wants_gui(["--help"]) and not wants_gui(["-v", "transcribe", "x"])


def test_hand_off_reaches_the_running_instance(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARK_DATA_DIR", str(tmp_path))
    server = InstanceServer()
    assert server.listen()
    got: list[list[str]] = []
    server.files_received.connect(got.append)
    # The second launch is a real, separate process.
    code = (
        "import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
        "from app.system.single_instance import hand_off; sys.exit(0 if hand_off(sys.argv[1:]) else 1)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "/x/a.wav", "/x/b.mp4"],
        cwd=ROOT,
        env={**os.environ, "HARK_DATA_DIR": str(tmp_path)},
    )
    qtbot.waitUntil(lambda: got != [], timeout=10_000)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=10_000)
    assert proc.returncode == 0 and got == [["/x/a.wav", "/x/b.mp4"]]
    server.close()


def test_hand_off_with_nobody_listening_says_so(qapp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARK_DATA_DIR", str(tmp_path / "nobody"))
    assert hand_off(["/x/a.wav"]) is False


def test_a_stale_socket_from_a_crash_does_not_block_the_next_start(
    qapp,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARK_DATA_DIR", str(tmp_path))
    first = InstanceServer()
    assert first.listen()
    first.server.close()  # what a killed process leaves: the name, nobody answering
    second = InstanceServer()
    assert second.listen()
    second.close()


def test_second_launch_hands_its_files_to_the_first_window(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HARK_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        "HARK_LOG_DIR": str(tmp_path / "logs"),
    }
    conf = tmp_path / "config" / "Hark" / "Hark.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[General]\nfirst_run_done=true\n\n[preferences]\nengine=sphinx\n")
    hark = [sys.executable, "-m", "app"]
    # stderr to a file: an unread pipe would fill up and stall the first instance.
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen([*hark, str(JFK_WAV)], cwd=ROOT, env=env, stderr=log, stdout=log)
    queue = tmp_path / "data" / "queue.json"
    try:
        deadline = time.monotonic() + 30
        while not queue.exists() and time.monotonic() < deadline:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(0.2)
        second = subprocess.run(
            [*hark, str(DATA / "mfa" / "mfa_apex.flac")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        deadline = time.monotonic() + 15
        names: list[str] = []
        while time.monotonic() < deadline:
            names = [Path(j["path"]).name for j in json.loads(queue.read_text())["jobs"]]
            if len(names) == 2:
                break
            time.sleep(0.2)
        assert names == ["jfk.wav", "mfa_apex.flac"]
    finally:
        first.send_signal(signal.SIGTERM)
        try:
            first.wait(15)
        except subprocess.TimeoutExpired:
            first.kill()
            first.wait()
        log.close()


def _home(root: Path) -> dict[str, str]:
    """A user's set-up of its own: HOME and the XDG folders inside it, no HARK_DATA_DIR."""
    return {
        "HOME": str(root),
        "XDG_CONFIG_HOME": str(root / ".config"),
        "XDG_DATA_HOME": str(root / ".local/share"),
        "XDG_RUNTIME_DIR": str(root / "run"),
    }


def test_other_home_and_xdg_dirs_make_another_instance(
    qtbot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HARK_DATA_DIR", raising=False)
    a, b = _home(tmp_path / "a"), _home(tmp_path / "b")
    for k, v in b.items():
        monkeypatch.setenv(k, v)
    name_b = InstanceServer().name
    for k, v in a.items():
        monkeypatch.setenv(k, v)
    server = InstanceServer()
    # Checked before listening: with one name per user, this test would take over a real Hark's socket.
    assert server.name != name_b
    assert server.listen()
    got: list[list[str]] = []
    server.files_received.connect(got.append)
    code = (
        "import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
        "from app.system.single_instance import hand_off; sys.exit(0 if hand_off(sys.argv[1:]) else 1)"
    )
    base = {k: v for k, v in os.environ.items() if k != "HARK_DATA_DIR"}
    try:
        # Real, separate processes, while this one's event loop answers: another set-up finds nobody ...
        other = subprocess.Popen([sys.executable, "-c", code, "/x/b.wav"], cwd=ROOT, env={**base, **b})
        qtbot.waitUntil(lambda: other.poll() is not None, timeout=10_000)
        assert other.returncode == 1 and got == []
        # ... and the same set-up, through another spelling of the same folders, reaches this one.
        same = {**a, "XDG_CONFIG_HOME": str(tmp_path / "a" / "x" / ".." / ".config")}
        again = subprocess.Popen([sys.executable, "-c", code, "/x/a.wav"], cwd=ROOT, env={**base, **same})
        qtbot.waitUntil(lambda: again.poll() is not None, timeout=10_000)
        assert again.returncode == 0 and got == [["/x/a.wav"]]
    finally:
        server.close()
