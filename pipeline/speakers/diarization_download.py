"""Download pyannote's speaker-diarization-community-1 pipeline once, with the user's Hugging Face token.

The repository is gated: the user accepts its conditions on huggingface.co and
gives us an access token. We do not use huggingface_hub (HF_HUB_OFFLINE stays
1): the file list, sizes and LFS sha256 come from the hub's tree API, and every
file is fetched from `{endpoint}/{repo}/resolve/{revision}/{path}` with the
shared resumable fetcher (pipeline.http_fetch).

Files land in a hidden sibling folder (`.NAME.partial`) and the folder is renamed
into place only when every file is verified, so the pipeline folder is either
absent or complete. A cancelled or cut download keeps its `.part` files there and
resumes next time; a full disk removes them.

The token is only ever an argument and an unredirected HTTP header: it is never
logged, put in a message, or written to disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import urllib.error
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ModelError
from pipeline.http_fetch import (
    DiskFullError,
    DownloadProgress,
    ensure_free_space,
    fetch_with_retries,
    open_url,
    origin,
)
from pipeline.models.store import sha256_file
from pipeline.speakers.diarization import check_pipeline_dir, downloaded_pipeline_dir

log = logging.getLogger(__name__)

REPO = "pyannote/speaker-diarization-community-1"
REVISION = "main"
ENV_ENDPOINT = "HARK_HF_ENDPOINT"  # like huggingface_hub's HF_ENDPOINT: a mirror, or a test server
DEFAULT_ENDPOINT = "https://huggingface.co"
MODEL_PAGE = f"https://huggingface.co/{REPO}"  # where a person accepts the conditions (always the real hub)
TOKENS_PAGE = "https://huggingface.co/settings/tokens"
NAMES = ("diarization", "speaker-diarization-community-1")  # what `hark models` accepts
REQUIRED_FILES = (
    "config.yaml",
    "segmentation/pytorch_model.bin",
    "embedding/pytorch_model.bin",
    "plda/plda.npz",
    "plda/xvec_transform.npz",
)
OPTIONAL_FILES = ("README.md", "LICENSE")  # the model card and licence travel with the weights when present
WHAT = "the speaker diarization model"
_MAX_TREE_PAGES = 20


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative, with "/"
    size: int
    sha256: str | None  # LFS files: the content's sha256
    git_oid: str | None  # small (non-LFS) files: the git blob sha1

    def matches(self, path: Path) -> bool:
        if path.stat().st_size != self.size:
            return False
        if self.sha256:
            return sha256_file(path) == self.sha256
        if self.git_oid and len(self.git_oid) == 40:
            return _git_blob_sha1(path) == self.git_oid
        return True


def default_pipeline_dir(store_root: str | Path) -> Path:
    return downloaded_pipeline_dir(Path(store_root))


def partial_dir(store_root: str | Path) -> Path:
    final = default_pipeline_dir(store_root)
    return final.with_name(f".{final.name}.partial")


def endpoint_from_env() -> str:
    return (os.environ.get(ENV_ENDPOINT) or DEFAULT_ENDPOINT).rstrip("/")


def is_installed(store_root: str | Path) -> bool:
    try:
        check_pipeline_dir(default_pipeline_dir(store_root))
    except ModelError:
        return False
    return True


def has_partial(store_root: str | Path) -> bool:
    return partial_dir(store_root).is_dir()


def installed_size(store_root: str | Path) -> int:
    folder = default_pipeline_dir(store_root)
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def remove(store_root: str | Path) -> bool:
    """Delete the downloaded pipeline and any partial download; True if there was something."""
    removed = False
    for folder in (default_pipeline_dir(store_root), partial_dir(store_root)):
        if folder.exists():
            shutil.rmtree(folder)
            removed = True
    return removed


# --- talking to the hub --------------------------------------------------------------------------
def _auth(token: str) -> dict[str, str]:
    token = (token or "").strip()
    if not token:
        raise ModelError(f"{WHAT} needs a Hugging Face access token (make a read token at {TOKENS_PAGE})")
    # http.client would reject these, quoting the header value, i.e. the token, in its error
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ModelError("the Hugging Face token has characters a token cannot contain; copy it again")
    return {"Authorization": f"Bearer {token}"}


def _http_error(e: urllib.error.HTTPError, url: str) -> ModelError:
    if e.code == 401:
        return ModelError(
            f"cannot download {WHAT}: the Hugging Face token was refused (401); "
            f"check it, or make a new read token at {TOKENS_PAGE}"
        )
    if e.code == 403:
        return ModelError(
            f"cannot download {WHAT}: this token may not read {REPO} (403): "
            f"accept the model's conditions at {MODEL_PAGE} with this account first "
            "(a fine-grained token also needs read access to public gated repositories)"
        )
    if e.code == 404:
        return ModelError(f"cannot download {WHAT}: not found (404) at {url}")
    return ModelError(f"cannot download {WHAT}: the server answered {e.code} {e.reason} for {url}")


def _no_connection(e: urllib.error.URLError, url: str) -> ModelError:
    host = urllib.parse.urlsplit(url).hostname
    why = "its name could not be looked up" if isinstance(e.reason, socket.gaierror) else str(e.reason)
    return ModelError(
        f"cannot download {WHAT}: no connection to {host} ({why}). It is downloaded once, then works "
        "offline; on a computer without internet, copy a pipeline folder and choose it in Settings → Speakers "
        "(or pass --diarization-model DIR)"
    )


def _next_link(header: str | None) -> str | None:
    """The rel="next" URL of an RFC 8288 Link header (the hub pages long file lists)."""
    for part in (header or "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None


def list_remote_files(
    token: str, *, endpoint: str | None = None, repo: str = REPO, revision: str = REVISION, timeout: float = 10.0
) -> list[RemoteFile]:
    """The files to fetch (required ones, plus optional ones the repo has), from the tree API."""
    endpoint = (endpoint or endpoint_from_env()).rstrip("/")
    secret = _auth(token)
    url: str | None = f"{endpoint}/api/models/{repo}/tree/{urllib.parse.quote(revision, safe='')}?recursive=true"
    entries: list[dict[str, object]] = []
    for _ in range(_MAX_TREE_PAGES):
        if url is None:
            break
        try:
            with open_url(url, headers={"Accept": "application/json"}, secret_headers=secret, timeout=timeout) as r:
                page = json.loads(r.read().decode("utf-8"))
                nxt = _next_link(r.headers.get("Link"))
        except urllib.error.HTTPError as e:
            raise _http_error(e, url) from e
        except urllib.error.URLError as e:
            raise _no_connection(e, url) from e
        except (ValueError, OSError) as e:  # not JSON, or cut off
            raise ModelError(f"cannot download {WHAT}: the file list from {endpoint} is unreadable ({e})") from e
        if not isinstance(page, list):
            raise ModelError(f"cannot download {WHAT}: the file list from {endpoint} is not a list")
        entries += [x for x in page if isinstance(x, dict)]
        # follow pages on the same host only: the token goes with them
        url = urllib.parse.urljoin(url, nxt) if nxt else None
        if url is not None and origin(url) != origin(endpoint):
            raise ModelError(f"cannot download {WHAT}: the file list continues on another host")
    files: dict[str, RemoteFile] = {}
    for x in entries:
        path, size = x.get("path"), x.get("size")
        if x.get("type") != "file" or not isinstance(path, str) or not isinstance(size, int):
            continue
        raw_lfs = x.get("lfs")
        lfs = raw_lfs if isinstance(raw_lfs, dict) else None
        sha = lfs.get("oid") if lfs else None
        lfs_size = lfs.get("size") if lfs else None
        if isinstance(lfs_size, int):
            size = lfs_size
        oid = x.get("oid")
        files[path] = RemoteFile(
            path, size, sha if isinstance(sha, str) else None, None if lfs or not isinstance(oid, str) else oid
        )
    missing = [p for p in REQUIRED_FILES if p not in files]
    if missing:
        raise ModelError(
            f"cannot download {WHAT}: {repo} at {revision} has no {', '.join(missing)}; "
            "it is not the pipeline Hark expects"
        )
    return [files[p] for p in (*REQUIRED_FILES, *OPTIONAL_FILES) if p in files]


def file_url(endpoint: str, repo: str, revision: str, path: str) -> str:
    return f"{endpoint.rstrip('/')}/{repo}/resolve/{urllib.parse.quote(revision, safe='')}/{urllib.parse.quote(path)}"


# --- the download ---------------------------------------------------------------------------------
def download_pipeline(
    store_root: str | Path,
    token: str,
    *,
    endpoint: str | None = None,
    repo: str = REPO,
    revision: str = REVISION,
    progress: DownloadProgress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 10.0,
) -> Path:
    """Fetch the pipeline into `default_pipeline_dir(store_root)` and return that folder.

    Resumes what an earlier, interrupted run left. Raises ModelError with a sentence
    for the user, or audio.errors.Cancelled (the parts are kept for a resume)."""
    final = default_pipeline_dir(store_root)
    if is_installed(store_root):
        return final
    endpoint = (endpoint or endpoint_from_env()).rstrip("/")
    secret = _auth(token)
    log.info("downloading %s (%s) from %s", repo, revision, endpoint)
    files = list_remote_files(token, endpoint=endpoint, repo=repo, revision=revision, timeout=timeout)
    tmp = partial_dir(store_root)
    total = sum(f.size for f in files)
    report: Callable[[int], None] = (lambda n: progress(n, total)) if progress is not None else (lambda n: None)
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        ensure_free_space(tmp, total - _bytes_present(tmp, files), WHAT, final.parent)
        done = 0
        for f in files:
            dest = tmp / f.path
            part = dest.with_name(dest.name + ".part")
            if dest.is_file():
                if f.matches(dest):  # verified in an earlier run
                    done += f.size
                    report(done)
                    continue
                dest.unlink()  # another version of the file
            dest.parent.mkdir(parents=True, exist_ok=True)
            url = file_url(endpoint, repo, revision, f.path)
            base = done

            def file_progress(d: int, _total: int, base: int = base) -> None:
                report(base + d)

            try:
                fetch_with_retries(
                    url,
                    part,
                    f.size,
                    label=f"{WHAT} ({f.path})",
                    where=final.parent,
                    secret_headers=secret,
                    cancel=cancel,
                    timeout=timeout,
                    progress=file_progress,
                )
            except urllib.error.HTTPError as e:
                raise _http_error(e, url) from e
            except urllib.error.URLError as e:
                raise _no_connection(e, url) from e
            if not f.matches(part):
                part.unlink()
                kind = f"sha256 {f.sha256[:12]}…" if f.sha256 else "size and git hash"
                raise ModelError(
                    f"checksum mismatch for {f.path} of {WHAT}: expected {kind}; "
                    "the corrupt file was deleted, please retry"
                )
            os.replace(part, dest)
            done += f.size
            report(done)
        check_pipeline_dir(tmp)
        _move_into_place(tmp, final)
    except DiskFullError:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk gains nothing from keeping the parts
        raise
    except OSError as e:  # a folder we cannot create or write
        raise ModelError(f"cannot write {WHAT} into {final.parent}: {e.strerror or e}") from e
    log.info("installed %s in %s", repo, final)
    return final


def _bytes_present(tmp: Path, files: list[RemoteFile]) -> int:
    n = 0
    for f in files:
        for p in (tmp / f.path, tmp / (f.path + ".part")):
            if p.is_file():
                n += min(p.stat().st_size, f.size)
                break
    return n


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename the finished folder to its final name; a broken older copy there is replaced."""
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _git_blob_sha1(path: Path) -> str:
    data = path.read_bytes()  # only small, non-LFS files get here
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


__all__ = [
    "DEFAULT_ENDPOINT",
    "ENV_ENDPOINT",
    "MODEL_PAGE",
    "NAMES",
    "REPO",
    "REQUIRED_FILES",
    "TOKENS_PAGE",
    "RemoteFile",
    "default_pipeline_dir",
    "download_pipeline",
    "has_partial",
    "installed_size",
    "is_installed",
    "list_remote_files",
    "partial_dir",
    "remove",
]
