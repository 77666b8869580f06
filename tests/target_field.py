"""A text field in its own process, for tests that type or paste into another window.

Run it as a program::

    python tests/target_field.py --out /tmp/field.txt [--multiline] [--title NAME]
                                 [--wm-class NAME] [--text INITIAL]

It shows one QLineEdit (or a QPlainTextEdit with --multiline) in a window titled
NAME and rewrites --out with the field's whole text (UTF-8, atomically) whenever
it changes and when it exits (SIGTERM, SIGINT or closing the window). It never
touches the clipboard itself. --wm-class sets both parts of WM_CLASS, so a test
can make it look like a terminal ("xterm") to a WM_CLASS check.

From Python, ``TargetField`` starts it on a given X display, waits for its window,
focuses it with ``xdotool windowfocus --sync`` and reads the text back; ``Xvfb``
starts a private X server on the first free display of a range::

    with Xvfb() as display, TargetField(display) as field:
        ...                        # type or paste into the focused window
        field.wait_for_text("hello world 123")

Needs Xvfb and xdotool (and PySide6 with Qt's xcb libraries, see PLATFORM.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType

READY_TIMEOUT_S = 20.0  # Qt start-up on a busy 2-core machine, first run cold
DISPLAYS = range(61, 70)  # injection tests' share of display numbers on these machines


def _lock_pid(n: int) -> int | None:
    try:
        return int(Path(f"/tmp/.X{n}-lock").read_text().strip())
    except (OSError, ValueError):
        return None


class Xvfb:
    """A private ``Xvfb :N -screen 0 1280x800x24 -noreset`` on the first free N; a context manager."""

    def __init__(self, numbers: range = DISPLAYS, screen: str = "1280x800x24") -> None:
        self.numbers, self.screen = numbers, screen
        self.display = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        for n in self.numbers:
            if Path(f"/tmp/.X{n}-lock").exists() or Path(f"/tmp/.X11-unix/X{n}").exists():
                continue
            # -noreset: without it the server resets when its last client leaves, and a
            # client connecting at that moment gets "connection reset by peer".
            proc = subprocess.Popen(
                ["Xvfb", f":{n}", "-screen", "0", self.screen, "-nolisten", "tcp", "-noreset"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                # Ours only when its lock names our process: another test may have
                # started a server on the same number a moment earlier.
                if Path(f"/tmp/.X11-unix/X{n}").exists() and _lock_pid(n) == proc.pid:
                    self._proc, self.display = proc, f":{n}"
                    return self.display
                time.sleep(0.02)
            proc.kill()  # lost a race for this number, or it failed: try the next
            proc.wait()
        raise RuntimeError(f"no free X display in {self.numbers.start}..{self.numbers.stop - 1}")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


class TargetField:
    """The field program in a child process on ``display``; a context manager.

    ``text()`` is what the field holds now; ``wait_for_text()`` waits until it is a
    given string, then returns it (or raises AssertionError with what it holds).
    """

    def __init__(
        self,
        display: str,
        *,
        out: Path | str | None = None,
        multiline: bool = False,
        wm_class: str | None = None,
        text: str = "",
        focus: bool = True,
    ) -> None:
        self.display = display
        self.title = f"hark-target-{uuid.uuid4().hex[:10]}"
        self._own_out = out is None
        self.out = Path(out) if out is not None else Path(f"/tmp/{self.title}.txt")
        self.multiline = multiline
        self.wm_class = wm_class
        self.initial = text
        self.focus_on_start = focus
        self.window_id: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = self.out.with_suffix(self.out.suffix + ".ready")

    # -- life ---------------------------------------------------------------------
    def __enter__(self) -> TargetField:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--out",
            str(self.out),
            "--title",
            self.title,
            "--text",
            self.initial,
        ]
        if self.multiline:
            cmd.append("--multiline")
        if self.wm_class:
            cmd += ["--wm-class", self.wm_class]
        self._ready.unlink(missing_ok=True)
        self._proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self._ready.exists():  # the window is shown and the text written
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"target field exited with {self._proc.returncode}: {err}")
            if time.monotonic() > deadline:
                self.close()
                raise TimeoutError("target field window did not appear")
            time.sleep(0.02)
        self.window_id = self._xdotool("search", "--sync", "--name", f"^{self.title}$").split()[0]
        if self.focus_on_start:
            self.focus()

    def focus(self) -> None:
        """Give the field the keyboard focus (no window manager needed)."""
        assert self.window_id is not None, "start() first"
        self._xdotool("windowfocus", "--sync", self.window_id)

    def close(self) -> str:
        """Stop the program (it writes its final text) and return that text."""
        proc, self._proc = self._proc, None
        final = ""
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stderr:
                proc.stderr.close()
            final = self.text()
        self._ready.unlink(missing_ok=True)
        if self._own_out:
            self.out.unlink(missing_ok=True)
        return final

    # -- reading ------------------------------------------------------------------
    def text(self) -> str:
        try:
            return self.out.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def wait_for_text(self, expected: str, timeout: float = 5.0) -> str:
        """Wait until the field holds exactly ``expected``; AssertionError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.text()
            if now == expected:
                return now
            if time.monotonic() > deadline:
                raise AssertionError(f"field holds {now!r}, expected {expected!r}")
            time.sleep(0.02)

    def wait_stable(self, quiet_s: float = 0.3, timeout: float = 5.0) -> str:
        """The text once it has not changed for ``quiet_s`` (typing has finished)."""
        deadline = time.monotonic() + timeout
        last, since = self.text(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            now = self.text()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                break
        return last

    def _xdotool(self, *args: str) -> str:
        env = dict(os.environ, DISPLAY=self.display)
        done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=READY_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"xdotool {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout


# --- the program -------------------------------------------------------------------
def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)  # readers never see half a write


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A text field that records its text to a file.")
    p.add_argument("--out", required=True, type=Path, help="file rewritten with the field's text")
    p.add_argument("--title", default="hark-target-field", help="window title (to find it)")
    p.add_argument("--multiline", action="store_true", help="QPlainTextEdit instead of QLineEdit")
    p.add_argument("--wm-class", default=None, help="WM_CLASS instance and class name")
    p.add_argument("--text", default="", help="initial text")
    args = p.parse_args(argv)

    qt_argv = [sys.argv[0]]
    if args.wm_class:
        qt_argv += ["-name", args.wm_class]  # Qt's xcb plugin takes WM_CLASS from -name
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit

    app = QApplication(qt_argv)
    if args.wm_class:
        app.setApplicationName(args.wm_class)
    field: QLineEdit | QPlainTextEdit
    if args.multiline:
        field = QPlainTextEdit()
        field.setPlainText(args.text)
        current = field.toPlainText
        field.textChanged.connect(lambda: _write_atomic(args.out, current()))
    else:
        field = QLineEdit()
        field.setText(args.text)
        current = field.text
        field.textChanged.connect(lambda t: _write_atomic(args.out, t))
    field.setWindowTitle(args.title)
    field.resize(900, 120 if args.multiline else 40)
    _write_atomic(args.out, current())

    def stop(*_: object) -> None:
        app.quit()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tick = QTimer()  # lets Python run its signal handlers while Qt's loop waits
    tick.start(100)
    tick.timeout.connect(lambda: None)

    def shown() -> None:
        Path(str(args.out) + ".ready").write_text("ready", encoding="utf-8")

    field.show()
    QTimer.singleShot(0, shown)
    app.exec()
    _write_atomic(args.out, current())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
