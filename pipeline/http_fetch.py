"""Resumable HTTP download of one file into a `.part`, shared by every model downloader.

The caller owns naming, verification and the final rename; this module only
brings a `.part` file up to its expected size, resuming with `Range`, and
retries a cut connection a few times. HTTP errors and an unreachable host are
re-raised as urllib's errors so each caller can word them for its own source.
Headers given as `secret_headers` (an access token) are never forwarded to
another host on a redirect, and never appear in a message.
"""

from __future__ import annotations

import errno
import http.client
import os
import shutil
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from audio.errors import Cancelled
from pipeline.errors import ModelError

DownloadProgress = Callable[[int, int], None]  # (bytes done, bytes total)

BLOCK = 1 << 20
RETRIES = 3
# A cut connection or a stall: worth another try (with Range), unlike an HTTP error.
RETRYABLE = (http.client.IncompleteRead, ConnectionError, socket.timeout, TimeoutError)


class DiskFullError(ModelError):
    """There is no room for the download (checked up front, or ENOSPC while writing)."""


def origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class _SecretRequest(urllib.request.Request):
    """A request that remembers its secret headers, so that a same-origin redirect can carry them on."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        secrets: Mapping[str, str],
        origin_req_host: str | None = None,
        unverifiable: bool = False,
        method: str | None = None,
    ) -> None:
        super().__init__(
            url, headers=dict(headers), origin_req_host=origin_req_host, unverifiable=unverifiable, method=method
        )
        for k, v in secrets.items():
            self.add_unredirected_header(k, v)
        self.hark_secrets: Mapping[str, str] = secrets


class _SameOriginSecrets(urllib.request.HTTPRedirectHandler):
    """Secrets travel as unredirected headers (urllib drops them on any redirect); put them back
    only when the redirect stays on the same scheme and host. A hub's CDN gets a signed URL and
    must never see the token (S3-style storage even rejects a second credential)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        secrets = req.hark_secrets if isinstance(req, _SecretRequest) else {}
        if new is not None and secrets and origin(newurl) == origin(req.full_url):
            # the same request urllib built, plus the secrets
            return _SecretRequest(
                new.full_url,
                headers=new.headers,
                secrets=secrets,
                origin_req_host=new.origin_req_host,
                unverifiable=new.unverifiable,
                method=new.get_method(),
            )
        return new


_OPENER = urllib.request.build_opener(_SameOriginSecrets)


def open_url(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    secret_headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> http.client.HTTPResponse:
    """GET `url`; raises urllib.error.HTTPError / URLError like urlopen."""
    all_headers = {"User-Agent": "hark", **(headers or {})}
    req = (
        _SecretRequest(url, headers=all_headers, secrets=dict(secret_headers))
        if secret_headers
        else urllib.request.Request(url, headers=all_headers)
    )
    return _OPENER.open(req, timeout=timeout)


def ensure_free_space(folder: Path, needed: int, label: str, where: Path | None = None) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DiskFullError(
            f"not enough disk space for {label}: need {needed / 1e6:.0f} MB, "
            f"{free / 1e6:.0f} MB free in {where or folder}"
        )


def fetch_part(
    url: str,
    part: Path,
    size: int,
    *,
    label: str,
    where: Path | None = None,
    secret_headers: Mapping[str, str] | None = None,
    progress: DownloadProgress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 10.0,
) -> None:
    """One attempt: append the rest of `url` to `part` until it holds `size` bytes.

    Raises one of RETRYABLE when the body is cut short (the caller may try again),
    urllib.error.HTTPError / URLError for the caller to explain, ModelError for a
    file of the wrong size or a full disk, Cancelled when `cancel` is set.
    `where` names the folder in messages (default: the part's folder).
    """
    where = where or part.parent
    have = part.stat().st_size if part.exists() else 0
    if have > size:  # not ours, or from another version: start over
        part.unlink()
        have = 0
    if have == size:
        return
    ensure_free_space(part.parent, size - have, label, where)
    try:
        resp = open_url(
            url, headers={"Range": f"bytes={have}-"} if have else None, secret_headers=secret_headers, timeout=timeout
        )
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # our range is past the end: start over
            part.unlink()
            raise ConnectionError("server rejected the resume range") from e
        raise
    with resp:
        if have and resp.status != 206:  # the server ignored Range: the body is the whole file
            have = 0
        total = _announced_total(resp, have)
        if total is not None and total != size:
            raise ModelError(
                f"the server offers {total} bytes for {label}, expected {size}: it holds a different file ({url})"
            )
        body_start = have
        try:
            with open(part, "ab" if have else "wb") as f:
                while True:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled("download cancelled; run it again to resume")
                    block = resp.read(BLOCK)
                    if not block:
                        break
                    f.write(block)
                    have += len(block)
                    if progress is not None:
                        progress(have, size)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise DiskFullError(f"disk full while downloading {label} into {where}") from e
            raise
    length = resp.headers.get("Content-Length")
    if have < size and (length is None or have - body_start < int(length)):
        raise http.client.IncompleteRead(b"", size - have)  # cut off: resume


def fetch_with_retries(
    url: str,
    part: Path,
    size: int,
    *,
    label: str,
    retries: int = RETRIES,
    where: Path | None = None,
    secret_headers: Mapping[str, str] | None = None,
    progress: DownloadProgress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 10.0,
) -> None:
    """fetch_part, resuming after a cut connection; gives up with a ModelError that keeps the part."""
    for attempt in range(1, retries + 1):
        try:
            fetch_part(
                url,
                part,
                size,
                label=label,
                where=where,
                secret_headers=secret_headers,
                progress=progress,
                cancel=cancel,
                timeout=timeout,
            )
            return
        except RETRYABLE as e:
            if attempt == retries:
                have = part.stat().st_size if part.exists() else 0
                raise ModelError(
                    f"download of {label} was interrupted at {have / 1e6:.1f} MB ({e}); "
                    "run the same command again to resume"
                ) from e


def _announced_total(resp: http.client.HTTPResponse, offset: int) -> int | None:
    """The full file size the server states (Content-Range total, or offset + Content-Length)."""
    rng = resp.headers.get("Content-Range", "")
    if resp.status == 206 and "/" in rng:
        total = rng.rsplit("/", 1)[1].strip()
        return int(total) if total.isdigit() else None
    length = resp.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None
