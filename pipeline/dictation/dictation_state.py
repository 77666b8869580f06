"""The live-dictation state machine: hotkey and decoder events in, actions out.

Pure: `step(state, event) -> (state, actions)`; the caller performs the actions
(start the microphone, write the journal, run the decoder, type the text) and
feeds back what happened as events. No threads, no clocks, no I/O.

Guarantees (tested exhaustively and by property):
- Nothing said is dropped: a press while earlier utterances are still decoding
  starts a new recording at once; its decode waits its turn.
- Texts are inserted in the order the utterances were spoken, each exactly once
  (or reported failed, once), however the decoder's answers arrive.
- Cancel discards only the recording in progress, never a finished utterance.
- A lost microphone keeps what was captured: the recording is stopped and decoded.

Modes: push-to-talk (press starts, release stops) and toggle (press starts,
press again, the endpointer's silence, or a toggle stops). A Toggle event (a
tray or overlay button) starts or stops in either mode. Key auto-repeat (press,
press, ... while held) is ignored.

How the caller wires it: StopRecording(id) -> UtteranceJournal.write (before
anything else) -> Decode(id) -> DictationDecoder.final on a worker -> feed back
Decoded(id, text) or Failed(id, error) -> Insert(id, text) -> type it, then
UtteranceJournal.mark_done.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal


class Mode(str, Enum):
    PUSH_TO_TALK = "push_to_talk"
    TOGGLE = "toggle"


# --- events ------------------------------------------------------------------
@dataclass(frozen=True)
class Press:
    """The dictation hotkey went down."""


@dataclass(frozen=True)
class Release:
    """The dictation hotkey went up."""


@dataclass(frozen=True)
class Toggle:
    """Start or stop from a button, whatever the mode."""


@dataclass(frozen=True)
class Silence:
    """The endpointer heard the speaker stop."""


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class DeviceLost:
    pass


@dataclass(frozen=True)
class SetMode:
    mode: Mode


@dataclass(frozen=True)
class Decoded:
    utterance_id: int
    text: str


@dataclass(frozen=True)
class Failed:
    utterance_id: int
    error: str


Event = Press | Release | Toggle | Silence | Cancel | DeviceLost | SetMode | Decoded | Failed


# --- actions -----------------------------------------------------------------
@dataclass(frozen=True)
class StartRecording:
    utterance_id: int


@dataclass(frozen=True)
class StopRecording:
    """Stop the microphone; write this utterance's audio to the journal before decoding it."""

    utterance_id: int


@dataclass(frozen=True)
class DiscardRecording:
    utterance_id: int


@dataclass(frozen=True)
class Decode:
    utterance_id: int


@dataclass(frozen=True)
class Insert:
    """Type `text` into the focused app (empty text: nothing to type, but the utterance is done)."""

    utterance_id: int
    text: str


@dataclass(frozen=True)
class ReportFailure:
    """The utterance could not be decoded; its audio stays in the journal for a retry."""

    utterance_id: int
    error: str


OverlayKind = Literal["listening", "decoding", "hidden"]
NoticeKind = Literal["cancelled", "device_lost"]


@dataclass(frozen=True)
class ShowOverlay:
    kind: OverlayKind


@dataclass(frozen=True)
class Notify:
    """A short-lived message next to the overlay."""

    kind: NoticeKind


Action = StartRecording | StopRecording | DiscardRecording | Decode | Insert | ReportFailure | ShowOverlay | Notify


# --- state -------------------------------------------------------------------
Status = Literal["waiting", "decoding", "done", "failed"]


@dataclass(frozen=True)
class Utterance:
    id: int
    status: Status = "waiting"
    text: str = ""
    error: str = ""


@dataclass(frozen=True)
class DictationState:
    mode: Mode = Mode.PUSH_TO_TALK
    recording: int | None = None  # the utterance being recorded
    held: bool = False  # the recording ends on release (push-to-talk), not on silence
    key_down: bool = False  # to tell a new press from auto-repeat
    queue: tuple[Utterance, ...] = ()  # recorded, not yet delivered, in spoken order
    next_id: int = 1

    @property
    def phase(self) -> Literal["idle", "listening"]:
        return "listening" if self.recording is not None else "idle"

    @property
    def overlay(self) -> OverlayKind:
        if self.recording is not None:
            return "listening"
        return "decoding" if self.queue else "hidden"


def initial(mode: Mode = Mode.PUSH_TO_TALK) -> DictationState:
    return DictationState(mode=mode)


def step(state: DictationState, event: Event) -> tuple[DictationState, list[Action]]:
    actions: list[Action] = []
    s = _handle(state, event, actions)
    s = _deliver(s, actions)
    s = _schedule(s, actions)
    if s.overlay != state.overlay:
        actions.append(ShowOverlay(s.overlay))
    return s, actions


def _handle(s: DictationState, e: Event, out: list[Action]) -> DictationState:
    if isinstance(e, Press):
        if s.key_down:  # auto-repeat while held
            return s
        s = replace(s, key_down=True)
        if s.recording is None:
            return _start(s, held=s.mode is Mode.PUSH_TO_TALK, out=out)
        if not s.held:  # toggle mode, or a recording a button started
            return _stop(s, out)
        return s
    if isinstance(e, Release):
        s = replace(s, key_down=False)
        return _stop(s, out) if s.recording is not None and s.held else s
    if isinstance(e, Toggle):
        return _start(s, held=False, out=out) if s.recording is None else _stop(s, out)
    if isinstance(e, Silence):
        return _stop(s, out) if s.recording is not None and not s.held else s
    if isinstance(e, Cancel):
        if s.recording is None:
            return s  # finished utterances are never dropped
        out.append(DiscardRecording(s.recording))
        out.append(Notify("cancelled"))
        return replace(s, recording=None, held=False)
    if isinstance(e, DeviceLost):
        out.append(Notify("device_lost"))
        return _stop(s, out) if s.recording is not None else s
    if isinstance(e, SetMode):
        return replace(s, mode=e.mode)
    if isinstance(e, (Decoded, Failed)):
        return _record_result(s, e)
    raise TypeError(f"not a dictation event: {e!r}")


def _start(s: DictationState, *, held: bool, out: list[Action]) -> DictationState:
    out.append(StartRecording(s.next_id))
    return replace(s, recording=s.next_id, held=held, next_id=s.next_id + 1)


def _stop(s: DictationState, out: list[Action]) -> DictationState:
    assert s.recording is not None
    out.append(StopRecording(s.recording))
    return replace(s, recording=None, held=False, queue=(*s.queue, Utterance(s.recording)))


def _record_result(s: DictationState, e: Decoded | Failed) -> DictationState:
    queue = list(s.queue)
    for i, u in enumerate(queue):
        if u.id == e.utterance_id and u.status in ("waiting", "decoding"):
            queue[i] = (
                replace(u, status="done", text=e.text)
                if isinstance(e, Decoded)
                else replace(u, status="failed", error=e.error)
            )
            return replace(s, queue=tuple(queue))
    return s  # unknown, or already answered: ignored, so nothing is inserted twice


def _deliver(s: DictationState, out: list[Action]) -> DictationState:
    queue = list(s.queue)
    while queue and queue[0].status in ("done", "failed"):
        u = queue.pop(0)
        out.append(Insert(u.id, u.text) if u.status == "done" else ReportFailure(u.id, u.error))
    return replace(s, queue=tuple(queue))


def _schedule(s: DictationState, out: list[Action]) -> DictationState:
    """One decode at a time, oldest first (the decoder is one engine)."""
    if any(u.status == "decoding" for u in s.queue):
        return s
    for i, u in enumerate(s.queue):
        if u.status == "waiting":
            out.append(Decode(u.id))
            queue = list(s.queue)
            queue[i] = replace(u, status="decoding")
            return replace(s, queue=tuple(queue))
    return s
