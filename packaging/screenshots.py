"""Render the main window's states to PNG files: `make screenshots` (runs under Xvfb).

Real app, real files, the real offline engine: the screenshots show what a
user sees. Everything the app stores goes to a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.controllers.controller import Controller

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HARK_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"


class Pump(Protocol):
    """Run Qt's events until `until()` is true (or give up after `timeout` seconds)."""

    def __call__(self, until: Callable[[], object], timeout: float = ...) -> None: ...


def main(out_dir: str) -> int:
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="hark-shots-"))
    os.environ.update(
        HARK_DATA_DIR=str(tmp / "data"),
        HARK_MODELS_DIR=str(tmp / "models"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        HARK_LOG_DIR=str(tmp / "logs"),
    )
    sys.path.insert(0, str(ROOT))

    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.controllers.controller import Controller
    from app.gui import RESOURCES
    from app.settings import AppSettings
    from pipeline.models.store import ModelStore
    from pipeline.transcription.jobs import JobStatus

    QCoreApplication.setApplicationName("Hark")
    app = QApplication.instance() or QApplication(["hark"])
    icon = QIcon(str(RESOURCES / "hark.svg"))
    QApplication.setWindowIcon(icon)  # a static function (`app` may be a QCoreApplication to mypy)
    settings = AppSettings(
        engine="sphinx",
        projects_folder=str(tmp / "projects"),
        output_folder=str(tmp / "out"),
        formats=["srt", "vtt", "txt", "json"],
        use_vad=False,
    )
    c = Controller(settings, ModelStore(), None, icon)
    w = c.window
    w.resize(1280, 760)
    w.show()

    def pump(until: Callable[[], object], timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while not until():
            if time.monotonic() > end:
                raise SystemExit("screenshots: timed out waiting for the app")
            app.processEvents()
            time.sleep(0.02)

    def shot(widget: QWidget, name: str) -> None:
        pump(lambda: True)
        app.processEvents()
        path = out / name
        widget.grab().save(str(path))
        print(f"wrote {path}")

    shot(w, "empty.png")

    media = tmp / "media"
    media.mkdir()
    broken = media / "voice-memo-corrupt.m4a"
    broken.write_bytes(b"\0not really audio\n" * 200)
    files = [
        DATA / "whisper.cpp" / "jfk.wav",
        DATA / "mfa" / "cold_corpus.wav",
        DATA / "lhotse" / "2412-153948-0000.flac",
        broken,
        DATA / "mfa" / "61-70968-0000.flac",
        DATA / "lhotse" / "ES2011a.Headset-0-40s-46s.wav",
    ]
    c.add_paths([str(f) for f in files])
    jobs = c.queue.jobs
    pump(
        lambda: (
            jobs[0].status is JobStatus.DONE
            and jobs[1].status is JobStatus.RUNNING
            and jobs[1].progress > 0.35
            and jobs[3].status is JobStatus.FAILED
        )
    )
    w.queue_view.select_job(jobs[0].id)
    shot(w, "queue-running.png")

    pump(lambda: all(not j.active for j in jobs) and not c.runner.busy(), timeout=300)
    w.queue_view.select_job(jobs[2].id)
    c.show_job(jobs[2].id)
    shot(w, "transcript.png")

    shot_editor(c, media, pump, out)

    from ui.models.model_manager import ModelManagerDialog

    dlg = ModelManagerDialog(c.store, w)
    dlg.resize(900, 560)
    dlg.show()
    shot(dlg, "model-manager.png")
    dlg.close()
    c.shutdown()
    return 0


def shot_editor(c: Controller, media: Path, pump: Pump, out: Path) -> None:
    """The editor on a video: Big Buck Bunny's picture under jfk's speech, a few words cut, one corrected."""
    import subprocess

    from PySide6.QtCore import QPoint, QRect, Qt
    from PySide6.QtGui import QPainter

    from pipeline.transcription.jobs import JobStatus

    video = media / "inaugural-address.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(DATA / "lhotse" / "big_buck_bunny_small.mp4"),
            "-i",
            str(DATA / "whisper.cpp" / "jfk.wav"),
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(video),
        ],
        check=True,
    )
    c.add_paths([str(video)])
    job = c.queue.jobs[-1]
    pump(lambda: job.status is JobStatus.DONE, timeout=120)
    c.window.queue_view.select_job(job.id)
    c.show_job(job.id)
    editor = c.open_editor()
    assert editor is not None  # the project shown, which has just been transcribed
    w = editor.window
    w.resize(1280, 860)
    pump(lambda: w.preview.has_video() and w.timeline._peaks is not None, timeout=60)
    td = w.td
    w.text.select(5, 7)  # a few words cut from the middle
    w.cut_selection()
    w.correct_word(1)
    word_editor = w.inline.editor
    assert word_editor is not None  # correct_word opened it
    word_editor.setText("so")
    w.inline.commit()
    first = td.words[td.word_ids[9]]
    w.preview.seek(first.start)
    w.preview.play()
    pump(lambda: w.preview.position() > first.start + 0.3, timeout=20)
    w.preview.pause()
    w.text.select(12, 13, scroll=False)
    pump(lambda: not w.preview.current_frame().isNull(), timeout=20)
    pump(lambda: True)
    pix = w.grab()
    frame = w.preview.current_frame()
    area = QRect(w.preview.video.mapTo(w, QPoint(0, 0)), w.preview.video.size())
    painter = QPainter(pix)  # the video draws in a native window grab() cannot see: paint its frame in
    painter.fillRect(area, Qt.GlobalColor.black)
    scaled = frame.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    painter.drawImage(area.center() - QPoint(scaled.width() // 2, scaled.height() // 2), scaled)
    painter.end()
    pix.save(str(out / "editor.png"))
    print(f"wrote {out / 'editor.png'}")
    w.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "docs" / "screenshots")))
