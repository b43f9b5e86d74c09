"""The listening loop's decisions: speculative recognition, and ignoring its own voice."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.answerer import Answerer
from assistant.asr import Transcript
from assistant.audio.files import write_wav
from assistant.audio.sinks import NullSink
from assistant.audio.sources import FileSource
from assistant.audio.types import Audio, to_pipeline
from assistant.config import TtsConfig
from assistant.daemon import Daemon, State
from assistant.kb.knowledge import load_kb
from assistant.pipeline import Exchange, Pipeline
from assistant.tts import SpeechThread, load_synthesizer
from assistant.vad import PRESETS, WebRtcVad
from tests.conftest import REPO, espeak_audio, join_with_silence, trim


class EchoRecognizer:
    """Hears 'where do you live' in anything, remembering how much audio it was given."""

    name = "echo"

    def __init__(self) -> None:
        self.durations_s: list[float] = []

    def adapt(self, phrases: object) -> None:
        pass

    def transcribe(self, audio: Audio) -> Transcript:
        self.durations_s.append(round(audio.duration_s, 2))
        return Transcript("where do you live", self.name)


@pytest.fixture(scope="module")
def answerer(minilm: object) -> Answerer:
    return Answerer(load_kb(REPO / "qa.yaml"), minilm, 0.5)


def run_daemon(path: Path, answerer: Answerer, speculative: bool,
               sink: NullSink | None = None) -> tuple[EchoRecognizer, list[Exchange],
                                                     list[State]]:
    rec = EchoRecognizer()
    exchanges: list[Exchange] = []
    states: list[State] = []
    speech = SpeechThread(TtsConfig(backend="espeak"))
    daemon = Daemon(FileSource(path, realtime=True), WebRtcVad(2), PRESETS["default"],
                    Pipeline(rec, answerer, speech, sink or NullSink()),
                    on_exchange=exchanges.append, on_state=states.append,
                    speculative=speculative)
    daemon.run(threading.Event())
    speech.close()
    return rec, exchanges, states


def test_speculative_result_is_used_when_the_silence_completes(
        tmp_path: Path, answerer: Answerer) -> None:
    path = write_wav(tmp_path / "q.wav",
                     join_with_silence([espeak_audio("where do you live")], gap_s=1.5))
    rec, exchanges, states = run_daemon(path, answerer, speculative=True)
    assert len(exchanges) == 1 and exchanges[0].answer is not None
    assert "Kathmandu" in exchanges[0].answer
    # recognized once, on the utterance without its trailing hangover (0.5 s)
    assert len(rec.durations_s) == 1
    assert exchanges[0].audio.duration_s == pytest.approx(rec.durations_s[0], abs=0.02)
    assert states[:4] == [State.HEARING, State.THINKING, State.SPEAKING, State.LISTENING]


def test_a_pause_shorter_than_the_hangover_discards_the_guess(
        tmp_path: Path, answerer: Answerer) -> None:
    first, second = trim(espeak_audio("where do you")), trim(espeak_audio("live in the city"))
    pause = Audio.silence(0.3)
    stream = join_with_silence([Audio(np.concatenate([first.samples, pause.samples,
                                                      second.samples]))], gap_s=1.5)
    path = write_wav(tmp_path / "pause.wav", stream)
    rec, exchanges, _ = run_daemon(path, answerer, speculative=True)
    assert len(exchanges) == 1
    # a guess at the pause, then the whole utterance: the answer used the longer one
    assert len(rec.durations_s) >= 2
    assert exchanges[0].audio.duration_s == max(rec.durations_s)


def test_without_speculation_recognition_waits_for_the_hangover(
        tmp_path: Path, answerer: Answerer) -> None:
    path = write_wav(tmp_path / "q.wav",
                     join_with_silence([espeak_audio("where do you live")], gap_s=1.5))
    rec, exchanges, _ = run_daemon(path, answerer, speculative=False)
    assert len(exchanges) == 1 and len(rec.durations_s) == 1
    # the utterance now includes the 0.5 s of silence that ended it
    speech_s = exchanges[0].audio.duration_s
    assert speech_s >= 0.5


def test_its_own_voice_is_not_heard(tmp_path: Path, answerer: Answerer) -> None:
    """While the answer plays (real time), the question's echo in the stream is ignored."""
    question = espeak_audio("where do you live")
    spoken = load_synthesizer(TtsConfig(backend="espeak")).synthesize(
        "I live inside this computer, in Kathmandu.")
    answer_echo = to_pipeline(spoken.samples, spoken.rate_hz)  # what the microphone picks up
    stream = join_with_silence([question, answer_echo], gap_s=0.55)
    path = write_wav(tmp_path / "echo.wav", stream)
    rec, exchanges, _ = run_daemon(path, answerer, speculative=True,
                                   sink=NullSink(realtime=True))
    assert len(exchanges) == 1


class WatchedSpeech(SpeechThread):
    """The real speech thread, noting the daemon's state whenever a rendering is asked for."""

    def __init__(self, states: list[State]) -> None:
        super().__init__(TtsConfig(backend="espeak"))
        self.states, self.asked_in = states, []

        self.warmed_in: list[tuple[State | None, list[str]]] = []

    def submit(self, text: str) -> object:
        self.asked_in.append(self.states[-1] if self.states else None)
        return super().submit(text)

    def warm(self, texts: object) -> None:
        texts = list(texts)
        self.warmed_in.append((self.states[-1] if self.states else None, texts))
        super().warm(texts)


def test_the_answer_is_rendered_while_the_hangover_runs(
        tmp_path: Path, answerer: Answerer) -> None:
    """The speculation starts the answer's sound too: it is asked for while the daemon still
    hears (before the turn has ended), once, and is what gets played."""
    path = write_wav(tmp_path / "q.wav",
                     join_with_silence([espeak_audio("where do you live")], gap_s=1.5))
    states: list[State] = []
    speech = WatchedSpeech(states)
    daemon = Daemon(FileSource(path, realtime=True), WebRtcVad(2), PRESETS["default"],
                    Pipeline(EchoRecognizer(), answerer, speech, NullSink()),
                    on_exchange=(exchanges := []).append, on_state=states.append)
    daemon.run(threading.Event())
    speech.close()
    assert len(exchanges) == 1 and "Kathmandu" in exchanges[0].answer
    assert speech.asked_in == [State.HEARING]
    # as soon as speech began, the answers that hold the time or date were rendered for now
    assert speech.warmed_in and speech.warmed_in[0][0] is State.HEARING
    assert any(t.startswith("It is ") for t in speech.warmed_in[0][1])
    assert speech.synthesized >= 2  # that, and the answer


def test_a_guess_dropped_when_speech_resumes_is_never_played(
        tmp_path: Path, answerer: Answerer) -> None:
    first, second = trim(espeak_audio("where do you")), trim(espeak_audio("live in the city"))
    stream = join_with_silence([Audio(np.concatenate([first.samples, Audio.silence(0.3).samples,
                                                      second.samples]))], gap_s=1.5)
    path = write_wav(tmp_path / "pause.wav", stream)
    sink = NullSink()
    rec, exchanges, _ = run_daemon(path, answerer, speculative=True, sink=sink)
    assert len(exchanges) == 1 and exchanges[0].answer is not None
    assert len(sink.first_sample_at) == 1  # one answer played, the stale guess's never
