"""Where a model's files are on this machine: a local folder, or the Hugging Face cache's
snapshot of a hub id. Never downloads (`assistant download` is the one command that does)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path


def local_folder(model: str, weights: Sequence[str] = ("model.safetensors",)) -> Path | None:
    """The folder holding ``model``'s files when one of ``weights`` is there; else None."""
    path = Path(os.path.expanduser(model))
    if path.is_dir():
        return path if any((path / name).is_file() for name in weights) else None
    if importlib.util.find_spec("huggingface_hub") is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    for name in weights:
        try:
            found = try_to_load_from_cache(model, name)
        except Exception:  # a malformed id: not on disk either
            return None
        if isinstance(found, str):
            return Path(found).parent
    return None


__all__ = ["local_folder"]
