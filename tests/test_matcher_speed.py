"""The fast matcher against brute force: the shortcuts of the exact path change no result,
and the two-stage search of large knowledge bases (assistant/kb/index.py) finds the same best
entry, score, phrasing and margin as scoring every entry. No timings here: those are
``python -c "from assistant.bench.stages import match_ms; print(match_ms())"``."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.kb.index import CANDIDATES, MIN_PHRASINGS, ranges, top_indices
from assistant.kb.knowledge import Entry, KnowledgeBase
from assistant.kb.matcher import Match, Matcher

DIM = 384


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def kb_of(sizes: list[int]) -> KnowledgeBase:
    return KnowledgeBase(tuple(Entry(f"answer {i}", tuple(f"q{i}.{j}" for j in range(n)))
                               for i, n in enumerate(sizes)))


class BruteForce:
    """Every entry scored for every query from first principles, in float64."""

    def __init__(self, kb: KnowledgeBase, vecs: np.ndarray, queries: np.ndarray,
                 scoring: str = "blend", margin_weight: float = 1.0) -> None:
        self.kb = kb
        vecs64 = vecs.astype(np.float64)
        sizes = [len(entry.questions) for entry in kb.entries]
        self.starts = np.cumsum([0] + sizes[:-1])
        means = np.add.reduceat(vecs64, self.starts, axis=0)
        centroids = means / np.linalg.norm(means, axis=1, keepdims=True)
        self.sims = queries.astype(np.float64) @ vecs64.T
        best = np.maximum.reduceat(self.sims, self.starts, axis=1)
        self.scores = best if scoring == "max" else 0.5 * (best + queries @ centroids.T)
        top2 = np.sort(self.scores, axis=1)[:, -2:]
        self.margins = margin_weight * (top2[:, 1] - top2[:, 0])

    def closest(self, query: int, entry: int) -> str:
        questions = self.kb.entries[entry].questions
        start = self.starts[entry]
        return questions[int(np.argmax(self.sims[query, start:start + len(questions)]))]


def assert_same_best(match: Match, brute: BruteForce, query: int,
                     runner_up_found: bool = True) -> None:
    best, scores = match.best, brute.scores[query]
    assert best is not None
    assert best.entry == int(np.argmax(scores))
    assert best.score == pytest.approx(scores.max(), abs=1e-5)
    assert best.question == brute.closest(query, best.entry)
    if runner_up_found:
        assert match.margin == pytest.approx(brute.margins[query], abs=1e-5)
    else:  # a runner-up outside the candidates: the margin can only be larger
        assert match.margin >= brute.margins[query] - 1e-5


def assert_alike(a: Match, b: Match) -> None:
    """The same decision, up to float32 rounding (a batch and a single query use different
    BLAS kernels)."""
    assert [(c.entry, c.question) for c in a.candidates] == \
        [(c.entry, c.question) for c in b.candidates]
    assert [c.score for c in a.candidates] == pytest.approx([c.score for c in b.candidates],
                                                            abs=1e-5)
    assert a.margin == pytest.approx(b.margin, abs=1e-5)


def clustered(n_topics: int, per_topic: int, seed: int) -> tuple[KnowledgeBase, np.ndarray,
                                                                  np.ndarray]:
    """Entries in topics (siblings compete), each of 1 to 5 noisy phrasings; returns the KB,
    its phrasing vectors and each entry's centre (new phrasings are drawn around it)."""
    rng = np.random.default_rng(seed)
    topics = unit(rng.standard_normal((n_topics, DIM)))
    centres = unit(topics.repeat(per_topic, axis=0)
                   + 0.8 * unit(rng.standard_normal((n_topics * per_topic, DIM))))
    sizes = rng.integers(1, 6, size=len(centres))
    rows = centres.repeat(sizes, axis=0)
    vecs = unit(rows + 0.7 * unit(rng.standard_normal(rows.shape)))
    return kb_of(sizes.tolist()), vecs, centres


@pytest.mark.parametrize("scoring", ["blend", "max"])
def test_exact_path_matches_brute_force(scoring: str) -> None:
    kb, vecs, centres = clustered(20, 10, seed=1)  # small: every entry scored
    rng = np.random.default_rng(2)
    queries = unit(centres[rng.integers(0, len(centres), 40)]
                   + 0.8 * unit(rng.standard_normal((40, DIM))))
    matcher = Matcher(kb, vecs, 0.5, scoring, margin_weight=1.0)
    brute = BruteForce(kb, vecs, queries, scoring)
    for i, match in enumerate(matcher.match_many(queries, top_k=5)):
        assert_same_best(match, brute, i)
        assert [c.entry for c in match.candidates] == np.argsort(-brute.scores[i])[:5].tolist()
        assert [c.question for c in match.candidates] == [brute.closest(i, c.entry)
                                                          for c in match.candidates]
        assert_alike(match, matcher.match(queries[i], top_k=5))
        entry_scores, closest = matcher.entry_scores(queries[i])
        assert entry_scores == pytest.approx(brute.scores[i], abs=1e-5)
        assert [kb.questions[j] for j in closest] == [brute.closest(i, e)
                                                      for e in range(len(kb.entries))]


def test_two_stage_on_random_vectors_finds_the_exact_best() -> None:
    rng = np.random.default_rng(3)
    n = MIN_PHRASINGS + 5_000
    vecs = unit(rng.standard_normal((n, DIM)))
    kb = kb_of([1] * n)
    # the benchmark's queries: a KB vector plus noise (cosine about 0.7 with it); the
    # runner-up is noise (cosine ~0.2), which the coarse score cannot rank
    queries = unit(vecs[rng.integers(0, n, 200)] + 0.05 * rng.standard_normal((200, DIM)))
    matcher, brute = Matcher(kb, vecs, 0.5), BruteForce(kb, vecs, queries)
    for i, match in enumerate(matcher.match_many(queries)):
        assert_same_best(match, brute, i, runner_up_found=False)
        assert_alike(match, matcher.match(queries[i]))


@pytest.mark.parametrize("scoring", ["blend", "max"])
def test_two_stage_on_clustered_entries_finds_the_exact_best(scoring: str) -> None:
    kb, vecs, centres = clustered(400, 20, seed=4)
    assert len(vecs) >= MIN_PHRASINGS
    rng = np.random.default_rng(5)
    queries = unit(centres[rng.integers(0, len(centres), 150)]
                   + 0.8 * unit(rng.standard_normal((150, DIM))))
    matcher = Matcher(kb, vecs, 0.5, scoring, margin_weight=1.0)
    brute = BruteForce(kb, vecs, queries, scoring)
    for i, match in enumerate(matcher.match_many(queries)):
        assert_same_best(match, brute, i)


def test_two_stage_scores_its_candidates_exactly() -> None:
    # queries that match nothing: the best may be missed (module doc of index.py), but what
    # is returned is exact and never scores above the true best
    kb, vecs, _ = clustered(400, 20, seed=6)
    queries = unit(np.random.default_rng(7).standard_normal((20, DIM)))
    matcher, brute = Matcher(kb, vecs, 0.5), BruteForce(kb, vecs, queries)
    for i, match in enumerate(matcher.match_many(queries, top_k=3)):
        assert match.best is not None and match.best.score <= brute.scores[i].max() + 1e-5
        for cand in match.candidates:
            assert cand.score == pytest.approx(brute.scores[i, cand.entry], abs=1e-5)
            assert cand.question == brute.closest(i, cand.entry)
    # more than the candidates asked for: every entry is scored
    wide = matcher.match(queries[0], top_k=CANDIDATES + 1)
    assert len(wide.candidates) == CANDIDATES + 1
    assert_same_best(wide, brute, 0)


def test_top_indices_holds_the_highest_scores() -> None:
    rng = np.random.default_rng(8)
    for scores in (rng.standard_normal(50_000).astype(np.float32),
                   np.sort(rng.standard_normal(50_000)).astype(np.float32),  # sorted: strided
                   np.repeat(rng.standard_normal(100), 500).astype(np.float32),  # ties
                   np.zeros(3_000, dtype=np.float32)):
        found = top_indices(scores, 512)
        assert np.all(np.diff(found) > 0) and len(found) >= 512
        rest = np.delete(scores, found)  # nothing left out beats what was found
        assert len(rest) == 0 or rest.max() <= scores[found].min()
    assert top_indices(np.ones(10, dtype=np.float32), 512).tolist() == list(range(10))


def test_ranges_concatenates_groups() -> None:
    rows, local = ranges(np.array([0, 5, 9]), np.array([2, 1, 3]))
    assert rows.tolist() == [0, 1, 5, 9, 10, 11] and local.tolist() == [0, 2, 3]
    rows, local = ranges(np.array([4, 7]), np.array([1, 1]))
    assert rows.tolist() == [4, 7] and local.tolist() == [0, 1]
