"""ModelStore and `hark models ...` against a real HTTP server on 127.0.0.1 (tests/http_server.py).

Nothing in the network layer is mocked; the server records every request so
the tests can check what the store asked for.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.cli.main import main
from audio.errors import Cancelled
from pipeline.errors import ModelError
from pipeline.models.catalog import CATALOG, KIND_VAD, KIND_WHISPER, CatalogModel
from pipeline.models.store import ModelStore, ResolvedModel, default_models_dir, sha256_file
from tests.conftest import SILERO
from tests.http_server import FileServer, refused_url, server

MiB = 1 << 20


# --- fake models ------------------------------------------------------------------
def _entry(
    name: str,
    data: bytes,
    url: str,
    *,
    kind: str = KIND_WHISPER,
    filename: str | None = None,
    sha256: str | bool | None = True,
) -> CatalogModel:
    filename = filename or f"ggml-{name}.bin"
    return CatalogModel(
        name=name,
        kind=kind,
        filename=filename,
        url=url,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest() if sha256 is True else (sha256 or None),
        sha1=None,
        english_only=False,
        description=f"test model {name}",
    )


@dataclass
class Fake:
    entry: CatalogModel
    data: bytes
    store: ModelStore
    server: FileServer

    @property
    def final(self) -> Path:
        return self.store.path_for(self.entry)

    @property
    def part(self) -> Path:
        return self.final.with_name(self.final.name + ".part")

    def download(self, **kw) -> Path:
        kw.setdefault("timeout", 5.0)
        return self.store.download(self.entry, **kw)


def _fake(server: FileServer, root: Path, name: str, size: int) -> Fake:
    data = os.urandom(size)
    url = server.add(f"ggml-{name}.bin", data)
    entry = _entry(name, data, url)
    return Fake(entry, data, ModelStore(root=root, catalog=(entry,)), server)


@pytest.fixture
def small(server: FileServer, tmp_path: Path) -> Fake:
    """A ~300 KB fake whisper model (read in one block)."""
    return _fake(server, tmp_path / "models", "fake-small", 300_001)


@pytest.fixture
def big(server: FileServer, tmp_path: Path) -> Fake:
    """A ~2.5 MiB fake model: the store reads 1 MiB blocks, so progress ticks three times."""
    return _fake(server, tmp_path / "models", "fake-big", 2 * MiB + 500_000)


# --- download -----------------------------------------------------------------------
def test_download_happy_path(small: Fake) -> None:
    ticks: list[tuple[int, int]] = []
    path = small.download(progress=lambda d, t: ticks.append((d, t)))
    assert path == small.final == small.store.root / "ggml-fake-small.bin"
    assert path.read_bytes() == small.data
    assert not small.part.exists()
    assert [p.name for p in small.store.root.iterdir()] == [path.name]
    assert ticks and ticks[-1] == (len(small.data), len(small.data))
    assert small.store.is_installed(small.entry)
    assert sha256_file(path) == small.entry.sha256
    (req,) = small.server.requests
    assert req.path == "/ggml-fake-small.bin" and req.range is None and req.user_agent == "hark"


def test_progress_increases_and_ends_at_size(big: Fake) -> None:
    ticks: list[tuple[int, int]] = []
    big.download(progress=lambda d, t: ticks.append((d, t)))
    done = [d for d, _ in ticks]
    assert len(done) >= 3
    assert all(a < b for a, b in itertools.pairwise(done))
    assert done[-1] == len(big.data)
    assert {t for _, t in ticks} == {len(big.data)}
    assert big.final.read_bytes() == big.data


def test_download_creates_missing_root(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(1000)
    entry = _entry("nested", data, server.add("ggml-nested.bin", data))
    store = ModelStore(root=tmp_path / "a" / "b" / "models", catalog=(entry,))
    assert store.download(entry, timeout=5).read_bytes() == data


def test_already_installed_makes_no_request(small: Fake) -> None:
    small.download()
    assert len(small.server.requests) == 1
    assert small.download() == small.final
    assert len(small.server.requests) == 1


def test_interrupted_download_is_resumed_with_range(small: Fake) -> None:
    k = 100_000
    small.server.drop_after, small.server.drop_times = k, 1
    ticks: list[int] = []
    path = small.download(progress=lambda d, t: ticks.append(d))
    assert path.read_bytes() == small.data
    assert not small.part.exists()
    first, second = small.server.requests
    assert first.range is None
    assert second.range == f"bytes={k}-"
    assert ticks[0] == k and ticks[-1] == len(small.data)


def test_interrupted_resume_request_is_resumed_again(big: Fake) -> None:
    """Cut on the first two requests (one of them already a resume); the third finishes it."""
    k = 300_000
    big.server.drop_after, big.server.drop_times = k, 2
    assert big.download().read_bytes() == big.data
    assert [r.range for r in big.server.requests] == [None, f"bytes={k}-", f"bytes={2 * k}-"]


def test_interrupted_every_time_gives_up_and_keeps_part(small: Fake) -> None:
    k = 50_000
    small.server.drop_after, small.server.drop_times = k, None
    with pytest.raises(ModelError, match="interrupted") as ei:
        small.download()
    assert "resume" in str(ei.value)
    assert len(small.server.requests) == 3  # bounded retries
    assert [r.range for r in small.server.requests] == [None, f"bytes={k}-", f"bytes={2 * k}-"]
    assert not small.final.exists()
    assert small.part.read_bytes() == small.data[: 3 * k]
    # The next run (here: a new store on the same folder) picks up where it stopped.
    small.server.drop_after = None
    fresh = ModelStore(root=small.store.root, catalog=(small.entry,))
    assert fresh.download(small.entry, timeout=5).read_bytes() == small.data
    assert small.server.requests[-1].range == f"bytes={3 * k}-"
    assert not small.part.exists()


def test_part_from_an_earlier_run_is_resumed(small: Fake) -> None:
    k = 123_456
    small.store.root.mkdir(parents=True)
    small.part.write_bytes(small.data[:k])
    ticks: list[int] = []
    path = small.download(progress=lambda d, t: ticks.append(d))
    assert path.read_bytes() == small.data
    (req,) = small.server.requests
    assert req.range == f"bytes={k}-"
    assert ticks == [len(small.data)]
    assert not small.part.exists()


def test_server_ignoring_range_still_gives_the_right_file(small: Fake) -> None:
    """A 200 answer to a Range request is the whole file: the stale .part must be overwritten."""
    k = 77_777
    small.store.root.mkdir(parents=True)
    small.part.write_bytes(b"\0" * k)  # wrong bytes: would fail the checksum if appended to
    small.server.ignore_range = True
    assert small.download().read_bytes() == small.data
    (req,) = small.server.requests
    assert req.range == f"bytes={k}-"
    assert not small.part.exists()


def test_interrupted_then_server_ignores_range(small: Fake) -> None:
    small.server.drop_after, small.server.drop_times = 10_000, 1
    small.server.ignore_range = True
    assert small.download().read_bytes() == small.data
    assert [r.range for r in small.server.requests] == [None, "bytes=10000-"]


def test_416_on_resume_starts_over(small: Fake) -> None:
    small.store.root.mkdir(parents=True)
    small.part.write_bytes(small.data[:1000])
    small.server.answer_416 = True
    assert small.download().read_bytes() == small.data
    assert [r.range for r in small.server.requests] == ["bytes=1000-", None]


def test_part_larger_than_model_is_discarded(small: Fake) -> None:
    small.store.root.mkdir(parents=True)
    small.part.write_bytes(os.urandom(len(small.data) + 10))
    assert small.download().read_bytes() == small.data
    (req,) = small.server.requests
    assert req.range is None


def test_checksum_mismatch(small: Fake) -> None:
    bad = bytes(b ^ 0xFF for b in small.data[:10]) + small.data[10:]
    small.server.files["/ggml-fake-small.bin"] = bad
    with pytest.raises(ModelError, match="checksum") as ei:
        small.download()
    assert small.entry.name in str(ei.value)
    assert not small.final.exists()
    assert not small.part.exists()
    # A good server afterwards: a clean download from the start.
    small.server.files["/ggml-fake-small.bin"] = small.data
    assert small.download().read_bytes() == small.data
    assert small.server.requests[-1].range is None


def test_stale_part_with_wrong_bytes_fails_checksum_then_recovers(small: Fake) -> None:
    small.store.root.mkdir(parents=True)
    small.part.write_bytes(b"x" * 5000)  # from another version of the file
    with pytest.raises(ModelError, match="checksum"):
        small.download()
    assert not small.part.exists() and not small.final.exists()
    assert small.download().read_bytes() == small.data


def test_complete_part_with_wrong_bytes_is_verified_not_trusted(small: Fake) -> None:
    small.store.root.mkdir(parents=True)
    small.part.write_bytes(os.urandom(len(small.data)))
    with pytest.raises(ModelError, match="checksum"):
        small.download()
    assert small.server.requests == []  # nothing was left to fetch
    assert not small.part.exists() and not small.final.exists()


def test_server_sends_too_many_bytes(small: Fake) -> None:
    small.server.files["/ggml-fake-small.bin"] = small.data + b"extra"
    with pytest.raises(ModelError, match=f"expected {len(small.data)}"):
        small.download()
    assert not small.part.exists() and not small.final.exists()


def test_no_sha256_skips_verification(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(4096)
    entry = _entry("nosum", data, server.add("ggml-nosum.bin", data), sha256=None)
    assert entry.sha256 is None
    store = ModelStore(root=tmp_path / "m", catalog=(entry,))
    assert store.download(entry, timeout=5).read_bytes() == data


def test_404_is_a_model_error(small: Fake) -> None:
    del small.server.files["/ggml-fake-small.bin"]
    with pytest.raises(ModelError, match="404") as ei:
        small.download()
    assert small.entry.name in str(ei.value)
    assert len(small.server.requests) == 1  # a 404 is not retried
    assert not small.final.exists()


def test_no_connection_says_so_and_mentions_offline(refused_url: str, tmp_path: Path) -> None:
    data = os.urandom(1000)
    entry = _entry("offline", data, f"{refused_url}/ggml-offline.bin")
    store = ModelStore(root=tmp_path / "m", catalog=(entry,))
    with pytest.raises(ModelError) as ei:
        store.download(entry, timeout=5)
    msg = str(ei.value)
    assert "no connection" in msg
    assert "offline" in msg
    assert "127.0.0.1" in msg and "ggml-offline.bin" in msg
    assert not store.path_for(entry).exists()


def test_cancel_from_progress_keeps_part_for_resume(big: Fake) -> None:
    cancel = threading.Event()
    ticks: list[int] = []

    def tick(done: int, total: int) -> None:
        ticks.append(done)
        cancel.set()

    with pytest.raises(Cancelled):
        big.download(progress=tick, cancel=cancel)
    assert not big.final.exists()
    assert big.part.exists()
    have = big.part.stat().st_size
    assert 0 < have < len(big.data)
    assert have == ticks[-1]
    assert big.part.read_bytes() == big.data[:have]
    # Resume without the cancel.
    assert big.download().read_bytes() == big.data
    assert big.server.requests[-1].range == f"bytes={have}-"
    assert not big.part.exists()


def test_cancel_set_before_start(small: Fake) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        small.download(cancel=cancel)
    assert not small.final.exists()


# --- mirror ---------------------------------------------------------------------------
def test_mirror_argument_replaces_the_catalog_host(server: FileServer, refused_url: str, tmp_path: Path) -> None:
    data = os.urandom(2000)
    entry = _entry("mirrored", data, f"{refused_url}/some/where/ggml-mirrored.bin")
    server.add("mirror/ggml-mirrored.bin", data)
    store = ModelStore(root=tmp_path / "m", catalog=(entry,), mirror=server.base + "/mirror/")
    assert store.url_for(entry) == server.base + "/mirror/ggml-mirrored.bin"
    assert store.download(entry, timeout=5).read_bytes() == data
    assert [r.path for r in server.requests] == ["/mirror/ggml-mirrored.bin"]


def test_mirror_from_environment(
    server: FileServer, refused_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(2000)
    entry = _entry("envmirror", data, f"{refused_url}/ggml-envmirror.bin")
    server.add("m2/ggml-envmirror.bin", data)
    monkeypatch.setenv("HARK_MODEL_MIRROR", server.base + "/m2")
    store = ModelStore(root=tmp_path / "m", catalog=(entry,))
    assert store.download(entry, timeout=5).read_bytes() == data
    # An explicit mirror= wins over the environment.
    assert ModelStore(root=tmp_path, catalog=(entry,), mirror="http://x.invalid").url_for(entry) == (
        "http://x.invalid/ggml-envmirror.bin"
    )
    monkeypatch.delenv("HARK_MODEL_MIRROR")
    assert ModelStore(root=tmp_path, catalog=(entry,)).url_for(entry) == entry.url


def test_default_models_dir_follows_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARK_MODELS_DIR", str(tmp_path / "here"))
    assert default_models_dir() == tmp_path / "here"
    assert ModelStore().root == tmp_path / "here"


# --- resolve / remove / vad_path ----------------------------------------------------------
@pytest.fixture
def offline_store(tmp_path: Path, refused_url: str) -> ModelStore:
    """A catalog of tiny fake entries; files are put in place by hand (no download)."""

    def e(name: str, size: int, kind: str = KIND_WHISPER, filename: str | None = None) -> CatalogModel:
        data = bytes([len(name)]) * size
        fn = filename or f"ggml-{name}.bin"
        return _entry(name, data, f"{refused_url}/{fn}", kind=kind, filename=fn)

    cat = (e("tiny", 100), e("base.en", 300), e("mine", 200), e("mine-q5_0", 50), e("vad", 64, KIND_VAD, "vad.onnx"))
    return ModelStore(root=tmp_path / "models", catalog=cat)


def _install(store: ModelStore, name: str) -> Path:
    entry = store.find(name)
    assert entry is not None
    p = store.path_for(entry)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(bytes([len(name)]) * entry.size)
    return p


def test_resolve_installed_name(offline_store: ModelStore) -> None:
    p = _install(offline_store, "mine")
    got = offline_store.resolve("mine")
    entry = offline_store.find("mine")
    assert entry is not None
    assert got == ResolvedModel(p, "mine", entry)
    assert got.sha256 == entry.sha256


def test_resolve_not_installed_tells_how_to_download(offline_store: ModelStore) -> None:
    with pytest.raises(ModelError, match=re.escape("hark models download mine")):
        offline_store.resolve("mine")


def test_resolve_wrong_size_counts_as_not_installed(offline_store: ModelStore) -> None:
    p = _install(offline_store, "mine")
    p.write_bytes(p.read_bytes()[:-1])
    with pytest.raises(ModelError, match="not downloaded"):
        offline_store.resolve("mine")


def test_resolve_unknown_name_lists_known_models(offline_store: ModelStore) -> None:
    with pytest.raises(ModelError, match="unknown model 'nosuch'") as ei:
        offline_store.resolve("nosuch")
    msg = str(ei.value)
    for name in ("tiny", "base.en", "mine"):
        assert name in msg
    assert "hark models list" in msg


def test_resolve_kind_mismatch(offline_store: ModelStore) -> None:
    _install(offline_store, "vad")
    with pytest.raises(ModelError, match="vad model"):
        offline_store.resolve("vad")
    assert offline_store.resolve("vad", kind=KIND_VAD).name == "vad"


def test_resolve_a_file_path(offline_store: ModelStore, tmp_path: Path) -> None:
    f = tmp_path / "elsewhere" / "my-model.bin"
    f.parent.mkdir()
    f.write_bytes(b"abc")
    got = offline_store.resolve(str(f))
    assert got == ResolvedModel(f.resolve(), "my-model.bin", None)
    assert got.sha256 is None


def test_resolve_a_file_path_that_is_a_catalog_file(offline_store: ModelStore, tmp_path: Path) -> None:
    src = _install(offline_store, "mine")
    copy = tmp_path / "copy" / src.name
    copy.parent.mkdir()
    shutil.copyfile(src, copy)
    got = offline_store.resolve(str(copy))
    assert got.path == copy.resolve() and got.name == "mine" and got.entry == offline_store.find("mine")


def test_resolve_missing_path(offline_store: ModelStore, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model file not found"):
        offline_store.resolve(str(tmp_path / "nope" / "model.bin"))
    with pytest.raises(ModelError, match="model file not found"):
        offline_store.resolve("nope.bin")


def test_resolve_none_with_nothing_installed(offline_store: ModelStore) -> None:
    with pytest.raises(ModelError, match="hark models download"):
        offline_store.resolve(None)
    with pytest.raises(ModelError):
        offline_store.resolve("")


def test_resolve_none_prefers_the_default_order(offline_store: ModelStore) -> None:
    _install(offline_store, "tiny")
    _install(offline_store, "mine")
    assert offline_store.resolve(None).name == "tiny"  # in DEFAULT_PREFERENCE
    _install(offline_store, "base.en")
    assert offline_store.resolve(None).name == "base.en"  # earlier in DEFAULT_PREFERENCE


def test_resolve_none_falls_back_to_smallest_installed(offline_store: ModelStore) -> None:
    _install(offline_store, "vad")  # another kind: never chosen
    with pytest.raises(ModelError):
        offline_store.resolve(None)
    _install(offline_store, "mine")
    _install(offline_store, "mine-q5_0")
    assert offline_store.resolve(None).name == "mine-q5_0"


def test_remove_deletes_file_and_part(offline_store: ModelStore) -> None:
    entry = offline_store.find("mine")
    assert entry is not None
    p = _install(offline_store, "mine")
    part = p.with_name(p.name + ".part")
    part.write_bytes(b"half")
    assert offline_store.remove(entry) is True
    assert not p.exists() and not part.exists()
    assert offline_store.remove(entry) is False
    part.write_bytes(b"half")  # only a partial download
    assert offline_store.remove(entry) is True
    assert not part.exists()


def test_vad_path(offline_store: ModelStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert offline_store.vad_path() is None
    p = _install(offline_store, "vad")
    assert offline_store.vad_path() == p
    own = tmp_path / "own.onnx"
    own.write_bytes(b"onnx")
    monkeypatch.setenv("HARK_VAD_MODEL", str(own))
    assert offline_store.vad_path() == own
    monkeypatch.setenv("HARK_VAD_MODEL", str(tmp_path / "missing.onnx"))
    assert offline_store.vad_path() is None


# --- the CLI ------------------------------------------------------------------------------
SILERO_ENTRY = next(m for m in CATALOG if m.name == "silero-vad")


@pytest.fixture
def cli_env(server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HARK_MODELS_DIR = a fresh folder; HARK_MODEL_MIRROR = the local server serving a copy of Silero."""
    if not SILERO.is_file():
        pytest.skip(f"shared Silero VAD not found at {SILERO}")
    server.add(SILERO_ENTRY.filename, SILERO.read_bytes())
    root = tmp_path / "cli-models"
    monkeypatch.setenv("HARK_MODELS_DIR", str(root))
    monkeypatch.setenv("HARK_MODEL_MIRROR", server.base)
    return root


def _row(out: str, name: str) -> str:
    (line,) = [ln for ln in out.splitlines() if ln.split()[:1] == [name]]
    return line


def test_cli_models_list_offline(
    refused_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "listed"
    monkeypatch.setenv("HARK_MODELS_DIR", str(root))
    monkeypatch.setenv("HARK_MODEL_MIRROR", refused_url)  # nothing is reachable
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert f"models folder: {root}" in out
    for name in ("tiny.en", "base.en", "small", "large-v3-turbo", "silero-vad"):
        assert "-" in _row(out, name).split()[3]  # INSTALLED column
    assert "large-v3-turbo-q5_0" not in out
    assert main(["models", "list", "--all"]) == 0
    assert "large-v3-turbo-q5_0" in capsys.readouterr().out


def test_cli_models_path(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(cli_env)
    assert main(["models", "path", "base.en"]) == 4
    assert "hark models download base.en" in capsys.readouterr().err
    assert main(["models", "path", "nosuchmodel"]) == 4


def test_cli_download_list_path_remove(cli_env: Path, server: FileServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "download", "-q", "silero-vad"]) == 0
    out = capsys.readouterr().out
    installed = cli_env / SILERO_ENTRY.filename
    assert f"silero-vad: {installed}" in out
    assert installed.read_bytes() == SILERO.read_bytes()
    assert not (cli_env / (SILERO_ENTRY.filename + ".part")).exists()
    assert [r.path for r in server.requests] == ["/" + SILERO_ENTRY.filename]

    assert main(["models", "list"]) == 0
    row = _row(capsys.readouterr().out, "silero-vad")
    assert row.split()[3] == "yes", row

    assert main(["models", "path", "silero-vad"]) == 0
    assert capsys.readouterr().out.strip() == str(installed.resolve())
    assert ModelStore().vad_path() == installed

    assert main(["models", "download", "silero-vad"]) == 0  # nothing to do
    assert "already installed" in capsys.readouterr().out
    assert len(server.requests) == 1

    assert main(["models", "remove", "silero-vad"]) == 0
    assert "silero-vad: removed" in capsys.readouterr().out
    assert not installed.exists()
    assert main(["models", "remove", "silero-vad"]) == 0
    assert "was not installed" in capsys.readouterr().out
    assert main(["models", "list"]) == 0
    assert _row(capsys.readouterr().out, "silero-vad").split()[3] == "-"


def test_cli_download_resumes_after_cut(cli_env: Path, server: FileServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.drop_after, server.drop_times = 500_000, 1
    assert main(["models", "download", "-q", "silero-vad"]) == 0
    assert (cli_env / SILERO_ENTRY.filename).read_bytes() == SILERO.read_bytes()
    assert [r.range for r in server.requests] == [None, "bytes=500000-"]


def test_cli_download_unknown_model(cli_env: Path, server: FileServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "download", "nosuchmodel"]) == 4
    err = capsys.readouterr().err
    assert "unknown model 'nosuchmodel'" in err
    assert server.requests == []


def test_cli_download_404_and_checksum(cli_env: Path, server: FileServer, capsys: pytest.CaptureFixture[str]) -> None:
    good = server.files.pop("/" + SILERO_ENTRY.filename)
    assert main(["models", "download", "-q", "silero-vad"]) == 4
    assert "404" in capsys.readouterr().err
    server.add(SILERO_ENTRY.filename, good[:-1] + bytes([good[-1] ^ 1]))
    assert main(["models", "download", "-q", "silero-vad"]) == 4
    assert "checksum" in capsys.readouterr().err
    assert list(cli_env.iterdir()) == []


def test_cli_download_without_connection(
    refused_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARK_MODELS_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("HARK_MODEL_MIRROR", refused_url)
    assert main(["models", "download", "-q", "silero-vad"]) == 4
    err = capsys.readouterr().err
    assert "no connection" in err and "offline" in err


# --- regressions: a shorter file on a mirror, an unusable models folder ------------------------
def test_server_with_a_shorter_file_is_not_reported_as_an_interruption(small: Fake) -> None:
    small.server.files["/ggml-fake-small.bin"] = small.data[:200_000]  # e.g. an older file on a mirror
    with pytest.raises(ModelError) as ei:
        small.download()
    assert "resume" not in str(ei.value)
    assert len(small.server.requests) == 1  # no point retrying: the server's file has the wrong size


def test_cli_download_into_unusable_folder_is_one_line(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("HARK_MODELS_DIR", str(not_a_dir))
    assert main(["models", "download", "-q", "silero-vad"]) in (1, 4)
    assert "hark: error" in capsys.readouterr().err
