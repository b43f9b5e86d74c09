"""The mute switch: `assistant mute on|off` and a daemon that honours it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.wake import mute
from assistant.wake.mute import MuteSwitch
from tests.test_wake_run import run


def test_mute_command_toggles_the_state_file(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "muted"
    monkeypatch.setattr(mute, "mute_path", lambda cfg: path)
    assert main(["mute", "on"]) == 0 and path.exists()
    assert main(["mute"]) == 0
    assert main(["mute", "off"]) == 0 and not path.exists()
    assert capsys.readouterr().out.split("\n")[:3] == ["muted", "muted", "not muted"]


def test_switch_sees_the_file_at_once_and_logs(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    now = [0.0]
    switch = MuteSwitch(tmp_path / "muted", poll_s=0.25, clock=lambda: now[0])
    assert not switch.muted()
    mute.set_muted(switch.path, True)
    now[0] += 0.3
    assert switch.muted()
    mute.set_muted(switch.path, False)
    now[0] += 0.3
    assert not switch.muted()
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "microphone muted", "microphone unmuted"]


@pytest.mark.parametrize("muted", [True, False])
def test_muted_daemon_answers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      repo_config: Path, repo_qa: Path, muted: bool) -> None:
    path = tmp_path / "muted"
    mute.set_muted(path, muted)
    monkeypatch.setattr(mute, "mute_path", lambda cfg: path)
    config = tmp_path / "config.yaml"
    config.write_text(repo_config.read_text().replace("backend: pyttsx3", "backend: espeak"))
    recognizer, out = run(tmp_path, config, repo_qa, ["where do you live"], 1.0, monkeypatch,
                          [] if muted else ["where do you live"])
    assert len(recognizer.heard) == (0 if muted else 1)
    assert len(list(out.glob("answer_*.wav"))) == (0 if muted else 1)
