"""While a spotted "stop" is being checked, the answer is held (the loudspeaker plays
silence): a stop is silent at once, and a phrase that was not one lets the answer go on.
Real pocketsphinx spotting and webrtcvad on espeak-ng's "stop"; the second opinion is a
stand-in (Whisper's own check is tested in test_interrupt_canceller.py and the room bench)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from assistant.audio.sinks import HOLD_MAX_S, NullSink, held_blocks
from assistant.audio.types import Audio
from assistant.config import InterruptConfig
from assistant.interrupt.barge import Interrupter
from assistant.interrupt.canceller import ServerCanceller
from assistant.interrupt.rule import StopRule
from assistant.interrupt.spotter import StopSpotter
from assistant.vad.webrtc import WebRtcVad
from tests.conftest import espeak_audio, trim


class Hold:
    def __init__(self) -> None:
        self.stopped, self.held = threading.Event(), threading.Event()
        self.blocks = 0

    def played(self, audio: Audio, at_s: float | None = None) -> None:
        self.blocks += 1


def test_a_held_answer_waits_and_a_hold_never_outlasts_its_limit() -> None:
    hold = Hold()
    assert list(held_blocks(hold)) == []  # not held: nothing to wait for
    hold.held.set()
    assert len(list(held_blocks(hold))) == int(HOLD_MAX_S / 0.04)  # a stuck hold ends itself
    hold.stopped.set()
    assert list(held_blocks(hold)) == []


def test_a_stopped_hold_ends_playback() -> None:
    hold = Hold()
    hold.held.set()
    threading.Timer(0.2, hold.stopped.set).start()
    NullSink(realtime=True).play_stream([Audio.silence(3.0)], hold)
    assert hold.blocks == 0  # held from the first block, then stopped: nothing more played


def room_with_stop(level: float = 0.3) -> Audio:
    rng = np.random.default_rng(0)
    quiet = lambda s: rng.normal(0, 30, int(16000 * s))  # noqa: E731  (the residual echo)
    stop = trim(espeak_audio("stop")).samples.astype(np.float64)
    stop *= level * 32767 / np.abs(stop).max()
    return Audio(np.concatenate([quiet(3.0), stop, quiet(1.0)]).astype(np.int16))


@pytest.mark.parametrize("verdict, stops", [(" Stop.", True), (" It's time.", False)])
def test_a_spot_holds_the_answer_until_the_check_says(verdict: str, stops: bool) -> None:
    seen: list[bool] = []

    def check(audio: Audio) -> str:
        seen.append(interrupter.held.is_set())
        return verdict

    spotter = StopSpotter.load(("stop",), InterruptConfig().threshold)
    interrupter = Interrupter(ServerCanceller(), spotter, StopRule(), vad=WebRtcVad(3),
                              verify=check)
    interrupter.begin()
    room = room_with_stop()
    for i in range(0, len(room.samples), 480):
        interrupter.hear(Audio(room.samples[i:i + 480], 16000, i / 16))
    assert seen == [True]  # held while checked
    assert interrupter.stopped.is_set() is stops
    assert interrupter.held.is_set() is stops  # not a stop: the answer goes on
    interrupter.end()
    assert not interrupter.held.is_set()
