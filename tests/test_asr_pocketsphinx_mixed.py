"""asr.pocketsphinx_mode mixed with the real pocketsphinx and real espeak-ng speech: the
grammar first, and where it rejects, the knowledge base's trigram mixed with the pruned
general English model, so a paraphrase with words outside qa.yaml comes through as its own
words; unrelated speech still gets no answer; both models are built once and cached."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.asr import pocketsphinx as psr
from assistant.asr import pocketsphinx_lm as plm
from assistant.asr.pocketsphinx import PocketsphinxRecognizer
from assistant.kb.knowledge import KnowledgeBase, load_kb
from tests.conftest import espeak_audio

WORDS = 1000  # a smaller general vocabulary than the default 3000: a faster test build


@pytest.fixture(scope="module")
def kb(repo_qa: Path) -> KnowledgeBase:
    return load_kb(repo_qa)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def recognizer(kb: KnowledgeBase, cache: Path) -> PocketsphinxRecognizer:
    rec = PocketsphinxRecognizer(cache_dir=cache, mode="mixed", general_words=WORDS)
    rec.adapt(kb.questions)
    return rec


@pytest.fixture(scope="module")
def answerer(kb: KnowledgeBase, minilm: object, tmp_path_factory: pytest.TempPathFactory
             ) -> object:
    from assistant.answerer import Answerer

    return Answerer(kb, minilm, "auto", tmp_path_factory.mktemp("matcher"))


def test_a_question_as_written_is_still_the_grammar_s(recognizer: PocketsphinxRecognizer
                                                       ) -> None:
    heard = recognizer.transcribe(espeak_audio("What time is it?"))
    assert heard.text == "what time is it" and heard.extra["mode"] == "grammar"


@pytest.mark.parametrize("said, meant", [("Tell me your name.", "What is your name?"),
                                         ("How does this thing work?", "How does this work?")])
def test_a_paraphrase_the_grammar_rejects_gets_the_right_answer(
        recognizer: PocketsphinxRecognizer, kb: KnowledgeBase, answerer: object, said: str,
        meant: str) -> None:
    grammar = PocketsphinxRecognizer()
    grammar.adapt(kb.questions)
    assert grammar.transcribe(espeak_audio(said)).text == ""  # what grammar mode gives
    heard = recognizer.transcribe(espeak_audio(said))
    assert heard.extra["mode"] == "mixed" and heard.text  # from the mixed model
    reply = answerer.reply(heard.text)  # type: ignore[attr-defined]
    assert not reply.fallback and reply.match.best.entry == kb.entry_of(meant)


def test_words_outside_the_knowledge_base_can_be_heard(recognizer: PocketsphinxRecognizer,
                                                       kb: KnowledgeBase) -> None:
    vocabulary = {w for q in kb.questions for w in psr.tokens(q)}
    heard = recognizer.transcribe(espeak_audio("Which town do you live in?"))
    assert heard.extra["mode"] == "mixed"
    assert "live" in heard.text.split() and set(heard.text.split()) - vocabulary


@pytest.mark.parametrize("said", ["Please turn on the kitchen lights.",
                                  "The quick brown fox jumps over the lazy dog."])
def test_unrelated_speech_gets_no_answer(recognizer: PocketsphinxRecognizer, answerer: object,
                                         said: str) -> None:
    heard = recognizer.transcribe(espeak_audio(said))
    assert not heard.text or answerer.reply(heard.text).fallback  # type: ignore[attr-defined]


def test_both_models_are_cached_and_reused(kb: KnowledgeBase, cache: Path,
                                           recognizer: PocketsphinxRecognizer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert (cache / "pocketsphinx" / f"general-{WORDS}" / "general.arpa").is_file()
    assert list((cache / "pocketsphinx").glob(f"*/mixed*-{WORDS}-*.lm.bin"))

    def rebuilt(*args: object) -> None:
        raise AssertionError("the cached model was rebuilt")

    monkeypatch.setattr(plm, "_general_arpa", rebuilt)
    monkeypatch.setattr(psr, "build_mixed", rebuilt)
    again = PocketsphinxRecognizer(cache_dir=cache, mode="mixed", general_words=WORDS)
    again.adapt(kb.questions)  # a restart: both models come from the cache
    assert again.transcribe(espeak_audio("Who made you?")).text == "who made you"
    # a new knowledge base builds a new mixture, from the cached general model
    monkeypatch.setattr(psr, "build_mixed", plm.build_mixed)
    other = PocketsphinxRecognizer(cache_dir=cache, mode="mixed", general_words=WORDS)
    other.adapt(["what is the weather like", "turn on the lights"])
    assert other.transcribe(espeak_audio("Turn on the lights.")).text == "turn on the lights"


def test_the_general_model_keeps_pocketsphinx_s_probabilities(
        cache: Path, recognizer: PocketsphinxRecognizer) -> None:
    import pocketsphinx  # type: ignore[import-untyped]

    general = plm.read_arpa(plm.general_arpa(cache, WORDS).read_text(encoding="utf-8"))
    logmath = pocketsphinx.LogMath(1.0001)
    full = pocketsphinx.NGramModel(pocketsphinx.Config(loglevel="FATAL"), logmath,
                                   str(psr._model_path("en-us", "en-us.lm.bin")))
    words = [w for w in ("the", "time", "you", "live", "is", "what", "name") if (w,) in general]
    # the kept unigrams were renormalised: their share of the full model's
    mass = 10 ** (full.prob(["the"]) * plm._LOG10_BASE) / general[("the",)][0]
    for h in words:
        for w in words:
            theirs = 10 ** (full.prob([w, h]) * plm._LOG10_BASE)
            ours = general[(h, w)][0] if (h, w) in general else \
                general[(h,)][1] * general[(w,)][0] * mass  # backoff
            assert math.isclose(math.log10(ours), math.log10(theirs), abs_tol=1e-3), (h, w)


def test_the_mixture_is_a_proper_distribution() -> None:
    kb = plm.kb_trigram(["what time is it", "what is your name"])
    general = {("<s>",): (0.0, 0.5), ("</s>",): (0.2, 1.0), ("the",): (0.3, 0.4),
               ("what",): (0.2, 0.5), ("time",): (0.1, 1.0), ("day",): (0.2, 1.0),
               ("what", "day"): (0.5, 1.0), ("<s>", "what"): (0.6, 1.0)}
    mixed = plm.mix(kb, general, 0.7)
    vocabulary = [g[0] for g in mixed if len(g) == 1 and g != ("<s>",)]
    for history in [("what",), ("<s>",), ("what", "time"), ("<s>", "what")]:
        total = sum(plm.prob(mixed, (*history, w)) for w in vocabulary)
        assert math.isclose(total, 1.0, rel_tol=1e-6), history
    # the general model's words are there, weighted (1 - 0.7)
    assert math.isclose(plm.prob(mixed, ("what", "day")), 0.3 * 0.5, rel_tol=1e-6)
