"""The editor's player: video (or an audio-only card), transport controls, and playback that skips cuts.

Skipping cuts is what makes the preview show the trimmed result. QMediaPlayer
reports its position every ~50 ms, so a jump made only on those reports would
play up to 50 ms of a cut; instead, when a cut is about to start, a precise
timer fires at its expected start and jumps to its end. The position reports
still catch anything the timer missed (a seek into a cut, a late timer).
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QIcon, QImage, QPalette
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

Range = tuple[float, float]
RATES = (1.0, 1.5, 2.0)  # L steps up through these, J steps back down
JUMP_S = 5.0  # J (at normal speed) and the back/forward buttons
LOOKAHEAD_S = 0.3  # schedule the precise jump when a cut starts within this much media time
EPS = 0.002  # s: positions this close to a cut's end count as out of it


def cut_at(cuts: list[Range], t: float) -> Range | None:
    """The cut (sorted, non-overlapping ranges) that `t` lies in, end excluded."""
    i = bisect_right(cuts, (t, float("inf"))) - 1
    if i >= 0 and cuts[i][0] <= t < cuts[i][1] - EPS:
        return cuts[i]
    return None


def next_cut(cuts: list[Range], t: float) -> Range | None:
    """The first cut starting after `t`."""
    i = bisect_right(cuts, (t, float("inf")))
    return cuts[i] if i < len(cuts) else None


def clock(seconds: float) -> str:
    """0:03.4, 12:05.0, 1:02:03.0: tenths, because cuts are that fine."""
    s = max(0.0, seconds)
    h, rest = divmod(int(s), 3600)
    m, whole = divmod(rest, 60)
    tenth = int((s - int(s)) * 10)
    return f"{h}:{m:02d}:{whole:02d}.{tenth}" if h else f"{m}:{whole:02d}.{tenth}"


class MediaPreview(QWidget):
    position_changed = Signal(float)  # seconds in the source media
    playing_changed = Signal(bool)
    duration_changed = Signal(float)
    skipped = Signal(float, float)  # a cut jumped over while playing
    media_error = Signal(str)

    stage: QStackedWidget  # the video, or the card shown for audio-only media

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.player.setAudioOutput(self.audio)
        self.video = QVideoWidget(self)
        self.video.setAccessibleName("Video preview")
        self.video.setMinimumSize(QSize(160, 90))
        self.player.setVideoOutput(self.video)
        self.card = QLabel(self)  # shown instead of the video when the media has none
        self.card.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.card.setWordWrap(True)
        self.card.setAutoFillBackground(True)
        self.card.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.card.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.card.setAccessibleName("Audio only")
        self.stage = QStackedWidget(self)
        self.stage.addWidget(self.card)
        self.stage.addWidget(self.video)
        self.stage.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self._cuts: list[Range] = []
        self._skip = True
        self._rate_i = 0
        self._duration = 0.0
        self._armed: Range | None = None  # the cut the precise timer will jump over
        self._pending_seek: float | None = None  # a seek asked for while the file was still loading
        self._jump = QTimer(self, singleShot=True, timerType=Qt.TimerType.PreciseTimer)
        self._jump.timeout.connect(self._jump_due)
        self._build_transport()

        p = self.player
        p.positionChanged.connect(self._position)
        p.playbackStateChanged.connect(self._state)
        p.durationChanged.connect(lambda ms: self._set_duration(ms / 1000))
        p.hasVideoChanged.connect(self._has_video)
        p.mediaStatusChanged.connect(self._status)
        p.errorOccurred.connect(lambda _e, msg: self.media_error.emit(msg or "the media cannot be played"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.stage, 1)
        layout.addWidget(self.transport)
        self._has_video(False)

    def _build_transport(self) -> None:
        self.transport = QWidget(self)
        icon = self.style().standardIcon
        self.play_button = self._button(icon(QStyle.StandardPixmap.SP_MediaPlay), "Play or pause (Space)", "Play")
        self.back_button = self._button(
            icon(QStyle.StandardPixmap.SP_MediaSeekBackward), f"Back {JUMP_S:.0f} seconds (J)", "Back 5 seconds"
        )
        self.forward_button = self._button(
            icon(QStyle.StandardPixmap.SP_MediaSeekForward), f"Forward {JUMP_S:.0f} seconds", "Forward 5 seconds"
        )
        self.play_button.clicked.connect(self.toggle)
        self.back_button.clicked.connect(lambda: self.seek(self.position() - JUMP_S))
        self.forward_button.clicked.connect(lambda: self.seek(self.position() + JUMP_S))
        self.time_label = QLabel(self)
        self.time_label.setAccessibleName("Playback position")
        self.time_label.setToolTip("Position in the original media, and its length")
        self.rate_label = QLabel(self)
        self.rate_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.rate_label.setToolTip("Playback speed: L plays faster, J slower, K pauses")
        self.skip_box = QCheckBox("Preview cuts", self)
        self.skip_box.setChecked(True)
        self.skip_box.setToolTip("Playback jumps over cut words, so you hear the edit as it will be exported")
        self.skip_box.toggled.connect(self.set_skip_cuts)
        self.mute_button = self._button(icon(QStyle.StandardPixmap.SP_MediaVolume), "Mute", "Mute")
        self.mute_button.setCheckable(True)
        self.mute_button.toggled.connect(self.audio.setMuted)
        lay = QHBoxLayout(self.transport)
        lay.setContentsMargins(6, 3, 6, 3)
        for w in (self.back_button, self.play_button, self.forward_button):
            lay.addWidget(w)
        lay.addWidget(self.time_label, 1)
        lay.addWidget(self.rate_label)
        lay.addWidget(self.skip_box)
        lay.addWidget(self.mute_button)
        self._show_time(0.0)
        self._show_rate()

    def _button(self, icon: QIcon, tip: str, name: str) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(icon)
        b.setToolTip(tip)
        b.setAccessibleName(name)
        b.setAutoRaise(True)
        return b

    # --- source --------------------------------------------------------------------------------
    def set_source(self, path: Path | None, duration: float = 0.0) -> None:
        """Load `path` (None: nothing); `duration` is the transcript's, shown until the player knows."""
        self.player.stop()
        self._pending_seek = None
        self.player.setSource(QUrl.fromLocalFile(str(path)) if path is not None else QUrl())
        self._name = path.name if path is not None else ""
        self._set_duration(duration)
        self._has_video(False)

    def _has_video(self, has: bool) -> None:
        self.stage.setCurrentWidget(self.video if has else self.card)
        name = getattr(self, "_name", "")
        self.card.setText(
            f"<p style='font-size:32pt'>♪</p><p><b>{name}</b></p><p>Audio only: this file has no video</p>"
            if name
            else "<p>No media</p>"
        )

    def has_video(self) -> bool:
        return self.player.hasVideo()

    def current_frame(self) -> QImage:
        """The picture on screen (null when none). QVideoWidget draws in a native child window that
        QWidget.grab() cannot see, so screenshots paint this frame in themselves."""
        frame = self.video.videoSink().videoFrame()
        return frame.toImage() if frame.isValid() else QImage()

    def _set_duration(self, seconds: float) -> None:
        if seconds > 0:
            self._duration = seconds
            self.duration_changed.emit(seconds)
            self._show_time(self.position())

    def duration(self) -> float:
        return self._duration

    # --- cuts --------------------------------------------------------------------------------
    def set_cuts(self, cuts: list[Range]) -> None:
        """Cut ranges in source seconds (sorted, merged: pipeline.editing.editing.cut_ranges)."""
        self._cuts = list(cuts)
        self._jump.stop()
        if self.is_playing():
            self._check(self.position())

    def set_skip_cuts(self, on: bool) -> None:
        self._skip = on
        if self.skip_box.isChecked() != on:
            self.skip_box.setChecked(on)
        self._jump.stop()

    def skips_cuts(self) -> bool:
        return self._skip

    def _check(self, t: float) -> None:
        """While playing: leave a cut at once; arm the precise timer for the next one."""
        if not (self._skip and self._cuts and self.is_playing()):
            return
        inside = cut_at(self._cuts, t)
        if inside is not None:
            self._leave(inside)
            return
        nxt = next_cut(self._cuts, t)
        if nxt is not None and nxt[0] - t < LOOKAHEAD_S * max(1.0, self.rate()):
            wait_ms = max(0, int((nxt[0] - t) * 1000 / self.rate()))
            if not self._jump.isActive() or wait_ms < self._jump.remainingTime():
                self._armed = nxt
                self._jump.start(wait_ms)

    def _jump_due(self) -> None:
        """The armed cut starts now (the player's own position may lag by a report): jump over it."""
        cut, t = self._armed, self.position()
        if cut is None or not (self._skip and self.is_playing()) or cut not in self._cuts:
            return
        if cut[0] - LOOKAHEAD_S * max(1.0, self.rate()) <= t < cut[1]:
            self._leave(cut)
        else:
            self._check(t)  # a seek moved elsewhere meanwhile

    def _leave(self, cut: Range) -> None:
        self._jump.stop()
        # Chained cuts (merged ones are never adjacent, but a pause between may be a few ms): hop them all.
        end = cut[1]
        while (more := cut_at(self._cuts, end + EPS)) is not None:
            end = more[1]
        target = min(end, self._duration) if self._duration else end
        self.player.setPosition(round(target * 1000) + 1)
        self.skipped.emit(cut[0], target)

    # --- playback ----------------------------------------------------------------------------
    def position(self) -> float:
        return self._pending_seek if self._pending_seek is not None else self.player.position() / 1000

    def _loading(self) -> bool:
        return self.player.mediaStatus() == QMediaPlayer.MediaStatus.LoadingMedia

    def _status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.LoadedMedia and self._pending_seek is not None:
            t, self._pending_seek = self._pending_seek, None
            self.player.setPosition(round(t * 1000))  # the player ignores seeks before it has loaded

    def is_playing(self) -> bool:
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def play(self) -> None:
        if self.player.source().isEmpty():
            return
        if self._duration and self.position() >= self._duration - 0.05:
            self.seek(0.0)  # at the end: play again from the start
        inside = cut_at(self._cuts, self.position()) if self._skip else None
        self.player.play()
        if inside is not None:
            self._leave(inside)

    def pause(self) -> None:
        self.player.pause()

    def toggle(self) -> None:
        self.pause() if self.is_playing() else self.play()

    def seek(self, seconds: float) -> None:
        """Go to `seconds` of the source; a seek into a cut stays there until playback starts."""
        t = max(0.0, min(seconds, self._duration or seconds))
        self._jump.stop()
        if self._loading():
            self._pending_seek = t
        self.player.setPosition(round(t * 1000))
        self._show_time(t)
        self.position_changed.emit(t)

    def rate(self) -> float:
        return RATES[self._rate_i]

    def faster(self) -> None:
        """L: play; again: 1.5x, then 2x."""
        if self.is_playing():
            self._rate_i = min(self._rate_i + 1, len(RATES) - 1)
        self._apply_rate()
        self.play()

    def slower_or_back(self) -> None:
        """J: slower when playing fast; else back five seconds."""
        if self.is_playing() and self._rate_i > 0:
            self._rate_i -= 1
            self._apply_rate()
        else:
            self.seek(self.position() - JUMP_S)

    def stop_here(self) -> None:
        """K: pause, and back to normal speed for the next play."""
        self.pause()
        self._rate_i = 0
        self._apply_rate()

    def _apply_rate(self) -> None:
        self.player.setPlaybackRate(self.rate())
        self._show_rate()

    def _show_rate(self) -> None:
        r = self.rate()
        self.rate_label.setText(f"{r:g}×" if r != 1.0 else "")

    def _position(self, ms: int) -> None:
        t = ms / 1000
        self._show_time(t)
        self.position_changed.emit(t)
        self._check(t)

    def _state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        if not playing:
            self._jump.stop()
        else:
            self._check(self.position())
        self.playing_changed.emit(playing)

    def _show_time(self, t: float) -> None:
        self.time_label.setText(f"{clock(t)} / {clock(self._duration)}")

    def release(self) -> None:
        """Stop and let go of the file (before the window closes or the media is relinked)."""
        self._jump.stop()
        self.player.stop()
        self.player.setSource(QUrl())


__all__ = ["RATES", "MediaPreview", "clock", "cut_at", "next_cut"]
