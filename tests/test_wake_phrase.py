"""A custom wake phrase (pocketsphinx keyphrase spotting) on real espeak-ng speech: detected
through the voice-activity gate and answered by `assistant run --input --fast`; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import write_wav
from assistant.audio.types import Audio
from assistant.cli import main
from assistant.errors import WakeError
from assistant.vad import WebRtcVad
from assistant.wake import Detection
from assistant.wake.gate import VoiceGate
from assistant.wake.phrase import PhraseDetector
from tests.conftest import espeak_audio, join_with_silence

pytest.importorskip("pocketsphinx", reason="pip install pocketsphinx")


def detect(text: str, gated: bool = True, lead_s: float = 1.0) -> list[Detection]:
    """Feed 30 ms frames as the daemon does: through the gate on webrtcvad's verdicts."""
    detector = PhraseDetector.load("hey echo", 1e-35)
    gate: VoiceGate[Audio] = VoiceGate(30, enabled=gated)
    vad = WebRtcVad(3)
    sil = np.zeros(int(16000 * lead_s), np.int16)
    samples = np.concatenate([sil, espeak_audio(text).samples, np.zeros(16000, np.int16)])
    found: list[Detection] = []
    for i in range(0, len(samples) - 479, 480):
        frame = Audio(samples[i:i + 480], timestamp_ms=20000 + i / 16)
        for audio in gate.push(frame, vad.is_speech(frame)):
            found += detector.process(audio)
    return found + detector.flush()


@pytest.mark.parametrize("gated", [True, False])
def test_phrase_detected_once_on_stream_time(gated: bool) -> None:
    found = detect("hey echo, where do you live", gated)
    assert len(found) == 1
    # after the second of silence, before the question: "hey echo" lasts about 0.6 s
    assert 21000 < found[0].time_ms < 22000
    assert found[0].word == "hey echo"


def test_pre_roll_keeps_a_phrase_at_the_very_start_of_speech() -> None:
    """No silence before the phrase: the gate opens on webrtcvad's first speech frame, and
    the pre-roll hands the detector the audio from before it."""
    assert len(detect("hey echo, where do you live", lead_s=0.0)) == 1


def test_speech_without_the_phrase_wakes_nothing() -> None:
    assert detect("where do you live and what time is it in london") == []


def test_unpronounceable_word_is_named() -> None:
    with pytest.raises(WakeError, match=r"cannot pronounce 'zorbly'.*pick common English"):
        PhraseDetector.load("hey zorbly", 1e-35)


def test_empty_phrase_and_bad_threshold() -> None:
    with pytest.raises(WakeError, match="has no words"):
        PhraseDetector.load(" ,! ", 1e-35)
    with pytest.raises(WakeError, match="between 0 and 1"):
        PhraseDetector.load("hey echo", 0.0)


def config_with(tmp_path: Path, repo_config: Path, wake: str) -> Path:
    config = tmp_path / "config.yaml"
    base = repo_config.read_text().split("\nwake:")[0]  # the repository's wake section off
    config.write_text(base.replace("backend: pyttsx3", "backend: espeak")
                      + "\nwake:\n  enabled: true\n" + wake)
    return config


@pytest.mark.parametrize("wake,message", [
    ('  phrase: "hey zorbly"\n',
     "error[wake:unknown-phrase-word]: wake.phrase 'hey zorbly': pocketsphinx cannot "
     "pronounce 'zorbly' (not in its dictionary)"),
    ('  phrase: ""\n', "wake.phrase '' has no words"),
    ("  phrase: hey echo\n  phrase_threshold: 2\n",
     "'wake.phrase_threshold' is 2; it must be between"),
])
def test_check_rejects_bad_phrase(tmp_path: Path, repo_config: Path, repo_qa: Path,
                                  capsys: pytest.CaptureFixture[str], wake: str,
                                  message: str) -> None:
    config = config_with(tmp_path, repo_config, wake)
    assert main(["check", "--config", str(config), "--qa", str(repo_qa), "--no-models"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_check_shows_the_phrase(tmp_path: Path, repo_config: Path, repo_qa: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    # 1e-30 without a dot: PyYAML reads it as a string; the config takes it as the number
    config = config_with(tmp_path, repo_config,
                         '  phrase: "Hey, Echo"\n  phrase_threshold: 1e-30\n')
    assert main(["check", "--config", str(config), "--qa", str(repo_qa), "--no-models"]) == 0
    assert "wake word:  phrase 'hey echo' (pocketsphinx, threshold 1e-30)" in \
        capsys.readouterr().out


@pytest.mark.parametrize("parts", [
    ["what is your name", "hey echo, where do you live"],  # the first has no phrase
    # the phrase first, alone, then the question after a pause: the first thing heard after
    # start (the detector's warm-up holds it until the question's sound arrives)
    ["hey echo", "where do you live", "what is your name"],
])
def test_run_answers_after_the_phrase_only(tmp_path: Path, repo_config: Path, repo_qa: Path,
                                           parts: list[str]) -> None:
    """The whole thing with real components: espeak-ng speech, webrtcvad, the gate,
    pocketsphinx spotting the phrase and recognizing the question, the matcher."""
    config = config_with(tmp_path, repo_config, '  phrase: "hey echo"\n  follow_up_s: 0\n')
    scene = join_with_silence([espeak_audio(p) for p in parts], gap_s=2.0)
    path = write_wav(tmp_path / "scene.wav", scene)
    out, log = tmp_path / "answers", tmp_path / "exchanges.jsonl"
    assert main(["run", "--config", str(config), "--qa", str(repo_qa), "--asr",
                 "pocketsphinx", "--input", str(path), "--fast", "--out", str(out),
                 "--log", str(log)]) == 0
    assert len(list(out.glob("answer_*.wav"))) == 1
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == 1, rows  # "what is your name" never reached the recognizer
    assert "live" in json.dumps(rows[0]), rows


def test_wake_command_tries_a_phrase(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_wav(tmp_path / "two.wav", join_with_silence(
        [espeak_audio("hey echo, what is your name"), espeak_audio("where do you live")],
        gap_s=2.0))
    assert main(["wake", "--phrase", "hey echo", "--phrase-threshold", "1e-35",
                 str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "\they echo\t" in lines[0]
    assert 0.5 < float(lines[0].split("\t")[1].rstrip("s")) < 1.6  # the first clip's phrase


def test_a_quiet_start_does_not_hold_the_detector_back() -> None:
    """Sound below the warm-up's loudness bar (a quiet microphone, ungated): after 4 s held,
    the mean is taken on what is held and decoding goes live, instead of waiting forever."""
    detector = PhraseDetector.load("hey echo", 1e-35)
    quiet = (espeak_audio("where do you live").samples // 40).astype(np.int16)
    samples = np.concatenate([quiet, np.zeros(16000, np.int16)] * 4)
    assert len(samples) > 4 * 16000
    for i in range(0, len(samples) - 479, 480):
        detector.process(Audio(samples[i:i + 480], timestamp_ms=i / 16))
    assert detector._warm is None  # nothing held back any more: every chunk is decoded
