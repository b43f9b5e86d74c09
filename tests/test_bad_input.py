"""Every input a user can get wrong: one line naming the file/field/value, exit code 2, no
traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.audio.files import write_wav
from assistant.audio.types import Audio
from assistant.cli import main

GOOD_QA = """\
entries:
  - answer: "Hi."
    questions: ["Hello"]
"""


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    return code, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(("config", "expected"), [
    ("vad:\n  preset: fast\n  hangover_s: [oops\n", ["line 3", "malformed YAML"]),
    ("vad:\n  hangover: 0.5\n", ["unknown field 'vad.hangover'", "hangover_s"]),
    ("vad:\n  aggressiveness: loud\n", ["vad.aggressiveness", "'loud'", "int"]),
    ("vad:\n  aggressiveness: 7\n", ["vad.aggressiveness", "7", "between 0 and 3"]),
    ("asr:\n  backend: kaldi\n", ["asr.backend", "'kaldi'", "pocketsphinx"]),
    ("audio: 5\n", ["'audio' must be a mapping"]),
])
def test_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str,
                    expected: list[str]) -> None:
    cfg = write(tmp_path, "config.yaml", config)
    code, err = run_cli(capsys, "check", "--no-models", "--config", str(cfg))
    line = one_line(err)
    assert code == 2
    assert str(cfg) in line
    for part in expected:
        assert part in line


@pytest.mark.parametrize(("qa", "expected"), [
    ("entries:\n  - answer: 'x'\n    questions: ['a'\n", ["malformed YAML", "line"]),
    ("entries: []\n", ["empty", "entries"]),
    ("fallback: 'no'\n", ["empty"]),
    ("entries:\n  - answer: 'x'\n    questions: ['Hello', 'hello!']\n",
     ["duplicate question", "entries[1].questions[2]", "entries[1].questions[1]"]),
    ("entries:\n  - answer: 'x'\n    question: ['Hello']\n", ["unknown field 'question'"]),
    ("entries:\n  - answer: 42\n    questions: ['Hello']\n", ["entries[1].answer", "42"]),
    ("entries:\n  - answer: 'x'\n    questions: []\n", ["entries[1].questions"]),
    ("- just a list\n", ["mapping"]),
])
def test_bad_knowledge_base(tmp_path: Path, capsys: pytest.CaptureFixture[str], qa: str,
                            expected: list[str]) -> None:
    path = write(tmp_path, "qa.yaml", qa)
    code, err = run_cli(capsys, "check", "--no-models", "--config", "/dev/null",
                        "--qa", str(path))
    line = one_line(err)
    assert code == 2 and str(path) in line
    for part in expected:
        assert part in line


def test_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "check", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2 and "config file not found" in one_line(err)
    code, err = run_cli(capsys, "check", "--no-models", "--config", "/dev/null",
                        "--qa", str(tmp_path / "nope.yaml"))
    assert code == 2 and "knowledge base not found" in one_line(err)


@pytest.mark.parametrize(("make", "expected"), [
    (lambda d: d / "missing.wav", "not found"),
    (lambda d: write(d, "notes.wav", "this is text, not audio"), "not a readable"),
    (lambda d: write_wav(d / "silent.wav", Audio.silence(1.0)), "silent"),
    (lambda d: d, "folder"),
])
def test_bad_audio_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object,
                         expected: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    code, err = run_cli(capsys, "transcribe", str(path), "--config", "/dev/null",
                        "--asr", "pocketsphinx")
    line = one_line(err)
    assert code == 2 and expected in line and str(path) in line


def test_unknown_devices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write(tmp_path, "config.yaml", "audio:\n  input_device: 'No Such Microphone'\n")
    code, err = run_cli(capsys, "run", "--config", str(cfg))
    line = one_line(err)
    assert code == 2 and "'No Such Microphone'" in line and "assistant devices" in line
    cfg = write(tmp_path, "out.yaml", "audio:\n  output_device: 'No Such Speaker'\n")
    code, err = run_cli(capsys, "say", "hello", "--config", str(cfg))
    assert code == 2 and "'No Such Speaker'" in one_line(err)


def test_unknown_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qa = write(tmp_path, "qa.yaml", GOOD_QA)
    cfg = write(tmp_path, "c.yaml", "matcher:\n  model: nobody/no-such-sentence-model\n")
    code, err = run_cli(capsys, "ask", "hello", "--config", str(cfg), "--qa", str(qa))
    line = one_line(err)
    assert code == 2 and "nobody/no-such-sentence-model" in line and "download" in line
    speech = write_wav(tmp_path / "noise.wav", Audio.silence(0.5))
    import numpy as np

    rng = np.random.default_rng(1)
    speech = write_wav(tmp_path / "noise.wav",
                       Audio((rng.standard_normal(8000) * 4000).astype(np.int16)))
    cfg = write(tmp_path, "a.yaml", "asr:\n  model: nobody/no-such-speech-model\n")
    code, err = run_cli(capsys, "transcribe", str(speech), "--config", str(cfg),
                        "--asr", "wav2vec2")
    line = one_line(err)
    assert code == 2 and "nobody/no-such-speech-model" in line and "assistant download" in line


def test_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--preset", "instant"])
    assert exit_info.value.code == 2
    line = one_line(capsys.readouterr().err)
    assert "instant" in line and "--help" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError):
        main(["check", "--debug", "--config", str(tmp_path / "nope.yaml")])


def test_a_closed_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`assistant log --json | head`: when the reader leaves, no traceback, exit 0."""
    from assistant.commands import devices

    def reader_left(args: object) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(devices, "run", reader_left)
    assert main(["devices"]) == 0
    assert "Traceback" not in capsys.readouterr().err
