"""Question matching: pure numpy over unit vectors, no model inside.

Each entry is scored from all its phrasings. With ``scoring="blend"`` (the default) the score
is the mean of two cosines: with the entry's closest phrasing, and with the centroid of all
its phrasings (the closest phrasing keeps rare wordings; the centroid smooths out phrasings
that happen to lie near another entry). ``scoring="max"`` is the closest phrasing alone.

The decision to answer uses a *confidence*: the best entry's score plus ``margin_weight``
times its lead over the runner-up, since a query that sits between two entries is more often
out of scope than one that clearly picks one. The best entry answers when its confidence
reaches the threshold. Both the space the cosines are taken in and the threshold come from
the knowledge base's fitted :class:`.decision.Decision` (a within-answer whitening map, or
none; the threshold fixed or calibrated by leave-one-out): the matcher scores, the decision
module decides how. docs/matcher.md has the measurements behind these choices.

A query closer to a sentence meant for another assistant (Home Assistant's commands,
:mod:`.background`) than to every phrasing is not answered (``Match.elsewhere``).

Knowledge bases of many phrasings are searched in two stages, a coarse score then the exact
one on a few hundred candidates (:mod:`.index`); smaller ones are scored exactly throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .background import Background
from .decision import Decision, fit
from .index import CANDIDATES, MIN_PHRASINGS, ReducedSpace, matvec, ranges, top_indices
from .knowledge import KnowledgeBase
from .scores import SCORINGS, centroids, combine, entry_starts, margins

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
    elsewhere: str | None = None  # the other assistant's sentence closer than any phrasing

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
        return (confidence is not None and confidence >= self.threshold
                and self.elsewhere is None)


class Matcher:
    """Scores queries against a knowledge base's phrasing vectors (unit length, one row per
    phrasing in ``kb.questions`` order). ``threshold`` is a number or ``"auto"``.

    ``match`` and ``match_many`` score every entry exactly, except in knowledge bases of
    :data:`.index.MIN_PHRASINGS` phrasings or more, where they score exactly only the entries
    a coarse search picks (see :mod:`.index` for the approximation). ``score_matrix`` and
    ``entry_scores`` always score every entry exactly."""

    def __init__(self, kb: KnowledgeBase, question_vecs: np.ndarray,
                 threshold: float | str = "auto", scoring: str = DEFAULT_SCORING,
                 margin_weight: float = DEFAULT_MARGIN_WEIGHT, model: str = "none",
                 decision: Decision | None = None,
                 background: Background | None = None) -> None:
        if question_vecs.ndim != 2 or question_vecs.shape[0] != len(kb.questions):
            raise ValueError("one embedding per question is required")
        if scoring not in SCORINGS:
            raise ValueError(f"unknown scoring {scoring!r}; choose one of {', '.join(SCORINGS)}")
        if decision is None:
            decision = fit(question_vecs, np.asarray(kb.question_entry, dtype=np.int64),
                           threshold, scoring, margin_weight, model)
        self.kb = kb
        self.decision = decision
        self.raw_vecs = np.asarray(question_vecs, dtype=np.float32)
        self.vecs = np.ascontiguousarray(decision.apply(question_vecs), dtype=np.float32)
        self.scoring = decision.scoring
        self.margin_weight = decision.margin_weight
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
        self.threshold = decision.threshold
        # the other assistant's sentences, in this space, less the intents qa.yaml covers
        mapped = (None if background is None or not background.texts else
                  Background(background.texts, background.intents,
                             decision.apply(background.vecs)))
        self.background, self.covered_intents = (
            mapped.without_covered(self.vecs) if mapped is not None else (None, ()))

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
        return self._score_mapped(
            self.decision.apply(np.atleast_2d(np.asarray(query_vecs, dtype=np.float32))))

    def _score_mapped(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`score_matrix` of queries already in the decision's space."""
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
        q = self.decision.apply(np.atleast_2d(np.asarray(query_vecs, dtype=np.float32)))
        k = max(1, min(top_k, len(self._starts)))
        sims = None  # every phrasing's similarity, where the scores took them all
        if self._space is not None and k <= CANDIDATES:
            found = [self._match_candidates(row, k) for row in q]
        else:
            scores, sims = self._score_mapped(q)
            bonus = margins(scores, self.margin_weight)
            found = [self._pick(scores[i], sims[i], self._starts, self._counts, k,
                                float(bonus[i])) for i in range(len(q))]
        if self.background is None or not self.background.texts:
            return found
        for i, m in enumerate(found):
            if m.answered:
                nearest = matvec(self.vecs, q[i]) if sims is None else sims[i]
                found[i] = replace(m, elsewhere=self.background.claims(q[i],
                                                                      float(nearest.max())))
        return found

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
