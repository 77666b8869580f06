"""One Hark window per user and set of folders: a second launch hands its files to the first and exits.

The first instance listens on a QLocalServer; a later one connects, sends its
file list (or a command such as `hark dictate --toggle`) as one JSON line,
waits for the acknowledgement and quits.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.system.paths import data_dir

log = logging.getLogger(__name__)
TIMEOUT_MS = 2000


def server_name() -> str:
    """One name per set of folders the app keeps its state in: settings (QSettings, under XDG_CONFIG_HOME or
    ~/.config) and data (the queue, projects: HARK_DATA_DIR, XDG_DATA_HOME or ~/.local/share).

    Keyed on the folders, not on the user name alone: two set-ups of one user (another HOME or XDG dirs, a
    test's HARK_DATA_DIR) are two Harks that must not hand files to each other, while two launches on the
    same folders (the only case where two windows would fight over one queue) meet. The socket lives in
    the temporary folder, so sessions with different XDG_RUNTIME_DIR but the same folders still meet."""
    config = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    state = "\n".join(str(Path(d).expanduser().resolve()) for d in (config, data_dir()))
    return f"hark-{getpass.getuser()}-{hashlib.sha1(state.encode()).hexdigest()[:12]}"


COMMANDS = ("dictate-toggle", "dictate-start", "dictate-stop", "dictate-cancel", "show-history")


def hand_off(files: list[str], name: str | None = None) -> bool:
    """Give `files` to a running instance; True if one took them (this process should then exit)."""
    return _send({"files": files}, name)


def send_command(command: str, name: str | None = None) -> bool:
    """Ask a running instance to do `command` (one of COMMANDS); False when none is running."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    return _send({"command": command}, name)


def _send(message: dict[str, object], name: str | None) -> bool:
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(TIMEOUT_MS):
        return False
    sock.write((json.dumps(message) + "\n").encode())
    sock.flush()  # may write everything at once, so waitForBytesWritten could report "nothing to do"
    reply = b""
    while b"\n" not in reply and sock.waitForReadyRead(TIMEOUT_MS):
        reply += bytes(sock.readAll().data())
    sock.disconnectFromServer()
    return reply.startswith(b"ok")


class InstanceServer(QObject):
    """Listens for later launches; `files_received` carries their files (maybe none: just raise the window),
    `command_received` a command from `hark dictate ...`."""

    files_received = Signal(list)
    command_received = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # A crashed instance leaves its socket file behind; nobody answers on it.
        QLocalServer.removeServer(self.name)
        ok = self.server.listen(self.name)
        if not ok:
            log.warning("single-instance server failed: %s", self.server.errorString())
        return ok

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            buf = bytearray()

            def read(sock: QLocalSocket = sock, buf: bytearray = buf) -> None:
                buf.extend(bytes(sock.readAll().data()))
                if b"\n" not in buf:
                    return
                line = bytes(buf).split(b"\n", 1)[0]
                try:
                    message = json.loads(line)
                    command = message.get("command")
                    files = [str(f) for f in message.get("files", [])]
                except (ValueError, AttributeError, TypeError):
                    command, files = None, []
                if command is not None and command not in COMMANDS:
                    sock.write(b"unknown command\n")
                    sock.flush()
                    return
                sock.write(b"ok\n")
                sock.flush()
                if command is not None:
                    self.command_received.emit(command)
                else:
                    self.files_received.emit(files)

            sock.readyRead.connect(read)
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                read()
