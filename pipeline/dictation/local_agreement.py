"""LocalAgreement-n: which words of a growing transcript are safe to show as final.

A live decoder re-transcribes a growing audio buffer about once a second; each
pass gives a hypothesis (a word list) whose last words still change as more
audio arrives. A word is committed once the last n hypotheses agree on it and
on everything before it (Macháček et al., "Turning Whisper into Real-Time
Transcription System", 2023; n = 2 works best there). Committed words are
never taken back, so the text the user watches never flickers.

Words are compared case- and punctuation-blind ("Hello," == "hello"); the text
kept is that of the latest hypothesis, which has seen the most audio.

Pure: no I/O, no threads. `agree` is the whole algorithm; `LocalAgreement` is a
small holder for callers that want an object.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace


def normalize(word: str) -> str:
    """Comparison key: case-folded, letters and digits only ("Don't," -> "dont")."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", word).casefold() if unicodedata.category(ch)[0] in "LN")


@dataclass(frozen=True)
class AgreementState:
    n: int = 2
    committed: tuple[str, ...] = ()
    # Hypotheses cover the audio from the start of committed word `base` on: a caller that stops
    # re-decoding audio whose words are all committed (to bound the cost) rebases.
    base: int = 0
    history: tuple[tuple[str, ...], ...] = ()  # the last n hypotheses' uncommitted tails, oldest first
    tentative: tuple[str, ...] = ()  # the latest hypothesis' words after the committed ones
    tail_start: int = 0  # index in the latest hypothesis of its first uncommitted word

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"LocalAgreement needs n >= 1, not {self.n}")


def align(committed: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Index in `hypothesis` where the words after `committed` begin.

    Usually the hypothesis simply starts with the committed words. When the
    engine has since changed its mind about some of them (merged or split a
    word), the longest matching blocks decide, and unmatched committed words
    at the end are taken to map one to one.
    """
    a = [normalize(w) for w in committed]
    b = [normalize(w) for w in hypothesis]
    if b[: len(a)] == a:
        return len(a)
    blocks = [m for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks() if m.size]
    if not blocks:
        return min(len(a), len(b))
    last = blocks[-1]
    return min(len(b), last.b + last.size + (len(a) - (last.a + last.size)))


def common_prefix(seqs: Sequence[Sequence[str]]) -> int:
    """Length of the longest prefix shared (after normalising) by all of `seqs`."""
    if not seqs:
        return 0
    keys = [[normalize(w) for w in s] for s in seqs]
    n = min(len(k) for k in keys)
    i = 0
    while i < n and all(k[i] == keys[0][i] for k in keys[1:]):
        i += 1
    return i


def agree(state: AgreementState, hypothesis: Sequence[str]) -> AgreementState:
    """Take one more hypothesis (of the audio from word `base` on) and commit what the last n agree on."""
    start = align(state.committed[state.base :], hypothesis)
    tail = tuple(hypothesis[start:])
    history = (*state.history, tail)[-state.n :]
    agreed = common_prefix(history) if len(history) == state.n else 0
    committed = state.committed + tail[:agreed]  # the latest hypothesis' spelling
    # Older tails lose the words just committed so that later comparisons line up.
    history = tuple(h[agreed:] for h in history)
    return replace(state, committed=committed, history=history, tentative=tail[agreed:], tail_start=start + agreed)


def rebase(state: AgreementState) -> AgreementState:
    """From now on hypotheses cover only the audio after the last committed word."""
    return replace(state, base=len(state.committed), history=(), tentative=(), tail_start=0)


def finish(state: AgreementState, final: Sequence[str]) -> tuple[str, ...]:
    """The whole text once the audio is complete: committed words, then the final hypothesis' rest."""
    return state.committed + tuple(final[align(state.committed[state.base :], final) :])


class LocalAgreement:
    """Mutable convenience wrapper around `agree`."""

    def __init__(self, n: int = 2) -> None:
        self.state = AgreementState(n=n)

    @property
    def committed(self) -> tuple[str, ...]:
        return self.state.committed

    @property
    def tentative(self) -> tuple[str, ...]:
        return self.state.tentative

    def insert(self, hypothesis: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Add a hypothesis; returns (committed, tentative)."""
        self.state = agree(self.state, hypothesis)
        return self.state.committed, self.state.tentative

    def rebase(self) -> None:
        self.state = rebase(self.state)

    def finish(self, final: Sequence[str]) -> tuple[str, ...]:
        return finish(self.state, final)

    def reset(self) -> None:
        self.state = AgreementState(n=self.state.n)
