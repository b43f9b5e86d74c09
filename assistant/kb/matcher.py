"""Question matching: pure numpy over unit vectors, no model inside.

The query vector is compared with every stored phrasing in one matrix product; an entry's
score is that of its best phrasing; the best entry answers when its score reaches the
threshold, otherwise the fallback is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .knowledge import KnowledgeBase


@dataclass(frozen=True)
class Candidate:
    entry: int
    question: str  # the phrasing that scored best for this entry
    score: float


@dataclass(frozen=True)
class Match:
    candidates: tuple[Candidate, ...]  # best first, at most top_k
    threshold: float

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def answered(self) -> bool:
        return self.best is not None and self.best.score >= self.threshold


class Matcher:
    def __init__(self, kb: KnowledgeBase, question_vecs: np.ndarray, threshold: float) -> None:
        if question_vecs.shape[0] != len(kb.questions):
            raise ValueError("one embedding per question is required")
        self.kb = kb
        self.vecs = np.ascontiguousarray(question_vecs, dtype=np.float32)
        self.threshold = threshold
        self._questions = kb.questions
        self._entry_of = np.asarray(kb.question_entry, dtype=np.int64)

    def entry_scores(self, query_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per entry: best cosine score and the index of the phrasing that gave it."""
        sims = self.vecs @ np.asarray(query_vec, dtype=np.float32).reshape(-1)
        n = len(self.kb.entries)
        best = np.full(n, -np.inf, dtype=np.float32)
        np.maximum.at(best, self._entry_of, sims)
        which = np.full(n, -1, dtype=np.int64)
        hit = sims >= best[self._entry_of]
        which[self._entry_of[hit]] = np.nonzero(hit)[0]
        return best, which

    def match(self, query_vec: np.ndarray, top_k: int = 3) -> Match:
        best, which = self.entry_scores(query_vec)
        k = min(top_k, len(best))
        order = np.argpartition(-best, k - 1)[:k]
        order = order[np.argsort(-best[order], kind="stable")]
        cands = tuple(Candidate(int(e), self._questions[int(which[e])], float(best[e]))
                      for e in order)
        return Match(cands, self.threshold)
