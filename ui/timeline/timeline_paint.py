"""Painting the timeline: only what lies in the exposed rectangle, colours from the palette.

Every lane is drawn from the time range under the exposed rectangle, found by
binary search, so a repaint of the playhead's strip touches a handful of blocks
and a few waveform columns whatever the transcript's length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QPen, QPolygonF

from ui.timeline.timeline_data import BlockTrack
from ui.timeline.timeline_layout import (
    Lane,
    LaneKind,
    Scale,
    coverage,
    format_tick,
    merge_spans,
    tick_spacing,
    ticks,
    waveform_columns,
)

PLAYHEAD_HALF_W = 6  # half the strip a playhead move repaints: line plus its marker in the ruler
_MIN_HATCH_PX = 6  # narrower cuts are shaded only: a hatch would not show
_MIN_TEXT_PX = 14  # narrower blocks get no label
_LOD_PX = 5  # typical block narrower than this: draw merged spans, no labels (chosen by zoom alone,
# so a strip repaint draws exactly what a full repaint drew)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """a blended toward b by t (0 = a, 1 = b)."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


def _alpha(c: QColor, a: int) -> QColor:
    out = QColor(c)
    out.setAlpha(a)
    return out


@dataclass(frozen=True)
class Colors:
    """Derived from the palette, so light and dark themes both read well."""

    base: QColor
    alt_base: QColor
    ruler_bg: QColor
    ruler_text: QColor
    tick: QColor
    separator: QColor
    wave: QColor
    word_fill: QColor
    word_border: QColor
    word_text: QColor
    caption_fill: QColor
    caption_border: QColor
    selected_fill: QColor
    selected_text: QColor
    cut_fill: QColor
    cut_text: QColor
    cut_shade: QColor
    cut_hatch: QColor
    range_fill: QColor
    playhead: QColor

    @classmethod
    def from_palette(cls, pal: QPalette) -> Colors:
        R = QPalette.ColorRole
        base, text, hl = pal.color(R.Base), pal.color(R.Text), pal.color(R.Highlight)
        dark = base.lightness() < 128
        hue = hl.hslHue() if hl.hslHue() >= 0 else 210
        accent = QColor.fromHsl((hue + 150) % 360, 150, 110 if dark else 150)  # captions: a hue apart from words
        return cls(
            base=base,
            alt_base=pal.color(R.AlternateBase),
            ruler_bg=pal.color(R.Window),
            ruler_text=pal.color(R.WindowText),
            tick=_mix(pal.color(R.WindowText), pal.color(R.Window), 0.45),
            separator=_mix(text, base, 0.82),
            wave=_mix(hl, text, 0.25 if dark else 0.15),
            word_fill=_mix(hl, base, 0.72),
            word_border=_mix(hl, base, 0.35),
            word_text=text,
            caption_fill=_mix(accent, base, 0.6),
            caption_border=accent,
            selected_fill=hl,
            selected_text=pal.color(R.HighlightedText),
            cut_fill=_mix(text, base, 0.9),
            cut_text=_mix(text, base, 0.55),
            cut_shade=_alpha(text, 34),
            cut_hatch=_alpha(text, 60),
            range_fill=_alpha(hl, 70),
            playhead=QColor(255, 95, 85) if dark else QColor(214, 40, 40),
        )


@dataclass(frozen=True)
class Preview:
    """A block being retimed by an edge drag: drawn at its new times until release."""

    captions: bool  # which track
    k: int
    start: float
    end: float


@dataclass(frozen=True)
class Frame:
    """Everything one paint needs; built by the widget for each paint event."""

    scale: Scale
    lanes: list[Lane]
    words: BlockTrack
    captions: BlockTrack
    cuts: np.ndarray  # (n, 2) sorted
    peaks: np.ndarray | None
    per_second: float
    wave_gain: float  # quiet recordings are scaled up so their shape shows
    duration: float
    playhead: float
    selected_word: int | None  # row in words
    selected_caption: int | None  # row in captions
    preview: Preview | None
    selection: tuple[float, float] | None
    colors: Colors
    font: QFont


def paint(p: QPainter, f: Frame, rect: QRect) -> None:
    t0, t1 = f.scale.t_of(rect.left() - 1), f.scale.t_of(rect.right() + 2)
    for lane in f.lanes:
        if lane.bottom <= rect.top() or lane.top > rect.bottom():
            continue
        if lane.kind is LaneKind.RULER:
            _paint_ruler(p, f, lane, rect)
        elif lane.kind is LaneKind.WAVE:
            p.fillRect(QRect(rect.left(), lane.top, rect.width(), lane.height), f.colors.base)
            _paint_wave(p, f, lane, rect)
        else:
            bg = f.colors.alt_base if lane.kind is LaneKind.CAPTIONS or lane.index % 2 else f.colors.base
            p.fillRect(QRect(rect.left(), lane.top, rect.width(), lane.height), bg)
            captions = lane.kind is LaneKind.CAPTIONS
            _paint_blocks(p, f, lane, rect, f.captions if captions else f.words, captions, t0, t1)
        p.fillRect(QRect(rect.left(), lane.bottom - 1, rect.width(), 1), f.colors.separator)
    _paint_overlays(p, f, rect, t0, t1)


def _paint_ruler(p: QPainter, f: Frame, lane: Lane, rect: QRect) -> None:
    c = f.colors
    p.fillRect(QRect(rect.left(), lane.top, rect.width(), lane.height), c.ruler_bg)
    major, minor = tick_spacing(f.scale.pps)
    # Labels reach right of their tick: start early enough to redraw one cut by the exposed edge.
    ts, is_major = ticks(f.scale.t_of(rect.left() - 70), f.scale.t_of(rect.right() + 1), major, minor)
    if minor * f.scale.pps < 5:
        ts, is_major = ts[is_major], is_major[is_major]
    xs = np.floor(ts * f.scale.pps - f.scale.offset).astype(np.int64)
    bottom = lane.bottom - 1
    p.setPen(QPen(c.tick, 1))
    for x, big in zip(xs.tolist(), is_major.tolist()):
        p.drawLine(x, bottom - (9 if big else 4), x, bottom)
    p.setPen(c.ruler_text)
    p.setFont(f.font)
    fm = QFontMetrics(f.font)
    for x, t in zip(xs[is_major].tolist(), ts[is_major].tolist()):
        p.drawText(x + 3, lane.top + fm.ascent() + 2, format_tick(t, major))


def _paint_wave(p: QPainter, f: Frame, lane: Lane, rect: QRect) -> None:
    mid = lane.top + lane.height // 2
    p.fillRect(QRect(rect.left(), mid, rect.width(), 1), f.colors.separator)
    if f.peaks is None or not len(f.peaks):
        return
    x0, n, h = rect.left(), rect.width(), lane.height - 1
    lo, hi, valid = waveform_columns(f.peaks, f.per_second, f.scale, x0, n)
    if not valid.any():
        return
    if f.duration > 0:  # nothing past the media's end, whatever the peaks hold
        valid &= f.scale.t_of(x0) + np.arange(n) / f.scale.pps < f.duration
    half, amp = (h - 1) / 2, (h / 2 - 2) * f.wave_gain
    top = np.floor(half - np.minimum(hi * amp, half))
    bot = np.maximum(np.ceil(half - np.maximum(lo * amp, -half)), top)
    ys = np.arange(h, dtype=np.float64)[:, None]
    mask = (ys >= top) & (ys <= bot) & valid
    # Opaque colour, so premultiplied ARGB is the plain value.
    argb = np.uint32(f.colors.wave.rgba() | 0xFF000000)
    pixels = np.where(mask, argb, np.uint32(0)).astype(np.uint32)
    image = QImage(pixels.data, n, h, n * 4, QImage.Format.Format_ARGB32_Premultiplied)
    p.drawImage(x0, lane.top, image)


def _rows_in_lane(track: BlockTrack, lane: Lane, t0: float, t1: float) -> np.ndarray:
    i0, i1 = track.visible(t0, t1)
    rows = np.arange(i0, i1)
    return rows[track.lanes[i0:i1] == lane.index] if len(rows) else rows


def _paint_blocks(
    p: QPainter, f: Frame, lane: Lane, rect: QRect, track: BlockTrack, captions: bool, t0: float, t1: float
) -> None:
    rows = _rows_in_lane(track, lane, t0, t1)
    preview = f.preview if f.preview is not None and f.preview.captions == captions else None
    if preview is not None and lane.index == track.lanes[preview.k]:
        rows = rows[rows != preview.k]  # drawn last, at its new times
    top, height = lane.top + 3, lane.height - 7
    if track.typical_len * f.scale.pps < _LOD_PX:
        _paint_spans(p, f, track, rows, top, height, captions)
    else:
        selected = f.selected_caption if captions else f.selected_word
        p.setFont(f.font)
        fm = QFontMetrics(f.font)
        for k in rows.tolist():
            _paint_block(
                p, f, fm, track, k, float(track.starts[k]), float(track.ends[k]), top, height, captions, k == selected
            )
    if preview is not None and lane.index == track.lanes[preview.k]:
        selected = f.selected_caption if captions else f.selected_word
        _paint_block(
            p,
            f,
            QFontMetrics(f.font),
            track,
            preview.k,
            preview.start,
            preview.end,
            top,
            height,
            captions,
            preview.k == selected,
        )


def _paint_spans(
    p: QPainter, f: Frame, track: BlockTrack, rows: np.ndarray, top: int, height: int, captions: bool
) -> None:
    """Zoomed far out: merged spans per cut state, no labels; a few hundred rectangles at most."""
    s = f.scale
    x0 = np.floor(track.starts[rows] * s.pps - s.offset).astype(np.int64)
    x1 = np.maximum(np.ceil(track.ends[rows] * s.pps - s.offset).astype(np.int64), x0 + 1)
    c = f.colors
    for is_cut, fill in ((False, c.caption_fill if captions else c.word_border), (True, c.cut_text)):
        mask = track.cut[rows] == is_cut
        a, b = merge_spans(x0[mask], x1[mask])
        for xa, xb in zip(a.tolist(), b.tolist()):
            p.fillRect(xa, top, max(1, xb - xa), height, fill)


def _paint_block(
    p: QPainter,
    f: Frame,
    fm: QFontMetrics,
    track: BlockTrack,
    k: int,
    start: float,
    end: float,
    top: int,
    height: int,
    captions: bool,
    selected: bool,
) -> None:
    c = f.colors
    x0 = math.floor(f.scale.x_of(start))
    w = max(2, math.ceil(f.scale.x_of(end)) - x0 - 1)  # 1 px gap keeps touching blocks apart
    cut = bool(track.cut[k])
    if selected:
        fill, border, fg = c.selected_fill, c.selected_fill, c.selected_text
    elif cut:
        fill, border, fg = c.cut_fill, c.cut_text, c.cut_text
    elif captions:
        fill, border, fg = c.caption_fill, c.caption_border, c.word_text
    else:
        fill, border, fg = c.word_fill, c.word_border, c.word_text
    box = QRectF(x0 + 0.5, top + 0.5, w, height)
    # rough word times (not force-aligned): a dashed outline, like the dashed underline in the text
    p.setPen(QPen(border, 1, Qt.PenStyle.DashLine if track.rough[k] and not selected else Qt.PenStyle.SolidLine))
    p.setBrush(fill)
    p.drawRoundedRect(box, 3, 3)
    if w < _MIN_TEXT_PX:
        return
    text = track.texts[k]
    room = w - 6
    if fm.horizontalAdvance(text) > room:
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, room)
        if len(text) < 3:  # "t…" says nothing: leave the block bare
            return
    p.setPen(fg)
    y = top + (height + fm.ascent() - fm.descent()) // 2 + 1
    p.drawText(x0 + 4, y, text)
    if cut:  # struck through, like deleted text
        mid = top + height // 2 + 1
        p.drawLine(x0 + 3, mid, x0 + 4 + min(room, fm.horizontalAdvance(text)), mid)


def _argb(c: QColor) -> int:
    return (c.alpha() << 24) | (c.red() << 16) | (c.green() << 8) | c.blue()


def _paint_cuts(p: QPainter, f: Frame, cuts: np.ndarray, rect: QRect, bottom: int, hatch_top: int) -> None:
    """Shade as one image row stretched over the lanes (a hundred narrow cuts zoomed out cost one
    draw call), then hatch the cuts wide enough for a hatch to show."""
    x0, n = rect.left(), rect.width()
    covered = coverage(cuts[:, 0], cuts[:, 1], f.scale, x0, n)
    row = np.where(covered, np.uint32(_argb(f.colors.cut_shade)), np.uint32(0)).astype(np.uint32)
    shade = QImage(row.data, n, 1, n * 4, QImage.Format.Format_ARGB32)
    p.drawImage(QRect(x0, 0, n, bottom), shade)
    s = f.scale
    xa, xb = merge_spans(
        np.floor(cuts[:, 0] * s.pps - s.offset).astype(np.int64),
        np.ceil(cuts[:, 1] * s.pps - s.offset).astype(np.int64),
        gap=1,
    )
    wide = xb - xa >= _MIN_HATCH_PX
    if wide.any():
        hatch = QBrush(f.colors.cut_hatch, Qt.BrushStyle.BDiagPattern)
        for a, b in zip(xa[wide].tolist(), xb[wide].tolist()):
            p.fillRect(QRect(a, hatch_top, b - a, bottom - hatch_top), hatch)


def _paint_overlays(p: QPainter, f: Frame, rect: QRect, t0: float, t1: float) -> None:
    c, s = f.colors, f.scale
    bottom = f.lanes[-1].bottom if f.lanes else rect.bottom()
    top = f.lanes[1].top if len(f.lanes) > 1 else 0
    if len(f.cuts):
        i0 = int(np.searchsorted(f.cuts[:, 1], t0, side="right"))
        i1 = int(np.searchsorted(f.cuts[:, 0], t1, side="left"))
        near = f.cuts[i0:i1]
        if len(near):
            _paint_cuts(p, f, near, rect, bottom, top)
    if f.selection is not None:
        a, b = f.selection
        xa, xb = math.floor(s.x_of(a)), math.ceil(s.x_of(b))
        p.fillRect(QRect(xa, 0, max(1, xb - xa), bottom), c.range_fill)
    x = math.floor(s.x_of(f.playhead))
    if rect.left() - PLAYHEAD_HALF_W <= x <= rect.right() + PLAYHEAD_HALF_W:
        p.fillRect(QRect(x - 1, 0, 2, bottom), c.playhead)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c.playhead)
        p.drawPolygon(
            QPolygonF(
                [
                    QPointF(x - PLAYHEAD_HALF_W + 1, 0),
                    QPointF(x + PLAYHEAD_HALF_W - 1, 0),
                    QPointF(x, PLAYHEAD_HALF_W + 2),
                ]
            )
        )
