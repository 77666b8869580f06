"""The editable transcript as a QTextDocument: a paragraph per caption, cut words struck through.

Shows `effective_words` (corrections, retimes and inserted words applied) in
each caption's word order. It offers the same lookups as TranscriptDocument
(word_ids, starts, ends, rows, word_at, row_of...), so TranscriptText's gutter,
hit-testing and highlights work on it unchanged.

An edit changes a caption or two: `update()` rewrites only the paragraphs
whose content changed (a full rebuild of 10,000 words takes ~0.1 s here) and
recomputes positions arithmetically, never asking Qt to lay anything out.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)

from pipeline.captions.captions import build_captions
from pipeline.editing.editing import cut_word_ids, effective_words
from pipeline.transcripts.transcript import NO_SPACE_LANGUAGES, Caption, Transcript, Word
from ui.transcript.transcript_document import LOW_CONFIDENCE, WORD_ID, Row, WordLookups, WordStyles, blend, u16len

PLAIN, CORRECTED, INSERTED, UNSURE, ROUGH, SUSPECT = range(6)
SUSPECT_COLOR = QColor(217, 130, 0)  # amber: check this, as opposed to the red of an error


class EditorStyles(WordStyles):
    """WordStyles plus struck-through cut words, words the user added, and the word being played."""

    def __init__(self, palette: QPalette) -> None:
        super().__init__(palette)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        self.inserted = QTextCharFormat()
        self.inserted.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DashUnderline)
        self.inserted.setUnderlineColor(palette.color(QPalette.ColorRole.Link))
        # Rough timing: forced alignment could not place the word, so a cut at it may clip.
        self.rough = QTextCharFormat()
        self.rough.setFontItalic(True)
        self.rough.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DashUnderline)
        self.rough.setUnderlineColor(muted)
        # Suspect: the recogniser may have invented the word (no voice under it, or whisper's own tests failed).
        self.suspect = QTextCharFormat()
        self.suspect.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self.suspect.setUnderlineColor(SUSPECT_COLOR)
        self.suspect.setForeground(blend(palette.color(QPalette.ColorRole.Text), SUSPECT_COLOR, 0.45))
        self._by_state = {
            PLAIN: self.plain,
            CORRECTED: self.corrected,
            INSERTED: self.inserted,
            UNSURE: self.unsure,
            ROUGH: self.rough,
            SUSPECT: self.suspect,
        }
        self._cut: dict[int, QTextCharFormat] = {}
        for state, fmt in self._by_state.items():
            cut = QTextCharFormat(fmt)
            cut.setFontStrikeOut(True)
            cut.setForeground(muted)
            self._cut[state] = cut
        base = palette.color(QPalette.ColorRole.Base)
        self.playing = blend(base, palette.color(QPalette.ColorRole.Highlight), 0.28)

    def word(self, state: int, cut: bool) -> QTextCharFormat:
        return self._cut[state] if cut else self._by_state[state]

    def gap(self, cut: bool) -> QTextCharFormat:
        """The space between two words: struck when both sides are cut, so the strike reads as one."""
        return self._cut[PLAIN] if cut else self.plain


class Shown(NamedTuple):
    """One word as displayed: what update() compares to know whether a paragraph changed."""

    id: int
    text: str
    state: int
    cut: bool


@dataclass(frozen=True)
class Paragraph:
    caption: int  # index into transcript.captions
    start: float
    speaker: str | None
    words: tuple[tuple[int, str, int, bool], ...]  # plain (id, text, state, cut) tuples, in Shown's field order


def _u16(s: str) -> int:
    return len(s) if s.isascii() else u16len(s)


def _state(w: Word, source: dict[int, Word], inserted: set[int]) -> int:
    if w.id in inserted:
        return INSERTED
    if w.text != source[w.id].text:
        return CORRECTED
    if source[w.id].suspect:
        return SUSPECT
    p = source[w.id].probability
    if p is not None and p < LOW_CONFIDENCE:
        return UNSURE
    return ROUGH if w.rough else PLAIN


def paragraphs(t: Transcript) -> tuple[list[Paragraph], dict[int, Word]]:
    """What the editor shows for `t`, and the effective words by id."""
    words = {w.id: w for w in effective_words(t)}
    source = {w.id: w for w in t.words}
    inserted = {w.id for w in t.edits.inserted}
    cut = cut_word_ids(t)
    captions: list[Caption] = t.captions or build_captions(list(words.values()), language=t.language)
    out = []
    for i, cap in enumerate(captions):
        # plain tuples: building 10,000 NamedTuples costs as much as the rest of the update
        shown = tuple(
            (wid, words[wid].text, _state(words[wid], source, inserted), wid in cut)
            for wid in cap.word_ids
            if wid in words and words[wid].text
        )
        if shown:
            out.append(Paragraph(i, cap.start, cap.speaker, shown))
    return out, words


class EditorDocument(WordLookups):
    """The document plus the maps between words, positions and times.

    Word k of the display order (`word_ids[k]`) covers positions [starts[k], ends[k]);
    row r (the document's block r) is caption `row_caption[r]`.
    """

    styles: EditorStyles

    def __init__(self, transcript: Transcript, palette: QPalette, font: QFont) -> None:
        self.styles = EditorStyles(palette)
        self.sep = "" if (transcript.language or "") in NO_SPACE_LANGUAGES else " "
        self.doc = QTextDocument()
        self.doc.setUndoRedoEnabled(False)
        self.doc.setDefaultFont(font)
        self.doc.setDocumentMargin(10)
        self._block = QTextBlockFormat()
        self._block.setLineHeight(125, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        self._block.setBottomMargin(round(QFontMetricsF(font).lineSpacing() * 0.6))  # air between captions
        self._paras: list[Paragraph] = []
        self.update(transcript)

    # --- building ----------------------------------------------------------------------------
    def update(self, transcript: Transcript) -> None:
        """Show `transcript`: paragraphs that read the same are left alone (scroll and layout stay)."""
        self.transcript = transcript
        new, self.words = paragraphs(transcript)
        old = self._paras
        lo = 0
        while lo < min(len(old), len(new)) and old[lo].words == new[lo].words:
            lo += 1
        hi_old, hi_new = len(old), len(new)
        while hi_old > lo and hi_new > lo and old[hi_old - 1].words == new[hi_new - 1].words:
            hi_old, hi_new = hi_old - 1, hi_new - 1
        if lo < hi_old or lo < hi_new:
            self._rewrite(lo, hi_old, new[lo:hi_new])
        self._paras = new
        self._index()

    def _rewrite(self, i1: int, i2: int, paras: list[Paragraph]) -> None:
        """Replace blocks i1..i2-1 with `paras` (either side may be empty)."""
        n = self.doc.blockCount() if self._paras else 0
        block = self.doc.findBlockByNumber
        cur = QTextCursor(self.doc)
        lead = trail = False
        if i1 < i2 and paras:
            a, b = block(i1).position(), _end(block(i2 - 1))
        elif paras:  # insert only
            if i1 < n:
                a = b = block(i1).position()
                trail = True
            elif n:
                a = b = _end(block(n - 1))
                lead = True
            else:
                a = b = 0
        elif i2 < n:  # delete only, with the break after
            a, b = block(i1).position(), block(i2).position()
        elif i1 > 0:  # delete the last paragraphs, with the break before
            a, b = _end(block(i1 - 1)), _end(block(n - 1))
        else:
            a, b = 0, _end(block(n - 1))
        cur.beginEditBlock()
        cur.setPosition(a)
        cur.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
        cur.removeSelectedText()
        if n == 0:
            cur.setBlockFormat(self._block)
        if lead:
            cur.insertBlock(self._block, self.styles.plain)
        for j, p in enumerate(paras):
            if j:
                cur.insertBlock(self._block, self.styles.plain)
            self._write(cur, p)
        if trail:
            cur.insertBlock(self._block, self.styles.plain)
        cur.endEditBlock()

    def _write(self, cur: QTextCursor, p: Paragraph) -> None:
        prev_cut = False
        for j, (wid, text, state, cut) in enumerate(p.words):
            if j and self.sep:
                cur.insertText(self.sep, self.styles.gap(cut and prev_cut))
            fmt = QTextCharFormat(self.styles.word(state, cut))
            fmt.setProperty(WORD_ID, wid)
            cur.insertText(text, fmt)
            prev_cut = cut

    def _index(self) -> None:
        """Positions from the paragraphs' text lengths: the same arithmetic Qt does, without layout."""
        self.word_ids: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.rows: list[Row] = []
        self.row_caption: list[int] = []
        self.cut: set[int] = set()
        sep = u16len(self.sep)
        pos = 0
        for r, p in enumerate(self._paras):
            if r:
                pos += 1  # the paragraph break
            first = len(self.word_ids)
            for j, (wid, text, _state, cut) in enumerate(p.words):
                if j:
                    pos += sep
                self.word_ids.append(wid)
                self.starts.append(pos)
                pos += _u16(text)
                self.ends.append(pos)
                if cut:
                    self.cut.add(wid)
            self.rows.append(Row(p.start, p.speaker, first, len(self.word_ids) - 1))
            self.row_caption.append(p.caption)
        self.index_of = {wid: k for k, wid in enumerate(self.word_ids)}
        self.texts = {w[0]: w[1] for p in self._paras for w in p.words}
        self._row_firsts = [r.first for r in self.rows]
        t = self.transcript
        self.long_times = max(t.media.duration, self.rows[-1].start if self.rows else 0) >= 3600
        timed = sorted((self.words[wid].start, self.words[wid].end, k) for k, wid in enumerate(self.word_ids))
        self._time_starts = [s for s, _, _ in timed]
        self._timed = timed

    # --- lookups: word_at, row_of, text_of, plain_text come from WordLookups ----------------
    def tooltip(self, k: int) -> str:
        wid = self.word_ids[k]
        w, para = self.words[wid], self._paras[self.row_of(k)]
        shown = Shown(*next(s for s in para.words if s[0] == wid))
        source = next((x for x in self.transcript.words if x.id == wid), None)
        lines = []
        if shown.cut:
            lines.append("Cut: playback and export skip it. Ctrl+Shift+R restores it.")
        if shown.state == INSERTED:
            lines.append("You added this word; it is not in the recording.")
        elif shown.state == CORRECTED and source is not None:
            lines.append(f"Corrected. The engine heard “{source.text}”.")
        elif shown.state == SUSPECT and source is not None and source.suspect:
            lines.append(f"May be invented: {source.suspect}. Delete it if nothing was said here.")
        elif shown.state == UNSURE and source is not None and source.probability is not None:
            lines.append(f"Confidence {source.probability:.0%}: this word may be misheard.")
        if w.rough:
            lines.append("Rough timing: the aligner could not place this word, so a cut here may clip it.")
        lines.append(f"{w.start:.2f}–{w.end:.2f} s. Double-click or F2 to correct it.")
        return "\n".join(lines)

    # --- editor lookups ----------------------------------------------------------------------
    def caption_of(self, k: int) -> int:
        """The transcript caption index holding word k."""
        return self.row_caption[self.row_of(k)]

    def word_at_time(self, t: float) -> int | None:
        """The word being spoken at source time `t` (display index), None in a pause."""
        i = bisect_right(self._time_starts, t) - 1
        for s, e, k in reversed(self._timed[max(0, i - 2) : i + 1]):  # words barely overlap: look at three
            if s <= t < e:
                return k
        return None


def _end(block: QTextBlock) -> int:
    """The position just after a block's last character (before its paragraph break)."""
    return block.position() + block.length() - 1


__all__ = ["EditorDocument", "EditorStyles", "Paragraph", "Shown", "paragraphs"]
