"""The papercuts of issue #13, each as a new user would meet it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.audio.files import write_wav
from assistant.cli import main
from tests.conftest import espeak_audio


def _errors(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if "error[" in line]


def _no_loudspeaker() -> None:
    from assistant.audio.devices import list_devices
    from assistant.errors import AudioError

    try:
        if any(d["outputs"] for d in list_devices()):
            pytest.skip("this machine has a loudspeaker")
    except AudioError:
        pass


def test_no_loudspeaker_is_one_line_and_the_daemon_keeps_going(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
        repo_config: Path, repo_qa: Path) -> None:
    _no_loudspeaker()
    for argv in (["say", "hello"], ["ask", "--speak", "who are you"]):
        code = main([*argv, "--config", str(repo_config), "--qa", str(repo_qa)]
                    if argv[0] == "ask" else [*argv, "--config", str(repo_config)])
        (line,) = _errors(capsys.readouterr().err)
        assert code == 2 and line.startswith("error[audio:no-output]")
        assert "--out" in line and "audio.output_device" in line and "assistant devices" in line
    clip = write_wav(tmp_path / "two.wav", espeak_audio("who are you"))
    caplog.set_level(logging.INFO)
    assert main(["run", "--config", str(repo_config), "--qa", str(repo_qa), "--asr",
                 "pocketsphinx", "--input", str(clip), "--fast"]) == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "no loudspeaker" in errors[0]
    assert not any(r.exc_info for r in caplog.records)
    heard = [r.getMessage() for r in caplog.records if r.getMessage().startswith("heard")]
    assert len(heard) == 1 and "who are you" in heard[0]
