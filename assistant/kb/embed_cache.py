"""The on-disk cache of phrasing embeddings: one vector per (model, normalised phrasing), so
editing one phrasing of a big qa.yaml re-embeds that phrasing only, not the whole file.

One ``.npz`` file per model under ``cache_dir/embeddings/``: the phrasings' keys (a hash of
model + text) and their vectors, rewritten atomically when new phrasings were embedded. A
corrupt or mismatched file is rebuilt, never trusted. Long jobs show progress: a bar on a
terminal, a log line every 10% (or 5 s) when stderr is not one (systemd, a pipe)."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

CHUNK = 500  # phrasings embedded per call (the unit of progress)
PROGRESS_FROM = 1000  # fewer new phrasings than this: no progress shown
MAX_ROWS = 500_000  # a store above this keeps only the phrasings in use (~770 MB at 384-d)
PROGRESS_EVERY_S = 5.0


def phrasing_key(model: str, text: str) -> bytes:
    return hashlib.sha256(f"{model}\x00{' '.join(text.split())}".encode()).digest()[:16]


def store_path(cache_dir: Path, model: str) -> Path:
    name = hashlib.sha256(model.encode()).hexdigest()[:16]
    return cache_dir / "embeddings" / f"phrasings-{name}.npz"


def _load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    empty = (np.zeros(0, "S16"), np.zeros((0, 0), np.float32))
    if not path.is_file():
        return empty
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vecs = data["keys"], data["vecs"]
        if (keys.dtype == np.dtype("S16") and vecs.ndim == 2 and len(keys) == len(vecs)
                and np.isfinite(vecs).all()):
            return keys, vecs.astype(np.float32, copy=False)
        log.warning("embedding cache %s is inconsistent; rebuilding", path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("embedding cache %s is unreadable (%s); rebuilding", path, exc)
    return empty


def _save(path: Path, keys: np.ndarray, vecs: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}.npz")
        np.savez(tmp, keys=keys, vecs=vecs)
        os.replace(tmp, path)  # atomic: a crash never leaves half a cache
    except OSError as exc:
        log.warning("cannot write embedding cache %s (%s); continuing without it", path, exc)


def embed_with_progress(embed: Any, texts: Sequence[str]) -> np.ndarray:
    """``embed(texts)`` in chunks, with a bar on a terminal or log lines without one."""
    if len(texts) < PROGRESS_FROM:
        return np.asarray(embed(list(texts)), dtype=np.float32)
    chunk = max(32, min(CHUNK, len(texts) // 20))  # at least ~20 steps of progress
    chunks = range(0, len(texts), chunk)
    out = []
    if sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None:
        from tqdm import tqdm

        with tqdm(total=len(texts), desc="embedding phrasings", unit="phrasing",
                  leave=False) as bar:
            for start in chunks:
                out.append(embed(list(texts[start:start + chunk])))
                bar.update(len(out[-1]))
        return np.vstack(out).astype(np.float32, copy=False)
    t0 = last = time.monotonic()
    next_share = 0.1
    log.info("embedding %d phrasings (once; later starts read the cache)", len(texts))
    for start in chunks:
        out.append(embed(list(texts[start:start + chunk])))
        done = min(start + chunk, len(texts))
        now = time.monotonic()
        if done == len(texts) or done / len(texts) >= next_share or now - last >= PROGRESS_EVERY_S:
            log.info("embedding phrasings: %d/%d (%d%%), %.0f s", done, len(texts),
                     100 * done // len(texts), now - t0)
            last = now
            while next_share <= done / len(texts):
                next_share += 0.1
    return np.vstack(out).astype(np.float32, copy=False)


def cached_phrasing_embeddings(embedder: Any, texts: Sequence[str],
                               cache_dir: Path | None) -> np.ndarray:
    """One row per text; only the texts this model never embedded before are embedded."""
    if cache_dir is None:
        return embed_with_progress(embedder.embed, texts)
    path = store_path(cache_dir, embedder.name)
    keys, vecs = _load(path)
    row = {k: i for i, k in enumerate(keys.tolist())}
    wanted = [phrasing_key(embedder.name, t) for t in texts]
    missing: dict[bytes, str] = {}
    for k, t in zip(wanted, texts, strict=True):
        if k not in row and k not in missing:
            missing[k] = " ".join(t.split())
    if missing:
        log.debug("embedding %d new phrasing(s) of %d", len(missing), len(texts))
        new = embed_with_progress(embedder.embed, list(missing.values()))
        if vecs.shape[0] and vecs.shape[1] != new.shape[1]:  # another model under this name
            keys, vecs, row = np.zeros(0, "S16"), np.zeros((0, new.shape[1]), np.float32), {}
        start = len(keys)
        keys = np.concatenate([keys, np.array(list(missing), dtype="S16")])
        vecs = np.vstack([vecs.reshape(-1, new.shape[1]), new])
        row.update({k: start + i for i, k in enumerate(missing)})
        if len(keys) > MAX_ROWS:  # keep what is in use
            used = sorted({row[k] for k in wanted})
            keys, vecs = keys[used], vecs[used]
            row = {k: i for i, k in enumerate(keys.tolist())}
        _save(path, keys, vecs)
    if not texts:
        return np.zeros((0, vecs.shape[1] if vecs.ndim == 2 else 0), np.float32)
    return vecs[[row[k] for k in wanted]]
