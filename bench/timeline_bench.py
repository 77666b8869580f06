"""Timeline widget: a 1-hour transcript (10k words, ~1.4k captions, two speakers, cuts, waveform).

Every figure is a median, printed against a baseline measured in the same run:
painting an empty timeline of the same size.
"""

from __future__ import annotations

import os
import random

import numpy as np

WIDTH, HEIGHT = 1280, 260
N_WORDS = 10_000


def _content() -> tuple[list, list, float, list[tuple[float, float]]]:
    from ui.timeline.timeline_widget import TimelineCaption, TimelineWord

    rng = random.Random(5)
    vocab = [
        "so",
        "the",
        "model",
        "runs",
        "offline",
        "and",
        "writes",
        "captions",
        "for",
        "every",
        "word",
        "you",
        "say",
        "in",
        "the",
        "show",
        "today",
    ]
    words, t = [], 0.3
    for i in range(N_WORDS):
        length = rng.uniform(0.12, 0.45)
        words.append(
            TimelineWord(
                i, t, t + length, rng.choice(vocab), i % 60 in (20, 21), "SPEAKER_00" if (i // 35) % 2 else "SPEAKER_01"
            )
        )
        t += length + rng.uniform(0.02, 0.1) + (0.6 if i % 12 == 11 else 0.0)
    captions = [
        TimelineCaption(
            j,
            words[i].start,
            words[min(i + 7, N_WORDS) - 1].end,
            " ".join(w.text for w in words[i : i + 7]),
            words[i].speaker,
        )
        for j, i in enumerate(range(0, N_WORDS, 7))
    ]
    cuts = [(words[i].start, words[i + 1].end) for i in range(20, N_WORDS - 1, 60)]
    return words, captions, t + 1.0, cuts


def _peaks(duration: float) -> np.ndarray:
    """Real speech peaks (jfk.wav), looped over the hour."""
    from bench.common import JFK
    from pipeline.render.waveform import compute_peaks

    one = compute_peaks(JFK)
    return np.tile(one, (int(np.ceil(duration * 100 / len(one))), 1))[: int(duration * 100)]


def run(runs: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from bench.common import medians
    from ui.timeline.timeline_widget import TimelineWidget

    app = QApplication.instance() or QApplication([])
    words, captions, duration, cuts = _content()
    peaks = _peaks(duration)

    def widget() -> TimelineWidget:
        w = TimelineWidget()
        w.resize(WIDTH, HEIGHT)
        w.show()
        app.processEvents()
        return w

    def loaded() -> TimelineWidget:
        w = widget()
        w.set_content(words, captions, duration, cuts)
        w.set_peaks(peaks, 100)
        w.ensure_visible(duration / 2)
        app.processEvents()
        return w

    # One widget per zoom level: the timed functions only repaint.
    empty, full, mid, out, playing, fresh = widget(), loaded(), loaded(), loaded(), loaded(), widget()
    fresh.set_peaks(peaks, 100)
    default_zoom = full.zoom()
    mid.set_zoom(10.0)
    out.set_zoom(0)
    app.processEvents()

    def set_content_and_paint() -> None:
        fresh.set_content(words, captions, duration, cuts)
        fresh.grab()

    playhead = [playing.view_range()[0] + 1.0]

    def move_playhead() -> None:  # one 30 fps playback step at the default zoom, painted
        playhead[0] += 1 / 30
        playing.set_playhead(playhead[0])
        app.processEvents()

    base, t_content, t_default, t_mid, t_out = medians(
        [
            empty.viewport().repaint,
            set_content_and_paint,
            full.viewport().repaint,
            mid.viewport().repaint,
            out.viewport().repaint,
        ],
        runs,
    )
    # Apart from the repaints: its processEvents would otherwise also flush their windows.
    (t_step,) = medians([move_playhead], runs * 4)
    print(
        f"timeline: {N_WORDS} words, {len(captions)} captions, {duration / 60:.0f} min, {len(cuts)} cuts, "
        f"{WIDTH}x{HEIGHT} px, median of {runs}"
    )
    print(f"  baseline: empty timeline repaint          {base * 1e3:7.2f} ms")
    rows = [
        ("set_content + first paint (grab)", t_content),
        (f"full repaint at {default_zoom:.0f} px/s", t_default),
        ("full repaint at 10 px/s", t_mid),
        (f"full repaint zoomed out ({out.zoom():.2f} px/s)", t_out),
        ("set_playhead 30 fps step + its paint", t_step),
    ]
    for label, t in rows:
        print(f"  {label:<40} {t * 1e3:7.2f} ms  ratio {t / base:6.2f}")
    print(f"  set_playhead step / full repaint at {default_zoom:.0f} px/s: ratio {t_step / t_default:5.3f}")
    for w in (empty, full, mid, out, playing, fresh):
        w.close()
