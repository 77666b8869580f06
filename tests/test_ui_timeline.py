"""The timeline widget with real Qt events: seeking, selecting, retiming, zooming, painting."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections import Counter
from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPaintEvent, QPalette, QRegion, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from pipeline.render.waveform import compute_peaks
from tests.conftest import JFK_WAV
from ui.timeline.timeline_data import cut_array, word_track
from ui.timeline.timeline_edit import MIN_CAPTION_S, MIN_WORD_S
from ui.timeline.timeline_layout import (
    EDGE_GRAB_PX,
    LaneKind,
    Scale,
    coverage,
    format_tick,
    merge_spans,
    tick_spacing,
    ticks,
    waveform_columns,
)
from ui.timeline.timeline_paint import PLAYHEAD_HALF_W, Colors
from ui.timeline.timeline_widget import MAX_PPS, TimelineCaption, TimelineWidget, TimelineWord

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier
PITCH, LENGTH = 0.4, 0.3  # a word every 0.4 s, 0.3 s long: 0.1 s gaps


def make_words(
    n: int, speakers: tuple[str | None, ...] = (None,), cut: frozenset[int] = frozenset(), turn: int = 5
) -> list[TimelineWord]:
    vocab = ["welcome", "back", "to", "the", "show", "today", "we", "talk", "about", "offline", "speech"]
    return [
        TimelineWord(
            i,
            0.5 + i * PITCH,
            0.5 + i * PITCH + LENGTH,
            vocab[i % len(vocab)],
            i in cut,
            speakers[(i // turn) % len(speakers)],
        )
        for i in range(n)
    ]


def make_captions(words: list[TimelineWord], per: int = 5) -> list[TimelineCaption]:
    return [
        TimelineCaption(
            j,
            words[i].start,
            words[min(i + per, len(words)) - 1].end,
            " ".join(w.text for w in words[i : i + per]),
            words[i].speaker,
        )
        for j, i in enumerate(range(0, len(words), per))
    ]


@pytest.fixture
def tl(qtbot):
    w = TimelineWidget()
    qtbot.addWidget(w)
    w.resize(900, 240)
    w.show()
    qtbot.waitExposed(w)
    return w


def fill(w: TimelineWidget, n: int = 40, **kw: Any) -> list[TimelineWord]:
    words = make_words(n, **kw)
    w.set_content(words, make_captions(words), 0.5 + n * PITCH + 1.0, [])
    return words


def lane(w: TimelineWidget, kind: LaneKind, index: int = 0):
    return next(ln for ln in w.lanes() if ln.kind is kind and ln.index == index)


def mid_y(w: TimelineWidget, kind: LaneKind, index: int = 0) -> int:
    ln = lane(w, kind, index)
    return ln.top + ln.height // 2


def at(w: TimelineWidget, t: float, kind: LaneKind, index: int = 0) -> QPoint:
    return QPoint(round(w.x_at(t)), mid_y(w, kind, index))


def drag(
    w: TimelineWidget, a: QPoint, b: QPoint, modifier: Qt.KeyboardModifier = NOMOD, steps: int = 4, release: bool = True
) -> None:
    vp = w.viewport()
    QTest.mousePress(vp, LEFT, modifier, a)
    for i in range(1, steps + 1):
        QTest.mouseMove(vp, a + (b - a) * (i / steps))
    if release:
        QTest.mouseRelease(vp, LEFT, modifier, b)


def image(w: TimelineWidget) -> QImage:
    return w.viewport().grab().toImage()


def block_colour(img: QImage, x0: float, x1: float, top: int, bottom: int) -> QColor:
    """The most common colour inside a block (its fill; text and border are the minority)."""
    counts = Counter(img.pixel(x, y) for x in range(round(x0) + 3, round(x1) - 3) for y in range(top + 5, bottom - 5))
    return QColor.fromRgb(counts.most_common(1)[0][0])


class PaintRecorder(QObject):
    """Records the region of every paint event the viewport gets: real evidence of what repaints."""

    def __init__(self) -> None:
        super().__init__()
        self.regions: list[QRegion] = []

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            assert isinstance(event, QPaintEvent)
            self.regions.append(QRegion(event.region()))
        return False


# --- content and lanes ------------------------------------------------------------------------
def test_lanes_without_speakers_are_one_word_lane(tl: TimelineWidget) -> None:
    fill(tl)
    assert tl.word_lane_names() == ["Words"]
    kinds = [ln.kind for ln in tl.lanes()]
    assert kinds == [LaneKind.RULER, LaneKind.WAVE, LaneKind.CAPTIONS, LaneKind.WORDS]
    assert tl.accessibleName() == "Timeline"


def test_speaker_lanes_appear_only_when_speakers_exist(tl: TimelineWidget) -> None:
    words = fill(tl, speakers=("Alice", "Bob"))
    assert tl.word_lane_names() == ["Alice", "Bob"]
    assert [ln.index for ln in tl.lanes() if ln.kind is LaneKind.WORDS] == [0, 1]
    # Bob's first word (id 5) is drawn in Bob's lane, and Alice's lane is empty at that time.
    bob = words[5]
    img = image(tl)
    fill_colour = Colors.from_palette(tl.palette()).word_fill
    for index, expect in ((1, True), (0, False)):
        ln = lane(tl, LaneKind.WORDS, index)
        got = block_colour(img, tl.x_at(bob.start), tl.x_at(bob.end), ln.top, ln.bottom)
        assert (got == fill_colour) is expect
    fill(tl, speakers=("Alice", None))
    assert tl.word_lane_names() == ["Alice", "No speaker"]
    fill(tl)
    assert tl.word_lane_names() == ["Words"]


def test_ten_thousand_words_show_and_hit_test(tl: TimelineWidget, qtbot) -> None:
    words = fill(tl, 10_000, speakers=("S1", "S2"), turn=40)
    assert len(words) == 10_000
    tl.ensure_visible(2000.0)
    t0, t1 = tl.view_range()
    assert t0 <= 2000.0 <= t1
    target = next(w for w in words if w.start > 2000.0)
    ln_index = 0 if (target.id // 40) % 2 == 0 else 1
    clicked: list[int] = []
    tl.word_clicked.connect(clicked.append)
    qtbot.mouseClick(tl.viewport(), LEFT, NOMOD, at(tl, (target.start + target.end) / 2, LaneKind.WORDS, ln_index))
    assert clicked == [target.id] and tl.selected_word() == target.id
    img = image(tl)
    assert not img.isNull() and img.width() == tl.viewport().width()
    tl.set_zoom(0)  # all of it: merged spans, still blocks in the word lanes
    img = image(tl)
    ln = lane(tl, LaneKind.WORDS, 0)
    base = tl.palette().color(QPalette.ColorRole.Base)
    row = [QColor(img.pixel(x, ln.top + ln.height // 2)) for x in range(img.width() - 60)]
    assert sum(c != base for c in row) > len(row) // 3


def test_set_content_again_keeps_zoom_scroll_and_selection(tl: TimelineWidget, qtbot) -> None:
    words = fill(tl, 10_000)
    tl.set_zoom(55.0)
    tl.horizontalScrollBar().setValue(70_000)
    tl.ensure_visible(words[3200].start)
    qtbot.mouseClick(tl.viewport(), LEFT, NOMOD, at(tl, words[3200].start + 0.15, LaneKind.WORDS))
    assert tl.selected_word() == 3200
    zoom, scroll = tl.zoom(), tl.horizontalScrollBar().value()
    edited = [TimelineWord(w.id, w.start, w.end, w.text, w.id in (10, 11), w.speaker) for w in words]
    tl.set_content(edited, make_captions(edited), 0.5 + 10_000 * PITCH + 1.0, [(4.5, 5.3)])
    assert tl.zoom() == zoom and tl.horizontalScrollBar().value() == scroll
    assert tl.selected_word() == 3200
    tl.set_content(edited[:100], make_captions(edited[:100]), 50.0, [])  # the selected word is gone
    assert tl.selected_word() is None


# --- seeking and selecting ----------------------------------------------------------------------
def test_clicks_on_ruler_and_waveform_seek(tl: TimelineWidget, qtbot) -> None:
    fill(tl)
    seeks: list[float] = []
    tl.seek_requested.connect(seeks.append)
    for kind, x in ((LaneKind.RULER, 250), (LaneKind.WAVE, 430)):
        qtbot.mouseClick(tl.viewport(), LEFT, NOMOD, QPoint(x, mid_y(tl, kind)))
        assert seeks[-1] == pytest.approx(tl.time_at(x), abs=1 / tl.zoom())
        assert tl.playhead() == seeks[-1]
    assert len(seeks) == 2


def test_click_on_a_word_selects_it_and_seeks_to_its_start(tl: TimelineWidget, qtbot) -> None:
    words = fill(tl)
    seeks: list[float] = []
    clicked: list[int] = []
    tl.seek_requested.connect(seeks.append)
    tl.word_clicked.connect(clicked.append)
    w = words[7]
    qtbot.mouseClick(tl.viewport(), LEFT, NOMOD, at(tl, (w.start + w.end) / 2, LaneKind.WORDS))
    assert clicked == [7] and tl.selected_word() == 7 and seeks == [w.start]
    caption = make_captions(words)[2]
    qtbot.mouseClick(tl.viewport(), LEFT, NOMOD, at(tl, (caption.start + caption.end) / 2, LaneKind.CAPTIONS))
    assert seeks[-1] == caption.start and tl.selected_caption() == 2
    # The selected word is drawn in the highlight colour.
    ln = lane(tl, LaneKind.WORDS)
    assert block_colour(image(tl), tl.x_at(w.start), tl.x_at(w.end), ln.top, ln.bottom) == tl.palette().color(
        QPalette.ColorRole.Highlight
    )


def test_tooltip_names_the_word_and_its_times(tl: TimelineWidget) -> None:
    words = fill(tl)
    w = words[3]
    pos = at(tl, (w.start + w.end) / 2, LaneKind.WORDS)
    QApplication.sendEvent(tl.viewport(), QHelpEvent(QEvent.Type.ToolTip, pos, tl.viewport().mapToGlobal(pos)))
    assert QToolTip.isVisible()
    assert QToolTip.text() == f"{w.text}\n0:01.70 – 0:02.00"


# --- retiming -----------------------------------------------------------------------------------
def test_hovering_an_edge_shows_the_resize_cursor(tl: TimelineWidget) -> None:
    words = fill(tl)
    QTest.mouseMove(tl.viewport(), at(tl, words[4].end, LaneKind.WORDS) - QPoint(1, 0))
    assert tl.viewport().cursor().shape() == Qt.CursorShape.SizeHorCursor
    QTest.mouseMove(tl.viewport(), at(tl, (words[4].start + words[4].end) / 2, LaneKind.WORDS))
    assert tl.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor


def test_word_edge_drag_previews_live_and_emits_clamped_on_release(tl: TimelineWidget) -> None:
    words = fill(tl)
    got: list[tuple[int, float, float]] = []
    tl.word_retimed.connect(lambda *a: got.append(a))
    w, nxt = words[4], words[5]
    ln = lane(tl, LaneKind.WORDS)
    # Right edge dragged half a word into the next one: stops at the next word's start.
    target = nxt.start + 0.15
    drag(tl, at(tl, w.end, LaneKind.WORDS) - QPoint(1, 0), at(tl, target, LaneKind.WORDS), release=False)
    assert got == []  # nothing until release
    img = image(tl)  # live preview: the gap after the word is now filled by it
    gap_x = round(tl.x_at((w.end + nxt.start) / 2))
    assert QColor(img.pixel(gap_x, ln.top + ln.height // 2)) == Colors.from_palette(tl.palette()).word_fill
    QTest.mouseRelease(tl.viewport(), LEFT, NOMOD, at(tl, target, LaneKind.WORDS))
    assert got == [(4, w.start, nxt.start)]
    # Left edge of the first word dragged far left: not below zero.
    got.clear()
    first = words[0]
    drag(tl, at(tl, first.start, LaneKind.WORDS) + QPoint(1, 0), QPoint(-80, mid_y(tl, LaneKind.WORDS)))
    assert got == [(0, 0.0, first.end)]
    # Left edge dragged past the word's own end: stops at the minimum length.
    got.clear()
    w = words[9]
    drag(tl, at(tl, w.start, LaneKind.WORDS) + QPoint(1, 0), at(tl, w.end + 1.0, LaneKind.WORDS))
    assert got == [(9, pytest.approx(w.end - MIN_WORD_S), w.end)]


def test_small_drag_moves_the_edge_by_the_pointer_distance(tl: TimelineWidget) -> None:
    words = fill(tl)
    got: list[tuple[int, float, float]] = []
    tl.word_retimed.connect(lambda *a: got.append(a))
    w = words[6]
    a = at(tl, w.start, LaneKind.WORDS) + QPoint(2, 0)  # grabbed 2 px inside: the edge must not jump
    drag(tl, a, a - QPoint(5, 0))
    assert got == [(6, pytest.approx(w.start - 5 / tl.zoom(), abs=1e-9), w.end)]


def test_caption_edge_drag_is_clamped_by_its_neighbours(tl: TimelineWidget) -> None:
    words = fill(tl)
    caps = make_captions(words)
    got: list[tuple[int, float, float]] = []
    tl.caption_retimed.connect(lambda *a: got.append(a))
    c, prev = caps[3], caps[2]
    drag(tl, at(tl, c.start, LaneKind.CAPTIONS) + QPoint(1, 0), at(tl, prev.start + 0.2, LaneKind.CAPTIONS))
    assert got == [(3, prev.end, c.end)]
    got.clear()
    drag(tl, at(tl, c.end, LaneKind.CAPTIONS) - QPoint(1, 0), at(tl, c.start - 1, LaneKind.CAPTIONS))
    assert got == [(3, c.start, pytest.approx(c.start + MIN_CAPTION_S))]


def test_plain_click_on_an_edge_emits_nothing(tl: TimelineWidget, qtbot) -> None:
    words = fill(tl)
    got: list[object] = []
    tl.word_retimed.connect(lambda *a: got.append(a))
    qtbot.mouseClick(tl.viewport(), LEFT, NOMOD, at(tl, words[3].end, LaneKind.WORDS) - QPoint(1, 0))
    assert got == []


# --- range selection ----------------------------------------------------------------------------
def test_shift_drag_on_empty_area_selects_a_range(tl: TimelineWidget) -> None:
    fill(tl)
    ranges: list[tuple[float, float]] = []
    tl.range_selected.connect(lambda a, b: ranges.append((a, b)))
    y = mid_y(tl, LaneKind.WAVE)
    drag(tl, QPoint(500, y), QPoint(300, y), SHIFT)
    assert len(ranges) == 1
    a, b = ranges[0]
    assert a == pytest.approx(tl.time_at(300), abs=1e-9) and b == pytest.approx(tl.time_at(500), abs=1e-9)
    # Shaded across the lanes until the next click.
    base = tl.palette().color(QPalette.ColorRole.Base)
    assert QColor(image(tl).pixel(400, y - 20)) != base
    QTest.mouseClick(tl.viewport(), LEFT, NOMOD, QPoint(600, y))
    assert QColor(image(tl).pixel(400, y - 20)) == base
    # In the gap between two words of the word lane too; a shift+click alone selects nothing.
    drag(tl, at(tl, 0.5 + 2 * PITCH + 0.35, LaneKind.WORDS), at(tl, 6.0, LaneKind.WORDS), SHIFT)
    assert len(ranges) == 2 and ranges[1][0] == pytest.approx(0.5 + 2 * PITCH + 0.35, abs=1 / tl.zoom())
    QTest.mouseClick(tl.viewport(), LEFT, SHIFT, QPoint(200, y))
    assert len(ranges) == 2


# --- zoom and scroll ----------------------------------------------------------------------------
def wheel(w: TimelineWidget, x: int, delta_y: int, modifiers: Qt.KeyboardModifier) -> None:
    pos = QPointF(x, mid_y(w, LaneKind.WAVE))
    ev = QWheelEvent(
        pos,
        w.viewport().mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, delta_y),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(w.viewport(), ev)


def test_ctrl_wheel_zooms_around_the_mouse(tl: TimelineWidget) -> None:
    fill(tl, 2000)
    tl.horizontalScrollBar().setValue(20_000)
    for x, delta in ((300, 120), (650, 240), (120, -360)):
        before, zoom = tl.time_at(x), tl.zoom()
        wheel(tl, x, delta, CTRL)
        assert tl.zoom() == pytest.approx(zoom * 1.25 ** (delta / 120))
        assert tl.time_at(x) == pytest.approx(before, abs=1 / tl.zoom())


def test_wheel_scrolls_horizontally_and_keys_zoom(tl: TimelineWidget) -> None:
    fill(tl, 2000)
    tl.horizontalScrollBar().setValue(5000)
    wheel(tl, 300, -120, NOMOD)
    assert tl.horizontalScrollBar().value() == 5120
    wheel(tl, 300, 120, SHIFT)
    assert tl.horizontalScrollBar().value() == 5000
    zoom = tl.zoom()
    tl.setFocus()
    QTest.keyClick(tl, Qt.Key.Key_Plus)
    assert tl.zoom() == pytest.approx(zoom * 1.5)
    QTest.keyClick(tl, Qt.Key.Key_Minus)
    QTest.keyClick(tl, Qt.Key.Key_Minus)
    assert tl.zoom() == pytest.approx(zoom / 1.5)


def test_zoom_is_clamped(tl: TimelineWidget) -> None:
    fill(tl, 2000)  # 801.5 s
    tl.set_zoom(1e9)
    assert tl.zoom() == MAX_PPS
    tl.set_zoom(0)
    assert 0 < tl.zoom() <= tl.viewport().width() / 801.5
    t0, t1 = tl.view_range()
    assert t0 <= 0.0 and t1 >= 801.5


# --- playhead -----------------------------------------------------------------------------------
def test_set_playhead_repaints_only_two_narrow_strips(tl: TimelineWidget, qtbot) -> None:
    fill(tl, 400)
    tl.set_peaks(compute_peaks(JFK_WAV), 100)
    tl.set_playhead(1.0)
    rec = PaintRecorder()
    tl.viewport().installEventFilter(rec)
    QApplication.processEvents()
    rec.regions.clear()
    tl.set_playhead(5.0)
    qtbot.waitUntil(lambda: bool(rec.regions))
    QApplication.processEvents()
    # A QRegion iterates over its rectangles; PySide6's stubs do not say so.
    rects = [r for region in rec.regions for r in cast(Iterable[QRect], region)]
    assert rects
    assert all(r.width() <= 2 * PLAYHEAD_HALF_W + 1 for r in rects)
    xs = {round(tl.x_at(1.0)), round(tl.x_at(5.0))}
    assert all(any(r.left() <= x <= r.right() for r in rects) for x in xs)
    area = sum(r.width() * r.height() for r in rects)
    assert area <= 2 * (2 * PLAYHEAD_HALF_W + 1) * tl.viewport().height()
    # A move within the same pixel repaints nothing.
    rec.regions.clear()
    tl.set_playhead(5.0 + 0.1 / tl.zoom())
    QApplication.processEvents()
    assert rec.regions == []
    tl.viewport().removeEventFilter(rec)


def test_follow_playhead_pages_the_view(tl: TimelineWidget) -> None:
    fill(tl, 2000)
    t0, t1 = tl.view_range()
    tl.set_playhead(t1 + 3.0)
    assert tl.view_range() == (t0, t1)  # not following: the view stays
    tl.set_follow_playhead(True)
    tl.set_playhead(t1 + 3.0)
    a, b = tl.view_range()
    assert a < t1 + 3.0 < b and a > t0


# --- painting -----------------------------------------------------------------------------------
def test_cut_words_and_regions_are_drawn_differently(tl: TimelineWidget) -> None:
    words = make_words(40, cut=frozenset({6, 7}))
    cuts = [(words[6].start - 0.05, words[7].end + 0.05)]
    tl.set_content(words, make_captions(words), 20.0, cuts)
    colours = Colors.from_palette(tl.palette())
    img = image(tl)
    ln = lane(tl, LaneKind.WORDS)
    kept = block_colour(img, tl.x_at(words[3].start), tl.x_at(words[3].end), ln.top, ln.bottom)
    cut = block_colour(img, tl.x_at(words[6].start), tl.x_at(words[6].end), ln.top, ln.bottom)
    assert kept == colours.word_fill
    assert cut != kept and cut.hslSaturation() < kept.hslSaturation()  # greyed
    # The cut region is shaded across the lanes: the empty waveform lane too.
    wave = lane(tl, LaneKind.WAVE)
    y = wave.top + 8
    assert QColor(img.pixel(round(tl.x_at(words[3].start)), y)) == colours.base
    assert QColor(img.pixel(round(tl.x_at(words[6].start)) + 2, y)) != colours.base


def test_waveform_is_drawn_from_peaks(tl: TimelineWidget) -> None:
    fill(tl, 20)
    tl.set_peaks(compute_peaks(JFK_WAV), 100)
    img = image(tl)
    wave = lane(tl, LaneKind.WAVE)
    colours = Colors.from_palette(tl.palette())
    y = wave.top + wave.height // 4  # half way up: reached by speech, not by the pause

    def column_has_wave(t: float) -> bool:
        x = round(tl.x_at(t))
        return any(QColor(img.pixel(x + dx, y)) == colours.wave for dx in range(-2, 3))

    assert sum(column_has_wave(t) for t in np.arange(0.3, 1.9, 0.05)) > 10
    assert not any(column_has_wave(t) for t in np.arange(2.3, 3.2, 0.05))


def test_dark_palette_is_followed(tl: TimelineWidget) -> None:
    fill(tl)
    pal = QPalette(tl.palette())
    for role, colour in (
        (QPalette.ColorRole.Base, QColor(30, 30, 30)),
        (QPalette.ColorRole.AlternateBase, QColor(40, 40, 40)),
        (QPalette.ColorRole.Window, QColor(45, 45, 45)),
        (QPalette.ColorRole.Text, QColor(230, 230, 230)),
        (QPalette.ColorRole.WindowText, QColor(230, 230, 230)),
    ):
        pal.setColor(role, colour)
    tl.setPalette(pal)
    img = image(tl)
    wave = lane(tl, LaneKind.WAVE)
    assert QColor(img.pixel(50, wave.top + 6)).lightness() < 60
    ruler = lane(tl, LaneKind.RULER)
    assert QColor(img.pixel(tl.viewport().width() - 3, ruler.top + 2)).lightness() < 80


def test_set_peaks_rejects_wrong_shapes(tl: TimelineWidget) -> None:
    with pytest.raises(ValueError, match="shape"):
        tl.set_peaks(np.zeros((10, 3), dtype=np.float32), 100)
    with pytest.raises(ValueError, match="positive"):
        tl.set_peaks(np.zeros((10, 2), dtype=np.float32), 0)
    with pytest.raises(ValueError, match="finite"):
        tl.set_peaks(np.full((10, 2), np.nan, dtype=np.float32), 100)


def test_hit_edges_respect_grab_distance(tl: TimelineWidget) -> None:
    words = fill(tl)
    tl.set_zoom(300)  # 0.1 s gaps are 30 px wide
    far = at(tl, words[2].end, LaneKind.WORDS) + QPoint(EDGE_GRAB_PX + 3, 0)  # in the gap, too far
    QTest.mouseMove(tl.viewport(), far)
    assert tl.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor


# --- pure geometry --------------------------------------------------------------------------------
@pytest.mark.parametrize("pps", [0.05, 0.3, 1, 3, 10, 33, 100, 400, 1000])
def test_ruler_ticks_adapt_to_the_zoom(pps: float) -> None:
    major, minor = tick_spacing(pps)
    assert major * pps >= 70 or major == 14400
    assert (major / minor) == round(major / minor)
    ts, is_major = ticks(10.0, 10.0 + 1200 / pps, major, minor)
    assert len(ts) and np.allclose(np.diff(ts), minor)
    assert np.allclose(np.remainder(ts[is_major] / major + 1e-9, 1), 0, atol=1e-6)


def test_tick_labels() -> None:
    assert format_tick(65, 10) == "1:05"
    assert format_tick(3725, 300) == "1:02:05"
    assert format_tick(1.3, 0.5) == "0:01.3"
    assert format_tick(61.25, 0.05) == "1:01.25"


@pytest.mark.parametrize("pps", [0.37, 7.0, 100.0, 333.0])
def test_waveform_columns_match_a_brute_force_reduction(pps: float) -> None:
    rng = np.random.default_rng(1)
    hi = rng.random(5000).astype(np.float32)
    peaks = np.column_stack((-hi, hi))
    scale = Scale(pps, 37.0)
    lo_, hi_, valid = waveform_columns(peaks, 100, scale, 5, 300)
    for c in range(300):
        a = int(np.floor((5 + c + 37.0) / pps * 100))
        b = max(a + 1, int(np.floor((6 + c + 37.0) / pps * 100)))
        if a >= len(peaks):
            assert not valid[c]
            continue
        assert valid[c] and hi_[c] == hi[a:b].max() and lo_[c] == -hi[a:b].max()


def test_merge_spans_and_coverage() -> None:
    a, b = merge_spans(np.array([0, 1, 5, 20, 21]), np.array([2, 3, 8, 21, 30]))
    assert (a.tolist(), b.tolist()) == ([0, 5, 20], [3, 8, 30])
    cov = coverage(np.array([0.1, 0.5]), np.array([0.2, 0.52]), Scale(100, 0), 0, 60)
    assert np.flatnonzero(cov).tolist() == [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 50, 51]


def test_tracks_find_overlapping_blocks_and_bound_edges() -> None:
    words = [
        TimelineWord(0, 0.0, 9.0, "long", False, None),
        TimelineWord(1, 1.0, 1.5, "a", False, None),
        TimelineWord(2, 2.0, 2.5, "b", False, None),
        TimelineWord(3, 2.4, 3.0, "c", False, None),
    ]
    track, names = word_track(list(reversed(words)))  # sorted on the way in
    assert names == ["Words"] and track.keys.tolist() == [0, 1, 2, 3]
    i0, i1 = track.visible(5.0, 6.0)  # only the long word reaches here: found despite its early start
    assert (i0, i1) == (0, 4) and track.index_of(2) == 2 and track.index_of(99) is None
    assert track.edge_bounds(2, True, 0.05, 10.0) == pytest.approx((2.05, 2.5))  # overlaps "c": may not grow
    assert track.edge_bounds(3, False, 0.05, 10.0) == pytest.approx((2.4, 2.95))
    assert track.edge_bounds(3, True, 0.05, 10.0) == pytest.approx((2.45, 10.0))
    assert cut_array([(5, 6), (1, 3), (2, 4), (7, 7)]).tolist() == [[1, 4], [5, 6]]


def test_rough_words_have_a_dashed_outline(tl: TimelineWidget) -> None:
    """A word forced alignment could not place is drawn with a dashed border, like its dashed underline in the
    text: its solid-border pixels are far fewer than an aligned word's, its fill the same."""
    import dataclasses

    words = [dataclasses.replace(w, rough=w.id == 3) for w in make_words(8)]
    tl.set_content(words, make_captions(words), 0.5 + 8 * PITCH + 1.0, [])
    img, ln = image(tl), lane(tl, LaneKind.WORDS)
    border = Colors.from_palette(tl.palette()).word_border.rgb()

    def border_pixels(w: TimelineWord) -> int:
        return sum(
            img.pixel(x, y) == border
            for x in range(round(tl.x_at(w.start)), round(tl.x_at(w.end)) + 1)
            for y in range(ln.top, ln.bottom)
        )

    aligned, rough = border_pixels(words[2]), border_pixels(words[3])
    assert aligned > 0 and rough < 0.75 * aligned, (aligned, rough)
    assert block_colour(img, tl.x_at(words[2].start), tl.x_at(words[2].end), ln.top, ln.bottom) == block_colour(
        img, tl.x_at(words[3].start), tl.x_at(words[3].end), ln.top, ln.bottom
    )
