"""Speak only when spoken to: no reply to noise, none to talk not meant for the assistant.

The rule (assistant/quiet.py) is tested without audio; the noise-floor gate with real webrtcvad
on espeak-ng speech followed by steady noise; the daemon with `assistant run --input`."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.answerer import Reply
from assistant.audio.files import write_wav
from assistant.audio.types import Audio
from assistant.cli import main
from assistant.commands import run as run_command
from assistant.kb.matcher import Candidate, Match
from assistant.quiet import QuietPolicy, has_words
from assistant.vad import PRESETS, Framer, NoiseFloorGate, Segmenter, WebRtcVad
from assistant.vad.segmenter import Ended
from tests.conftest import FixedRecognizer, espeak_audio, trim


def reply(confidence: float, threshold: float = 0.6) -> Reply:
    match = Match((Candidate(0, "where do you live", confidence),), threshold)
    fallback = not match.answered
    return Reply("q", match, "Sorry." if fallback else "In Kathmandu.", fallback, 0.0, 0.0)


def test_no_words_is_never_answered_but_words_without_an_answer_get_the_fallback() -> None:
    quiet = QuietPolicy()  # fallback_on words, floor auto = threshold - 0.08
    assert quiet.reason("", reply(0.1)) == "no words"
    assert quiet.reason("e  a", reply(0.1)) == "no words"  # stray CTC letters are not words
    assert quiet.reason("where do you live", reply(0.9)) is None  # answered
    assert quiet.reason("what is your favourite song", reply(0.55)) is None  # the fallback
    why = quiet.reason("pass me the salt", reply(0.3))
    assert why is not None and why.startswith("not for me (confidence 0.30 < floor 0.52")


def test_always_and_never() -> None:
    assert QuietPolicy("always").reason("", reply(0.1)) is None  # the old behaviour
    never = QuietPolicy("never")
    assert never.reason("what is your favourite song", reply(0.55)) == (
        "no answer fits (matcher.fallback_on: never)")
    assert never.reason("where do you live", reply(0.9)) is None
    assert QuietPolicy(floor=None).reason("pass me the salt", reply(0.3)) is None
    assert has_words("five") and has_words("42") and not has_words("")


def noise_dbfs(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(int(16000 * seconds))
    return (x / np.sqrt(np.mean(x ** 2)) * 10 ** (dbfs / 20) * 32767).astype(np.int16)


def utterances(samples: np.ndarray, gate: bool) -> list[float]:
    vad = NoiseFloorGate(WebRtcVad(3)) if gate else WebRtcVad(3)
    seg, out = Segmenter(PRESETS["default"], 30), []
    for frame in Framer(30).push(Audio(samples)):
        out += [e.audio.duration_s for e in seg.push(frame, vad.is_speech(frame))
                if isinstance(e, Ended)]
    last = seg.flush()
    return out + ([last.audio.duration_s] if isinstance(last, Ended) else [])


def test_steady_noise_after_speech_no_longer_holds_the_utterance_open() -> None:
    speech = espeak_audio("where do you live").samples
    lead = np.zeros(8000, np.int16)
    clean = utterances(np.concatenate([lead, speech, lead, lead]), gate=True)
    noisy = np.concatenate([lead, speech, noise_dbfs(6.0, -40)])
    ungated = utterances(noisy, gate=False)
    gated = utterances(noisy, gate=True)
    assert len(clean) == 1
    assert ungated[0] > clean[0] + 4  # webrtcvad alone: the noise is "speech" to the end
    assert gated[0] < clean[0] + 1.2  # the floor catches up within its window
    assert utterances(noise_dbfs(6.0, -40), gate=True) == []  # noise alone: nothing


def test_a_slow_speakers_pause_mid_sentence_does_not_split_the_question() -> None:
    """At 120 wpm "your name" is voiced for ~0.6 s without a gap; a floor taken from that
    stretch alone called the decaying end of "name" silence, so a 400 ms pause was heard as
    660 ms and the question split in two (the hangover is 500 ms)."""
    first = trim(espeak_audio("what is your name", speed_wpm=120)).samples
    rest = trim(espeak_audio("in japanese", speed_wpm=120)).samples
    lead = np.zeros(8000, np.int16)
    paused = np.concatenate([lead, first, np.zeros(6400, np.int16), rest, lead, lead])
    assert len(utterances(paused, gate=False)) == 1
    assert len(utterances(paused, gate=True)) == 1


def test_run_input_says_nothing_to_an_utterance_without_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_config: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(run_command, "build_recognizer",
                        lambda cfg, phrases=None: FixedRecognizer(""))
    clip = write_wav(tmp_path / "cough.wav", Audio(np.concatenate(
        [np.zeros(8000, np.int16), espeak_audio("hmm").samples, np.zeros(24000, np.int16)])))
    out = tmp_path / "answers"
    caplog.set_level(logging.INFO)
    assert main(["run", "--config", str(repo_config), "--input", str(clip), "--fast",
                 "--out", str(out), "--log", str(tmp_path / "x.jsonl")]) == 0
    assert not out.exists() or not list(out.glob("*.wav"))  # not a word said back
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.daemon"]
    assert any(line.startswith("ignored (no words)") for line in lines), lines
    record = (tmp_path / "x.jsonl").read_text(encoding="utf-8")
    assert '"ignored": "no words"' in record and '"answer": null' in record


def test_old_behaviour_with_fallback_on_always(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_config: Path) -> None:
    monkeypatch.setattr(run_command, "build_recognizer",
                        lambda cfg, phrases=None: FixedRecognizer(""))
    cfg = tmp_path / "config.yaml"
    cfg.write_text(repo_config.read_text(encoding="utf-8").replace(
        "fallback_on: words", "fallback_on: always"), encoding="utf-8")
    assert "fallback_on: always" in cfg.read_text(encoding="utf-8")
    (tmp_path / "qa.yaml").write_text((repo_config.parent / "qa.yaml").read_text("utf-8"),
                                      encoding="utf-8")
    clip = write_wav(tmp_path / "cough.wav", Audio(np.concatenate(
        [np.zeros(8000, np.int16), espeak_audio("hmm").samples, np.zeros(24000, np.int16)])))
    out = tmp_path / "answers"
    assert main(["run", "--config", str(cfg), "--input", str(clip), "--fast",
                 "--out", str(out)]) == 0
    assert len(list(out.glob("*.wav"))) == 1  # the fallback, spoken
