"""The fitted decision model of a knowledge base: the one place that decides how a query's
vector is compared with the phrasings and when the best answer is good enough to speak.

It is fitted when a knowledge base loads, from that knowledge base alone:

* ``model="whiten"``: a linear map fitted on the phrasings (within-answer whitening): the
  directions in which phrasings *of the same answer* differ from each other are the ways
  people reword a question, so they are scaled down, and the directions that tell answers
  apart are scaled up. The covariance of the phrasings around their own answer's mean is
  shrunk towards a multiple of the identity (``shrinkage``: 1 is no change at all), because
  a few phrasings per answer cannot estimate 384 dimensions. Vectors are mapped with it and
  made unit length again; the matcher's scoring (closest phrasing, centroid, margin) is then
  unchanged, in the new space.
* ``model="none"``: no map; cosines of the sentence model's own vectors (the matcher before
  issue #28).

Then the threshold: a number, or ``"auto"``, calibrated by leave-one-out over the phrasings
in the fitted space (:mod:`.calibrate`). A knowledge base with fewer than
:data:`MIN_REPEATS` phrasings beyond the first of each answer has nothing to fit the map on:
it falls back to ``none`` and :attr:`Decision.note` says why (``assistant check`` prints it).

Imports only :mod:`.scores` and :mod:`.calibrate`; the matcher, calibration reports and
evaluation import this module, never the other way round.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .calibrate import auto_threshold, pooled, threshold_of, trials
from .scores import SCORINGS, entry_starts

log = logging.getLogger(__name__)

MODELS = ("whiten", "none")
DEFAULT_MODEL = "whiten"
DEFAULT_MARGIN_WEIGHT = 1.0  # dev splits preferred 2 by <= 0.4 points; 1 keeps numeric thresholds
DEFAULT_SHRINKAGE = 0.7  # tuned on BANKING77 dev splits (docs/matcher.md)
MIN_REPEATS = 8  # phrasings beyond each answer's first needed to fit the map
FOLDS = 3  # calibration folds of the whitened model (one phrasing per answer held out)
RECIPE = 2  # bump when fitting changes: cached decisions are refitted


@dataclass(frozen=True)
class Decision:
    """How queries are scored and when to answer. ``transform`` is None for plain cosine."""

    model: str  # the model in effect: "whiten", or "none" (asked for, or fallen back to)
    threshold: float
    scoring: str
    margin_weight: float
    transform: np.ndarray | None = None  # (dim, dim): x -> unit(x @ transform)
    note: str = ""  # one line: what was fitted on what, or why it fell back

    def apply(self, vecs: np.ndarray) -> np.ndarray:
        """Sentence vectors (rows, or one vector) mapped into the space scores are taken in,
        unit length; the identity for ``none``."""
        v = np.asarray(vecs, dtype=np.float32)
        if self.transform is None:
            return v
        mapped = v @ self.transform
        norms = np.linalg.norm(mapped, axis=-1, keepdims=True)
        return (mapped / np.maximum(norms, 1e-12)).astype(np.float32)


def whitening(vecs: np.ndarray, entry_of: np.ndarray, shrinkage: float) -> np.ndarray | None:
    """The within-answer whitening map (dim, dim): ``W`` with ``W @ W.T`` the inverse of the
    shrunk covariance (from its Cholesky factor: the same cosines as the symmetric inverse
    square root, at a fraction of the cost of an eigendecomposition); None when too few
    answers have two phrasings or more. Phrasings must be grouped by entry, in order."""
    vecs = np.asarray(vecs, dtype=np.float64)
    entry_of = np.asarray(entry_of, dtype=np.int64)
    starts = entry_starts(entry_of)
    counts = np.diff(np.r_[starts, len(entry_of)])
    repeats = int(np.sum(counts - 1))
    if repeats < MIN_REPEATS or not 0 <= shrinkage < 1:
        return None
    means = np.add.reduceat(vecs, starts, axis=0) / counts[:, None]
    resid = vecs - np.repeat(means, counts, axis=0)
    cov = resid.T @ resid / repeats
    scale = np.trace(cov) / len(cov)
    if scale <= 1e-12:  # every answer's phrasings identical: nothing to learn
        return None
    cov = (1 - shrinkage) * cov / scale + shrinkage * np.eye(len(cov))
    factor = np.linalg.cholesky(cov)  # cov = L L^T, so (L^-1)^T (L^-1) = cov^-1
    return np.ascontiguousarray(np.linalg.inv(factor).T, dtype=np.float32)


def fit(vecs: np.ndarray, entry_of: np.ndarray, threshold: float | str = "auto",
        scoring: str = "blend", margin_weight: float = 1.0, model: str = DEFAULT_MODEL,
        shrinkage: float = DEFAULT_SHRINKAGE) -> Decision:
    """Fit the decision model of one knowledge base's phrasing vectors (unit rows)."""
    if model not in MODELS:
        raise ValueError(f"unknown matcher model {model!r}; choose one of {', '.join(MODELS)}")
    if scoring not in SCORINGS:
        raise ValueError(f"unknown scoring {scoring!r}; choose one of {', '.join(SCORINGS)}")
    if isinstance(threshold, str) and threshold != "auto":
        raise ValueError(f"threshold must be a number or 'auto', got {threshold!r}")
    vecs = np.asarray(vecs, dtype=np.float32)
    entry_of = np.asarray(entry_of, dtype=np.int64)
    transform, note = None, "plain cosine"
    if model == "whiten":
        transform = whitening(vecs, entry_of, shrinkage)
        if transform is None:
            note = (f"plain cosine: fewer than {MIN_REPEATS} phrasings beyond each answer's "
                    "first, too few to fit the whitening on")
            model = "none"
        else:
            note = (f"within-answer whitening fitted on {len(vecs)} phrasings, "
                    f"shrinkage {shrinkage:g}")
    if threshold == "auto" and transform is None:
        threshold = auto_threshold(vecs, entry_of, scoring, float(margin_weight))
    elif threshold == "auto":
        threshold = _held_out_threshold(vecs, entry_of, scoring, float(margin_weight),
                                        shrinkage)
    return Decision(model, float(threshold), scoring, float(margin_weight), transform, note)


def _held_out_threshold(vecs: np.ndarray, entry_of: np.ndarray, scoring: str,
                        margin_weight: float, shrinkage: float) -> float:
    """The leave-one-out threshold of a whitened knowledge base, without the optimism of
    testing a map on the phrasings it was fitted on: in each of :data:`FOLDS` folds one
    phrasing of every answer that has two or more is held out, the map is fitted on the
    others, and only the held-out phrasings are tried (in scope: their answer without them;
    out of scope: the knowledge base without their answer). The trials of all folds are
    pooled."""
    counts = np.bincount(entry_of)
    position = np.arange(len(entry_of)) - np.searchsorted(entry_of, entry_of)
    parts = []
    for fold in range(FOLDS):
        held = (counts[entry_of] >= 2) & (position == fold % counts[entry_of])
        transform = whitening(vecs[~held], entry_of[~held], shrinkage)
        if transform is None:  # too few phrasings without the held-out ones: no map
            transform = np.eye(vecs.shape[1], dtype=np.float32)
        mapped = Decision("whiten", 0.0, scoring, margin_weight, transform).apply(vecs)
        parts.append(trials(mapped, entry_of, scoring, margin_weight, np.flatnonzero(held)))
    return threshold_of(pooled(parts))


def cache_key(vecs: np.ndarray, entry_of: np.ndarray, *params: object) -> str:
    """What a fitted decision depends on: the vectors, their grouping and the settings."""
    h = hashlib.sha256(repr((RECIPE, params)).encode())
    h.update(np.ascontiguousarray(vecs, dtype=np.float32).tobytes())
    h.update(np.ascontiguousarray(entry_of, dtype=np.int64).tobytes())
    return h.hexdigest()[:24]


def fit_cached(vecs: np.ndarray, entry_of: np.ndarray, cache_dir: Path | None,
               threshold: float | str = "auto", scoring: str = "blend",
               margin_weight: float = 1.0, model: str = DEFAULT_MODEL,
               shrinkage: float = DEFAULT_SHRINKAGE) -> Decision:
    """:func:`fit`, read from ``cache_dir/decisions/`` when this knowledge base was fitted
    with these settings before (a restart), written there otherwise. An unreadable file is
    refitted, never trusted."""
    params = (str(threshold), scoring, float(margin_weight), model, float(shrinkage))
    if cache_dir is None:
        return fit(vecs, entry_of, threshold, scoring, margin_weight, model, shrinkage)
    path = Path(cache_dir) / "decisions" / f"{cache_key(vecs, entry_of, *params)}.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            transform = z["transform"] if z["transform"].size else None
            return Decision(str(z["model"]), float(z["threshold"]), scoring,
                            float(margin_weight), transform, str(z["note"]))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError) as exc:
        log.warning("fitted matcher cache %s is unreadable (%s); refitting", path, exc)
    d = fit(vecs, entry_of, threshold, scoring, margin_weight, model, shrinkage)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}.npz")
        np.savez(tmp, model=d.model, threshold=d.threshold, note=d.note,
                 transform=d.transform if d.transform is not None else np.zeros(0, np.float32))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cannot write fitted matcher cache %s (%s); continuing", path, exc)
    return d
