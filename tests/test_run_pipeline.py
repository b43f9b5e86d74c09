"""The whole daemon on a file: `assistant run --input` with two spoken questions."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.asr import Transcript
from assistant.audio.files import read_audio, write_wav
from assistant.audio.types import Audio
from assistant.cli import main
from assistant.commands import run as run_command
from assistant.config import TtsConfig
from assistant.tts import load_synthesizer
from tests.conftest import espeak_audio, join_with_silence

QUESTIONS = ["where do you live", "what is your name"]
ANSWERS = ["I live inside this computer, in Kathmandu.",
           "I am Echo, a voice assistant that runs entirely on this machine."]


class ScriptedRecognizer:
    """The only fake: hears, in order, the sentences the test spoke."""

    name = "scripted"

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)
        self.heard: list[float] = []

    def adapt(self, phrases: object) -> None:
        pass

    def transcribe(self, audio: Audio) -> Transcript:
        self.heard.append(audio.duration_s)
        return Transcript(self.texts.pop(0), self.name)


@pytest.fixture
def two_questions(tmp_path: Path) -> Path:
    # 16-bit stereo at 44.1 kHz: the file edge must convert it like any user recording
    mono = join_with_silence([espeak_audio(q) for q in QUESTIONS], gap_s=2.0)
    from assistant.audio.types import to_pipeline

    hi = to_pipeline(mono.samples, 16000, out_rate_hz=44100).samples
    path = tmp_path / "two_questions.wav"
    import soundfile as sf

    sf.write(path, np.stack([hi, hi], axis=1), 44100, subtype="PCM_16")
    return path


def test_run_input_answers_each_question_as_wav_and_log(
        two_questions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, repo_config: Path, repo_qa: Path) -> None:
    recognizer = ScriptedRecognizer(QUESTIONS)
    monkeypatch.setattr(run_command, "build_recognizer", lambda cfg, phrases=None: recognizer)
    out = tmp_path / "answers"
    caplog.set_level(logging.INFO)
    # The espeak-ng program speaks the same answer identically every time; pyttsx3 may land
    # a rate change one render late when a second engine appears (tests/test_tts.py).
    config = tmp_path / "config.yaml"
    config.write_text(repo_config.read_text().replace(
        "backend: auto           # auto (piper", "backend: espeak  # (piper"))
    code = main(["run", "--config", str(config), "--qa", str(repo_qa),
                 "--input", str(two_questions), "--fast", "--out", str(out)])
    assert code == 0
    assert recognizer.texts == []  # both utterances were heard, and nothing else
    assert len(recognizer.heard) == 2
    written = sorted(out.glob("answer_*.wav"))
    assert [p.name for p in written] == ["answer_001.wav", "answer_002.wav"]
    tts = load_synthesizer(TtsConfig(backend="espeak"))
    for path, answer in zip(written, ANSWERS, strict=True):
        expected = tts.synthesize(answer)
        got = read_audio(path, rate_hz=expected.rate_hz)
        assert abs(got.duration_s - expected.duration_s) < 0.05
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.daemon"]
    heard = [line for line in lines if line.startswith("heard")]
    assert len(heard) == 2
    for line, q, a in zip(heard, QUESTIONS, ANSWERS, strict=True):
        assert repr(q) in line and repr(a) in line and "asr=" in line


def test_realtime_replay_gives_the_same_answers(
        two_questions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        repo_config: Path) -> None:
    recognizer = ScriptedRecognizer(QUESTIONS)
    monkeypatch.setattr(run_command, "build_recognizer", lambda cfg, phrases=None: recognizer)
    out = tmp_path / "rt"
    assert main(["run", "--config", str(repo_config), "--input", str(two_questions),
                 "--out", str(out)]) == 0
    assert len(list(out.glob("answer_*.wav"))) == 2


def test_silence_only_input_answers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            repo_config: Path) -> None:
    recognizer = ScriptedRecognizer([])
    monkeypatch.setattr(run_command, "build_recognizer", lambda cfg, phrases=None: recognizer)
    silent = write_wav(tmp_path / "silence.wav", Audio.silence(3.0))
    out = tmp_path / "none"
    assert main(["run", "--config", str(repo_config), "--input", str(silent), "--fast",
                 "--out", str(out)]) == 0
    assert recognizer.heard == [] and not out.exists()


def test_pocketsphinx_answers_every_default_question_offline(
        tmp_path: Path, repo_config: Path, repo_qa: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """No download, no network: the bundled recognizer and sentence model answer a
    recording of one phrasing per entry of the default qa.yaml, each with its own answer."""
    from assistant.kb.knowledge import load_kb

    kb = load_kb(repo_qa)
    questions = [e.questions[0] for e in kb.entries]
    path = write_wav(tmp_path / "all.wav",
                     join_with_silence([espeak_audio(q) for q in questions], gap_s=1.5))
    caplog.set_level(logging.INFO)
    assert main(["run", "--config", str(repo_config), "--qa", str(repo_qa), "--asr",
                 "pocketsphinx", "--input", str(path), "--fast", "--no-speak"]) == 0
    heard = [r.getMessage() for r in caplog.records
             if r.name == "assistant.daemon" and r.getMessage().startswith("heard")]
    assert len(heard) == len(questions)
    for line, q in zip(heard, questions, strict=True):
        assert f"-> {q!r} (" in line and "fallback" not in line, line
