"""`assistant run --input FILE --fast` with the wake word on: like the microphone."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from assistant.audio.files import write_wav
from assistant.audio.types import Audio
from assistant.cli import main
from assistant.commands import run as run_command
from tests.conftest import espeak_audio, join_with_silence
from tests.test_run_pipeline import ScriptedRecognizer

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pymicro_wakeword") is None,
                                reason="pip install pymicro-wakeword")


def wake_config(tmp_path: Path, repo_config: Path, follow_up_s: float = 5.0) -> Path:
    config = tmp_path / "config.yaml"
    base = repo_config.read_text().split("\nwake:")[0]  # the repository's wake section off
    config.write_text(base.replace("backend: pyttsx3", "backend: espeak")
                      + f"\nwake:\n  enabled: true\n  word: alexa\n  follow_up_s: {follow_up_s}\n")
    return config


def run(tmp_path: Path, config: Path, repo_qa: Path, parts: list[str],
        gaps_s: float | list[float], monkeypatch: pytest.MonkeyPatch,
        texts: list[str]) -> tuple[ScriptedRecognizer, Path]:
    gaps = gaps_s if isinstance(gaps_s, list) else [gaps_s] * (len(parts) - 1)
    pieces = [espeak_audio(parts[0])]
    for text, gap in zip(parts[1:], gaps, strict=True):
        pieces += [Audio.silence(gap), espeak_audio(text)]
    path = write_wav(tmp_path / "scene.wav", join_with_silence([Audio.concat(pieces)], 1.0))
    recognizer = ScriptedRecognizer(texts)
    monkeypatch.setattr(run_command, "build_recognizer", lambda cfg, phrases=None: recognizer)
    out = tmp_path / "answers"
    assert main(["run", "--config", str(config), "--qa", str(repo_qa), "--input", str(path),
                 "--fast", "--out", str(out)]) == 0
    return recognizer, out


def test_question_in_one_breath_then_follow_up_then_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        repo_config: Path, repo_qa: Path) -> None:
    caplog.set_level(logging.INFO)
    recognizer, out = run(
        tmp_path, wake_config(tmp_path, repo_config), repo_qa,
        ["alexa, where do you live", "what is your name", "where do you live"], [1.5, 8.0],
        monkeypatch, ["where do you live", "what is your name", "where do you live"])
    # the first two are answered (the second in the follow-up window without the wake word)
    assert len(recognizer.heard) == 2
    assert len(list(out.glob("answer_*.wav"))) == 2
    # the wake word's own audio was not sent to the recognizer
    full = espeak_audio("alexa, where do you live").duration_s
    assert recognizer.heard[0] < full
    wakes = [r.getMessage() for r in caplog.records if r.name == "assistant.wake"]
    assert any(m.startswith("wake word Alexa at") for m in wakes)


def test_no_wake_word_no_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                repo_config: Path, repo_qa: Path) -> None:
    recognizer, out = run(tmp_path, wake_config(tmp_path, repo_config), repo_qa,
                          ["where do you live", "what is your name"], 2.0, monkeypatch, [])
    assert recognizer.heard == []
    assert list(out.glob("answer_*.wav")) == []


def test_wake_word_then_question_after_a_pause_then_silence_ends_follow_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_config: Path,
        repo_qa: Path) -> None:
    recognizer, out = run(
        tmp_path, wake_config(tmp_path, repo_config, follow_up_s=2), repo_qa,
        ["alexa", "where do you live", "what is your name"], 4.0, monkeypatch,
        ["where do you live"])
    assert len(recognizer.heard) == 1  # the third came after the 2 s follow-up window
    assert len(list(out.glob("answer_*.wav"))) == 1
