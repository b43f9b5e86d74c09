"""What a knowledge base says about itself, by leave-one-out over its own phrasings.

Each phrasing is treated as a query the assistant has never seen:

* with only that phrasing left out, its own entry should win (an *in-scope* trial);
* with its whole entry left out, whatever wins is wrong, so the assistant should give the
  fallback (an *out-of-scope* trial, and a hard one: the nearest other topic of the same KB).

``auto_threshold`` picks the confidence threshold that does best on both kinds of trial;
``ambiguous_pairs`` lists phrasings that sit closer to another answer than to their own.
Pure numpy; the matcher's scoring is reused so the trials score exactly as real queries do.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .knowledge import KnowledgeBase
from .scores import best_threshold, centroids, combine, entry_starts, margins

FALLBACK_THRESHOLD = 0.5  # a KB of one entry; also the floor when no entry has two phrasings
SINGLE_QUANTILE = 0.75  # no entry with two phrasings: reject this share of the out-of-scope
MAX_TRIALS = 4000  # phrasings left out at most: a fixed random sample of a bigger KB
_CELLS = 1 << 24  # similarities computed at once (64 MB of float32)


def _chunk(n: int) -> int:
    """Rows of the phrasing x phrasing similarity matrix per step, for ``n`` phrasings."""
    return max(16, min(2048, _CELLS // max(n, 1)))


class Trials(NamedTuple):
    """Leave-one-out outcomes. In-scope: one per phrasing of an entry that has two or more;
    out-of-scope: one per phrasing."""

    correct: np.ndarray  # own entry won with this phrasing left out
    in_confidence: np.ndarray  # confidence of that (in-scope) decision
    out_confidence: np.ndarray  # confidence with the whole entry left out (out of scope)


class Ambiguity(NamedTuple):
    question: str
    own_score: float  # cosine with the closest other phrasing of its own entry
    other_question: str  # the closest phrasing of a different entry
    other_score: float


class _Kb(NamedTuple):
    """A knowledge base's vectors and what every leave-one-out step needs of them."""

    vecs: np.ndarray
    entry_of: np.ndarray
    starts: np.ndarray
    sums: np.ndarray  # per entry: the sum of its phrasing vectors
    centroids: np.ndarray

    @classmethod
    def of(cls, vecs: np.ndarray, entry_of: np.ndarray) -> _Kb:
        vecs = np.asarray(vecs, dtype=np.float32)
        starts = entry_starts(entry_of)
        sums = np.add.reduceat(vecs, starts, axis=0) if len(vecs) else vecs
        return cls(vecs, np.asarray(entry_of, dtype=np.int64), starts, sums,
                   centroids(vecs, starts) if len(vecs) else vecs)


def _loo_scores(kb: _Kb, scoring: str, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry scores of phrasings ``idx`` with each one left out of its own entry, and the
    raw phrasing similarities (self excluded, as -inf)."""
    q = kb.vecs[idx]
    sims = q @ kb.vecs.T
    sims[np.arange(len(idx)), idx] = -np.inf
    best = np.maximum.reduceat(sims, kb.starts, axis=1)
    cen = q @ kb.centroids.T
    own = kb.entry_of[idx]
    rest = kb.sums[own] - q  # the own entry's phrasings without this one
    norm = np.linalg.norm(rest, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cen[np.arange(len(idx)), own] = np.where(norm > 1e-6, np.sum(q * rest, axis=1) / norm,
                                                 -np.inf)
    return combine(best, cen, scoring), sims


def trials(vecs: np.ndarray, entry_of: np.ndarray, scoring: str,
           margin_weight: float, rows: np.ndarray | None = None) -> Trials:
    """The in-scope and out-of-scope leave-one-out trials of a knowledge base: every
    phrasing (or only ``rows``), or a fixed random sample of :data:`MAX_TRIALS` of more (each
    scored against the whole KB), so calibration grows linearly with the KB, not
    quadratically."""
    vecs = np.asarray(vecs, dtype=np.float32)
    entry_of = np.asarray(entry_of, dtype=np.int64)
    n_entries = int(entry_of.max()) + 1 if entry_of.size else 0
    counts = np.bincount(entry_of, minlength=n_entries)
    sample = np.arange(len(vecs)) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(sample) > MAX_TRIALS:
        sample = np.sort(np.random.default_rng(0).choice(sample, MAX_TRIALS, replace=False))
    correct, conf_in, conf_out = [], [], []
    step, kb = _chunk(len(vecs)), _Kb.of(vecs, entry_of)
    for lo in range(0, len(sample), step):
        rows = sample[lo:lo + step]
        scores, _ = _loo_scores(kb, scoring, rows)
        own = entry_of[rows]
        others = np.ones_like(scores, dtype=bool)
        others[np.arange(len(own)), own] = False
        rest = scores[others].reshape(len(own), n_entries - 1)
        conf_out.append(rest.max(axis=1, initial=-np.inf) + margins(rest, margin_weight))
        keep = counts[own] >= 2
        scores, own = scores[keep], own[keep]
        correct.append(scores.argmax(axis=1) == own)
        conf_in.append(scores.max(axis=1) + margins(scores, margin_weight))
    return Trials(_cat(correct, bool), _cat(conf_in, np.float32), _cat(conf_out, np.float32))


def pooled(parts: list[Trials]) -> Trials:
    """Several sets of trials as one."""
    return Trials(*(_cat([getattr(t, f) for t in parts], dt)
                    for f, dt in zip(Trials._fields, (bool, np.float32, np.float32), strict=True)))


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def auto_threshold(vecs: np.ndarray, entry_of: np.ndarray, scoring: str,
                   margin_weight: float) -> float:
    """The threshold calibrated on the KB's own leave-one-out trials (see module doc).
    With no entry of two or more phrasings there are no in-scope trials: the threshold then
    rejects :data:`SINGLE_QUANTILE` of the out-of-scope trials, and is at least
    :data:`FALLBACK_THRESHOLD`; with a single entry it is :data:`FALLBACK_THRESHOLD`."""
    return threshold_of(trials(vecs, entry_of, scoring, margin_weight))


def threshold_of(t: Trials) -> float:
    """The balanced threshold of leave-one-out trials, with the fallbacks of
    :func:`auto_threshold`."""
    out = t.out_confidence[np.isfinite(t.out_confidence)]
    if len(out) == 0:
        return FALLBACK_THRESHOLD
    if len(t.in_confidence) == 0:
        return max(FALLBACK_THRESHOLD, float(np.quantile(out, SINGLE_QUANTILE)))
    return best_threshold(t.correct, t.in_confidence, out)[0]


def ambiguous_pairs(kb: KnowledgeBase, vecs: np.ndarray) -> list[Ambiguity]:
    """Phrasings whose closest phrasing of another entry is closer (cosine) than the closest
    other phrasing of their own entry, worst first. Entries with a single phrasing have
    nothing to compare with and are skipped."""
    vecs = np.asarray(vecs, dtype=np.float32)
    entry_of = np.asarray(kb.question_entry, dtype=np.int64)
    questions = kb.questions
    found = []
    step, prepared = _chunk(len(vecs)), _Kb.of(vecs, entry_of)
    for lo in range(0, len(vecs), step):
        rows = np.arange(lo, min(lo + step, len(vecs)))
        _, sims = _loo_scores(prepared, "max", rows)
        same = entry_of[rows][:, None] == entry_of[None, :]
        own_s = np.where(same, sims, -np.inf).max(axis=1)  # -inf: no other own phrasing
        others = np.where(same, -np.inf, sims)
        other = others.argmax(axis=1)
        other_s = others[np.arange(len(rows)), other]
        for r in np.flatnonzero(np.isfinite(own_s) & np.isfinite(other_s) & (other_s > own_s)):
            found.append(Ambiguity(questions[rows[r]], float(own_s[r]), questions[other[r]],
                                   float(other_s[r])))
    return sorted(found, key=lambda a: a.own_score - a.other_score)


class Confusion(NamedTuple):
    """A phrasing that, left out of its answer, the matcher gives to another answer."""

    question: str
    entry: int  # its own answer
    other_entry: int  # the answer that wins it
    other_question: str  # that answer's phrasing closest to it
    own_score: float  # its own answer's score without it
    other_score: float


def confusions(kb: KnowledgeBase, vecs: np.ndarray, scoring: str) -> list[Confusion]:
    """Leave-one-out over the phrasings, scored as the matcher scores (``vecs`` in the
    matcher's fitted space): each phrasing that another answer wins, worst first. These are
    the entries a user's own rewording is likely to be mistaken for; entries with a single
    phrasing have no trial."""
    vecs = np.asarray(vecs, dtype=np.float32)
    entry_of = np.asarray(kb.question_entry, dtype=np.int64)
    if len(set(entry_of.tolist())) < 2:
        return []
    counts = np.bincount(entry_of)
    questions, found = kb.questions, []
    rows_all = np.flatnonzero(counts[entry_of] >= 2)
    step, prepared = _chunk(len(vecs)), _Kb.of(vecs, entry_of)
    for lo in range(0, len(rows_all), step):
        rows = rows_all[lo:lo + step]
        scores, sims = _loo_scores(prepared, scoring, rows)
        own = entry_of[rows]
        won = scores.argmax(axis=1)
        for r in np.flatnonzero(won != own):
            other = int(won[r])
            members = np.flatnonzero(entry_of == other)
            closest = int(members[np.argmax(sims[r, members])])
            found.append(Confusion(questions[rows[r]], int(own[r]), other, questions[closest],
                                   float(scores[r, own[r]]), float(scores[r, other])))
    return sorted(found, key=lambda c: c.own_score - c.other_score)
