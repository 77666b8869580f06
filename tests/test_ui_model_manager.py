"""The model manager and first-run dialogs with real widgets, downloading from a real server on 127.0.0.1.

Only the true system edges are patched: the modal QMessageBox / QFileDialog calls and
QDesktopServices (which would start a file manager).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools

import pytest
from PySide6.QtCore import QLocale, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from pipeline.models.catalog import KIND_VAD, KIND_WHISPER, CatalogModel
from pipeline.models.store import ModelStore
from tests.conftest import FOR_TESTS_TINY_EN
from tests.http_server import FileServer, refused_url, server
from ui.main.first_run import FirstRunDialog, recommended_model
from ui.models.download_worker import DownloadWorker, Progress, human_duration, human_size, short_reason
from ui.models.model_manager import ModelManagerDialog
from ui.models.model_table import COL_SIZE, COL_STATUS

MiB = 1 << 20
WAIT_MS = 10_000
Yes, No = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


# --- a fake catalog served by the local server ----------------------------------------------------
SIZES = {  # name -> (bytes, kind)
    "tiny.en": (300_001, KIND_WHISPER),
    "base.en": (4 * MiB + 123, KIND_WHISPER),  # read in 1 MiB blocks: several progress ticks
    "base": (3 * MiB + 7, KIND_WHISPER),
    "small-q5_1": (2_000, KIND_WHISPER),
    "silero-vad": (4_096, KIND_VAD),
}


def _catalog(blobs: dict[str, bytes]) -> tuple[CatalogModel, ...]:
    out = []
    for name, data in blobs.items():
        kind = SIZES[name][1]
        filename = "silero_vad.onnx" if kind == KIND_VAD else f"ggml-{name}.bin"
        out.append(
            CatalogModel(
                name=name,
                kind=kind,
                filename=filename,
                url=f"https://models.invalid/{filename}",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                sha1=None,
                english_only=name.endswith(".en"),
                description=f"Test model {name} ({human_size(len(data))})",
            )
        )
    return tuple(out)


@dataclass
class Env:
    server: FileServer
    store: ModelStore
    blobs: dict[str, bytes]
    asked: list[str] = field(default_factory=list)  # texts of QMessageBox.question
    answers: list[QMessageBox.StandardButton] = field(default_factory=list)  # next answers (default Yes)

    def path(self, name: str) -> Path:
        entry = self.store.find(name)
        assert entry is not None
        return self.store.path_for(entry)

    def part(self, name: str) -> Path:
        p = self.path(name)
        return p.with_name(p.name + ".part")

    def install(self, name: str) -> Path:
        p = self.path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(self.blobs[name])
        return p

    def requests_for(self, name: str) -> list[str | None]:
        return [r.range for r in self.server.requests if r.path == "/" + self.path(name).name]


@pytest.fixture
def env(server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    blobs = {name: os.urandom(size) for name, (size, _) in SIZES.items()}
    catalog = _catalog(blobs)
    for entry in catalog:
        server.add(entry.filename, blobs[entry.name])
    store = ModelStore(root=tmp_path / "models", catalog=catalog, mirror=server.base)
    e = Env(server, store, blobs)

    def question(_parent: object, _title: str, text: str, *_a: object, **_k: object) -> QMessageBox.StandardButton:
        e.asked.append(text)
        return e.answers.pop(0) if e.answers else Yes

    # a modal box would block the test (and the teardown's close, if a download still runs)
    monkeypatch.setattr(QMessageBox, "question", question)
    return e


@pytest.fixture
def dialog(env: Env, qtbot) -> ModelManagerDialog:
    dlg = ModelManagerDialog(env.store)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def _wait(qtbot, cond: Callable[[], bool], timeout: int = WAIT_MS) -> None:
    qtbot.waitUntil(cond, timeout=timeout)


def _click_download(dlg: ModelManagerDialog, name: str) -> None:
    assert dlg.select_model(name)
    assert dlg.download_button.isEnabled()
    dlg.download_button.click()


def _names(dlg: ModelManagerDialog) -> list[str]:
    names = []
    for r in range(dlg.models.rowCount()):
        entry = dlg.models.entry_at(r)
        assert entry is not None, f"row {r} is not a catalog model"
        names.append(entry.name)
    return names


def _row(dlg: ModelManagerDialog, name: str) -> int:
    row = dlg.models.row_of(name)
    assert row is not None, f"{name} is not listed"
    return row


def _recommended(store: ModelStore, locale: QLocale) -> str:
    model = recommended_model(store, locale)
    assert model is not None
    return model.name


# --- formatting ------------------------------------------------------------------------------------
def test_human_formats() -> None:
    assert human_size(77_691_713) == "74 MiB"
    assert human_size(1_533_763_059) == "1.4 GiB"
    assert human_size(2_327_524) == "2.2 MiB"
    assert human_size(300_001) == "293 KiB"
    assert human_duration(12.4) == "0:12"
    assert human_duration(3723) == "1:02:03"
    p = Progress(42 * MiB, 100 * MiB, speed=3.1 * MiB)
    assert p.describe() == f"42% · 3.1 MiB/s · {human_duration(58 * MiB / (3.1 * MiB))} left"
    assert Progress(5, 10).describe() == "50%"
    assert Progress(99_999, 100_000).percent == 99  # 100% only when every byte is there
    assert Progress(10, 10).describe() == "Verifying checksum…"
    assert short_reason("cannot download x: no connection to h (refused). Hark works offline once") == (
        "no connection to h (refused)"
    )


# --- listing ---------------------------------------------------------------------------------------
def test_lists_catalog_with_installed_state(env: Env, dialog: ModelManagerDialog) -> None:
    env.install("tiny.en")
    env.install("silero-vad")
    dialog.models.refresh_installed()
    assert _names(dialog) == ["tiny.en", "base.en", "base", "silero-vad"]  # quantized hidden, VAD last
    assert dialog.status_text("tiny.en") == "Installed"
    assert dialog.status_text("base.en") == "Not installed"
    assert dialog.status_text("silero-vad") == "Installed"
    row = _row(dialog, "base.en")
    assert dialog.models.index(row, COL_SIZE).data() == "4.0 MiB"
    assert dialog.models.index(row, 3).data() == "Test model base.en"  # the size is not repeated
    assert dialog.folder.text() == str(env.store.root)

    dialog.select_model("base")
    dialog.show_quantized.setChecked(True)
    assert "small-q5_1" in _names(dialog)
    selected = dialog.selected_entry()
    assert selected is not None and selected.name == "base"  # the selection survives the filter change
    dialog.show_quantized.setChecked(False)
    assert "small-q5_1" not in _names(dialog)


def test_buttons_follow_selection_and_state(env: Env, dialog: ModelManagerDialog) -> None:
    env.install("tiny.en")
    env.install("silero-vad")
    dialog.models.refresh_installed()
    buttons = (dialog.download_button, dialog.cancel_button, dialog.remove_button, dialog.use_button)

    def enabled() -> tuple[bool, ...]:
        return tuple(b.isEnabled() for b in buttons)

    assert enabled() == (False, False, False, False)  # nothing selected
    dialog.select_model("tiny.en")
    assert enabled() == (False, False, True, True)
    dialog.select_model("base.en")
    assert enabled() == (True, False, False, False)
    dialog.select_model("silero-vad")  # installed, but not a speech model
    assert enabled() == (False, False, True, False)
    assert dialog.use_file_button.isEnabled()


# --- downloading -----------------------------------------------------------------------------------
def test_download_shows_progress_and_installs(env: Env, dialog: ModelManagerDialog, qtbot) -> None:
    env.server.hold_after = MiB + 1  # the first 1 MiB block arrives, then the server stalls
    seen: list[Progress] = []
    dialog.downloads.progressed.connect(lambda _n, p: seen.append(p))
    _click_download(dialog, "base.en")
    assert dialog.running_downloads() == ["base.en"]
    _wait(qtbot, lambda: dialog.status_text("base.en").startswith("Downloading 24%"))
    assert dialog.cancel_button.isEnabled() and not dialog.download_button.isEnabled()
    assert not dialog.remove_button.isEnabled() and not dialog.use_button.isEnabled()

    env.server.release.set()
    _wait(qtbot, lambda: dialog.status_text("base.en") == "Installed")
    assert env.path("base.en").read_bytes() == env.blobs["base.en"]
    assert not env.part("base.en").exists()
    assert seen[-1].complete and seen[-1].percent == 100
    assert all(a.done < b.done for a, b in itertools.pairwise(seen))
    assert dialog.running_downloads() == []
    assert "base.en is installed" in dialog.message.text()
    assert dialog.use_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_progress_is_throttled(env: Env, qtbot) -> None:
    """48 blocks of 1 MiB from loopback arrive far faster than 10 a second: most ticks are dropped."""
    data = os.urandom(48 * MiB)
    (entry,) = _catalog({"base": data})
    env.server.add(entry.filename, data)
    store = ModelStore(root=env.store.root, catalog=(entry,), mirror=env.server.base)
    worker = DownloadWorker(store, entry)
    ticks: list[Progress] = []
    worker.progressed.connect(lambda _n, p: ticks.append(p), Qt.ConnectionType.QueuedConnection)
    started = time.monotonic()
    with qtbot.waitSignal(worker.succeeded, timeout=30_000):
        worker.start()
    elapsed = time.monotonic() - started
    qtbot.waitUntil(lambda: bool(ticks) and ticks[-1].complete)
    assert len(ticks) <= elapsed / 0.1 + 2, (len(ticks), elapsed)
    assert ticks[-1].done == len(data)
    assert worker.wait(5)


def test_cancel_keeps_part_and_a_later_download_resumes(env: Env, dialog: ModelManagerDialog, qtbot) -> None:
    env.server.hold_after = MiB + 1
    _click_download(dialog, "base.en")
    _wait(qtbot, lambda: dialog.status_text("base.en").startswith("Downloading 24%"))
    dialog.cancel_button.click()
    assert dialog.status_text("base.en") == "Cancelling…"
    assert not dialog.cancel_button.isEnabled()
    env.server.release.set()  # the blocked read returns; the store then sees the cancel
    _wait(qtbot, lambda: dialog.status_text("base.en").startswith("Cancelled"))
    assert re.fullmatch(r"Cancelled at \d+% · resumes", dialog.status_text("base.en"))
    assert dialog.running_downloads() == []
    kept = env.part("base.en").stat().st_size
    assert 0 < kept < len(env.blobs["base.en"])
    assert env.part("base.en").read_bytes() == env.blobs["base.en"][:kept]
    assert not env.path("base.en").exists()
    assert dialog.download_button.text() == "&Resume" and dialog.download_button.isEnabled()

    env.server.hold_after = None
    dialog.download_button.click()
    _wait(qtbot, lambda: dialog.status_text("base.en") == "Installed")
    assert env.requests_for("base.en") == [None, f"bytes={kept}-"]
    assert env.path("base.en").read_bytes() == env.blobs["base.en"]


def test_two_downloads_at_once(env: Env, dialog: ModelManagerDialog, qtbot) -> None:
    env.server.hold_after = MiB + 1
    _click_download(dialog, "base.en")
    _click_download(dialog, "base")
    assert sorted(dialog.running_downloads()) == ["base", "base.en"]
    _wait(
        qtbot,
        lambda: all(
            dialog.status_text(n).startswith("Downloading") and "%" in dialog.status_text(n)
            for n in ("base", "base.en")
        ),
    )
    dialog.select_model("base.en")
    assert not dialog.download_button.isEnabled()  # one download per model
    env.server.release.set()
    _wait(qtbot, lambda: dialog.status_text("base.en") == dialog.status_text("base") == "Installed")
    assert env.path("base").read_bytes() == env.blobs["base"]


def test_checksum_mismatch_fails_the_row(env: Env, dialog: ModelManagerDialog, qtbot) -> None:
    good = env.blobs["tiny.en"]
    env.server.add(env.path("tiny.en").name, bytes([good[0] ^ 1]) + good[1:])
    _click_download(dialog, "tiny.en")
    _wait(qtbot, lambda: dialog.status_text("tiny.en").startswith("Failed"))
    status = dialog.status_text("tiny.en")
    assert status.startswith("Failed: checksum mismatch for tiny.en"), status
    assert "checksum mismatch" in dialog.message.text() and dialog.message.isVisible()
    assert not env.path("tiny.en").exists() and not env.part("tiny.en").exists()
    assert dialog.isVisible()  # shown in the row, no modal box
    assert env.asked == []

    env.server.add(env.path("tiny.en").name, good)  # the button offers a retry
    assert dialog.download_button.isEnabled()
    dialog.download_button.click()
    _wait(qtbot, lambda: dialog.status_text("tiny.en") == "Installed")


def test_offline_fails_clearly(env: Env, refused_url: str, qtbot) -> None:
    store = ModelStore(root=env.store.root, catalog=env.store.catalog, mirror=refused_url)
    dlg = ModelManagerDialog(store)
    qtbot.addWidget(dlg)
    dlg.show()
    _click_download(dlg, "base.en")
    _wait(qtbot, lambda: dlg.status_text("base.en").startswith("Failed"))
    status = dlg.status_text("base.en")
    assert status.startswith("Failed: no connection to 127.0.0.1"), status
    assert "Hark works offline" not in status  # one line in the row; the whole message below it
    row = _row(dlg, "base.en")
    assert "offline" in dlg.models.index(row, COL_STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert "offline" in dlg.message.text()
    assert dlg.running_downloads() == []


def test_404_fails_the_row(env: Env, dialog: ModelManagerDialog, qtbot) -> None:
    del env.server.files["/" + env.path("base").name]
    _click_download(dialog, "base")
    _wait(qtbot, lambda: dialog.status_text("base").startswith("Failed"))
    assert "404" in dialog.status_text("base")


def test_closing_while_downloading_asks_then_cancels_and_waits(env: Env, dialog: ModelManagerDialog, qtbot) -> None:
    env.server.hold_after = MiB + 1
    _click_download(dialog, "base.en")
    _wait(qtbot, lambda: dialog.status_text("base.en").startswith("Downloading"))

    env.answers.append(No)
    dialog.close()
    assert len(env.asked) == 1 and "base.en" in env.asked[0]
    assert dialog.isVisible() and dialog.running_downloads() == ["base.en"]

    dialog.close()  # answered Yes: stop the download, then close once its thread has ended
    assert dialog.status_text("base.en") == "Cancelling…"
    assert not dialog.use_file_button.isEnabled()
    assert dialog.isVisible()  # still waiting for the thread
    env.server.release.set()
    _wait(qtbot, lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.running_downloads() == []
    assert env.part("base.en").stat().st_size > 0  # kept for a resume


def test_remove_asks_and_deletes(env: Env, dialog: ModelManagerDialog) -> None:
    path = env.install("tiny.en")
    dialog.models.refresh_installed()
    dialog.select_model("tiny.en")
    env.answers.append(No)
    dialog.remove_button.click()
    assert len(env.asked) == 1 and "tiny.en" in env.asked[0]
    assert path.exists() and dialog.status_text("tiny.en") == "Installed"

    dialog.remove_button.click()  # Yes
    assert not path.exists()
    assert dialog.status_text("tiny.en") == "Not installed"
    assert dialog.download_button.isEnabled() and not dialog.remove_button.isEnabled()


def test_use_this_model(env: Env, dialog: ModelManagerDialog, qtbot) -> None:
    env.install("tiny.en")
    dialog.models.refresh_installed()
    dialog.select_model("tiny.en")
    with qtbot.waitSignal(dialog.model_chosen, timeout=1000) as sig:
        dialog.use_button.click()
    assert sig.args == ["tiny.en"]
    assert dialog.isVisible()  # it stays open, the choice marked
    assert dialog.in_use() == "tiny.en" and "tiny.en" in dialog.message.text()


# --- a model file from anywhere ------------------------------------------------------------------------
@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def warning(_parent: object, _title: str, text: str, *_a: object, **_k: object) -> QMessageBox.StandardButton:
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    return shown


def _pick(monkeypatch: pytest.MonkeyPatch, path: Path | None) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(path) if path else "", "whisper.cpp models (*.bin)")
    )


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"this is not a model at all" * 10, "not a whisper.cpp ggml model"),
        (b"GGUF" + bytes(100), "GGUF"),
        (None, "contains no weights"),  # the header-only for-tests file
    ],
)
def test_use_a_bad_model_file_explains(
    dialog: ModelManagerDialog,
    tmp_path: Path,
    warnings: list[str],
    monkeypatch: pytest.MonkeyPatch,
    qtbot,
    content: bytes | None,
    expected: str,
) -> None:
    bad = tmp_path / "ggml-bad.bin"
    bad.write_bytes(content if content is not None else FOR_TESTS_TINY_EN.read_bytes())
    _pick(monkeypatch, bad)
    with qtbot.assertNotEmitted(dialog.model_chosen):
        dialog.use_file_button.click()
    assert len(warnings) == 1 and expected in warnings[0] and "ggml-bad.bin" in warnings[0]
    assert dialog.isVisible()


def test_use_a_model_file_cancelled_does_nothing(
    dialog: ModelManagerDialog, warnings: list[str], monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    _pick(monkeypatch, None)
    with qtbot.assertNotEmitted(dialog.model_chosen):
        dialog.use_file_button.click()
    assert warnings == [] and dialog.isVisible()


def test_use_a_good_model_file(
    dialog: ModelManagerDialog, random_tiny_en: Path, warnings: list[str], monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:
    _pick(monkeypatch, random_tiny_en)
    with qtbot.waitSignal(dialog.model_chosen, timeout=5000) as sig:
        dialog.use_file_button.click()
    assert sig.args == [str(random_tiny_en)]
    assert warnings == []
    assert dialog.isVisible() and random_tiny_en.name in dialog.message.text()


def test_open_folder(env: Env, dialog: ModelManagerDialog, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    dialog.open_folder_button.click()
    assert [u.toLocalFile() for u in opened] == [str(env.store.root)]
    assert env.store.root.is_dir()


# --- first run -------------------------------------------------------------------------------------
def test_recommended_model_follows_locale(env: Env) -> None:
    assert _recommended(env.store, QLocale(QLocale.Language.English)) == "base.en"
    assert _recommended(env.store, QLocale(QLocale.Language.German)) == "base"
    only_tiny = ModelStore(root=env.store.root, catalog=tuple(m for m in env.store.catalog if m.name == "tiny.en"))
    assert _recommended(only_tiny, QLocale(QLocale.Language.English)) == "tiny.en"


@pytest.fixture
def first_run(env: Env, qtbot) -> FirstRunDialog:
    dlg = FirstRunDialog(env.store, locale=QLocale(QLocale.Language.English))
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_first_run_download(env: Env, first_run: FirstRunDialog, qtbot) -> None:
    assert first_run.download_button.text() == "Download base.en (4.0 MiB)"
    assert not first_run.progress.isVisible()
    env.server.hold_after = MiB + 1
    first_run.download_button.click()
    _wait(qtbot, lambda: first_run.progress.value() > 0)
    assert first_run.progress.isVisible() and first_run.cancel_button.isVisible()
    assert first_run.progress_label.text().startswith("Downloading base.en: 1.0 MiB of 4.0 MiB · 24%")
    assert not first_run.download_button.isEnabled() and not first_run.offline_button.isEnabled()
    env.server.release.set()
    _wait(qtbot, lambda: not first_run.isVisible())
    assert first_run.choice() == ("download", "base.en")
    assert first_run.result() == QDialog.DialogCode.Accepted
    assert env.path("base.en").read_bytes() == env.blobs["base.en"]


def test_first_run_offline_choice(first_run: FirstRunDialog) -> None:
    first_run.offline_button.click()
    assert first_run.choice() == ("offline", None)
    assert not first_run.isVisible() and first_run.result() == QDialog.DialogCode.Accepted


def test_first_run_closed_chooses_nothing(first_run: FirstRunDialog) -> None:
    first_run.later_button.click()
    assert first_run.choice() is None and not first_run.isVisible()


def test_first_run_failure_then_offline(env: Env, refused_url: str, qtbot) -> None:
    store = ModelStore(root=env.store.root, catalog=env.store.catalog, mirror=refused_url)
    dlg = FirstRunDialog(store, locale=QLocale(QLocale.Language.French))
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.download_button.text() == "Download base (3.0 MiB)"
    dlg.download_button.click()
    _wait(qtbot, lambda: dlg.error.isVisible())
    assert "Could not download base" in dlg.error.text() and "no connection" in dlg.error.text()
    assert not dlg.progress.isVisible()
    assert dlg.download_button.isEnabled() and dlg.offline_button.isEnabled()
    assert dlg.choice() is None and dlg.isVisible()
    dlg.offline_button.click()
    assert dlg.choice() == ("offline", None)


def test_first_run_cancel_keeps_part(env: Env, first_run: FirstRunDialog, qtbot) -> None:
    env.server.hold_after = MiB + 1
    first_run.download_button.click()
    _wait(qtbot, lambda: first_run.progress.value() > 0)
    first_run.cancel_button.click()
    assert first_run.progress_label.text() == "Cancelling…"
    env.server.release.set()
    _wait(qtbot, lambda: first_run.error.isVisible())
    assert "cancelled" in first_run.error.text()
    kept = env.part("base.en").stat().st_size
    assert kept > 0
    assert first_run.download_button.isEnabled() and first_run.choice() is None
    env.server.hold_after = None
    first_run.download_button.click()  # resumes
    _wait(qtbot, lambda: not first_run.isVisible())
    assert first_run.choice() == ("download", "base.en")
    assert env.requests_for("base.en") == [None, f"bytes={kept}-"]
