"""CTC rescoring of the known questions: the likelihood itself, and when it may bias."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.asr import load_recognizer
from assistant.asr.ctc import (
    PhraseBias,
    ctc_log_likelihood,
    ctc_log_likelihoods,
    log_softmax,
    rescore,
    text_to_ids,
)
from assistant.asr.wav2vec2 import Wav2Vec2Recognizer
from assistant.audio.types import Audio
from assistant.config import AsrConfig
from assistant.kb.knowledge import load_kb
from tests.test_asr_wav2vec2 import logits_for

VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
for _c in "abcdefghijklmnopqrstuvwxyz'":
    VOCAB[_c.upper()] = len(VOCAB)
ID_TO_TOKEN = {i: t for t, i in VOCAB.items()}


def torch_log_likelihood(log_probs: np.ndarray, target: list[int], blank: int) -> float:
    import torch

    loss = torch.nn.functional.ctc_loss(
        torch.tensor(log_probs)[:, None, :], torch.tensor([target], dtype=torch.long),
        torch.tensor([len(log_probs)]), torch.tensor([len(target)]), blank=blank,
        reduction="none", zero_infinity=False)
    return -float(loss.item())


@pytest.mark.parametrize("target", [[1, 2, 3], [1, 1, 2], [3, 3, 3, 3], [2], [1, 2] * 12])
@pytest.mark.parametrize("sharpness", [1.0, 8.0])
def test_likelihood_equals_torch_ctc_loss(target: list[int], sharpness: float) -> None:
    rng = np.random.default_rng(len(target))
    log_probs = log_softmax(rng.standard_normal((40, 6)) * sharpness)
    ours = ctc_log_likelihood(log_probs, target, blank_id=0)
    assert ours == pytest.approx(torch_log_likelihood(log_probs, target, 0), rel=1e-9)


def test_batched_likelihoods_match_one_at_a_time_and_impossible_is_minus_inf() -> None:
    log_probs = log_softmax(np.random.default_rng(1).standard_normal((12, 5)))
    targets = [[1, 2], [2, 2, 2], [4], [1] * 7]  # seven 1s need 13 frames: impossible in 12
    batch = ctc_log_likelihoods(log_probs, targets, blank_id=0)
    single = [ctc_log_likelihood(log_probs, t, 0) for t in targets]
    assert batch[:3] == pytest.approx(single[:3])
    assert batch[3] == -np.inf and single[3] == -np.inf


def test_text_is_normalised_and_spelled_in_the_model_tokens() -> None:
    spell = "".join(ID_TO_TOKEN[i] for i in text_to_ids("What's the time at 5?", VOCAB))
    assert spell == "WHAT|IS|THE|TIME|AT|FIVE"


def heard(text: str, seed: int = 0) -> np.ndarray:
    """Hand-made logits of what the model 'heard', with noise like a real model's."""
    logits = logits_for(text, VOCAB, repeat=3)
    return logits + np.random.default_rng(seed).normal(0.0, 1.0, logits.shape)


@pytest.fixture(scope="module")
def bias(repo_qa: Path) -> PhraseBias:
    bias = PhraseBias(ID_TO_TOKEN, blank_id=0)
    bias.adapt(load_kb(repo_qa).questions)
    return bias


@pytest.mark.parametrize(("misheard", "question"), [
    ("wher do you liv", "where do you live"),
    ("wat time is it", "what time is it"),
    ("who ar you", "who are you"),
    ("what is yur name", "what is your name"),
])
def test_misheard_question_is_rescored_to_the_known_one(bias: PhraseBias, misheard: str,
                                                        question: str) -> None:
    for seed in range(3):
        text, extra = bias.apply(heard(misheard, seed), misheard)
        assert text == question
        assert extra["biased_from"] == misheard
        assert isinstance(extra["bias_margin"], float) and extra["bias_margin"] >= 5.0


@pytest.mark.parametrize("sentence", ["the weather is cold in paris", "tell me a joke",
                                      "what is the weather", "what is the date"])
def test_unrelated_or_partial_sentences_pass_through_unchanged(bias: PhraseBias,
                                                               sentence: str) -> None:
    for seed in range(3):
        assert bias.apply(heard(sentence, seed), sentence) == (sentence, {})
    assert rescore(log_softmax(heard(sentence)), bias.candidates, 0, sentence) is None


def test_nothing_heard_or_nothing_known_is_never_biased(bias: PhraseBias) -> None:
    silence = np.full((50, len(VOCAB)), -5.0)
    silence[:, 0] = 5.0
    assert bias.apply(silence, "") == ("", {})
    empty = PhraseBias(ID_TO_TOKEN, blank_id=0)
    empty.adapt([])
    assert empty.apply(heard("wher do you liv"), "wher do you liv") == ("wher do you liv", {})


def test_too_many_phrasings_turn_rescoring_off() -> None:
    many = PhraseBias(ID_TO_TOKEN, blank_id=0)
    many.adapt([f"question number {n}" for n in range(2500)])
    assert many.candidates == []


def test_tiny_model_adapts_and_transcribes(tiny_wav2vec2: Path, repo_qa: Path) -> None:
    rec = load_recognizer(AsrConfig(backend="wav2vec2", model=str(tiny_wav2vec2),
                                    runtime="torch"), phrases=load_kb(repo_qa).questions)
    assert isinstance(rec, Wav2Vec2Recognizer)
    assert len(rec.bias.candidates) == len(load_kb(repo_qa).questions)
    audio = Audio((np.random.default_rng(0).standard_normal(16000) * 3000).astype(np.int16))
    out = rec.transcribe(audio)
    assert out.backend == "wav2vec2" and out.text == out.text.lower()
    if out.extra:  # a random model's babble is biased only when a question explains it
        assert out.text in {text for text, _ in rec.bias.candidates}
