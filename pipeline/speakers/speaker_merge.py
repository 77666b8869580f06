"""Give every word a speaker, from diarization turns. Pure functions; nothing is mutated.

The steps, and why:

1. `exclusive_turns`: where turns overlap, one speaker at a time. The rule: at
   every moment the active turn that *started last* wins (ties: the shorter
   turn, then the speaker name). In overlapped speech the later, usually
   shorter turn is the interjection ("mm-hm", "yes") whose words lie inside
   it, while the long turn's speaker carries on around it; giving the overlap
   to the long turn would swallow the interjection's words. (pyannote's own
   "exclusive diarization" output is already exclusive and passes through
   unchanged.)
2. `assign_speakers`: each word gets the speaker whose turns overlap it most.
   A word that overlaps no turn (a pause, a diarizer that trimmed too much)
   takes the turn nearest to its middle, so no word is left without a
   speaker as long as there is any turn at all.
3. `smooth_speakers`: a very short run of another speaker inside one
   speaker's sentence is almost always a turn boundary a few hundred ms off,
   not a real interruption; it is given back to the surrounding speaker.
   Sentence ends and long pauses are never crossed, so a real short answer
   ("Yes, exactly.") stays with whoever said it.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
from collections.abc import Sequence

from pipeline.captions.captions import SENTENCE_END, CaptionRules, build_captions
from pipeline.speakers.speaker_turns import Turn
from pipeline.transcripts.edit_view import EditError, effective_words
from pipeline.transcripts.transcript import Caption, Transcript, Word

LONG_PAUSE = 1.0  # seconds of silence that smoothing never bridges


# ---------------------------------------------------------------------------- turns


def _winner_key(t: Turn) -> tuple[float, float, str]:
    # Sorting by this, the last element wins: latest start, then shortest, then name (for determinism).
    return (t.start, -(t.end - t.start), t.speaker)


def exclusive_turns(turns: Sequence[Turn]) -> list[Turn]:
    """The same speech with at most one speaker at any moment (rule in the module doc), sorted,
    adjacent pieces of one speaker joined. Zero-length turns vanish."""
    timed = sorted((t for t in turns if t.end > t.start), key=lambda t: t.start)
    bounds = sorted({x for t in timed for x in (t.start, t.end)})
    out: list[Turn] = []
    active: list[Turn] = []
    j = 0
    for a, b in itertools.pairwise(bounds):
        while j < len(timed) and timed[j].start <= a:
            active.append(timed[j])
            j += 1
        active = [t for t in active if t.end > a]
        if not active:
            continue
        speaker = max(active, key=_winner_key).speaker
        if out and out[-1].speaker == speaker and out[-1].end == a:
            out[-1] = Turn(out[-1].start, b, speaker)
        else:
            out.append(Turn(a, b, speaker))
    return out


# ---------------------------------------------------------------------------- assignment


def speakers_by_overlap(words: Sequence[Word], turns: Sequence[Turn]) -> list[str | None]:
    """For each word, the speaker whose turns overlap it for the most time (summed over that
    speaker's turns; ties go to the name first in sort order); None where no turn overlaps it."""
    order = sorted(range(len(words)), key=lambda i: words[i].start)
    timed = sorted(turns, key=lambda t: t.start)
    out: list[str | None] = [None] * len(words)
    active: list[Turn] = []
    j = 0
    for i in order:
        w = words[i]
        while j < len(timed) and timed[j].start < w.end:
            active.append(timed[j])
            j += 1
        # Words come in order of start, so a turn that ended before this word starts is done with.
        active = [t for t in active if t.end > w.start]
        overlap: dict[str, float] = {}
        for t in active:
            o = min(t.end, w.end) - max(t.start, w.start)
            if o > 0:
                overlap[t.speaker] = overlap.get(t.speaker, 0.0) + o
        if overlap:
            out[i] = min(overlap, key=lambda s: (-overlap[s], s))
    return out


class _Nearest:
    """The turn nearest to a moment: distance 0 inside a turn, else to its closer edge."""

    def __init__(self, turns: Sequence[Turn]) -> None:
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.starts = [t.start for t in self.turns]
        # latest[k]: among turns[:k+1], the one reaching furthest right (the nearest one on the left).
        self.latest: list[Turn] = []
        for t in self.turns:
            self.latest.append(t if not self.latest or t.end > self.latest[-1].end else self.latest[-1])

    def speaker_at(self, x: float) -> str:
        k = bisect.bisect_right(self.starts, x)
        best: tuple[float, str] | None = None
        if k > 0:
            left = self.latest[k - 1]
            best = (max(0.0, x - left.end), left.speaker)
        if k < len(self.turns):
            right = self.turns[k]
            d = right.start - x
            if best is None or d < best[0]:  # an exact tie stays with the speaker before the gap
                best = (d, right.speaker)
        assert best is not None
        return best[1]


def assign_speakers(words: list[Word], turns: list[Turn], *, exclusive: bool = True) -> list[Word]:
    """New words with `speaker` set from `turns` (see the module doc); times, texts, ids unchanged.

    Without any turn every speaker is None: nobody was heard speaking.
    """
    usable = exclusive_turns(turns) if exclusive else list(turns)
    if not usable:  # only zero-length turns: still better than nothing for "nearest"
        usable = list(turns)
    if not usable:
        return [dataclasses.replace(w, speaker=None) for w in words]
    by_overlap = speakers_by_overlap(words, usable)
    nearest = _Nearest(usable)
    return [
        dataclasses.replace(w, speaker=s if s is not None else nearest.speaker_at((w.start + w.end) / 2))
        for w, s in zip(words, by_overlap)
    ]


# ---------------------------------------------------------------------------- smoothing


def ends_sentence(text: str) -> bool:
    return text.rstrip("\"')]»”’").endswith(SENTENCE_END)


def _runs(words: Sequence[Word]) -> list[tuple[int, int]]:
    """[start, stop) index ranges of consecutive words with the same speaker."""
    runs: list[tuple[int, int]] = []
    for i, w in enumerate(words):
        if runs and words[runs[-1][0]].speaker == w.speaker:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def smooth_speakers(words: list[Word], *, max_flip_words: int = 2, max_flip_seconds: float = 0.8) -> list[Word]:
    """New words where a very short run of another speaker inside one speaker's sentence is
    given to the surrounding speaker. `words` are in time order.

    A run R is given to speaker S when all of these hold:
    - the words just before and just after R both have speaker S (and R's speaker is another);
    - R is short: at most `max_flip_words` words and `max_flip_seconds` long;
    - the runs of S on both sides are *not* short, so S clearly holds the floor around R
      (this also keeps two short runs from swapping places, and makes smoothing idempotent:
      what it produces has no short run left between two long ones);
    - no sentence ends from the word before R to R's last word (., ?, ! ...), and no pause
      longer than LONG_PAUSE from the word before R to the word after it.
    Decisions are taken on the input labels, all at once.
    """
    runs = _runs(words)

    def short(a: int, b: int) -> bool:
        return b - a <= max_flip_words and words[b - 1].end - words[a].start <= max_flip_seconds

    new_speaker: dict[int, str] = {}
    for k in range(1, len(runs) - 1):
        (pa, pb), (a, b), (na, nb) = runs[k - 1], runs[k], runs[k + 1]
        surround = words[pb - 1].speaker
        if surround is None or words[a].speaker is None or words[na].speaker != surround:
            continue
        if not short(a, b) or short(pa, pb) or short(na, nb):
            continue
        if any(ends_sentence(words[i].text) for i in range(a - 1, b)):
            continue
        if any(words[i + 1].start - words[i].end > LONG_PAUSE for i in range(a - 1, b)):
            continue
        for i in range(a, b):
            new_speaker[i] = surround
    return [dataclasses.replace(w, speaker=new_speaker[i]) if i in new_speaker else w for i, w in enumerate(words)]


# ---------------------------------------------------------------------------- transcripts


def diarize_transcript(t: Transcript, turns: list[Turn], rules: CaptionRules = CaptionRules()) -> Transcript:
    """A new transcript whose every word has a speaker, and captions rebuilt to split at speaker changes.

    Speakers are engine output like times, so the source words are replaced by labelled copies.
    Words are placed where the user now reads them (corrections, retimes and inserted words
    applied) so that a retimed word follows its new time and an inserted word gets a speaker too;
    the edits themselves (corrections, cuts, retimes, the inserted words' text and times) are kept.
    Hand-tuned captions are replaced: a caption must not mix speakers.
    """
    view = smooth_speakers(assign_speakers(effective_words(t), turns))
    speaker = {w.id: w.speaker for w in view}
    words = [dataclasses.replace(w, speaker=speaker.get(w.id)) for w in t.words]
    inserted = [dataclasses.replace(w, speaker=speaker.get(w.id)) for w in t.edits.inserted]
    edits = dataclasses.replace(t.edits, inserted=inserted)
    return dataclasses.replace(t, words=words, edits=edits, captions=build_captions(view, rules, t.language))


def transcript_speakers(t: Transcript) -> list[str]:
    """The distinct speakers of a transcript's words (inserted ones too), in order of first appearance."""
    return list(dict.fromkeys(w.speaker for w in effective_words(t) if w.speaker is not None))


def rename_speaker(t: Transcript, old: str, new: str) -> Transcript:
    """A new transcript where speaker `old` is called `new` on every word (inserted ones too) and caption.

    Exports render the caption's speaker, so they follow. Renaming to the name of another
    speaker merges the two: from then on they are one speaker (this is how a speaker that
    diarization split in two is joined again). Captions are relabelled, not rebuilt, so
    hand-tuned captions survive; neighbouring captions of the merged speaker stay apart.
    """
    name = new.strip()
    if not name:
        raise EditError("a speaker needs a name")
    if old not in transcript_speakers(t) and not any(c.speaker == old for c in t.captions):
        raise EditError(f"there is no speaker {old!r}")
    if name == old:
        return t

    def word(w: Word) -> Word:
        return dataclasses.replace(w, speaker=name) if w.speaker == old else w

    def caption(c: Caption) -> Caption:
        return dataclasses.replace(c, speaker=name) if c.speaker == old else c

    edits = dataclasses.replace(t.edits, inserted=[word(w) for w in t.edits.inserted])
    return dataclasses.replace(
        t, words=[word(w) for w in t.words], captions=[caption(c) for c in t.captions], edits=edits
    )
