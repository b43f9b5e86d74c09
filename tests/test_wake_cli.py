"""`assistant wake FILE` and the wake word's bad input at `check` time: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audio.files import write_wav
from assistant.cli import main
from tests.conftest import espeak_audio, join_with_silence

pytest.importorskip("pymicro_wakeword", reason="pip install pymicro-wakeword")


def test_wake_prints_each_detection_with_time_and_score(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_wav(tmp_path / "two.wav", join_with_silence(
        [espeak_audio("alexa, what time is it"), espeak_audio("hello there"),
         espeak_audio("alexa")], gap_s=2.0))
    assert main(["wake", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    times = [float(line.split("\t")[1].rstrip("s")) for line in lines]
    assert times[0] < times[1]
    assert all("Alexa" in line for line in lines)


def test_wake_not_detected_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_wav(tmp_path / "none.wav", espeak_audio("what time is it"))
    assert main(["wake", str(path)]) == 0
    assert "not detected" in capsys.readouterr().out


def config_with(tmp_path: Path, repo_config: Path, wake: str) -> Path:
    config = tmp_path / "config.yaml"
    base = repo_config.read_text().split("\nwake:")[0]  # the repository's wake section off
    config.write_text(base + "\nwake:\n  enabled: true\n" + wake)
    return config


@pytest.mark.parametrize("wake,message", [
    ("  word: computer\n", "unknown wake word 'computer'; bundled: alexa, okay_nabu"),
    ("  word: /nowhere/model.json\n", "not found"),
    ("  threshold: 1.5\n", "'wake.threshold' is 1.5; it must be between 0 and 1"),
])
def test_check_rejects_bad_wake_config(tmp_path: Path, repo_config: Path, repo_qa: Path,
                                       capsys: pytest.CaptureFixture[str], wake: str,
                                       message: str) -> None:
    config = config_with(tmp_path, repo_config, wake)
    assert main(["check", "--config", str(config), "--qa", str(repo_qa),
                 "--no-models"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_check_corrupt_model_file(tmp_path: Path, repo_config: Path, repo_qa: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "mine.json"
    model.write_text('{"model": "mine.tflite", "wake_word": "Mine", "micro": '
                     '{"probability_cutoff": 0.9, "sliding_window_size": 5}}')
    (tmp_path / "mine.tflite").write_bytes(b"not a tflite model")
    config = config_with(tmp_path, repo_config, f"  word: {model}\n")
    assert main(["check", "--config", str(config), "--qa", str(repo_qa),
                 "--no-models"]) == 2
    assert "cannot be loaded" in capsys.readouterr().err


def test_check_shows_the_wake_word(tmp_path: Path, repo_config: Path, repo_qa: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = config_with(tmp_path, repo_config, "  word: okay_nabu\n")
    assert main(["check", "--config", str(config), "--qa", str(repo_qa), "--no-models"]) == 0
    assert "wake word:  okay_nabu" in capsys.readouterr().out
