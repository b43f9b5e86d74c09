"""Closed-set biasing for CTC models: rescore the knowledge base's questions against the logits.

Wav2Vec2 spells characters, so a slightly misheard question ("wher do you liv") is not one of
the known phrasings. The CTC log-likelihood of each known question given the logits is cheap
(one forward pass over 2L+1 states per candidate, all candidates batched), and says how well
that question explains the audio. A question replaces the free greedy text only when it costs
little more than the best path per frame *and* clearly beats the runner-up question; otherwise
the greedy text passes through unchanged, so unrelated sentences and real paraphrases still
reach the sentence matcher as heard. Pure numpy: the ONNX runtime path must not import torch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from ..kb.normalize import normalize

log = logging.getLogger(__name__)

# Measured on hand-made logits (tests/test_asr_ctc.py): a question with one or two letters
# misheard costs 0.2-0.6 nats/frame more than the best path; an unrelated sentence 5+.
TOLERANCE_PER_FRAME = 0.75
MIN_MARGIN = 5.0  # nats the best question must beat the runner-up by (about one letter)
MAX_PHRASES = 2000  # above this, rescoring every utterance costs too much: skip it
_FLOOR = -100.0  # log-prob floor: keeps exp() finite; only hopeless candidates notice
_RESCALE_EVERY = 4  # frames between rescalings: 4 * 100 nats stays far from float64's 709
SHORTLIST = 8  # candidates scored exactly, picked by spelling overlap with the greedy text


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def best_path_log_prob(log_probs: np.ndarray) -> float:
    """Log-probability of the single best frame-by-frame path (an upper bound for no text)."""
    return float(log_probs.max(axis=-1).sum()) if len(log_probs) else 0.0


def ctc_log_likelihoods(log_probs: np.ndarray, targets: Sequence[Sequence[int]],
                        blank_id: int) -> np.ndarray:
    """log p(target | frames) for each target: the CTC forward algorithm, all targets'
    2L+1 states laid end to end in one vector, each target's states rescaled every frame.
    An empty target is the all-blank path; one longer than the frames allow is -inf."""
    lp = np.maximum(np.asarray(log_probs, dtype=np.float64), _FLOOR)
    n_frames = lp.shape[0]
    if not targets:
        return np.zeros(0)
    exts = [[blank_id] + [x for t in target for x in (int(t), blank_id)] for target in targets]
    sizes = np.array([len(e) for e in exts])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ext = np.concatenate(exts)
    local = np.arange(len(ext)) - np.repeat(starts, sizes)
    prev2 = np.concatenate([[blank_id, blank_id], ext[:-2]])
    step1 = local >= 1
    skip = (local >= 2) & (ext != blank_id) & (ext != prev2)
    if n_frames == 0:
        return np.where(sizes == 1, 0.0, -np.inf)
    emit = np.exp(lp[:, ext])  # (T, total states)
    step1, skip = step1[1:].astype(np.float64), skip[2:].astype(np.float64)
    alpha = np.where(local <= 1, emit[0], 0.0)
    log_scale = np.zeros(len(exts))
    tmp = np.empty_like(alpha)
    for t in range(1, n_frames + 1):
        if t % _RESCALE_EVERY == 0 or t == n_frames:  # floor * every < 709: no underflow
            scale = np.add.reduceat(alpha, starts)
            alpha /= np.repeat(scale, sizes)
            log_scale += np.log(scale)
        if t == n_frames:
            break
        new = alpha.copy()
        np.multiply(alpha[:-1], step1, out=tmp[1:])
        new[1:] += tmp[1:]
        np.multiply(alpha[:-2], skip, out=tmp[2:])
        new[2:] += tmp[2:]
        alpha = np.multiply(new, emit[t], out=new)
    ends = starts + sizes - 1
    final = alpha[ends] + np.where(sizes > 1, alpha[np.maximum(ends - 1, 0)], 0.0)
    with np.errstate(divide="ignore"):
        return log_scale + np.log(final)


def ctc_log_likelihood(log_probs: np.ndarray, target_ids: Sequence[int], blank_id: int) -> float:
    """log p(target | frames) under CTC (the negative of torch's ctc_loss, reduction none)."""
    return float(ctc_log_likelihoods(log_probs, [target_ids], blank_id)[0])


@lru_cache(maxsize=4096)
def _trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def shortlist(candidates: Sequence[tuple[str, Sequence[int]]], greedy_text: str,
              size: int = SHORTLIST) -> list[tuple[str, Sequence[int]]]:
    """The ``size`` candidates sharing most letter trigrams with the greedy text (Jaccard):
    exact CTC scoring of every phrasing each utterance would cost ~0.5 ms per phrasing."""
    if len(candidates) <= size:
        return list(candidates)
    heard = _trigrams(greedy_text)

    def overlap(candidate: tuple[str, Sequence[int]]) -> float:
        grams = _trigrams(candidate[0])
        shared = len(grams & heard)
        return shared / (len(grams) + len(heard) - shared)

    return sorted(candidates, key=overlap, reverse=True)[:size]


def text_to_ids(text: str, token_ids: Mapping[str, int], word_delimiter: str = "|") -> list[int]:
    """The normalised text spelled in the model's tokens; characters it lacks are dropped."""
    out: list[int] = []
    for ch in normalize(text):
        token = word_delimiter if ch == " " else ch
        for form in (token, token.upper(), token.lower()):
            if form in token_ids:
                out.append(token_ids[form])
                break
    return out


def rescore(log_probs: np.ndarray, candidates: Sequence[tuple[str, Sequence[int]]],
            blank_id: int, greedy_text: str = "", tolerance: float = TOLERANCE_PER_FRAME,
            min_margin: float = MIN_MARGIN) -> tuple[str, float] | None:
    """(question, margin in nats over the runner-up) for the candidate that explains the frames
    nearly as well as the free best path and clearly better than any other candidate, or None
    (keep ``greedy_text``)."""
    n_frames = log_probs.shape[0]
    if not candidates or n_frames == 0:
        return None
    candidates = shortlist(candidates, greedy_text)
    scores = ctc_log_likelihoods(log_probs, [ids for _, ids in candidates], blank_id)
    order = np.argsort(-scores)
    best = int(order[0])
    runner_up = float(scores[order[1]]) if len(order) > 1 else -np.inf
    cost = (best_path_log_prob(log_probs) - float(scores[best])) / n_frames
    margin = float(scores[best]) - runner_up
    accept = cost <= tolerance and margin >= min_margin
    log.debug("%r -> %r: %.2f nats/frame over the best path, margin %.1f: %s", greedy_text,
              candidates[best][0], cost, margin, "biased" if accept else "kept")
    return (candidates[best][0], margin) if accept else None


class PhraseBias:
    """The known questions as token ids for one model's vocabulary; biases a transcript."""

    def __init__(self, vocab: Mapping[int, str], blank_id: int,
                 word_delimiter: str = "|") -> None:
        self.token_ids = {t: i for i, t in vocab.items()}
        self.blank_id = blank_id
        self.word_delimiter = word_delimiter
        self.candidates: list[tuple[str, list[int]]] = []

    def adapt(self, phrases: Sequence[str]) -> None:
        seen: dict[str, list[int]] = {}
        for phrase in phrases:
            text = normalize(phrase)
            ids = text_to_ids(text, self.token_ids, self.word_delimiter)
            if ids and text not in seen:
                seen[text] = ids
        if len(seen) > MAX_PHRASES:
            log.debug("%d phrasings: over %d, CTC rescoring is off", len(seen), MAX_PHRASES)
            seen = {}
        self.candidates = list(seen.items())

    def apply(self, logits: np.ndarray, greedy_text: str) -> tuple[str, dict[str, object]]:
        """(text, extra): a known question's normalised text when it wins, else the greedy."""
        if not self.candidates or not greedy_text:
            return greedy_text, {}
        found = rescore(log_softmax(logits), self.candidates, self.blank_id, greedy_text)
        if found is None:
            return greedy_text, {}
        text, margin = found
        return text, {"biased_from": greedy_text, "bias_margin": round(margin, 2)}
