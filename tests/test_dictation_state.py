"""The dictation state machine: every press/release/toggle/busy/cancel path, and a property
over any event sequence: each stopped utterance is delivered exactly once, in spoken order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dictation.dictation_state import (
    Action,
    Cancel,
    Decode,
    Decoded,
    DeviceLost,
    DictationState,
    DiscardRecording,
    Event,
    Failed,
    Insert,
    Mode,
    Notify,
    Press,
    Release,
    ReportFailure,
    SetMode,
    ShowOverlay,
    Silence,
    StartRecording,
    StopRecording,
    Toggle,
    initial,
    step,
)

PTT, TOGGLE = Mode.PUSH_TO_TALK, Mode.TOGGLE


def run(events: list[Event], mode: Mode = PTT) -> tuple[DictationState, list[Action]]:
    s, out = initial(mode), []
    for e in events:
        s, actions = step(s, e)
        out.extend(actions)
    return s, out


def kinds(actions: list[Action]) -> list[type]:
    return [type(a) for a in actions]


# --- push-to-talk ----------------------------------------------------------------------
def test_push_to_talk_press_starts_release_stops_and_decodes() -> None:
    s, a = step(initial(PTT), Press())
    assert a == [StartRecording(1), ShowOverlay("listening")] and s.phase == "listening"
    s, a = step(s, Release())
    assert a == [StopRecording(1), Decode(1), ShowOverlay("decoding")] and s.phase == "idle"
    s, a = step(s, Decoded(1, "hello"))
    assert a == [Insert(1, "hello"), ShowOverlay("hidden")] and s.queue == ()


def test_push_to_talk_ignores_silence_while_the_key_is_held_and_auto_repeat() -> None:
    s, a = run([Press(), Silence(), Press(), Press()])
    assert a == [StartRecording(1), ShowOverlay("listening")] and s.recording == 1


def test_release_without_recording_does_nothing() -> None:
    s, a = run([Release()])
    assert a == [] and s == initial(PTT)


# --- toggle ----------------------------------------------------------------------------
def test_toggle_mode_press_starts_second_press_stops_release_ignored() -> None:
    s, a = run([Press(), Release()], TOGGLE)
    assert kinds(a) == [StartRecording, ShowOverlay] and s.recording == 1
    s, a = step(s, Press())
    assert a == [StopRecording(1), Decode(1), ShowOverlay("decoding")]


def test_toggle_mode_stops_on_the_endpointer_silence() -> None:
    s, a = run([Press(), Release(), Silence()], TOGGLE)
    assert StopRecording(1) in a and s.phase == "idle"


def test_toggle_event_works_in_either_mode_and_then_silence_stops_it() -> None:
    for mode in (PTT, TOGGLE):
        s, a = run([Toggle()], mode)
        assert a[0] == StartRecording(1) and not s.held
        s, a = step(s, Silence())
        assert a[0] == StopRecording(1)
        s, a = run([Toggle(), Toggle()], mode)
        assert StopRecording(1) in a


def test_a_key_press_stops_a_recording_a_button_started_in_push_to_talk() -> None:
    s, a = run([Toggle(), Press()], PTT)
    assert StopRecording(1) in a
    s, a = step(s, Release())  # the release of that press starts nothing and stops nothing
    assert not any(isinstance(x, (StartRecording, StopRecording)) for x in a)


def test_mode_can_change_between_utterances() -> None:
    s, _a = run([SetMode(TOGGLE), Press(), Release()])
    assert s.recording == 1 and s.mode is TOGGLE


# --- busy: speaking again while an earlier utterance decodes --------------------------------
def test_press_while_decoding_starts_a_new_recording_at_once_and_queues_its_decode() -> None:
    s, _ = run([Press(), Release()])  # utterance 1 decoding
    s, a = step(s, Press())
    assert a == [StartRecording(2), ShowOverlay("listening")]
    s, a = step(s, Release())
    assert a == [StopRecording(2), ShowOverlay("decoding")]  # no Decode(2) yet: one at a time
    assert [(u.id, u.status) for u in s.queue] == [(1, "decoding"), (2, "waiting")]
    s, a = step(s, Decoded(1, "first"))
    assert a == [Insert(1, "first"), Decode(2)]
    s, a = step(s, Decoded(2, "second"))
    assert a == [Insert(2, "second"), ShowOverlay("hidden")]


def test_results_arriving_out_of_order_are_inserted_in_spoken_order() -> None:
    s, _ = run([Press(), Release(), Press(), Release(), Press(), Release()])
    s, a = step(s, Decoded(3, "three"))  # e.g. a parallel decoder answered early
    assert a == []
    s, a = step(s, Decoded(2, "two"))
    assert a == []
    s, a = step(s, Decoded(1, "one"))
    assert [x for x in a if isinstance(x, Insert)] == [Insert(1, "one"), Insert(2, "two"), Insert(3, "three")]
    assert s.queue == ()


def test_a_failure_is_reported_in_order_and_does_not_block_the_next() -> None:
    s, _ = run([Press(), Release(), Press(), Release()])
    s, a = step(s, Failed(1, "engine crashed"))
    assert a == [ReportFailure(1, "engine crashed"), Decode(2)]
    s, a = step(s, Decoded(2, "fine"))
    assert a[0] == Insert(2, "fine")


def test_duplicate_and_unknown_results_are_ignored() -> None:
    s, _ = run([Press(), Release()])
    s, a = step(s, Decoded(7, "never recorded"))
    assert a == []
    s, a = step(s, Decoded(1, "once"))
    assert Insert(1, "once") in a
    s, a = step(s, Decoded(1, "twice"))
    assert a == []


def test_empty_text_still_completes_the_utterance() -> None:
    s, a = run([Press(), Release(), Decoded(1, "")])
    assert Insert(1, "") in a and s.queue == ()


# --- cancel ------------------------------------------------------------------------------
def test_cancel_while_listening_discards_only_the_current_recording() -> None:
    s, _ = run([Press(), Release(), Press()])  # 1 decoding, 2 recording
    s, a = step(s, Cancel())
    assert a == [DiscardRecording(2), Notify("cancelled"), ShowOverlay("decoding")]
    assert [u.id for u in s.queue] == [1]
    s, a = step(s, Decoded(1, "kept"))
    assert Insert(1, "kept") in a
    s, a = step(s, Release())  # the key of the cancelled recording comes up: nothing happens
    assert a == []


def test_cancel_while_idle_never_drops_a_finished_utterance() -> None:
    s, _ = run([Press(), Release()])
    s2, a = step(s, Cancel())
    assert a == [] and s2 == s


# --- the microphone goes away ------------------------------------------------------------
def test_device_lost_keeps_what_was_recorded() -> None:
    s, a = run([Press(), DeviceLost()])
    assert a[2:] == [Notify("device_lost"), StopRecording(1), Decode(1), ShowOverlay("decoding")]
    s, a = step(s, Release())
    assert a == []
    s, a = run([DeviceLost()])
    assert a == [Notify("device_lost")] and s.phase == "idle"


def test_unknown_event_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        step(initial(), "press")  # type: ignore[arg-type]  # a wrong event type, on purpose


# --- exhaustive: every sequence of up to 6 events, both modes ---------------------------------
USER: list[Event] = [Press(), Release(), Toggle(), Silence(), Cancel(), DeviceLost()]
ANSWER = "answer"  # the decoder finishes the utterance it is decoding


@pytest.mark.parametrize("mode", [PTT, TOGGLE])
def test_every_short_sequence_keeps_the_invariants(mode: Mode) -> None:
    for seq in itertools.chain.from_iterable(itertools.product([*USER, ANSWER], repeat=k) for k in range(7)):
        s, actions = initial(mode), []
        for e in seq:
            if e == ANSWER:
                busy = [u.id for u in s.queue if u.status == "decoding"]
                if not busy:
                    continue
                e = Decoded(busy[0], f"t{busy[0]}")
            assert not isinstance(e, str)
            s, a = step(s, e)
            actions.extend(a)
        started = [a.utterance_id for a in actions if isinstance(a, StartRecording)]
        stopped = [a.utterance_id for a in actions if isinstance(a, StopRecording)]
        discarded = [a.utterance_id for a in actions if isinstance(a, DiscardRecording)]
        inserted = [a.utterance_id for a in actions if isinstance(a, Insert)]
        decodes = [a.utterance_id for a in actions if isinstance(a, Decode)]
        assert started == sorted(set(started)), seq  # fresh ids, increasing
        assert not set(stopped) & set(discarded), seq  # an utterance is either kept or discarded
        assert sorted(stopped + discarded + ([s.recording] if s.recording else [])) == started, seq
        assert inserted + [u.id for u in s.queue] == stopped, seq  # delivered in order, the rest queued
        assert decodes == stopped[: len(decodes)] and len(decodes) - len(inserted) <= 1, seq  # one at a time
        assert s.overlay == ("listening" if s.recording else "decoding" if s.queue else "hidden"), seq


# --- property: any sequence, with the decoder answering at any time ------------------------
class Answer:
    """Test driver event: the decoder answers one of the decodes it was asked for."""

    def __init__(self, pick: int, ok: bool) -> None:
        self.pick, self.ok = pick, ok


EVENTS = st.lists(
    st.one_of(
        st.sampled_from(USER + [SetMode(PTT), SetMode(TOGGLE)]),
        st.builds(Answer, st.integers(0, 5), st.booleans()),
        st.builds(Decoded, st.integers(0, 12), st.just("stray")),  # unknown or early ids
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(EVENTS, st.sampled_from([PTT, TOGGLE]))
def test_every_stopped_utterance_is_delivered_exactly_once_in_order(events: list[Event | Answer], mode: Mode) -> None:
    s = initial(mode)
    log: list[Action] = []
    asked: list[int] = []  # decodes requested and not yet answered

    def feed(e: Event) -> None:
        nonlocal s
        before_recording = s.recording
        s, actions = step(s, e)
        for a in actions:
            if isinstance(a, StartRecording):
                assert before_recording is None or any(
                    isinstance(x, (StopRecording, DiscardRecording)) for x in actions
                )
            if isinstance(a, Decode):
                asked.append(a.utterance_id)
        assert sum(isinstance(a, StartRecording) for a in actions) <= 1
        log.extend(actions)

    for e in events:
        if isinstance(e, Answer):
            if asked:
                uid = asked.pop(e.pick % len(asked))
                feed(Decoded(uid, f"text {uid}") if e.ok else Failed(uid, "boom"))
        else:
            feed(e)
        assert len(asked) <= 1 or len(set(asked)) == len(asked)
    while asked:  # the decoder eventually answers everything it was asked
        uid = asked.pop(0)
        feed(Decoded(uid, f"text {uid}"))

    stopped = [a.utterance_id for a in log if isinstance(a, StopRecording)]
    delivered = [a.utterance_id for a in log if isinstance(a, (Insert, ReportFailure))]
    assert delivered == stopped  # exactly once each, in spoken order
    assert s.queue == ()
    for a in log:
        if isinstance(a, Insert) and a.text != "stray":
            assert a.text == f"text {a.utterance_id}"
