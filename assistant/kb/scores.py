"""The pure scoring primitives that the matcher, its calibration and evaluation share: how
phrasing cosines become entry scores, the margin bonus, and the threshold that balances
right answers against rejected unrelated questions. Numpy only; imports nothing of the
package, so every other module of ``kb/`` can use it without a circle."""

from __future__ import annotations

import numpy as np

SCORINGS = ("blend", "max")


def entry_starts(entry_of: np.ndarray) -> np.ndarray:
    """Index of each entry's first phrasing; phrasings of one entry must be contiguous."""
    entry_of = np.asarray(entry_of, dtype=np.int64)
    if entry_of.size and (np.any(np.diff(entry_of) < 0) or np.any(np.diff(entry_of) > 1)
                          or entry_of[0] != 0):
        raise ValueError("phrasings must be grouped by entry, in entry order")
    return np.flatnonzero(np.r_[True, np.diff(entry_of) != 0]) if entry_of.size else entry_of


def centroids(vecs: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Unit-length mean of each entry's phrasings."""
    sums = np.add.reduceat(vecs, starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.maximum(norms, 1e-12)).astype(np.float32)


def combine(best_sims: np.ndarray, centroid_sims: np.ndarray, scoring: str) -> np.ndarray:
    """Entry scores from the closest-phrasing and centroid cosines (same shapes)."""
    if scoring == "max":
        return best_sims
    if scoring == "blend":
        return 0.5 * (best_sims + centroid_sims)
    raise ValueError(f"unknown scoring {scoring!r}; choose one of {', '.join(SCORINGS)}")


def margins(scores: np.ndarray, margin_weight: float) -> np.ndarray:
    """Per row of an (n, entries) score matrix: margin_weight * (best - second best)."""
    if scores.shape[1] < 2 or margin_weight == 0:
        return np.zeros(scores.shape[0], dtype=np.float32)
    top2 = np.partition(scores, scores.shape[1] - 2, axis=1)[:, -2:]
    return (margin_weight * (top2[:, 1] - top2[:, 0])).astype(np.float32)


def best_threshold(correct: np.ndarray, in_conf: np.ndarray,
                   out_conf: np.ndarray) -> tuple[float, float, float]:
    """The threshold that maximises min(accuracy, rejection), as (threshold, accuracy,
    rejection). ``correct`` and ``in_conf``: per in-scope question, right best entry and its
    confidence; ``out_conf``: per out-of-scope question. Ties go to the lowest threshold,
    placed halfway between neighbouring confidences."""
    if len(in_conf) == 0 or len(out_conf) == 0:
        raise ValueError("need in-scope and out-of-scope outcomes")
    vals = np.unique(np.concatenate([in_conf, out_conf]).astype(np.float64))
    cuts = np.append(vals, np.inf)  # answer when confidence >= cut; inf answers nothing
    acc = answered_right(correct, in_conf, cuts)
    rej = np.searchsorted(np.sort(out_conf.astype(np.float64)), cuts, side="left") / len(out_conf)
    i = int(np.argmax(np.minimum(acc, rej)))
    if i == len(vals):
        t = vals[-1] + 0.01
    else:
        t = vals[i] if i == 0 else (vals[i - 1] + vals[i]) / 2
    return float(t), float(acc[i]), float(rej[i])


def answered_right(correct: np.ndarray, in_conf: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Per cut: the share of in-scope questions right and with confidence >= the cut."""
    ok = np.sort(np.asarray(in_conf, dtype=np.float64)[np.asarray(correct, dtype=bool)])
    return (len(ok) - np.searchsorted(ok, cuts, side="left")) / max(len(in_conf), 1)
