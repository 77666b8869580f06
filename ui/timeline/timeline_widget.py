"""The editor's timeline: ruler, waveform, caption and word blocks under a playhead.

Zoom and scroll, click to seek or select, drag a block's edge to retime it,
shift+drag to select a time range. Painting covers only the exposed rectangle
(see timeline_paint), so a 1-hour transcript stays smooth; set_playhead repaints
two narrow strips.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import cast

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QHelpEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QFrame, QToolTip, QWidget

from ui.timeline.timeline_data import TimelineCaption, TimelineWord, caption_track, cut_array, word_track
from ui.timeline.timeline_edit import EdgeDrag
from ui.timeline.timeline_header import HEADER_W, LaneHeader
from ui.timeline.timeline_layout import (
    Edge,
    Hit,
    Lane,
    LaneKind,
    Scale,
    format_time,
    hit_block,
    lane_at,
    layout_lanes,
    preferred_height,
)
from ui.timeline.timeline_paint import PLAYHEAD_HALF_W, Colors, Frame, Preview, paint

__all__ = ["TimelineCaption", "TimelineWidget", "TimelineWord"]

DEFAULT_PPS = 100.0
MAX_PPS = 1000.0  # 1 ms per pixel: past the waveform's 10 ms bins already
MIN_PPS = 0.02
END_PAD_PX = 40  # room after the media's end, so its last block is not against the edge
ZOOM_STEP = 1.5  # per +/- key press; the wheel zooms 1.25x per notch
MAX_WAVE_GAIN = 4.0  # a quiet recording is drawn up to 4x louder, never noise blown up to full height


class TimelineWidget(QAbstractScrollArea):
    seek_requested = Signal(float)
    word_retimed = Signal(int, float, float)
    caption_retimed = Signal(int, float, float)
    range_selected = Signal(float, float)
    word_clicked = Signal(int)
    speaker_rename_requested = Signal(str)  # a speaker lane's label was double-clicked (or its menu used)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName("Timeline")
        self.setAccessibleDescription(
            "Waveform, captions and words over time. Click to seek, drag block edges "
            "to retime, Ctrl+wheel or +/- to zoom, shift+drag to select a range."
        )
        self._header = LaneHeader(self)
        self._header.rename_requested.connect(self.speaker_rename_requested)
        self._speakers: set[str] = set()
        self.setViewportMargins(HEADER_W, 0, 0, 0)
        self.horizontalScrollBar().setSingleStep(40)
        self._pps = DEFAULT_PPS
        self._words, self._lane_names = word_track([])
        self._captions = caption_track([])
        self._cuts = cut_array([])
        self._duration = 0.0
        self._peaks: np.ndarray | None = None
        self._per_second = 100.0
        self._wave_gain = 1.0
        self._playhead = 0.0
        self._follow = False
        self._selected_word: int | None = None  # word id
        self._selected_caption: int | None = None  # caption index
        self._selection: tuple[float, float] | None = None
        self._drag: EdgeDrag | None = None
        self._range_anchor: float | None = None
        self._scrubbing = False
        self._colors: Colors | None = None
        self._lanes: list[Lane] = []
        self._relayout()

    # --- content -------------------------------------------------------------------------
    def set_content(
        self,
        words: list[TimelineWord],
        captions: list[TimelineCaption],
        duration: float,
        cuts: list[tuple[float, float]],
    ) -> None:
        """Show new content; zoom, scroll position and the selected word are kept."""
        self._words, self._lane_names = word_track(words)
        self._speakers = {w.speaker for w in words if w.speaker is not None}
        self._captions = caption_track(captions)
        self._cuts = cut_array(cuts)
        ends = [float(self._words.reach[-1])] if len(self._words) else []
        ends += [float(self._captions.reach[-1])] if len(self._captions) else []
        self._duration = duration if duration > 0 else max(ends, default=0.0)
        self._drag = None  # rows changed under it
        if self._selected_word is not None and self._words.index_of(self._selected_word) is None:
            self._selected_word = None
        if self._selected_caption is not None and self._captions.index_of(self._selected_caption) is None:
            self._selected_caption = None
        self._relayout()
        self.updateGeometry()
        self.viewport().update()

    def set_peaks(self, peaks: np.ndarray, per_second: float) -> None:
        arr = np.ascontiguousarray(peaks, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"peaks must have shape (n, 2), not {arr.shape}")
        if not per_second > 0:
            raise ValueError(f"peaks per second must be positive, not {per_second}")
        if not np.isfinite(arr).all():
            raise ValueError("peaks must be finite numbers")
        self._peaks, self._per_second = arr, float(per_second)
        loudest = float(np.abs(arr).max()) if arr.size else 0.0
        self._wave_gain = min(MAX_WAVE_GAIN, 0.9 / loudest) if loudest > 0 else 1.0
        wave = next(lane for lane in self._lanes if lane.kind is LaneKind.WAVE)
        self.viewport().update(QRect(0, wave.top, self.viewport().width(), wave.height))

    # --- playhead ------------------------------------------------------------------------
    def playhead(self) -> float:
        return self._playhead

    def set_playhead(self, t: float) -> None:
        """Move the playhead; repaints only its old and new strips (or pages when following)."""
        old, self._playhead = self._playhead, max(0.0, t)
        scale, vw = self._scale(), self.viewport().width()
        x = scale.x_of(self._playhead)
        if self._follow and self._drag is None and not self._scrubbing and (x < 0 or x > vw - PLAYHEAD_HALF_W):
            self.horizontalScrollBar().setValue(round(self._playhead * self._pps - vw * 0.1))
            self.viewport().update()
            return
        ox, nx = math.floor(scale.x_of(old)), math.floor(x)
        if ox == nx:
            return
        bottom = self._lanes[-1].bottom
        for px in (ox, nx):
            if -PLAYHEAD_HALF_W <= px <= vw + PLAYHEAD_HALF_W:
                self.viewport().update(QRect(px - PLAYHEAD_HALF_W, 0, 2 * PLAYHEAD_HALF_W + 1, bottom))

    def set_follow_playhead(self, on: bool) -> None:
        self._follow = on

    def ensure_visible(self, t: float) -> None:
        """Scroll so `t` is in view (centred if it was out of view)."""
        x, vw = self._scale().x_of(t), self.viewport().width()
        if not (PLAYHEAD_HALF_W <= x <= vw - PLAYHEAD_HALF_W):
            self.horizontalScrollBar().setValue(round(t * self._pps - vw / 2))

    def selected_word(self) -> int | None:
        return self._selected_word

    def selected_caption(self) -> int | None:
        return self._selected_caption

    def word_lane_names(self) -> list[str]:
        """The word lanes' labels, top to bottom: speaker names, or one "Words" lane."""
        return list(self._lane_names)

    # --- zoom and scroll -----------------------------------------------------------------
    def zoom(self) -> float:
        return self._pps

    def zoom_limits(self) -> tuple[float, float]:
        """Zoomed out, the whole media fits the view; zoomed in, 1 ms per pixel."""
        if self._duration <= 0:
            return 1.0, MAX_PPS
        fit = max(1, self.viewport().width() - END_PAD_PX) / self._duration
        return min(MAX_PPS, max(MIN_PPS, fit)), MAX_PPS

    def set_zoom(self, pixels_per_second: float) -> None:
        """Zoom about the playhead when it is in view, else about the view's centre."""
        x = self._scale().x_of(self._playhead)
        self._zoom_about(pixels_per_second, x if 0 <= x <= self.viewport().width() else self.viewport().width() / 2)

    def view_range(self) -> tuple[float, float]:
        s = self._scale()
        return s.t_of(0), s.t_of(self.viewport().width())

    def time_at(self, x: float) -> float:
        return self._scale().t_of(x)

    def x_at(self, t: float) -> float:
        return self._scale().x_of(t)

    def lanes(self) -> list[Lane]:
        return list(self._lanes)

    def _zoom_about(self, pps: float, x: float) -> None:
        lo, hi = self.zoom_limits()
        t = self._scale().t_of(x)
        self._pps = min(hi, max(lo, pps))
        self._update_scroll_range()
        self.horizontalScrollBar().setValue(round(t * self._pps - x))
        self.viewport().update()

    def _scale(self) -> Scale:
        return Scale(self._pps, float(self.horizontalScrollBar().value()))

    def _update_scroll_range(self) -> None:
        sb, vw = self.horizontalScrollBar(), self.viewport().width()
        content = math.ceil(self._duration * self._pps) + END_PAD_PX
        sb.setRange(0, max(0, content - vw))
        sb.setPageStep(max(1, vw))

    def _relayout(self) -> None:
        lo, hi = self.zoom_limits()
        self._pps = min(hi, max(lo, self._pps))
        self._update_scroll_range()
        self._lanes = layout_lanes(self.viewport().height(), len(self._lane_names))
        self._header.set_lanes(self._lanes, self._lane_names, self._speakers)
        cr = self.contentsRect()
        self._header.setGeometry(QRect(cr.left(), cr.top(), HEADER_W, self.viewport().height()))

    def sizeHint(self) -> QSize:
        return QSize(900, preferred_height(len(self._lane_names)) + self.horizontalScrollBar().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(
            HEADER_W + 120, preferred_height(len(self._lane_names), 40) + self.horizontalScrollBar().sizeHint().height()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().scroll(dx, 0)  # blit what stays in view; only the exposed strip repaints

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            self._zoom_about(self._pps * 1.25**steps, event.position().x())
        else:
            pd, ad = event.pixelDelta(), event.angleDelta()
            delta = (pd.x() or pd.y()) if not pd.isNull() else (ad.x() or ad.y())
            sb = self.horizontalScrollBar()
            sb.setValue(sb.value() - delta)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, sb = event.key(), self.horizontalScrollBar()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self._pps * ZOOM_STEP)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.set_zoom(self._pps / ZOOM_STEP)
        elif key == Qt.Key.Key_Home:
            sb.setValue(sb.minimum())
        elif key == Qt.Key.Key_End:
            sb.setValue(sb.maximum())
        elif key == Qt.Key.Key_Escape and (self._drag or self._selection or self._range_anchor is not None):
            self._drag, self._selection, self._range_anchor = None, None, None
            self.viewport().update()
        else:
            super().keyPressEvent(event)

    # --- painting ------------------------------------------------------------------------
    def _frame(self) -> Frame:
        if self._colors is None:
            self._colors = Colors.from_palette(self.palette())
        d = self._drag
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.9))
        return Frame(
            scale=self._scale(),
            lanes=self._lanes,
            words=self._words,
            captions=self._captions,
            cuts=self._cuts,
            peaks=self._peaks,
            per_second=self._per_second,
            wave_gain=self._wave_gain,
            duration=self._duration,
            playhead=self._playhead,
            selected_word=None if self._selected_word is None else self._words.index_of(self._selected_word),
            selected_caption=(
                None if self._selected_caption is None else self._captions.index_of(self._selected_caption)
            ),
            preview=Preview(d.captions, d.k, d.start, d.end) if d is not None and d.moved else None,
            selection=self._selection,
            colors=self._colors,
            font=font,
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        frame = self._frame()
        p = QPainter(self.viewport())
        region = event.region()
        # QRegion iterates over its rectangles; the stubs do not declare __iter__.
        rects = list(cast("Iterable[QRect]", region)) if region.rectCount() <= 4 else [region.boundingRect()]
        for rect in rects:  # two playhead strips far apart: paint each, not all between them
            p.setClipRect(rect)
            paint(p, frame, rect)
        p.end()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._colors = None
            self.viewport().update()
        super().changeEvent(event)

    # --- mouse ---------------------------------------------------------------------------
    def _hit(self, pos: QPoint) -> tuple[Lane | None, Hit | None]:
        lane = lane_at(self._lanes, pos.y())
        if lane is None or lane.kind in (LaneKind.RULER, LaneKind.WAVE):
            return lane, None
        track = self._captions if lane.kind is LaneKind.CAPTIONS else self._words
        return lane, hit_block(track, lane.index, self._scale(), pos.x())

    def _clamped_time(self, x: float) -> float:
        t = max(0.0, self._scale().t_of(x))
        return min(t, self._duration) if self._duration > 0 else t

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position().toPoint()
        lane, hit = self._hit(pos)
        if lane is None:
            return
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        captions = lane.kind is LaneKind.CAPTIONS
        if hit is not None and hit.edge is not Edge.BODY:
            track = self._captions if captions else self._words
            self._drag = EdgeDrag.begin(
                track, captions, hit.k, hit.edge is Edge.RIGHT, self._scale().t_of(pos.x()), self._duration
            )
        elif hit is not None:
            self._select_block(captions, hit.k)
        elif shift:
            self._range_anchor = self._clamped_time(pos.x())
            self._selection = None
        else:
            self._selection = None
            self._scrubbing = True
            self._seek(self._clamped_time(pos.x()))
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._drag is not None:
            d = self._drag
            d.move(self._scale().t_of(x))
            lane = next(
                ln
                for ln in self._lanes
                if ln.kind is (LaneKind.CAPTIONS if d.captions else LaneKind.WORDS)
                and ln.index == (0 if d.captions else int(self._words.lanes[d.k]))
            )
            self.viewport().update(QRect(0, lane.top, self.viewport().width(), lane.height))
        elif self._range_anchor is not None:
            t = self._clamped_time(x)
            self._selection = (min(t, self._range_anchor), max(t, self._range_anchor))
            self.viewport().update()
        elif self._scrubbing:
            self._seek(self._clamped_time(x))
        else:
            _, hit = self._hit(event.position().toPoint())
            edge = hit is not None and hit.edge is not Edge.BODY
            self.viewport().setCursor(Qt.CursorShape.SizeHorCursor if edge else Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mouseReleaseEvent(event)
        drag, self._drag = self._drag, None
        anchor, self._range_anchor = self._range_anchor, None
        self._scrubbing = False
        self.viewport().update()
        if drag is not None:
            retimed = drag.result(self._captions if drag.captions else self._words)
            if retimed is not None:
                (self.caption_retimed if drag.captions else self.word_retimed).emit(*retimed)
        elif anchor is not None and self._selection is not None:
            a, b = self._selection
            if (b - a) * self._pps >= 1:  # at least a pixel: not a stray shift+click
                self.range_selected.emit(a, b)
            else:
                self._selection = None

    def _select_block(self, captions: bool, k: int) -> None:
        self._selection = None
        track = self._captions if captions else self._words
        key = int(track.keys[k])
        if captions:
            self._selected_caption = key
        else:
            self._selected_word = key
            self.word_clicked.emit(key)
        self._seek(float(track.starts[k]))

    def _seek(self, t: float) -> None:
        self.set_playhead(t)
        self.seek_requested.emit(t)

    # --- tooltips ------------------------------------------------------------------------
    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            lane, hit = self._hit(event.pos())
            if hit is None or lane is None:
                QToolTip.hideText()
                event.ignore()
                return True
            QToolTip.showText(
                event.globalPos(), self.block_tooltip(lane.kind is LaneKind.CAPTIONS, hit.k), self.viewport()
            )
            return True
        return super().viewportEvent(event)

    def block_tooltip(self, captions: bool, k: int) -> str:
        track = self._captions if captions else self._words
        times = f"{format_time(float(track.starts[k]))} – {format_time(float(track.ends[k]))}"
        note = " (cut)" if track.cut[k] else ""
        return f"{track.texts[k]}\n{times}{note}"
