"""Question matching: pure numpy over unit vectors, no model inside.

Each entry is scored from all its phrasings. With ``scoring="blend"`` (the default) the score
is the mean of two cosines: with the entry's closest phrasing, and with the centroid of all
its phrasings (the closest phrasing keeps rare wordings; the centroid smooths out phrasings
that happen to lie near another entry). ``scoring="max"`` is the closest phrasing alone.

The decision to answer uses a *confidence*: the best entry's score plus ``margin_weight``
times its lead over the runner-up, since a query that sits between two entries is more often
out of scope than one that clearly picks one. The best entry answers when its confidence
reaches the threshold; ``threshold="auto"`` calibrates it from the knowledge base itself
(see :mod:`.calibrate`). ``docs/matching.md`` has the measurements behind these choices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .knowledge import KnowledgeBase

SCORINGS = ("blend", "max")
DEFAULT_SCORING = "blend"
DEFAULT_MARGIN_WEIGHT = 1.0


@dataclass(frozen=True)
class Candidate:
    entry: int
    question: str  # the phrasing of this entry closest to the query
    score: float


@dataclass(frozen=True)
class Match:
    candidates: tuple[Candidate, ...]  # best first, at most top_k
    threshold: float
    margin: float = 0.0  # bonus added to the best score: margin_weight * (best - second)

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def confidence(self) -> float | None:
        best = self.best
        return None if best is None else best.score + self.margin

    @property
    def answered(self) -> bool:
        confidence = self.confidence
        return confidence is not None and confidence >= self.threshold


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


class Matcher:
    """Scores queries against a knowledge base's phrasing vectors (unit length, one row per
    phrasing in ``kb.questions`` order). ``threshold`` is a number or ``"auto"``."""

    def __init__(self, kb: KnowledgeBase, question_vecs: np.ndarray,
                 threshold: float | str = "auto", scoring: str = DEFAULT_SCORING,
                 margin_weight: float = DEFAULT_MARGIN_WEIGHT) -> None:
        if question_vecs.ndim != 2 or question_vecs.shape[0] != len(kb.questions):
            raise ValueError("one embedding per question is required")
        if scoring not in SCORINGS:
            raise ValueError(f"unknown scoring {scoring!r}; choose one of {', '.join(SCORINGS)}")
        self.kb = kb
        self.vecs = np.ascontiguousarray(question_vecs, dtype=np.float32)
        self.scoring = scoring
        self.margin_weight = float(margin_weight)
        self._questions = kb.questions
        self._entry_of = np.asarray(kb.question_entry, dtype=np.int64)
        self._starts = entry_starts(self._entry_of)
        self._centroids = centroids(self.vecs, self._starts)
        if isinstance(threshold, str):
            if threshold != "auto":
                raise ValueError(f"threshold must be a number or 'auto', got {threshold!r}")
            from .calibrate import auto_threshold

            threshold = auto_threshold(self.vecs, self._entry_of, scoring, self.margin_weight)
        self.threshold = float(threshold)

    def score_matrix(self, query_vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For queries as rows: (entry scores, phrasing similarities), shapes (n, entries)
        and (n, phrasings)."""
        q = np.atleast_2d(np.asarray(query_vecs, dtype=np.float32))
        sims = q @ self.vecs.T
        best = np.maximum.reduceat(sims, self._starts, axis=1)
        return combine(best, q @ self._centroids.T, self.scoring), sims

    def entry_scores(self, query_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: its score and the index of its phrasing closest to the query."""
        scores, sims = self.score_matrix(query_vec)
        return scores[0], self._closest(sims[0])

    def _closest(self, sims: np.ndarray) -> np.ndarray:
        best = np.maximum.reduceat(sims, self._starts)
        hit = sims >= best[self._entry_of]
        which = np.full(len(self._starts), -1, dtype=np.int64)
        which[self._entry_of[hit][::-1]] = np.nonzero(hit)[0][::-1]  # first phrasing wins
        return which

    def match(self, query_vec: np.ndarray, top_k: int = 3) -> Match:
        return self.match_many(np.atleast_2d(query_vec), top_k)[0]

    def match_many(self, query_vecs: np.ndarray, top_k: int = 3) -> list[Match]:
        """One Match per query row: the batch form used by evaluation."""
        scores, sims = self.score_matrix(query_vecs)
        bonus = margins(scores, self.margin_weight)
        k = max(1, min(top_k, scores.shape[1]))
        out = []
        for row, (entry_row, sim_row) in enumerate(zip(scores, sims, strict=True)):
            order = np.argpartition(-entry_row, k - 1)[:k]
            order = order[np.argsort(-entry_row[order], kind="stable")]
            which = self._closest(sim_row)
            cands = tuple(Candidate(int(e), self._questions[int(which[e])], float(entry_row[e]))
                          for e in order)
            out.append(Match(cands, self.threshold, float(bonus[row])))
        return out
