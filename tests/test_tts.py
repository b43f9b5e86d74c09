"""Offline speech through pyttsx3 (espeak-ng): answers come out whole, at the configured rate."""

from __future__ import annotations

import pytest

from assistant.config import TtsConfig
from assistant.tts import SpeechThread, load_synthesizer

ANSWER = "I live inside this computer, in Kathmandu."


def test_each_synthesizer_keeps_its_rate_when_another_one_speaks() -> None:
    """espeak-ng's rate is global to the process and pyttsx3 hands every caller the same
    engine: a second synthesizer (a reload, the web page, a test) must not speed up or slow
    down the first one's answers. It did: answers came out at the other's rate."""
    pytest.importorskip("pyttsx3")
    normal = load_synthesizer(TtsConfig(rate_wpm=170))
    first = normal.synthesize(ANSWER).duration_s
    slow = load_synthesizer(TtsConfig(rate_wpm=110))
    slow_s = slow.synthesize(ANSWER).duration_s
    assert slow_s > 1.3 * first
    assert normal.synthesize(ANSWER).duration_s == pytest.approx(first, abs=0.02)
    assert slow.synthesize(ANSWER).duration_s == pytest.approx(slow_s, abs=0.02)


def test_speech_thread_speaks_from_any_thread() -> None:
    pytest.importorskip("pyttsx3")
    speech = SpeechThread(TtsConfig())
    try:
        audio = speech.synthesize(ANSWER)
    finally:
        speech.close()
    assert audio.duration_s > 1.5 and abs(audio.samples).max() > 1000
