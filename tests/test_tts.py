"""Offline speech through pyttsx3 (espeak-ng): answers come out whole, the same every time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio.types import Audio, trim_lead
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


def test_answers_start_with_their_first_sound_not_with_silence() -> None:
    """Piper begins answers with up to 250 ms of silence; the listener should not wait it."""
    rate = 22050
    tone = (8000 * np.sin(np.arange(rate // 2) * 0.2)).astype(np.int16)
    padded = Audio(np.concatenate([np.zeros(rate // 4, np.int16), tone]), rate)
    trimmed = trim_lead(padded)
    assert trimmed.duration_s == pytest.approx(0.5 + 0.01, abs=0.011)
    assert np.array_equal(trimmed.samples[-len(tone):], tone)  # the sound itself is untouched
    silent = Audio.silence(0.3, rate)
    assert trim_lead(silent) is silent  # nothing to find: nothing cut


def test_a_rendering_cancelled_before_it_starts_is_skipped_and_the_voice_goes_on() -> None:
    """The daemon renders a speculative answer during the hangover and drops it when the
    speaker goes on; the speech thread must skip it and keep serving."""
    speech = SpeechThread(TtsConfig(backend="espeak"))
    try:
        first = speech.submit(ANSWER + " " + ANSWER)
        dropped = speech.submit("this one is never spoken")
        dropped.cancel()
        assert first.result(timeout=30).duration_s > 1.0
        assert speech.synthesize("still here").duration_s > 0.2
        assert speech.wait_idle(10)
    finally:
        speech.close()


def test_the_time_answer_rendered_while_someone_speaks_is_not_rendered_again(
        tmp_path: Path) -> None:
    """`warm` renders into memory (not the disk cache: the time changes every minute); the
    answer asked for afterwards is that audio, with no second render."""
    speech = SpeechThread(TtsConfig(backend="espeak"), tmp_path)
    try:
        speech.warm(["It is 7:05."])
        assert speech.wait_idle(30)
        rendered = speech.synthesized
        assert rendered == 1
        assert speech.synthesize("It is 7:05.").duration_s > 0.3
        assert speech.synthesized == rendered
        assert not speech.cached("It is 7:05.")
        speech.warm(["It is 7:05."])  # asked again within the minute: nothing to do
        assert speech.wait_idle(30) and speech.synthesized == rendered
    finally:
        speech.close()
