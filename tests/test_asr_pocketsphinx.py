"""The pocketsphinx backend with the real model and real espeak-ng speech: the knowledge base's
questions come back word for word, other speech and noise come back empty, odd words and a
damaged cache never break it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.asr import load_recognizer
from assistant.asr.pocketsphinx import PocketsphinxRecognizer, missing_words, tokens
from assistant.audio.files import read_audio
from assistant.audio.types import Audio
from assistant.config import AsrConfig
from assistant.errors import AsrError
from assistant.kb.knowledge import KnowledgeBase, load_kb, normalize_key
from tests.conftest import espeak_audio


@pytest.fixture(scope="module")
def kb(repo_qa: Path) -> KnowledgeBase:
    return load_kb(repo_qa)


@pytest.fixture(scope="module")
def recognizer(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory
               ) -> PocketsphinxRecognizer:
    rec = PocketsphinxRecognizer(cache_dir=tmp_path_factory.mktemp("cache"))
    rec.adapt(kb.questions)
    return rec


def cache_folders(cache_dir: Path) -> list[Path]:
    return sorted(p for p in (cache_dir / "pocketsphinx").iterdir() if not p.name.startswith("."))


def test_every_question_of_the_knowledge_base_comes_back_word_for_word(
        recognizer: PocketsphinxRecognizer, kb: KnowledgeBase,
        speak: Callable[..., Path]) -> None:
    wrong = []
    for question in kb.questions:
        heard = recognizer.transcribe(read_audio(speak(question)))
        assert heard.backend == "pocketsphinx"
        if heard.text != normalize_key(question) or kb.entry_of(heard.text) is None:
            wrong.append(f"{question!r} -> {heard.text!r}")
        else:
            assert heard.confidence is not None and 0.5 <= heard.confidence <= 1.0
    assert not wrong, wrong


@pytest.mark.parametrize("voice, wpm", [("en-gb", 150), ("en-us+f3", 170)])
def test_other_voices_map_back_to_their_entry_or_say_nothing(
        recognizer: PocketsphinxRecognizer, kb: KnowledgeBase, voice: str, wpm: int) -> None:
    """Never a confident wrong answer, and most questions still recognised."""
    right = 0
    for question in kb.questions[::2]:
        text = recognizer.transcribe(espeak_audio(question, voice, wpm)).text
        assert text == "" or kb.entry_of(text) == kb.entry_of(question), (question, text)
        right += text != ""
    assert right >= 0.8 * len(kb.questions[::2])


@pytest.mark.parametrize("sentence", ["the weather in paris is rainy and cold",
                                      "please turn on the kitchen lights",
                                      "who won the football game last night"])
def test_unrelated_speech_is_no_known_question(recognizer: PocketsphinxRecognizer,
                                               kb: KnowledgeBase, sentence: str) -> None:
    heard = recognizer.transcribe(espeak_audio(sentence))
    assert heard.text == "", heard
    assert kb.entry_of(heard.text) is None
    assert heard.confidence is not None and heard.confidence < 0.5


def test_noise_and_silence_give_an_empty_transcript(recognizer: PocketsphinxRecognizer) -> None:
    rng = np.random.default_rng(1)
    clips = {
        "silence": Audio.silence(1.5),
        "empty": Audio(np.zeros(0, np.int16)),
        "white noise": Audio(rng.normal(0, 3000, 32000).astype(np.int16)),
        "quiet noise": Audio(rng.normal(0, 30, 32000).astype(np.int16)),
        "hum": Audio((4000 * np.sin(2 * np.pi * 50 * np.arange(32000) / 16000)).astype(np.int16)),
    }
    for name, audio in clips.items():
        assert recognizer.transcribe(audio).text == "", name


def test_question_padded_with_silence_and_noise_is_still_recognised(
        recognizer: PocketsphinxRecognizer) -> None:
    rng = np.random.default_rng(2)
    speech = espeak_audio("What time is it?").samples
    pad = np.zeros(8000, np.int16)
    x = np.concatenate([pad, speech, pad]).astype(np.float64)
    x += rng.normal(0, 0.1 * speech.astype(np.float64).std(), len(x))  # 20 dB SNR
    audio = Audio(np.clip(x, -32768, 32767).astype(np.int16))
    assert recognizer.transcribe(audio).text == "what time is it"


def test_words_missing_from_the_dictionary_are_reported_and_still_recognised(
        tmp_path: Path) -> None:
    phrases = ["Where is Kathmandu?", "Say zorblax twice", "What is 2 plus 2?"]
    assert missing_words(phrases) == ["kathmandu", "zorblax", "2"]
    assert missing_words(["What is your name?"]) == []
    rec = PocketsphinxRecognizer(cache_dir=tmp_path)
    rec.adapt(phrases)
    assert rec.missing_words(phrases) == ["kathmandu", "zorblax", "2"]
    assert rec.transcribe(espeak_audio("say zorblax twice")).text == "say zorblax twice"
    assert rec.transcribe(espeak_audio("what is two plus two")).text == "what is 2 plus 2"


def test_phrases_are_normalised_like_transcripts() -> None:
    assert tokens("What's TODAY's date, Café?!") == ["what's", "today's", "date", "cafe"]


def test_cache_is_reused_and_rebuilt_when_the_phrases_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = ["What is your name?", "Who made you?"], ["Where do you live?", "Goodbye"]
    PocketsphinxRecognizer(cache_dir=tmp_path).adapt(first)
    [folder] = cache_folders(tmp_path)

    import assistant.asr.pocketsphinx as module
    import assistant.asr.pocketsphinx_grammar as grammar

    def no_build(*_: object) -> None:
        raise AssertionError("a valid cache must not be rebuilt")

    monkeypatch.setattr(module, "build_files", no_build)
    monkeypatch.setattr(grammar, "build_files", no_build)
    rec = PocketsphinxRecognizer(cache_dir=tmp_path)
    rec.adapt(first)
    assert rec.transcribe(espeak_audio("who made you")).text == "who made you"
    monkeypatch.undo()

    rec.adapt(second)
    assert len(cache_folders(tmp_path)) == 2 and folder.exists()
    assert rec.transcribe(espeak_audio("where do you live")).text == "where do you live"
    assert rec.transcribe(espeak_audio("who made you")).text == ""


@pytest.mark.parametrize("damage", ["truncated grammar", "garbage dictionary", "bad meta"])
def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path: Path, damage: str) -> None:
    phrases = ["What time is it?", "Who built you?"]
    PocketsphinxRecognizer(cache_dir=tmp_path).adapt(phrases)
    [folder] = cache_folders(tmp_path)
    good = {p.name: p.read_bytes() for p in folder.iterdir()}
    if damage == "truncated grammar":
        (folder / "questions.gram").write_bytes(good["questions.gram"][:40])
    elif damage == "garbage dictionary":
        (folder / "words.dict").write_bytes(b"\x00\xff what W AH T\nwho XX YY\n")
    else:
        (folder / "meta.json").write_text("{not json", encoding="utf-8")
    rec = PocketsphinxRecognizer(cache_dir=tmp_path)
    rec.adapt(phrases)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == good
    assert json.loads(good["meta.json"])["phrases"] == 2
    assert rec.transcribe(espeak_audio("what time is it")).text == "what time is it"


def test_a_cache_with_forged_checksums_that_pocketsphinx_refuses_is_rebuilt(
        tmp_path: Path) -> None:
    phrases = ["What time is it?", "Who built you?"]
    PocketsphinxRecognizer(cache_dir=tmp_path).adapt(phrases)
    [folder] = cache_folders(tmp_path)
    (folder / "questions.gram").write_text("#JSGF V1.0;\ngrammar x;\npublic <x> = ((;\n")
    meta = json.loads((folder / "meta.json").read_text())
    meta["sha256"]["questions.gram"] = hashlib.sha256(
        (folder / "questions.gram").read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))
    rec = PocketsphinxRecognizer(cache_dir=tmp_path)
    rec.adapt(phrases)
    assert "what time is it" in (folder / "questions.gram").read_text()
    assert rec.transcribe(espeak_audio("who built you")).text == "who built you"


def test_an_unusable_cache_dir_falls_back_to_a_temporary_folder(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("in the way")
    rec = PocketsphinxRecognizer(cache_dir=not_a_dir)
    rec.adapt(["Bye bye", "See you later"])
    assert rec.transcribe(espeak_audio("bye bye")).text == "bye bye"


def test_without_a_cache_dir_it_builds_in_a_temporary_folder() -> None:
    rec = PocketsphinxRecognizer()
    rec.adapt(["Bye bye", "See you later"])
    assert rec.transcribe(espeak_audio("see you later")).text == "see you later"


def test_without_phrases_the_general_model_gives_plain_lower_case_words() -> None:
    rec = load_recognizer(AsrConfig(backend="pocketsphinx"), phrases=())
    assert isinstance(rec, PocketsphinxRecognizer)
    text = rec.transcribe(espeak_audio("what time is it")).text
    assert text and text == text.lower()
    assert not any(w.startswith(("<", "[", "+")) for w in text.split()), text


def test_load_recognizer_adapts_to_the_knowledge_base(kb: KnowledgeBase, tmp_path: Path) -> None:
    rec = load_recognizer(AsrConfig(backend="pocketsphinx"), kb.questions, cache_dir=tmp_path)
    assert rec.name == "pocketsphinx"
    assert rec.transcribe(espeak_audio("Who are you?")).text == "who are you"
    assert cache_folders(tmp_path)


def test_wrong_rate_and_decoder_failures_are_asr_errors(
        recognizer: PocketsphinxRecognizer, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AsrError) as err:
        recognizer.transcribe(Audio(np.zeros(8000, np.int16), rate_hz=8000))
    assert err.value.code == "format" and "16000" in str(err.value)

    class Broken:
        def __getattr__(self, name: str) -> Callable[..., None]:
            def fail(*_: object, **__: object) -> None:
                raise RuntimeError("decoder exploded")
            return fail

    monkeypatch.setattr(recognizer, "_decoder", Broken())
    with pytest.raises(AsrError) as err:
        recognizer.transcribe(espeak_audio("what time is it"))
    assert err.value.code == "decode"
