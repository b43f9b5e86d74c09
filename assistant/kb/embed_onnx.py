"""The sentence model through ONNX Runtime: the CPU default, because it starts without torch.

Importing torch and sentence-transformers costs ~4 s and ~300 MB before the first question;
ONNX Runtime and the ``tokenizers`` library cost a fraction of that. The model's transformer is
converted once into ``cache_dir/sentence-onnx/<key>/`` with its fast tokenizer: a BERT (the
default all-MiniLM-L6-v2) is written straight from its safetensors by bert_onnx, without torch,
so a Raspberry Pi converts it too; other architectures are exported with torch + transformers.
Pooling and normalization are done here in numpy, as sentence-transformers' Pooling and
Normalize modules do them. Models whose pipeline has other modules (a Dense layer, say) keep
the torch runtime.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import KnowledgeError
from ..onnx_cache import (
    build_cached,
    cache_key,
    one_thread_on_arm,
    open_session,
    read_json,
    require,
)
from .bert_onnx import bert_config, write_onnx

log = logging.getLogger(__name__)

RECIPE = 2  # bump when the export recipe changes: old caches are rebuilt
OPSET = 17
WEIGHTS = "model.safetensors"
POOLING_MODES = ("mean_tokens", "cls_token", "max_tokens", "mean_sqrt_len_tokens")
# sentence-transformers 6 writes one "pooling_mode" string instead of pooling_mode_* flags
MODE_NAMES = {"mean": "mean_tokens", "cls": "cls_token", "max": "max_tokens",
              "mean_sqrt_len_tokens": "mean_sqrt_len_tokens"}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model",
                   "spiece.model", "added_tokens.json")
BATCH = 64


def _kind(module: dict[str, Any]) -> str:
    """"Transformer", "Pooling", "Normalize", ... from the module's class path (any version)."""
    return str(module.get("type", "")).rsplit(".", 1)[-1]


def _pooling(conf: dict[str, Any]) -> str | None:
    """The one pooling mode of a Pooling config, in either format; None if it is another or
    several (concatenated, weighted, last token): those are left to torch."""
    if "pooling_mode" in conf:
        mode = conf["pooling_mode"]
        mode = mode[0] if isinstance(mode, list) and len(mode) == 1 else mode
        return MODE_NAMES.get(mode) if isinstance(mode, str) else None
    flags = [k.removeprefix("pooling_mode_") for k, v in conf.items()
             if k.startswith("pooling_mode_") and v]
    if len(flags) > 1 or any(f not in POOLING_MODES for f in flags):
        return None
    return flags[0] if flags else "mean_tokens"


def pipeline_of(folder: Path) -> dict[str, Any] | None:
    """``{"pooling", "max_tokens", "lower_case"}`` when the model is a transformer followed by
    pooling (and normalization) that this module reproduces; None when it is anything else
    (other modules, other poolings, a default prompt)."""
    modules: Any = [{"type": "Transformer", "path": ""}, {"type": "Pooling", "path": ""}]
    if (folder / "modules.json").is_file():  # else a plain HF model: mean pooling
        try:
            modules = json.loads((folder / "modules.json").read_text())
        except (OSError, ValueError):
            return None  # let sentence-transformers say what is wrong with it
    if not isinstance(modules, list) or not modules or \
            not all(isinstance(m, dict) for m in modules) or \
            _kind(modules[0]) != "Transformer" or modules[0].get("path") not in ("", None):
        return None
    if read_json(folder / "config_sentence_transformers.json").get("default_prompt_name"):
        return None  # a prompt is prepended to every text: sentence-transformers knows how
    pooling: str | None = "mean_tokens"
    for module in modules[1:]:
        if _kind(module) == "Pooling":
            pooling = _pooling(read_json(folder / str(module.get("path", "")) / "config.json"))
        elif _kind(module) != "Normalize":
            return None
    if pooling is None:
        return None
    st = read_json(folder / "sentence_bert_config.json")
    tok = read_json(folder / "tokenizer_config.json")
    max_tokens = st.get("max_seq_length") or min(int(tok.get("model_max_length", 512)), 512)
    return {"pooling": pooling, "max_tokens": int(max_tokens),
            "lower_case": bool(st.get("do_lower_case", False))}


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """(batch, tokens, dim) hidden states -> (batch, dim) unit vectors."""
    m = mask[:, :, None].astype(np.float32)
    if mode == "cls_token":
        out = hidden[:, 0]
    elif mode == "max_tokens":
        out = np.where(m > 0, hidden, -1e9).max(axis=1)
    else:
        summed, count = (hidden * m).sum(axis=1), np.clip(m.sum(axis=1), 1e-9, None)
        out = summed / (np.sqrt(count) if mode == "mean_sqrt_len_tokens" else count)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.clip(norm, 1e-12, None)).astype(np.float32)


def onnx_dir(folder: Path, cache_dir: Path) -> Path:
    """Rebuilt when the weights, config.json or the tokenizer's files change."""
    key = cache_key(folder, WEIGHTS, {"opset": OPSET, "recipe": RECIPE}, TOKENIZER_FILES)
    return cache_dir / "sentence-onnx" / key


def build_onnx(folder: Path, target: Path) -> None:
    """Convert the transformer to ``target`` (dynamic batch and length) with its tokenizer:
    without torch for a BERT that has a tokenizer.json, with torch for anything else."""
    torch_free = bert_config(folder) is not None and (folder / "tokenizer.json").is_file()
    needs = ("onnx", "safetensors") if torch_free else ("torch", "transformers", "onnx")
    require(needs, "converting the sentence model to ONNX", KnowledgeError)
    size_mb = (folder / WEIGHTS).stat().st_size / 1e6
    log.info("converting the sentence model to ONNX (once, ~%.0f s)...", 5 + size_mb / 30)
    build = _write if torch_free else _export
    build_cached(target, folder, {}, RECIPE, functools.partial(build, folder),
                 KnowledgeError, "set matcher.runtime: torch")


def _write(folder: Path, work: Path) -> Path:
    """The torch-free recipe: the graph from bert_onnx, the tokenizer.json as shipped."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok_cfg = read_json(folder / "tokenizer_config.json")
    special = read_json(folder / "special_tokens_map.json")
    pad = tok_cfg.get("pad_token") or special.get("pad_token") or "[PAD]"
    pad = pad.get("content", "[PAD]") if isinstance(pad, dict) else str(pad)
    pad_id = tokenizer.token_to_id(pad)
    if pad_id is None:
        raise ValueError(f"the padding token {pad!r} is not in {folder / 'tokenizer.json'}")
    tokenizer.save(str(work / "tokenizer.json"))
    (work / "special.json").write_text(json.dumps({"pad_id": pad_id, "pad_token": pad}))
    return write_onnx(folder, WEIGHTS, work / "model.onnx")


def _export(folder: Path, work: Path) -> Path:
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    one_thread_on_arm(torch)
    hf_logging.disable_progress_bar()
    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, use_fast=True)
    if not tok.is_fast:
        raise ValueError("the model has no fast tokenizer (tokenizer.json)")
    tok.backend_tokenizer.save(str(work / "tokenizer.json"))
    (work / "special.json").write_text(json.dumps(
        {"pad_id": tok.pad_token_id or 0, "pad_token": tok.pad_token or "[PAD]"}))
    model = AutoModel.from_pretrained(str(folder), use_safetensors=True,
                                      trust_remote_code=False, local_files_only=True)
    model.eval()
    names = [n for n in tok.model_input_names
             if n in ("input_ids", "attention_mask", "token_type_ids")]

    class Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, inputs, strict=True)))[0]

    sample = tok(["a sentence to trace the model with", "and a shorter one"], padding=True,
                 return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation/tracer notes
        torch.onnx.export(Hidden(model), tuple(sample[n] for n in names),
                          str(work / "model.onnx"), input_names=names, output_names=["hidden"],
                          opset_version=OPSET, dynamo=False, dynamic_axes=axes)
    return work / "model.onnx"


class OnnxSentenceEmbedder:
    """Sentence embeddings equal to sentence-transformers' (to ~1e-6) without torch."""

    def __init__(self, session: Any, tokenizer: Any, pipeline: dict[str, Any],
                 name: str) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.pipeline = pipeline
        self.name = name
        self.inputs = [i.name for i in session.get_inputs()]
        width = session.get_outputs()[0].shape[-1]
        self.dim = width if isinstance(width, int) else 0

    @classmethod
    def load(cls, folder: Path, name: str, cache_dir: Path,
             pipeline: dict[str, Any]) -> OnnxSentenceEmbedder:
        target = onnx_dir(folder, cache_dir) / "model.onnx"
        if not target.is_file():
            build_onnx(folder, target)
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(target.parent / "tokenizer.json"))
            special = json.loads((target.parent / "special.json").read_text())
        except Exception as exc:  # tokenizers raises plain Exception
            raise KnowledgeError(f"the cached sentence model in {target.parent} is incomplete "
                                 f"({exc}); delete that folder to rebuild it",
                                 code="onnx-cache") from exc
        tokenizer.enable_truncation(max_length=pipeline["max_tokens"])
        tokenizer.enable_padding(pad_id=int(special["pad_id"]), pad_token=special["pad_token"])
        # One thread: a short sentence is too little work to share, and a second thread waits
        # whenever the recognizer or TTS holds the other core.
        embedder = cls(open_session(target, 1, KnowledgeError), tokenizer, pipeline, name)
        embedder.embed(["warm up"])  # the first run is slow: pay it at start, not on a question
        return embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t.lower() for t in texts] if self.pipeline["lower_case"] else list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # less padding per batch
        rows: list[np.ndarray] = []
        for start in _progress(range(0, len(texts), BATCH), len(texts)):
            encodings = self.tokenizer.encode_batch([texts[i] for i in order[start:start + BATCH]])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask,
                     "token_type_ids": np.array([e.type_ids for e in encodings], np.int64)}
            hidden = self.session.run(None, {k: feeds[k] for k in self.inputs})[0]
            rows.append(pool(hidden, mask, self.pipeline["pooling"]))
        if not rows:
            return np.zeros((0, self.dim), np.float32)
        out = np.empty((len(texts), rows[0].shape[1]), np.float32)
        out[order] = np.concatenate(rows)
        return out


def _progress(batches: range, n_texts: int) -> Any:
    """A progress bar on a terminal for long jobs (a big qa.yaml's first embedding)."""
    if n_texts <= 500 or importlib.util.find_spec("tqdm") is None:
        return batches
    from tqdm import tqdm

    return tqdm(batches, desc="embedding questions", unit="batch", disable=None, leave=False)


__all__ = ["OnnxSentenceEmbedder", "build_onnx", "onnx_dir", "pipeline_of", "pool"]
