"""Small things first seen in the emulated Pi (issue 30): each said once, stdout kept clean."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import pytest

from assistant.cli import main


def test_transcribe_says_auto_picks_pocketsphinx_once(
        tmp_path: Path, speak: object, caplog: pytest.LogCaptureFixture,
        repo_qa: Path) -> None:
    caplog.set_level(logging.INFO)
    wav = speak("where do you live")  # type: ignore[operator]
    config = tmp_path / "config.yaml"
    config.write_text(f"asr:\n  backend: auto\n  whisper_model: /no/whisper\n"
                      f"cache_dir: {tmp_path / 'cache'}\n")  # no Whisper: auto says why
    assert main(["transcribe", str(wav), "--config", str(config), "--qa", str(repo_qa)]) == 0
    said = [r for r in caplog.records if r.getMessage().startswith("asr.backend auto")]
    assert len(said) == 1, [r.getMessage() for r in said]


def test_say_out_prints_only_the_path_with_pyttsx3(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyttsx3")
    config = tmp_path / "config.yaml"
    config.write_text("tts:\n  backend: pyttsx3\n")
    out = tmp_path / "hello.wav"
    for _ in range(3):  # the espeak driver's message comes from a callback: try a few
        assert main(["say", "hello there", "--out", str(out), "--config", str(config)]) == 0
        assert capsys.readouterr().out.splitlines() == [str(out)]


def test_run_says_sigterm_once_however_often_it_comes(
        caplog: pytest.LogCaptureFixture) -> None:
    from assistant.commands.run import stop_handler

    caplog.set_level(logging.DEBUG)
    stop, stopping = threading.Event(), []
    on_signal = stop_handler(stop, lambda: stopping.append(1))
    for _ in range(2):  # under emulation the one SIGTERM was handled twice
        on_signal(signal.SIGTERM, None)
    assert stop.is_set() and stopping == [1]
    said = [r.getMessage() for r in caplog.records if "SIGTERM" in r.getMessage()]
    assert said == ["SIGTERM received: stopping", "SIGTERM received again: already stopping"]
    assert [r.levelno for r in caplog.records if "SIGTERM" in r.getMessage()] == \
        [logging.INFO, logging.DEBUG]
