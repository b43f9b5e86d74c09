"""Question matching: pure numpy over unit vectors, no model inside.

Each entry is scored from all its phrasings. With ``scoring="blend"`` (the default) the score
is the mean of two cosines: with the entry's closest phrasing, and with the centroid of all
its phrasings (the closest phrasing keeps rare wordings; the centroid smooths out phrasings
that happen to lie near another entry). ``scoring="max"`` is the closest phrasing alone.

The decision to answer uses a *confidence*: the best entry's score plus ``margin_weight``
times its lead over the runner-up, since a query that sits between two entries is more often
out of scope than one that clearly picks one. The best entry answers when its confidence
reaches the threshold; ``threshold="auto"`` calibrates it from the knowledge base itself
(see :mod:`.calibrate`). The README (Question matching) has the measurements behind these choices.

Knowledge bases of many phrasings are searched in two stages, a coarse score then the exact
one on a few hundred candidates (:mod:`.index`); smaller ones are scored exactly throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import CANDIDATES, MIN_PHRASINGS, ReducedSpace, matvec, ranges, top_indices
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
    phrasing in ``kb.questions`` order). ``threshold`` is a number or ``"auto"``.

    ``match`` and ``match_many`` score every entry exactly, except in knowledge bases of
    :data:`.index.MIN_PHRASINGS` phrasings or more, where they score exactly only the entries
    a coarse search picks (see :mod:`.index` for the approximation). ``score_matrix`` and
    ``entry_scores`` always score every entry exactly."""

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
        self._counts = np.diff(np.r_[self._starts, len(self._entry_of)])
        # Centroids of the entries of two or more phrasings only: a single (unit) phrasing
        # is its own centroid, so its centroid cosine is its phrasing cosine.
        self._multi = np.flatnonzero(self._counts > 1)
        rows, local = ranges(self._starts[self._multi], self._counts[self._multi])
        self._centroids = centroids(self.vecs[rows], local).reshape(-1, self.vecs.shape[1])
        self._centroid_row = np.full(len(self._starts), -1, dtype=np.int64)
        self._centroid_row[self._multi] = np.arange(len(self._multi))
        self._use_centroids = scoring == "blend" and len(self._multi) > 0
        self._space = (ReducedSpace(self.vecs, self._centroids)
                       if len(self.vecs) >= MIN_PHRASINGS else None)
        if isinstance(threshold, str):
            if threshold != "auto":
                raise ValueError(f"threshold must be a number or 'auto', got {threshold!r}")
            from .calibrate import auto_threshold

            threshold = auto_threshold(self.vecs, self._entry_of, scoring, self.margin_weight)
        self.threshold = float(threshold)

    def _entry_scores(self, sims: np.ndarray, starts: np.ndarray, multi: np.ndarray,
                      centroid_sims: np.ndarray) -> np.ndarray:
        """Entry scores (last axis) from the similarities of their phrasings, grouped from
        ``starts``, and of the centroids of the entries at positions ``multi``."""
        if len(multi) == 0:
            return sims  # one phrasing each: closest phrasing == centroid == score
        best = np.maximum.reduceat(sims, starts, axis=-1)
        if not self._use_centroids:  # "max" scoring
            return best
        cen = best.copy()
        cen[..., multi] = centroid_sims
        return combine(best, cen, self.scoring)

    def score_matrix(self, query_vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For queries as rows: (entry scores, phrasing similarities), shapes (n, entries)
        and (n, phrasings). Exact, over every entry."""
        q = np.atleast_2d(np.asarray(query_vecs, dtype=np.float32))
        sims = _products(self.vecs, q)
        cen = _products(self._centroids, q) if self._use_centroids else sims[:, :0]
        return self._entry_scores(sims, self._starts, self._multi, cen), sims

    def entry_scores(self, query_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: its score and the index of its phrasing closest to the query."""
        scores, sims = self.score_matrix(query_vec)
        best = np.maximum.reduceat(sims[0], self._starts)
        hit = sims[0] >= best[self._entry_of]
        which = np.full(len(self._starts), -1, dtype=np.int64)
        which[self._entry_of[hit][::-1]] = np.nonzero(hit)[0][::-1]  # first phrasing wins
        return scores[0], which

    def match(self, query_vec: np.ndarray, top_k: int = 3) -> Match:
        return self.match_many(np.atleast_2d(query_vec), top_k)[0]

    def match_many(self, query_vecs: np.ndarray, top_k: int = 3) -> list[Match]:
        """One Match per query row: the batch form used by evaluation."""
        q = np.atleast_2d(np.asarray(query_vecs, dtype=np.float32))
        k = max(1, min(top_k, len(self._starts)))
        if self._space is not None and k <= CANDIDATES:
            return [self._match_candidates(row, k) for row in q]
        scores, sims = self.score_matrix(q)
        bonus = margins(scores, self.margin_weight)
        return [self._pick(scores[i], sims[i], self._starts, self._counts, k, float(bonus[i]))
                for i in range(len(q))]

    def _match_candidates(self, query: np.ndarray, k: int) -> Match:
        """Two stages (large knowledge bases): coarse scores pick the candidate entries, which
        are then scored exactly from their full vectors."""
        assert self._space is not None
        coarse, coarse_cen = self._space.similarities(query, self._use_centroids)
        entries = top_indices(self._entry_scores(coarse, self._starts, self._multi, coarse_cen),
                              CANDIDATES)
        counts = self._counts[entries]
        rows, local = ranges(self._starts[entries], counts)
        sims = matvec(self.vecs[rows], query)
        multi = np.flatnonzero(counts > 1)
        cen = (matvec(self._centroids[self._centroid_row[entries[multi]]], query)
               if self._use_centroids else sims[:0])
        scores = self._entry_scores(sims, local, multi, cen)
        bonus = float(margins(scores[None], self.margin_weight)[0])
        return self._pick(scores, sims, local, counts, k, bonus, entries, rows)

    def _pick(self, scores: np.ndarray, sims: np.ndarray, starts: np.ndarray,
              counts: np.ndarray, k: int, bonus: float, entries: np.ndarray | None = None,
              rows: np.ndarray | None = None) -> Match:
        """The Match of the ``k`` best of ``scores``; ``entries`` and ``rows`` map positions
        in ``scores`` and ``sims`` to entries and phrasings (the identity when None)."""
        order = np.argpartition(-scores, k - 1)[:k]
        order = order[np.argsort(-scores[order], kind="stable")]
        cands = []
        for pos in order:
            lo = int(starts[pos])
            closest = lo + int(np.argmax(sims[lo:lo + int(counts[pos])]))  # first one wins
            entry = int(pos if entries is None else entries[pos])
            phrasing = closest if rows is None else int(rows[closest])
            cands.append(Candidate(entry, self._questions[phrasing], float(scores[pos])))
        return Match(tuple(cands), self.threshold, bonus)


def _products(mat: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``q @ mat.T``; one query as a matrix-vector product (see :func:`.index.matvec`)."""
    return matvec(mat, q[0])[None] if len(q) == 1 else q @ mat.T
