"""Endpointing and silence trimming with the real Silero VAD on real speech,
offline and live through the PulseAudio virtual microphone."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

from audio.capture import MicCapture
from audio.decode import decode_audio
from audio.endpoint import Endpointer, EndpointEvent, speech_bounds, trim_silence
from audio.vad import FRAME_SECONDS, SileroVad
from tests.conftest import DATA, JFK_WAV, SILERO
from tests.test_capture import align
from tests.virtual_mic import VirtualMic, virtual_mic

SR = 16_000
LIBRI = DATA / "mfa" / "61-70968-0000.flac"  # 4.9 s, one sentence without long pauses


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad(SILERO)


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return decode_audio(JFK_WAV).samples


@pytest.fixture(scope="module")
def libri() -> np.ndarray:
    return decode_audio(LIBRI).samples


def quiet_noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 0.001).astype(np.float32)


def run(ep: Endpointer, samples: np.ndarray, block: int = 512) -> list[EndpointEvent]:
    events: list[EndpointEvent] = []
    for i in range(0, len(samples), block):
        events += ep.feed(samples[i : i + block])
    return events


@pytest.mark.parametrize("clip", ["libri", "jfk"])
def test_speech_then_silence_gives_start_then_end(vad: SileroVad, clip: str, request: pytest.FixtureRequest) -> None:
    speech = request.getfixturevalue(clip)
    silence_after = 1.0 if clip == "libri" else 1.5  # jfk.wav pauses 1.06 s after "Americans"
    ep = Endpointer(vad, silence_after=silence_after)
    events = run(ep, np.concatenate([speech, quiet_noise(2.5)]), block=500)  # blocks need not match 512
    assert [e.kind for e in events] == ["speech_start", "speech_end"]
    start, end = events
    assert 0.2 <= start.t <= 0.5  # both clips start talking 0.3-0.35 s in
    assert start.detected_at - start.t >= ep.min_speech
    speech_over = len(speech) / SR  # speech is over by the end of the file, whatever the VAD says
    assert end.t <= speech_over + FRAME_SECONDS  # decided per 32 ms chunk
    assert silence_after <= end.detected_at - end.t
    assert end.detected_at <= speech_over + silence_after + 0.2
    print(f"{clip}: speech_end decided {end.detected_at - speech_over:.3f} s after the file ended")


def test_pauses_shorter_than_silence_after_do_not_end_speech(vad: SileroVad, jfk: np.ndarray) -> None:
    events = run(Endpointer(vad, silence_after=1.0), np.concatenate([jfk, quiet_noise(2)]))
    kinds = [e.kind for e in events]
    assert kinds[0] == "speech_start" and kinds[-1] == "speech_end"
    assert all(a != b for a, b in itertools.pairwise(kinds))  # strictly alternating
    assert all(e.detected_at - e.t >= 1.0 for e in events if e.kind == "speech_end")
    long_events = run(Endpointer(vad, silence_after=1.5), jfk)
    assert [e.kind for e in long_events] == ["speech_start"]  # still talking at the end of the file


def test_no_speech_no_events(vad: SileroVad) -> None:
    ep = Endpointer(vad)
    assert run(ep, quiet_noise(3)) == [] and run(ep, np.zeros(SR, np.float32)) == []
    assert not ep.in_speech and ep.position == pytest.approx(4.0, abs=FRAME_SECONDS)


def test_state_machine_on_probabilities(vad: SileroVad) -> None:
    ep = Endpointer(vad, silence_after=0.32, min_speech=0.25)  # 10 and 8 chunks
    blip = ep.feed_probabilities(np.array([0.9] * 5 + [0.1] * 20))
    assert blip == []  # 0.16 s of "speech" is a click, not speech
    ev = ep.feed_probabilities(np.array([0.9] * 8 + [0.4] * 3 + [0.1] * 5 + [0.9] + [0.1] * 10))
    # 0.4 is between the thresholds: still speech; 5 quiet chunks are a pause, not the end
    assert [e.kind for e in ev] == ["speech_start", "speech_end"]
    assert ev[0].t == pytest.approx(25 * FRAME_SECONDS) and ev[0].detected_at == pytest.approx(33 * FRAME_SECONDS)
    assert ev[1].t == pytest.approx(42 * FRAME_SECONDS) and ev[1].detected_at == pytest.approx(52 * FRAME_SECONDS)
    ep.reset()
    assert ep.position == 0 and ep.feed_probabilities(np.array([0.9] * 8))[0].t == 0


def test_trim_silence_keeps_the_speech_and_drops_the_padding(vad: SileroVad, jfk: np.ndarray) -> None:
    for pad_kind, pad in (("zeros", np.zeros(2 * SR, np.float32)), ("noise", quiet_noise(2))):
        padded = np.concatenate([pad, jfk, pad])
        trimmed = trim_silence(padded, vad)
        bounds = speech_bounds(padded, vad)
        assert bounds is not None
        first, end = bounds
        assert np.array_equal(trimmed, padded[first:end])  # one contiguous slice, pauses inside kept
        keep = int((0.15 + FRAME_SECONDS) * SR)  # the pad (jfk talks to its very end) and one VAD chunk
        assert first >= 2 * SR - keep and end <= 2 * SR + len(jfk) + keep  # the added silence is gone
        assert len(trimmed) >= len(jfk) - 0.5 * SR  # only jfk's own lead-in/tail may go
        speech_energy = np.sum(np.square(jfk, dtype=np.float64))
        assert np.sum(np.square(trimmed, dtype=np.float64)) > 0.999 * speech_energy, pad_kind
        print(f"trim ({pad_kind}): {len(padded) / SR:.2f} s -> {len(trimmed) / SR:.2f} s")


def test_trim_keeps_a_single_short_word(vad: SileroVad, libri: np.ndarray) -> None:
    word = libri[int(0.28 * SR) : int(0.75 * SR)]  # the first word or two, under half a second
    trimmed = trim_silence(np.concatenate([quiet_noise(1), word, quiet_noise(1, seed=1)]), vad)
    assert 0.2 * SR <= len(trimmed) <= len(word) + 0.4 * SR


def test_all_silence_trims_to_nothing(vad: SileroVad) -> None:
    for x in (np.zeros(3 * SR, np.float32), quiet_noise(3), np.zeros(0, np.float32)):
        out = trim_silence(x, vad)
        assert out.dtype == np.float32 and len(out) == 0


def test_trim_rejects_stereo(vad: SileroVad) -> None:
    with pytest.raises(ValueError, match="mono"):
        trim_silence(np.zeros((SR, 2), np.float32), vad)


def test_toggle_mode_stops_by_itself_on_the_virtual_microphone(
    virtual_mic: VirtualMic, vad: SileroVad, libri: np.ndarray
) -> None:
    silence_after = 1.0
    ep = Endpointer(vad, silence_after=silence_after)
    events: list[EndpointEvent] = []
    done = threading.Event()
    result: list[np.ndarray] = []

    def on_block(block: np.ndarray) -> None:  # MicCapture's audio thread
        for e in ep.feed(block):
            events.append(e)
            if e.kind == "speech_end":
                result.append(cap.end())
                done.set()

    cap = MicCapture(device=virtual_mic.device, on_block=on_block)
    with cap:
        assert cap.wait_ready()
        cap.begin()
        virtual_mic.play(LIBRI)
        assert done.wait(timeout=silence_after + 5), f"no speech_end; events: {events}"
    assert [e.kind for e in events] == ["speech_start", "speech_end"]
    got = result[0]
    offset, r = align(libri, got)
    assert r > 0.9
    file_end = (len(libri) - offset) / SR  # where the played file ended, in utterance time
    end = events[1]
    assert len(got) / SR == pytest.approx(end.detected_at, abs=0.05)  # end() cut at the deciding block
    assert end.detected_at <= file_end + silence_after + 0.2
    print(f"live: speech_end decided {end.detected_at - file_end:.3f} s after the file ended (r={r:.3f})")
