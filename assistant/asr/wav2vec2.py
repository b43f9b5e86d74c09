"""Wav2Vec2 CTC through transformers: any Hub id or local directory of a CTC model.

Safetensors only, never ``trust_remote_code``; ``HF_HUB_OFFLINE`` is honoured by the hub
library itself. A missing model is one line naming the model and the fix.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..audio.types import Audio
from ..config import AsrConfig
from ..errors import AsrError
from ..model_files import local_folder
from . import Transcript
from .ctc import PhraseBias

log = logging.getLogger(__name__)

WEIGHTS = "model.safetensors"


def weights_on_disk(model: str) -> bool:
    """True when the model loads without a network: a local folder, or the hub's cache."""
    return local_folder(model, (WEIGHTS,)) is not None


def greedy_decode(ids: Sequence[int], vocab: Mapping[int, str], blank_id: int,
                  word_delimiter: str = "|") -> str:
    """Best-path CTC decoding: merge repeats, drop blanks, turn the delimiter into spaces,
    lower-case. Special tokens such as ``<s>`` or ``<unk>`` are dropped."""
    out: list[str] = []
    prev = None
    for i in ids:
        if i != prev and i != blank_id:
            token = vocab.get(int(i), "")
            if token == word_delimiter:
                out.append(" ")
            elif not (token.startswith("<") and token.endswith(">")):
                out.append(token)
        prev = i
    return " ".join("".join(out).lower().split())


def _missing_model(model: str, exc: Exception) -> AsrError:
    return AsrError(
        f"speech model {model!r} is not on this machine ({type(exc).__name__}); run "
        "`assistant download` while online, set asr.model to a local folder with "
        f"{WEIGHTS}, or set asr.backend: pocketsphinx", code="model-missing")


class CtcTranscriber:
    """What the torch and ONNX wav2vec2 recognizers share: greedy decoding of the logits and
    closed-set rescoring against the knowledge base's questions."""

    name: str
    vocab: dict[int, str]
    blank_id: int
    word_delimiter: str
    bias: PhraseBias

    def adapt(self, phrases: Sequence[str]) -> None:
        """Spell the questions in this model's tokens, for CTC rescoring in transcribe."""
        self.bias.adapt(phrases)

    def decode(self, logits: np.ndarray) -> str:
        return greedy_decode(logits.argmax(axis=-1).tolist(), self.vocab, self.blank_id,
                             self.word_delimiter)

    def transcript(self, logits: np.ndarray) -> Transcript:
        text, extra = self.bias.apply(logits, self.decode(logits))
        return Transcript(text, self.name, extra=extra)


class Wav2Vec2Recognizer(CtcTranscriber):
    name = "wav2vec2"

    def __init__(self, model: Any, processor: Any, device: str = "cpu") -> None:
        self.model = model
        self.processor = processor
        self.device = device
        tokenizer = processor.tokenizer
        self.vocab = {i: t for t, i in tokenizer.get_vocab().items()}
        self.blank_id = int(tokenizer.pad_token_id)
        self.word_delimiter = getattr(tokenizer, "word_delimiter_token", "|") or "|"
        self.bias = PhraseBias(self.vocab, self.blank_id, self.word_delimiter)

    @classmethod
    def load(cls, cfg: AsrConfig) -> Wav2Vec2Recognizer:
        if not weights_on_disk(cfg.model):  # fail in milliseconds, before importing torch
            raise _missing_model(cfg.model, FileNotFoundError(WEIGHTS))
        import torch
        from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a per-load bar is noise in a daemon's log

        torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise AsrError("asr.device is 'cuda' but torch sees no CUDA GPU; set asr.device: "
                           "cpu", code="no-cuda")
        source = os.path.expanduser(cfg.model)
        try:
            # Never a download at run time: `assistant download` is the one way models arrive.
            processor = Wav2Vec2Processor.from_pretrained(source, local_files_only=True)
            model = Wav2Vec2ForCTC.from_pretrained(source, use_safetensors=True,
                                                   trust_remote_code=False,
                                                   local_files_only=True)
        except (OSError, ValueError) as exc:
            raise _missing_model(cfg.model, exc) from exc
        model.eval().to(cfg.device)
        recognizer = cls(model, processor, cfg.device)
        recognizer.transcribe(Audio.silence(0.5))  # warm-up: the first question is not slow
        return recognizer

    def logits(self, audio: Audio) -> np.ndarray:
        import torch

        inputs = self.processor(audio.as_float(), sampling_rate=audio.rate_hz,
                                return_tensors="pt")
        with torch.inference_mode():
            out = self.model(inputs.input_values.to(self.device)).logits
        return out[0].float().cpu().numpy()

    def transcribe(self, audio: Audio) -> Transcript:
        if audio.duration_s < 0.1:
            return Transcript("", self.name)
        try:
            logits = self.logits(audio)
        except RuntimeError as exc:
            raise AsrError(f"wav2vec2 failed on a {audio.duration_s:.1f} s utterance ({exc})",
                           code="inference") from exc
        return self.transcript(logits)
