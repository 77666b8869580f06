"""A real HTTP file server on 127.0.0.1 for download tests (shared by several test files).

Nothing in the network layer is mocked: a ThreadingHTTPServer in a background
thread serves the files, honours `Range: bytes=N-` (206 + Content-Range), and
has switches to misbehave (cut the body short, ignore Range, answer 416, serve
wrong bytes, 404, stall mid-body), and can redirect, demand a bearer token (401)
or answer a given error status per path. Every request it gets is recorded so the
tests can check what the client asked for.

Use the fixtures by importing them into a test module:
    from tests.http_server import FileServer, refused_url, server  # noqa: F401
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# How long a stalled response waits for `release` at most, so a forgotten test cannot hang.
_HOLD_LIMIT_S = 30.0


@dataclass
class Seen:
    path: str
    range: str | None
    user_agent: str | None
    authorization: str | None = None  # the Authorization header, as sent


@dataclass
class FileServer:
    """What the handler serves, how it misbehaves, and what it was asked."""

    httpd: ThreadingHTTPServer
    files: dict[str, bytes] = field(default_factory=dict)  # URL path -> body
    requests: list[Seen] = field(default_factory=list)
    drop_after: int | None = None  # send only this many body bytes, then close ...
    drop_times: int | None = 1  # ... on this many requests (None: on every one)
    ignore_range: bool = False  # answer 200 with the whole body even when asked for a range
    answer_416: bool = False  # answer 416 to every Range request
    hold_after: int | None = None  # send this many body bytes, then stall until `release` is set
    release: threading.Event = field(default_factory=threading.Event)
    held: threading.Event = field(default_factory=threading.Event)  # set once a response stalls
    lock: threading.Lock = field(default_factory=threading.Lock)
    redirects: dict[str, str] = field(default_factory=dict)  # URL path -> absolute Location (answered 302)
    status: dict[str, int] = field(default_factory=dict)  # URL path -> error status to answer instead
    bearer: str | None = None  # when set, any other Authorization gets 401 (like a hub with a token) ...
    open_prefixes: tuple[str, ...] = ()  # ... except on paths starting with one of these (a CDN)
    extra_headers: dict[str, dict[str, str]] = field(default_factory=dict)  # URL path -> more response headers

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, name: str, data: bytes) -> str:
        path = "/" + name.lstrip("/")
        self.files[path] = data
        return self.base + path

    def _should_drop(self) -> bool:
        with self.lock:
            if self.drop_after is None:
                return False
            if self.drop_times is None:
                return True
            if self.drop_times > 0:
                self.drop_times -= 1
                return True
            return False


class _Server(ThreadingHTTPServer):
    state: FileServer  # what the handlers serve; set before the server starts


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        state = self.server.state
        rng = self.headers.get("Range")
        with state.lock:
            state.requests.append(
                Seen(self.path, rng, self.headers.get("User-Agent"), self.headers.get("Authorization"))
            )
        if (
            state.bearer is not None
            and not self.path.startswith(state.open_prefixes)
            and self.headers.get("Authorization") != f"Bearer {state.bearer}"
        ):
            self.send_error(401, "Unauthorized")
            return
        if self.path in state.status:
            self.send_error(state.status[self.path])
            return
        if self.path in state.redirects:
            self.send_response(302)
            self.send_header("Location", state.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = state.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and state.answer_416:
            self._send_416(len(body))
            return
        if m and not state.ignore_range:
            start = int(m.group(1))
            if start >= len(body):
                self._send_416(len(body))
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in state.extra_headers.get(self.path, {}).items():
            self.send_header(k, v)
        drop = state._should_drop()
        if drop:
            self.send_header("Connection", "close")
        self.end_headers()
        if drop:
            self.wfile.write(payload[: state.drop_after])
            self.wfile.flush()
            self.close_connection = True
            return
        hold = state.hold_after
        if hold is not None and hold < len(payload):
            self.wfile.write(payload[:hold])
            self.wfile.flush()
            state.held.set()
            state.release.wait(_HOLD_LIMIT_S)
            payload = payload[hold:]
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up while we stalled
            self.close_connection = True

    def _send_416(self, size: int) -> None:
        self.send_response(416)
        self.send_header("Content-Range", f"bytes */{size}")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def server() -> Iterator[FileServer]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    state = FileServer(httpd)
    httpd.state = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()  # let a stalled response finish
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
