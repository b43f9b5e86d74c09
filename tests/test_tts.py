"""Offline speech through pyttsx3 (espeak-ng): answers come out whole, the same every time."""

from __future__ import annotations

import pytest

from assistant.config import TtsConfig
from assistant.tts import SpeechThread

ANSWER = "I live inside this computer, in Kathmandu."


def test_the_daemon_speaks_every_answer_whole_and_alike() -> None:
    """The daemon's one TTS thread, as `assistant run` uses it: the same answer asked again
    comes out the same length (no empty or cut-off renders), and a longer answer is longer.

    Not tested, because pyttsx3 2.99 does not do it: two synthesizers with different rates in
    one process. espeak-ng's rate is global and a change sometimes lands one render late, so
    the assistant keeps one synthesizer per process."""
    pytest.importorskip("pyttsx3")
    speech = SpeechThread(TtsConfig(backend="pyttsx3"))
    try:
        lengths = {round(speech.synthesize(ANSWER).duration_s, 1) for _ in range(5)}
        longer = speech.synthesize(ANSWER + " " + ANSWER).duration_s
    finally:
        speech.close()
    assert len(lengths) == 1
    assert longer > 1.6 * lengths.pop()
