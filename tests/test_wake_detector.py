"""The real microWakeWord models on real espeak-ng speech, and bad input."""

import numpy as np
import pytest
from conftest import espeak_audio

from assistant.audio.types import Audio
from assistant.errors import WakeError

pytest.importorskip("pymicro_wakeword", reason="pip install pymicro-wakeword")
from assistant.wake.micro import MicroDetector  # noqa: E402


def detect(word: str, text: str) -> list:
    d = MicroDetector.load(word)
    sil = np.zeros(16000, dtype=np.int16)
    samples = np.concatenate([sil, espeak_audio(text).samples, sil])
    found = []
    for i in range(0, len(samples), 480):  # 30 ms blocks, as from the microphone
        found += d.process(Audio(samples[i:i + 480], timestamp_ms=5000 + i / 16))
    return found


@pytest.mark.parametrize("word,text", [("alexa", "alexa, where do you live"),
                                       ("okay_nabu", "okay nabu, what time is it")])
def test_bundled_word_detected_once_with_stream_time(word: str, text: str) -> None:
    found = detect(word, text)
    assert len(found) == 1
    assert found[0].time_ms > 6000  # after the leading second of silence, on stream time
    assert found[0].score > 0.5


def test_speech_without_the_wake_word_wakes_nothing() -> None:
    assert detect("alexa", "where do you live and what time is it in london") == []


def test_unknown_word_lists_the_bundled_ones() -> None:
    with pytest.raises(WakeError, match="bundled: alexa, okay_nabu"):
        MicroDetector.load("computer")


def test_missing_and_corrupt_model_files(tmp_path) -> None:
    with pytest.raises(WakeError, match="not found"):
        MicroDetector.load(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(WakeError, match="cannot be loaded"):
        MicroDetector.load(str(bad))
