"""Whisper on a window that fits the utterance instead of 30 s of padding.

faster-whisper always pads the log-mel features to 3000 frames (30 s), so Whisper's encoder
costs the same for a 2 s question as for 30 s of speech. CTranslate2's encoder accepts fewer
frames; this decodes one utterance that way: features padded to the utterance plus a margin
(rounded up to 2 s, so few distinct shapes reach the encoder), one greedy or beam pass with
the prompt faster-whisper would build, and the same statistics (average log-probability,
no-speech probability, compression ratio) for the guard. On tiny.en this cut the time per
utterance about 3x (docs/paraphrases.md). On a short window tiny.en often fails to end and
says the utterance again: the number of new tokens is capped so that such a loop stops soon,
and ``unloop`` keeps the text up to the first repeat.
"""

from __future__ import annotations

import math
import string
import zlib
from typing import Any

import numpy as np

from .whisper_guard import Segment

FRAMES_PER_S = 100
STEP_S = 2  # window lengths are multiples of this
MARGIN_S = 1.0  # silence after the speech in the window
MAX_TOKENS = 448  # Whisper's text context, the prompt included
TOKENS_PER_S = 8  # new tokens allowed per second of window (speech is ~3-5 a second)


def window_s(duration_s: float, longest_s: int = 30, shortest_s: int = 0) -> int:
    """The window for an utterance: its length plus the margin, rounded up to STEP_S, and at
    least ``shortest_s``."""
    fit = STEP_S * math.ceil((duration_s + MARGIN_S) / STEP_S)
    return int(min(longest_s, max(shortest_s, fit)))


def unloop(tokens: list[int], shortest: int = 3,
           ignore: frozenset[int] = frozenset()) -> list[int]:
    """Cut a decoder loop: where a run of at least ``shortest`` tokens repeats itself and the
    repetition goes on to the end ("Turn on the light Turn on the light Turn on the..."), keep
    what came before the first repeat. On a short window tiny.en often says the utterance and
    then starts again instead of ending. Tokens in ``ignore`` (punctuation) are skipped when
    comparing, so that "...himself. He ...himself? He ..." is a loop too."""
    at = [i for i, t in enumerate(tokens) if t not in ignore]
    words = [tokens[i] for i in at]
    n = len(words)
    for start in range(n):
        for k in range(shortest, (n - start) // 2 + 1):
            if all(words[j] == words[j - k] for j in range(start + k, n)):
                return tokens[: at[start + k]]
    return tokens


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))


def decode(model: Any, samples: np.ndarray, language: str | None, beam_size: int,
           prompt_text: str | None, shortest_s: int = 0) -> tuple[list[Segment], str]:
    """One utterance (float32, 16 kHz, at most 30 s) on ``model`` (faster_whisper's
    WhisperModel): its segment and the language it was decoded in."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    seconds = window_s(len(samples) / 16000, shortest_s=shortest_s)
    frames = seconds * FRAMES_PER_S
    features = model.feature_extractor(samples, chunk_length=30)
    features = features[:, :frames]
    if features.shape[-1] < frames:
        features = np.pad(features, ((0, 0), (0, frames - features.shape[-1])))
    encoded = model.model.encode(ctranslate2.StorageView.from_array(
        np.ascontiguousarray(features[None], dtype=np.float32)), to_cpu=False)
    multilingual = model.model.is_multilingual
    if multilingual and language is None:
        best = model.model.detect_language(encoded)[0][0][0]  # ('<|es|>', p)
        language = best[2:-2]
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe",
                          language=language if multilingual else None)
    prompt: list[int] = []
    if prompt_text:
        prompt = [tokenizer.sot_prev] + tokenizer.encode(" " + prompt_text.strip())[-200:]
    prompt += [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    result = model.model.generate(
        encoded, [prompt], beam_size=beam_size,
        max_length=min(MAX_TOKENS, len(prompt) + TOKENS_PER_S * seconds + 8),  # prompt counts
        return_scores=True, return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=list(get_suppressed_tokens(tokenizer, (-1,))))[0]
    said = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    marks = frozenset(t for t in set(said)
                      if not tokenizer.decode([t]).strip(string.punctuation + " "))
    tokens = unloop(said, ignore=marks)
    text = tokenizer.decode(tokens)
    avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
    segment = Segment(text, avg_logprob, result.no_speech_prob,
                      compression_ratio(text.strip()))
    return [segment], language or "en"
