"""The transcript as a QTextDocument: one paragraph per caption, every word's position kept.

Built in one pass with undo off. Positions are QTextDocument positions
(UTF-16 code units, one per paragraph break), so lookups never ask Qt to lay
anything out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_right
from dataclasses import dataclass

from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

from pipeline.captions.captions import build_captions
from pipeline.editing.editing import word_texts
from pipeline.transcripts.transcript import NO_SPACE_LANGUAGES, Transcript

WORD_ID = QTextFormat.Property.UserProperty + 1  # each word's char format carries its word id
LOW_CONFIDENCE = 0.5
AMBER = QColor(230, 150, 0)  # the one fixed hue (doubt, find matches); backgrounds blend it with the base


def u16len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def blend(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved a fraction `t` towards `b`."""
    mix = [x + (y - x) * t for x, y in ((a.redF(), b.redF()), (a.greenF(), b.greenF()), (a.blueF(), b.blueF()))]
    return QColor.fromRgbF(*mix)


def format_time(seconds: float, long: bool = False) -> str:
    """m:ss, or h:mm:ss when `long` (media of an hour or more) so the gutter lines up."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if long or h else f"{m}:{s:02d}"


class WordStyles:
    """Character formats derived from the palette, so light and dark themes both read well."""

    def __init__(self, palette: QPalette) -> None:
        base = palette.color(QPalette.ColorRole.Base)
        self.plain = QTextCharFormat()
        self.corrected = QTextCharFormat()
        self.corrected.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        self.corrected.setUnderlineColor(palette.color(QPalette.ColorRole.Link))
        self.unsure = QTextCharFormat()
        self.unsure.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self.unsure.setUnderlineColor(AMBER)  # no tint: tints mean find matches
        self.match = blend(base, AMBER, 0.35)
        self.current_match = blend(base, AMBER, 0.8)

    def for_word(self, corrected: bool, unsure: bool) -> QTextCharFormat:
        return self.corrected if corrected else self.unsure if unsure else self.plain


@dataclass(frozen=True)
class Row:
    """One caption as shown; row r is the document's block number r."""

    start: float
    speaker: str | None
    first: int  # indexes into TranscriptDocument.word_ids
    last: int


class WordLookups(ABC):
    """Word and caption lookups by document position, shared by the transcript view's and the editor's
    documents; they fill `doc`, `word_ids`, `texts`, `starts`/`ends` (document positions of each word)
    and `_row_firsts` (the first word index of each caption). TranscriptText shows either through
    this interface."""

    transcript: Transcript
    styles: WordStyles
    doc: QTextDocument
    word_ids: list[int]
    texts: dict[int, str]
    starts: list[int]
    ends: list[int]
    rows: list[Row]
    long_times: bool  # times in the gutter need hours
    _row_firsts: list[int]

    @abstractmethod
    def tooltip(self, k: int) -> str:
        """What word k's tooltip says ("": none)."""

    def word_at(self, pos: int) -> int | None:
        """Index of the word at or touching document position `pos` (a cursor position)."""
        k = bisect_right(self.starts, pos) - 1
        return k if k >= 0 and pos <= self.ends[k] else None

    def row_of(self, k: int) -> int:
        return bisect_right(self._row_firsts, k) - 1

    def text_of(self, k: int) -> str:
        return self.texts[self.word_ids[k]]

    def plain_text(self) -> str:
        return self.doc.toPlainText()


class TranscriptDocument(WordLookups):
    """The document plus the maps between words and positions.

    Word k of the display order (`word_ids[k]`) covers positions [starts[k], ends[k]).
    """

    def __init__(self, transcript: Transcript, palette: QPalette, font: QFont) -> None:
        self.transcript = transcript
        self.styles = WordStyles(palette)
        self.sep = "" if (transcript.language or "") in NO_SPACE_LANGUAGES else " "
        self.doc = QTextDocument()
        self.doc.setUndoRedoEnabled(False)
        self.doc.setDefaultFont(font)
        self.doc.setDocumentMargin(10)
        self.word_ids: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.rows: list[Row] = []
        self.index_of: dict[int, int] = {}
        self.texts = word_texts(transcript)
        self._words = transcript.word_by_id()
        self._build(font)

    def _build(self, font: QFont) -> None:
        t = self.transcript
        words = self._words
        captions = t.captions or build_captions(t.words, language=t.language)
        block = QTextBlockFormat()
        block.setLineHeight(125, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        block.setBottomMargin(round(QFontMetricsF(font).lineSpacing() * 0.6))  # air between captions
        cur = QTextCursor(self.doc)
        cur.beginEditBlock()
        cur.setBlockFormat(block)
        pos = 0
        for cap in captions:
            ids = [i for i in cap.word_ids if i in words and self.texts.get(i)]
            if not ids:
                continue
            if self.rows:
                cur.insertBlock(block, self.styles.plain)
                pos += 1
            first = len(self.word_ids)
            for j, wid in enumerate(ids):
                if j and self.sep:
                    cur.insertText(self.sep, self.styles.plain)
                    pos += len(self.sep)
                text = self.texts[wid]
                cur.insertText(text, self._format(wid))
                self.index_of[wid] = len(self.word_ids)
                self.word_ids.append(wid)
                self.starts.append(pos)
                pos += u16len(text)
                self.ends.append(pos)
            self.rows.append(Row(cap.start, cap.speaker, first, len(self.word_ids) - 1))
        cur.endEditBlock()
        self.long_times = max(t.media.duration, captions[-1].start if captions else 0) >= 3600
        self._row_firsts = [r.first for r in self.rows]

    # --- per-word facts ----------------------------------------------------------------------
    def _format(self, wid: int) -> QTextCharFormat:
        unsure = self._unsure(self._words[wid].probability)
        fmt = QTextCharFormat(self.styles.for_word(self.is_corrected(wid), unsure))
        fmt.setProperty(WORD_ID, wid)
        return fmt

    @staticmethod
    def _unsure(p: float | None) -> bool:
        return p is not None and p < LOW_CONFIDENCE

    def is_corrected(self, wid: int) -> bool:
        return self.texts.get(wid) != self._words[wid].text

    def tooltip(self, k: int) -> str:
        wid = self.word_ids[k]
        w = self._words[wid]
        if self.is_corrected(wid):
            return f"Corrected. The engine heard “{w.text}”.\nDouble-click or F2 to change it."
        if self._unsure(w.probability):
            return f"Confidence {w.probability:.0%}: this word may be misheard.\nDouble-click or F2 to correct it."
        return ""

    # --- edits -------------------------------------------------------------------------------
    def update_word(self, transcript: Transcript, wid: int) -> None:
        """Show `transcript`'s text for one word in place: no rebuild, the view keeps its scroll."""
        self.transcript = transcript
        self._words = transcript.word_by_id()
        self.texts = word_texts(transcript)
        k = self.index_of[wid]
        text = self.texts[wid]
        cur = QTextCursor(self.doc)
        cur.setPosition(self.starts[k])
        cur.setPosition(self.ends[k], QTextCursor.MoveMode.KeepAnchor)
        cur.insertText(text, self._format(wid))
        delta = u16len(text) - (self.ends[k] - self.starts[k])
        self.ends[k] += delta
        if delta:
            for i in range(k + 1, len(self.starts)):
                self.starts[i] += delta
                self.ends[i] += delta
