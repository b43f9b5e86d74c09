"""The daemon's recovery, in process: a microphone that fails mid-stream and on reopen is
reported once and resumed; a stop in the middle of an utterance leaves without waiting for it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.answerer import Answerer
from assistant.asr import Transcript
from assistant.audio.types import Audio
from assistant.config import VadConfig
from assistant.daemon import Daemon, State
from assistant.errors import AudioError
from assistant.kb.knowledge import load_kb
from assistant.pipeline import Exchange, Pipeline
from assistant.vad import WebRtcVad, segmenter_settings
from tests.conftest import espeak_audio, join_with_silence
from tests.test_reload import OLD, WordEmbedder
from tests.test_run_pipeline import ScriptedRecognizer

BLOCK = 480  # 30 ms


def blocks(audio: Audio, start_ms: float = 0.0) -> Iterator[Audio]:
    for i in range(0, len(audio.samples), BLOCK):
        yield Audio(audio.samples[i:i + BLOCK], 16000, start_ms + 1000.0 * i / 16000)


class FlakyMicrophone:
    """Plays silence then dies; fails to reopen twice; then comes back with a question and
    keeps delivering silence until stopped, like a real device."""

    realtime = True

    def __init__(self, question: Audio) -> None:
        self.question = question
        self.opens = 0

    def chunks(self, stop: threading.Event) -> Iterator[Audio]:
        self.opens += 1
        if self.opens == 1:
            yield from blocks(Audio.silence(0.5))
            raise AudioError("the microphone stream stopped (device unplugged?)", "input-lost")
        if self.opens in (2, 3):
            raise AudioError("no input device 'USB mic'", "unknown-device")
        yield from blocks(join_with_silence([self.question], gap_s=1.5))
        t = 0.0
        while not stop.is_set():
            yield Audio(np.zeros(BLOCK, np.int16), 16000, 10_000 + t)
            t += 30.0
            stop.wait(0.005)


def make_daemon(source: FlakyMicrophone, recognizer: ScriptedRecognizer, answerer: Answerer,
                **hooks: Any) -> Daemon:
    return Daemon(source, WebRtcVad(2), segmenter_settings(VadConfig(preset="fast")),
                  Pipeline(recognizer, answerer), reconnect_max_s=0.05, **hooks)


@pytest.fixture
def answerer(tmp_path: Path) -> Answerer:
    qa = tmp_path / "qa.yaml"
    qa.write_text(OLD, encoding="utf-8")
    return Answerer(load_kb(qa), WordEmbedder(), 0.6, None)


def test_lost_microphone_is_reported_once_and_resumed(
        answerer: Answerer, caplog: pytest.LogCaptureFixture) -> None:
    source = FlakyMicrophone(espeak_audio("where do you live"))
    stop = threading.Event()
    exchanges: list[Exchange] = []
    states: list[State] = []
    ticks = [0]

    def on_exchange(ex: Exchange) -> None:
        exchanges.append(ex)
        stop.set()

    def tick() -> None:
        ticks[0] += 1

    daemon = make_daemon(source, ScriptedRecognizer(["where do you live"]), answerer,
                         on_exchange=on_exchange, on_state=states.append, on_tick=tick)
    caplog.set_level(logging.DEBUG, "assistant.daemon")
    runner = threading.Thread(target=daemon.run, args=(stop, True))
    runner.start()
    runner.join(30)
    stop.set()
    runner.join(5)
    assert not runner.is_alive()
    assert source.opens == 4
    assert [ex.answer for ex in exchanges] == ["I live in Kathmandu."]
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    lost = [m for level, m in messages if level == logging.ERROR]
    assert len(lost) == 1 and lost[0].startswith("microphone lost: the microphone stream stopped")
    assert len([m for level, m in messages if m.startswith("microphone still unavailable")]) == 2
    assert len([m for _, m in messages if m.startswith("microphone back after")]) == 1
    first_lost = states.index(State.NO_MICROPHONE)
    assert states[first_lost + 1] is State.LISTENING  # back, then the question
    assert states[first_lost + 1:].count(State.NO_MICROPHONE) == 0
    assert State.HEARING in states[first_lost:] and ticks[0] > 50


class BlockedRecognizer(ScriptedRecognizer):
    """Recognition that does not finish until the test lets it."""

    def __init__(self) -> None:
        super().__init__(["where do you live"] * 2)
        self.entered = threading.Event()
        self.release = threading.Event()

    def transcribe(self, audio: Audio) -> Transcript:
        self.entered.set()
        self.release.wait(30)
        return super().transcribe(audio)


def test_stop_mid_utterance_leaves_without_it(answerer: Answerer) -> None:
    recognizer = BlockedRecognizer()
    source = FlakyMicrophone(espeak_audio("where do you live"))
    source.opens = 3  # a working microphone from the start
    exchanges: list[Exchange] = []
    daemon = make_daemon(source, recognizer, answerer, on_exchange=exchanges.append)
    stop = threading.Event()
    runner = threading.Thread(target=daemon.run, args=(stop, True))
    runner.start()
    try:
        assert recognizer.entered.wait(30)
        stop.set()  # SIGTERM while the utterance is being recognized
        runner.join(10)
        assert not runner.is_alive()
        assert daemon.busy and exchanges == []  # dropped: `assistant run` exits at once
    finally:
        recognizer.release.set()
