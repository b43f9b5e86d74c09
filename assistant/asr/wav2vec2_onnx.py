"""Wav2Vec2 CTC through ONNX Runtime: the CPU fast path.

The Hugging Face model is exported to ONNX once (torch + transformers, ~20-40 s for
wav2vec2-base), optionally int8-quantized, and cached under
``cache_dir/onnx/<key>/model.onnx``; the key hashes the weights file's path, size and mtime,
the model's config.json and the export options, so a changed model is rebuilt. Loading from
the cache never imports torch: the feature extractor's normalization is done in numpy and the
vocabulary comes from the tokenizer's JSON files. Start-up is then ~0.6 s instead of ~6 s.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.types import Audio
from ..config import AsrConfig
from ..errors import AsrError
from ..model_files import local_folder
from ..onnx_cache import (
    build_cached,
    cache_key,
    one_thread_on_arm,
    open_session,
    quantize_matmul,
    read_json,
    require,
)
from . import Transcript
from .ctc import PhraseBias
from .wav2vec2 import WEIGHTS, CtcTranscriber, _missing_model

log = logging.getLogger(__name__)

RECIPE = 1  # bump when the export or quantization recipe changes: old caches are rebuilt
OPSET = 17
INPUT, OUTPUT = "input_values", "logits"


def model_folder(model: str) -> Path:
    """The folder holding the model's files: a local folder, or the hub cache's snapshot."""
    folder = local_folder(model, (WEIGHTS,))
    if folder is None:
        raise _missing_model(model, FileNotFoundError(WEIGHTS))
    return folder


def onnx_path(folder: Path, cache_dir: Path, quantize: str) -> Path:
    key = cache_key(folder, WEIGHTS, {"quantize": quantize, "opset": OPSET, "recipe": RECIPE})
    return cache_dir / "onnx" / key / "model.onnx"


def converts_here() -> bool:
    """Whether this machine can convert the model itself (torch, transformers and onnx)."""
    return all(importlib.util.find_spec(p) is not None for p in ("torch", "transformers", "onnx"))


def build_onnx(folder: Path, target: Path, quantize: str) -> None:
    """Export ``folder``'s Wav2Vec2ForCTC to ``target`` (dynamic time axis), int8-quantizing the
    MatMuls when asked (see onnx_cache.quantize_matmul). Written atomically, once."""
    require(("torch", "transformers", "onnx"), "converting wav2vec2 to ONNX", AsrError)
    size_mb = (folder / WEIGHTS).stat().st_size / 1e6
    per_s_mb = 15 if quantize == "int8" else 30
    log.info("converting wav2vec2 to ONNX %s (once, ~%.0f s)...",
             "int8" if quantize == "int8" else "fp32", 5 + size_mb / per_s_mb)
    build_cached(target, folder, {"quantize": quantize}, RECIPE,
                 functools.partial(_build, folder, quantize), AsrError, "set asr.runtime: torch")


def _build(folder: Path, quantize: str, work: Path) -> Path:
    _export(folder, work / "fp32.onnx")
    if quantize != "int8":
        return work / "fp32.onnx"
    quantize_matmul(work / "fp32.onnx", work / "int8.onnx")
    (work / "fp32.onnx").unlink()
    return work / "int8.onnx"


def _export(folder: Path, out: Path) -> None:
    import warnings

    import torch
    from transformers import Wav2Vec2ForCTC
    from transformers.utils import logging as hf_logging

    one_thread_on_arm(torch)
    hf_logging.disable_progress_bar()
    try:
        model = Wav2Vec2ForCTC.from_pretrained(str(folder), use_safetensors=True,
                                               trust_remote_code=False, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise _missing_model(str(folder), exc) from exc
    model.eval()

    class Logits(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_values: torch.Tensor) -> torch.Tensor:
            return self.inner(input_values).logits

    dummy = torch.randn(1, 16000, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation/tracer notes
        # The TorchScript exporter: ~1 s for the tiny test model, ~18 s for wav2vec2-base,
        # against ~5x that for the dynamo exporter, and it needs no onnxscript.
        torch.onnx.export(Logits(model), (dummy,), str(out), input_names=[INPUT],
                          output_names=[OUTPUT], opset_version=OPSET, dynamo=False,
                          dynamic_axes={INPUT: {0: "batch", 1: "samples"},
                                        OUTPUT: {0: "batch", 1: "frames"}})


def _token(value: Any, default: str) -> str:
    """A special token as saved by either transformers 4 (str) or older dict forms."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else default


def read_vocab(folder: Path) -> tuple[dict[int, str], int, str]:
    """(id -> token, blank id, word delimiter) from vocab.json and the tokenizer config."""
    vocab_file = read_json(folder / "vocab.json")
    if not vocab_file:
        raise AsrError(f"{folder}: no readable vocab.json; the ONNX runtime needs the CTC "
                       "tokenizer's files (or set asr.runtime: torch)", code="model-missing")
    if all(isinstance(v, dict) for v in vocab_file.values()):  # multilingual: {lang: vocab}
        tok_cfg = read_json(folder / "tokenizer_config.json")
        vocab_file = vocab_file.get(str(tok_cfg.get("target_lang")), {})
    vocab = {int(i): str(t) for t, i in vocab_file.items()}
    tok_cfg = read_json(folder / "tokenizer_config.json")
    for i, entry in (tok_cfg.get("added_tokens_decoder") or {}).items():
        vocab.setdefault(int(i), _token(entry, ""))
    special = read_json(folder / "special_tokens_map.json")
    pad = _token(tok_cfg.get("pad_token") or special.get("pad_token"), "<pad>")
    by_token = {t: i for i, t in vocab.items()}
    if pad in by_token:
        blank = by_token[pad]
    else:
        blank = int(read_json(folder / "config.json").get("pad_token_id") or 0)
    delimiter = _token(tok_cfg.get("word_delimiter_token"), "|")
    return vocab, blank, delimiter


def reads_normalized(folder: Path) -> bool:
    """The feature extractor's do_normalize (preprocessor_config.json, or transformers 5's
    processor_config.json)."""
    pre = read_json(folder / "preprocessor_config.json")
    if "do_normalize" not in pre:
        pre = read_json(folder / "processor_config.json").get("feature_extractor") or {}
    return bool(pre.get("do_normalize", True))


class Wav2Vec2OnnxRecognizer(CtcTranscriber):
    name = "wav2vec2"

    def __init__(self, session: Any, vocab: dict[int, str], blank_id: int,
                 word_delimiter: str = "|", normalize: bool = True) -> None:
        self.session = session
        self.vocab = vocab
        self.blank_id = blank_id
        self.word_delimiter = word_delimiter
        self.normalize = normalize
        self.bias = PhraseBias(self.vocab, self.blank_id, self.word_delimiter)

    @classmethod
    def load(cls, cfg: AsrConfig, cache_dir: Path) -> Wav2Vec2OnnxRecognizer:
        """Build the ONNX file once if it is not cached, then open it (no torch import)."""
        folder = model_folder(cfg.model)
        vocab, blank, delimiter = read_vocab(folder)
        path = onnx_path(folder, cache_dir, cfg.quantize)
        if not path.is_file():
            if not converts_here():
                raise AsrError(f"no ONNX model of {cfg.model} ({cfg.quantize}) in {cache_dir}, "
                               "and torch is not installed to convert it; run `assistant "
                               "download` (it fetches a ready ONNX export), or install torch "
                               "(the neural extra)", code="onnx-missing")
            build_onnx(folder, path, cfg.quantize)
        session = open_session(path, cfg.threads, AsrError)
        recognizer = cls(session, vocab, blank, delimiter, reads_normalized(folder))
        recognizer.transcribe(Audio.silence(0.5))  # warm-up: the first question is not slow
        return recognizer

    def features(self, audio: Audio) -> np.ndarray:
        """What Wav2Vec2FeatureExtractor gives: float32, zero mean, unit variance."""
        x = audio.as_float()
        if self.normalize:
            x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        return x.astype(np.float32)[None, :]

    def logits(self, audio: Audio) -> np.ndarray:
        out = self.session.run([OUTPUT], {INPUT: self.features(audio)})[0]
        return np.asarray(out[0], dtype=np.float32)

    def transcribe(self, audio: Audio) -> Transcript:
        if audio.duration_s < 0.1:
            return Transcript("", self.name)
        from onnxruntime.capi.onnxruntime_pybind11_state import (
            Fail,
            InvalidArgument,
            RuntimeException,
        )

        try:
            logits = self.logits(audio)
        except (Fail, InvalidArgument, RuntimeException, MemoryError) as exc:
            raise AsrError(f"wav2vec2 (onnx) failed on a {audio.duration_s:.1f} s utterance "
                           f"({exc})", code="inference") from exc
        return self.transcript(logits)
