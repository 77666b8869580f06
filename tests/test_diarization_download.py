"""Downloading the gated pyannote pipeline with a token, from a real HTTP server on 127.0.0.1.

The server plays the hub: the tree API (JSON), `resolve/main/PATH` for every file,
a 302 to a "CDN" on another host name (localhost) for the big LFS files, and 401
for any other token. Only true edges are patched: free disk space and a write
that hits ENOSPC, and QMessageBox.question.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import threading
from collections import namedtuple
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from app.cli.main import main
from audio.errors import Cancelled
from pipeline import http_fetch
from pipeline.errors import ModelError
from pipeline.speakers import diarization_download as dd
from pipeline.speakers.diarization import check_pipeline_dir
from tests.http_server import FileServer, refused_url, server

TOKEN = "hf_" + hashlib.sha256(b"hark test token").hexdigest()[:34]
TREE = f"/api/models/{dd.REPO}/tree/main?recursive=true"
LFS = ("segmentation/pytorch_model.bin", "embedding/pytorch_model.bin", "plda/plda.npz", "plda/xvec_transform.npz")
CONDITIONS = (
    "accept the model's conditions at https://huggingface.co/pyannote/speaker-diarization-community-1 "
    "with this account first"
)


def resolve_path(path: str) -> str:
    return f"/{dd.REPO}/resolve/main/{path}"


@dataclass
class Hub:
    server: FileServer
    source: Path  # the pipeline folder served
    files: dict[str, bytes]  # repo path -> bytes
    root: Path  # the models folder

    @property
    def final(self) -> Path:
        return dd.default_pipeline_dir(self.root)

    @property
    def partial(self) -> Path:
        return dd.partial_dir(self.root)

    def download(self, token: str = TOKEN, **kw: Any) -> Path:
        return dd.download_pipeline(self.root, token, endpoint=self.server.base, timeout=5, **kw)

    def serve(self, path: str, data: bytes) -> None:
        """Serve new bytes for a file (through the CDN, for LFS files), the tree JSON unchanged."""
        self.server.files[("/cdn/" + path) if path in LFS else resolve_path(path)] = data

    def hub_requests(self) -> list:
        return [r for r in self.server.requests if not r.path.startswith("/cdn/")]

    def cdn_requests(self) -> list:
        return [r for r in self.server.requests if r.path.startswith("/cdn/")]

    def ranges_for(self, path: str) -> list[str | None]:
        target = "/cdn/" + path if path in LFS else resolve_path(path)
        return [r.range for r in self.server.requests if r.path == target]


def tree_json(files: dict[str, bytes]) -> bytes:
    """What the hub's tree API answers: directories too; LFS files with sha256, others with the git blob id."""
    out: list[dict[str, object]] = [
        {"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in ("embedding", "plda", "segmentation")
    ]
    for path, data in files.items():
        git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        item: dict[str, object] = {"type": "file", "oid": git, "size": len(data), "path": path}
        if path in LFS:
            item["oid"] = hashlib.sha1(b"pointer " + path.encode()).hexdigest()  # the pointer's blob, not the data
            item["size"] = 134
            item["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        out.append(item)
    return json.dumps(out).encode()


@pytest.fixture
def hub(server: FileServer, random_diarization_pipeline: Path, isolated_models: Path) -> Hub:
    files = {p: (random_diarization_pipeline / p).read_bytes() for p in dd.REQUIRED_FILES}
    files["README.md"] = b"# speaker-diarization-community-1 (test copy)\n"
    server.add(TREE, tree_json(files))
    server.bearer = TOKEN
    server.open_prefixes = ("/cdn/",)
    cdn = f"http://localhost:{server.port}"  # another host name: the token must not follow the redirect
    for path, data in files.items():
        if path in LFS:
            server.add("/cdn/" + path, data)
            server.redirects[resolve_path(path)] = f"{cdn}/cdn/{path}"
        else:
            server.add(resolve_path(path), data)
    return Hub(server, random_diarization_pipeline, files, isolated_models)


def written_files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


def assert_not_accepted(hub: Hub) -> None:
    assert not dd.is_installed(hub.root)
    with pytest.raises(ModelError):
        check_pipeline_dir(hub.final)


# --- the download -------------------------------------------------------------------------------
def test_full_download_loads_in_pyannote(hub: Hub, caplog: pytest.LogCaptureFixture, no_network: list[object]) -> None:
    caplog.set_level(logging.DEBUG)
    ticks: list[tuple[int, int]] = []
    folder = hub.download(progress=lambda d, t: ticks.append((d, t)))
    assert folder == hub.final == hub.root / "diarization" / "speaker-diarization-community-1"
    assert check_pipeline_dir(folder) == folder
    for path, data in hub.files.items():
        assert (folder / path).read_bytes() == data
    assert not hub.partial.exists() and not list(folder.rglob("*.part"))
    total = sum(len(d) for d in hub.files.values())
    assert ticks[0][1] == total and ticks[-1] == (total, total)
    assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)
    # every request to the hub carries the token; the CDN on another host never sees it
    assert len(hub.hub_requests()) == 1 + len(hub.files)
    assert all(r.authorization == f"Bearer {TOKEN}" for r in hub.hub_requests())
    assert len(hub.cdn_requests()) == len(LFS) and all(r.authorization is None for r in hub.cdn_requests())
    # the token is nowhere: not logged, not in any file written
    assert "downloading" in caplog.text and TOKEN not in caplog.text and TOKEN[3:] not in caplog.text
    assert all(TOKEN.encode() not in p.read_bytes() for p in written_files(hub.root))
    assert dd.is_installed(hub.root) and dd.installed_size(hub.root) == total

    from pipeline.speakers.diarization import Diarizer

    assert Diarizer(folder).path == folder  # real pyannote loads what was downloaded
    assert no_network == []

    n = len(hub.server.requests)  # installed: nothing more is fetched
    assert hub.download() == folder and len(hub.server.requests) == n


def test_same_host_redirect_keeps_the_token(hub: Hub) -> None:
    """A renamed repo answers with a redirect on the hub itself: the token must go along (no 401)."""
    moved = "/moved/config.yaml"
    hub.server.add(moved, hub.files["config.yaml"])
    del hub.server.files[resolve_path("config.yaml")]
    hub.server.redirects[resolve_path("config.yaml")] = hub.server.base + moved
    assert hub.download() == hub.final
    (seen,) = [r for r in hub.server.requests if r.path == moved]
    assert seen.authorization == f"Bearer {TOKEN}"


def test_list_remote_files(hub: Hub) -> None:
    files = dd.list_remote_files(TOKEN, endpoint=hub.server.base)
    assert [f.path for f in files] == [*dd.REQUIRED_FILES, "README.md"]
    by_path = {f.path: f for f in files}
    emb = by_path["embedding/pytorch_model.bin"]
    assert emb.size == len(hub.files[emb.path]) and emb.sha256 == hashlib.sha256(hub.files[emb.path]).hexdigest()
    assert by_path["config.yaml"].sha256 is None and by_path["config.yaml"].git_oid


def test_tree_pages_are_followed(hub: Hub) -> None:
    entries = json.loads(hub.server.files[TREE])
    second = TREE + "&cursor=abc"
    hub.server.files[TREE] = json.dumps(entries[:4]).encode()
    hub.server.files[second] = json.dumps(entries[4:]).encode()
    hub.server.extra_headers[TREE] = {"Link": f'<{hub.server.base}{second}>; rel="next"'}
    assert [f.path for f in dd.list_remote_files(TOKEN, endpoint=hub.server.base)] == [*dd.REQUIRED_FILES, "README.md"]
    assert [r.path for r in hub.server.requests] == [TREE, second]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in hub.server.requests)


def test_tree_pages_stay_on_the_hub(hub: Hub) -> None:
    hub.server.extra_headers[TREE] = {"Link": f'<http://localhost:{hub.server.port}{TREE}&cursor=x>; rel="next"'}
    with pytest.raises(ModelError, match="another host"):
        dd.list_remote_files(TOKEN, endpoint=hub.server.base)
    assert len(hub.server.requests) == 1


def test_wrong_token_is_refused(hub: Hub) -> None:
    wrong = "hf_not_the_right_token_0123456789"
    with pytest.raises(ModelError, match="the Hugging Face token was refused") as ei:
        hub.download(wrong)
    assert wrong not in str(ei.value) and TOKEN not in str(ei.value)
    assert_not_accepted(hub)
    assert hub.server.requests[0].authorization == f"Bearer {wrong}"


def test_conditions_not_accepted(hub: Hub) -> None:
    hub.server.status[resolve_path("segmentation/pytorch_model.bin")] = 403  # the hub's answer for a gated file
    with pytest.raises(ModelError, match="403") as ei:
        hub.download()
    assert CONDITIONS in str(ei.value) and TOKEN not in str(ei.value)
    assert_not_accepted(hub)


def test_403_on_the_file_list(hub: Hub) -> None:
    hub.server.status[TREE] = 403
    with pytest.raises(ModelError) as ei:
        hub.download()
    assert CONDITIONS in str(ei.value)


def test_repository_not_found(hub: Hub) -> None:
    del hub.server.files[TREE]
    with pytest.raises(ModelError, match="not found \\(404\\)"):
        hub.download()
    assert_not_accepted(hub)


def test_missing_file_in_repo(hub: Hub) -> None:
    hub.server.files[TREE] = tree_json({p: d for p, d in hub.files.items() if p != "plda/plda.npz"})
    with pytest.raises(ModelError, match="has no plda/plda.npz"):
        hub.download()


def test_no_connection(refused_url: str, isolated_models: Path) -> None:
    with pytest.raises(ModelError, match="no connection to 127.0.0.1") as ei:
        dd.download_pipeline(isolated_models, TOKEN, endpoint=refused_url, timeout=5)
    assert "offline" in str(ei.value) and TOKEN not in str(ei.value)


def test_endpoint_from_environment(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dd.ENV_ENDPOINT, hub.server.base + "/")
    assert dd.download_pipeline(hub.root, TOKEN, timeout=5) == hub.final


@pytest.mark.parametrize(
    "token, said",
    [
        ("", "needs a Hugging Face access token"),
        ("   ", "needs a Hugging Face access token"),
        ("hf_secret\r\nX-Evil: 1", "characters a token cannot contain"),
        ("hf_sécret", "characters a token cannot contain"),
    ],
)
def test_unusable_token(isolated_models: Path, refused_url: str, token: str, said: str) -> None:
    with pytest.raises(ModelError, match=said) as ei:
        dd.download_pipeline(isolated_models, token, endpoint=refused_url)
    assert "secret" not in str(ei.value) and "sécret" not in str(ei.value)


def test_wrong_sha256_is_rejected_then_recovers(hub: Hub) -> None:
    good = hub.files["segmentation/pytorch_model.bin"]
    hub.serve("segmentation/pytorch_model.bin", bytes(b ^ 0xFF for b in good[:64]) + good[64:])
    with pytest.raises(ModelError, match="checksum mismatch for segmentation/pytorch_model.bin"):
        hub.download()
    assert_not_accepted(hub)
    assert not (hub.partial / "segmentation" / "pytorch_model.bin.part").exists()  # the corrupt bytes are gone
    hub.serve("segmentation/pytorch_model.bin", good)
    assert hub.download() == hub.final
    assert hub.ranges_for("config.yaml") == [None]  # verified in the first run, kept, not fetched again
    assert (hub.final / "segmentation/pytorch_model.bin").read_bytes() == good


def test_wrong_small_file_is_rejected(hub: Hub) -> None:
    data = hub.files["config.yaml"]
    hub.serve("config.yaml", data.replace(b"threshold", b"THRESHOLD"))
    with pytest.raises(ModelError, match="checksum mismatch for config.yaml"):
        hub.download()
    assert_not_accepted(hub)


def test_cancel_leaves_no_accepted_folder_and_resumes(hub: Hub) -> None:
    cancel = threading.Event()
    emb = "embedding/pytorch_model.bin"
    first = len(hub.files["config.yaml"]) + len(hub.files["segmentation/pytorch_model.bin"])

    def tick(done: int, _total: int) -> None:
        if done > first + (3 << 20):  # inside the embedding file
            cancel.set()

    with pytest.raises(Cancelled):
        hub.download(progress=tick, cancel=cancel)
    assert_not_accepted(hub)
    with pytest.raises(ModelError):
        check_pipeline_dir(hub.partial)  # the partial folder is not a pipeline either
    part = hub.partial / (emb + ".part")
    kept = part.stat().st_size
    assert 0 < kept < len(hub.files[emb])
    assert part.read_bytes() == hub.files[emb][:kept]
    ticks: list[int] = []
    assert hub.download(progress=lambda d, t: ticks.append(d)) == hub.final
    assert hub.ranges_for(emb) == [None, f"bytes={kept}-"]
    assert hub.ranges_for("segmentation/pytorch_model.bin") == [None]
    assert ticks[0] == len(hub.files["config.yaml"])  # what is on disk counts from the start
    assert min(t for t in ticks if t > first) > first + kept  # the embedding file went on from its part
    assert (hub.final / emb).read_bytes() == hub.files[emb]


def test_resume_after_a_cut_connection(hub: Hub) -> None:
    # the tree JSON and config.yaml are shorter than the cut (they still use up a drop each): the
    # segmentation file is the body cut short
    hub.server.drop_after, hub.server.drop_times = 100_000, 3
    assert hub.download() == hub.final
    assert hub.ranges_for("segmentation/pytorch_model.bin") == [None, "bytes=100000-"]
    assert (hub.final / "segmentation/pytorch_model.bin").read_bytes() == hub.files["segmentation/pytorch_model.bin"]


def test_cut_every_time_gives_up_then_resumes_next_run(hub: Hub) -> None:
    hub.server.drop_after, hub.server.drop_times = 1_000_000, None
    with pytest.raises(ModelError, match="interrupted") as ei:
        hub.download()
    assert "resume" in str(ei.value)
    assert_not_accepted(hub)
    hub.server.drop_after = None
    assert hub.download() == hub.final
    assert hub.ranges_for("segmentation/pytorch_model.bin")[-1] == "bytes=3000000-"


def test_not_enough_space_removes_the_partial(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.partial.mkdir(parents=True)
    (hub.partial / "config.yaml.part").write_bytes(b"dep")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(http_fetch.shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(ModelError, match="not enough disk space"):
        hub.download()
    assert not hub.partial.exists()
    assert_not_accepted(hub)


def test_disk_full_while_writing(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = open

    class Full:
        def __init__(self, f: IO[Any]) -> None:
            self.f = f

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *a: object) -> None:
            self.f.close()

        def write(self, block: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    # Takes and passes on what the real open() does.
    def full_open(path: Any, mode: str = "r", *a: Any, **k: Any) -> object:
        f = real_open(path, mode, *a, **k)
        return Full(f) if "segmentation" in str(path) else f

    monkeypatch.setattr(http_fetch, "open", full_open, raising=False)
    with pytest.raises(ModelError, match="disk full while downloading"):
        hub.download()
    assert not hub.partial.exists()
    assert_not_accepted(hub)


def test_a_broken_folder_is_replaced(hub: Hub) -> None:
    shutil.copytree(hub.source, hub.final)
    (hub.final / "plda" / "plda.npz").unlink()
    assert not dd.is_installed(hub.root)
    assert hub.download() == hub.final and dd.is_installed(hub.root)
    assert not hub.final.with_name(".speaker-diarization-community-1.old").exists()


def test_remove(hub: Hub) -> None:
    assert dd.remove(hub.root) is False
    hub.download()
    assert dd.remove(hub.root) is True
    assert not hub.final.exists() and not dd.is_installed(hub.root)


# --- the command line ---------------------------------------------------------------------------
@pytest.fixture
def cli_hub(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Hub:
    monkeypatch.setenv(dd.ENV_ENDPOINT, hub.server.base)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return hub


def _installed_column(listing: str) -> str:
    header = next(x for x in listing.splitlines() if "INSTALLED" in x)
    line = next(x for x in listing.splitlines() if x.split()[:1] == ["diarization"])
    col = header.index("INSTALLED")
    return line[col : col + 9].strip()


def test_cli_download_list_path_remove(cli_hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(TOKEN + "\n")
    assert main(["models", "list"]) == 0
    assert _installed_column(capsys.readouterr().out) == "-"

    assert main(["models", "download", "diarization", "--token-file", str(token_file), "-q"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"diarization: {cli_hub.final}"
    assert TOKEN not in out + err
    assert check_pipeline_dir(cli_hub.final)
    assert all(r.authorization == f"Bearer {TOKEN}" for r in cli_hub.hub_requests())
    assert all(TOKEN.encode() not in p.read_bytes() for p in written_files(cli_hub.root))

    assert main(["models", "download", "speaker-diarization-community-1", "-q"]) == 0  # installed: no token needed
    assert "already installed" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    assert _installed_column(capsys.readouterr().out) == "yes"
    assert main(["models", "path", "diarization"]) == 0
    assert capsys.readouterr().out.strip() == str(cli_hub.final)
    assert main(["models", "remove", "diarization"]) == 0
    assert capsys.readouterr().out.strip() == "diarization: removed"
    assert main(["models", "path", "diarization"]) == 4
    assert "not downloaded" in capsys.readouterr().err


def test_cli_token_from_environment(
    cli_hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert main(["models", "download", "diarization", "-q"]) == 0
    assert dd.is_installed(cli_hub.root)
    assert TOKEN not in "".join(capsys.readouterr())


def test_cli_refused_token(cli_hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text("hf_wrong_wrong_wrong")
    assert main(["-v", "models", "download", "diarization", "--token-file", str(token_file), "-q"]) == 4
    err = capsys.readouterr().err
    assert "the Hugging Face token was refused" in err and "hf_wrong_wrong_wrong" not in err


def test_cli_without_a_token(
    cli_hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["models", "download", "diarization", "-q"]) == 4
    assert "--token-file" in capsys.readouterr().err
    assert main(["models", "download", "diarization", "--token-file", str(tmp_path / "nope"), "-q"]) == 4
    assert "cannot read the token file" in capsys.readouterr().err
    assert cli_hub.server.requests == []


def test_cli_help_mentions_diarization(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["models", "download", "--help"])
    out = capsys.readouterr().out
    assert "diarization" in out and "--token-file" in out


# --- the model manager ----------------------------------------------------------------------------
@pytest.fixture
def box(hub: Hub, qtbot, monkeypatch: pytest.MonkeyPatch):
    from pipeline.models.store import ModelStore
    from ui.models.model_manager import ModelManagerDialog

    monkeypatch.setenv(dd.ENV_ENDPOINT, hub.server.base)
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    dlg = ModelManagerDialog(ModelStore(root=hub.root))
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_ui_download_cancel_resume_remove(hub: Hub, box, qtbot) -> None:
    from PySide6.QtWidgets import QLineEdit

    d = box.diarization
    assert d.status_text() == "Not installed"
    assert d.token.echoMode() == QLineEdit.EchoMode.Password
    assert dd.MODEL_PAGE in d.note.text() and d.note.openExternalLinks()
    assert not d.download_button.isEnabled()  # no token yet
    d.token.setText(TOKEN)
    assert d.download_button.isEnabled()

    hub.server.hold_after = 2 << 20  # stall inside the segmentation file
    d.download_button.click()
    # progress is throttled to ~10 a second: the stall may come before a tick past config.yaml
    qtbot.waitUntil(lambda: hub.server.held.is_set() and " of " in d.status_text(), timeout=10_000)
    assert d.progress.isVisible() and d.cancel_button.isEnabled() and not d.download_button.isEnabled()
    assert d.status_text().startswith("Downloading:")
    assert box.running_downloads() == ["diarization"]
    d.cancel_button.click()
    assert d.status_text() == "Cancelling…"
    hub.server.release.set()
    qtbot.waitUntil(lambda: not d.running(), timeout=10_000)
    assert "cancelled" in d.message.text()
    assert_not_accepted(hub)
    assert d.status_text().startswith("Partly downloaded") and d.download_button.text() == "Resume"

    hub.server.hold_after = None
    d.download_button.click()
    qtbot.waitUntil(lambda: not d.running(), timeout=20_000)
    assert d.status_text().startswith("Installed"), d.message.text()
    assert dd.is_installed(hub.root) and d.token.text() == ""  # the token is not kept
    assert "bytes=" in (hub.ranges_for("segmentation/pytorch_model.bin")[-1] or "")
    assert not d.download_button.isEnabled() and d.remove_button.isEnabled()
    assert all(TOKEN.encode() not in p.read_bytes() for p in written_files(hub.root))

    d.remove_button.click()
    assert d.status_text() == "Not installed" and not dd.is_installed(hub.root)


def test_ui_refused_token_says_so(hub: Hub, box, qtbot) -> None:
    d = box.diarization
    d.token.setText("hf_wrong_wrong_wrong")
    d.download_button.click()
    qtbot.waitUntil(lambda: not d.running(), timeout=10_000)
    assert "token was refused" in d.message.text() and "hf_wrong" not in d.message.text()
    assert d.download_button.isEnabled() and d.status_text() == "Not installed"


def test_ui_closing_stops_the_download(hub: Hub, box, qtbot) -> None:
    d = box.diarization
    d.token.setText(TOKEN)
    hub.server.hold_after = 2 << 20
    d.download_button.click()
    qtbot.waitUntil(lambda: hub.server.held.is_set() and bool(d.running()), timeout=10_000)
    box.close()  # asks (answered Yes), cancels, and closes once the thread has ended
    assert box.isVisible()
    hub.server.release.set()
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=10_000)
    assert box.running_downloads() == []
    assert_not_accepted(hub)
