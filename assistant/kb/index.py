"""Candidate search for large knowledge bases: a cheap coarse score picks a few hundred
entries, and the matcher then scores only those exactly.

Scoring one query exactly streams every phrasing vector: 100,000 phrasings of 384 float32
dimensions are 150 MB, over 10 ms on a 2-core machine. The coarse score uses the same entry
scoring on the phrasings (and centroids) projected onto their :data:`REDUCED_DIMS` principal
directions, a third of the memory, and the matcher rescores the :data:`CANDIDATES` best
entries with the full vectors.

**The approximation.** Entries outside the candidates are never scored exactly, so the best
entry is missed only when its coarse score ranks below :data:`CANDIDATES` others: the coarse
score drops the part of each cosine outside the principal directions, which is small for
sentence embeddings (most of their variance lies in a few dozen directions) and large for
isotropic noise. The scores of the candidates, their closest phrasings and the margin over
the runner-up (when the runner-up is a candidate) are exact. Measured against brute force:

* 40,000 real all-MiniLM-L6-v2 phrasings (BANKING77 with misspelt variants), one per entry
  or grouped at random into entries of 1-5, 5,009 held-out queries: the same best score and
  margin every time (the best entry differed only between exact duplicates, tied);
* clustered vectors (entries in topics, 1-5 phrasings each; 24,000 and 90,000 phrasings):
  the same best entry, score and margin for each of 1,200 queries, under both scorings;
* 100,000 random unit vectors, queries near one of them: the same best entry and score for
  all 300, but the runner-up is noise that the coarse score cannot rank, so the margin can
  come out larger; a query near nothing (best cosine at the noise floor, far below any
  threshold) found the best entry 61 times in 100.

``tests/test_matcher_speed.py`` checks the same on random and clustered vectors. Knowledge
bases under :data:`MIN_PHRASINGS` phrasings are always scored exactly.
"""

from __future__ import annotations

import numpy as np

REDUCED_DIMS = 128  # principal directions kept for the coarse score
CANDIDATES = 512  # entries rescored exactly per query
MIN_PHRASINGS = 20_000  # smaller knowledge bases are scored exactly (2 ms at most)
_BASIS_SAMPLE = 20_000  # phrasings (evenly strided) the principal directions are taken from
_CUT_STRIDE = 32  # top_indices takes its cut from every 32nd score
_BLAS_MAX = 400_000  # matvec leaves matrices up to this size to BLAS (which stays on 1 thread)


def matvec(mat: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """``mat @ vec`` for float32, at a steady speed on a busy machine. From about 2,000 x 384
    OpenBLAS splits a matrix-vector product over threads, and when another process holds a
    core the product waits for a scheduler tick (~12 ms on 2 cores, measured); ``einsum``
    runs on one core at memory speed (1.6 ms for 20,000 x 384), BLAS is faster below that."""
    if mat.size <= _BLAS_MAX:
        return mat @ vec
    return np.einsum("ij,j->i", mat, vec)


def principal_basis(vecs: np.ndarray, dims: int) -> np.ndarray:
    """(dim, dims) orthonormal columns: the top eigenvectors of the (uncentred) second moment
    of the rows, which keep as much of the rows' dot products as any ``dims`` directions."""
    step = max(1, len(vecs) // _BASIS_SAMPLE)
    sample = np.asarray(vecs[::step], dtype=np.float32)
    _, eigvecs = np.linalg.eigh((sample.T @ sample).astype(np.float64))  # ascending
    return np.ascontiguousarray(eigvecs[:, ::-1][:, :dims], dtype=np.float32)


def ranges(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``starts[i] .. starts[i] + counts[i]`` of each group, concatenated, and where each
    group begins in that concatenation."""
    if len(counts) == 0 or int(counts.max()) == 1:
        return starts, np.arange(len(starts))
    local = np.cumsum(counts) - counts
    rows = np.repeat(starts - local, counts) + np.arange(int(counts.sum()))
    return rows, local


def top_indices(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices, ascending, of at least the ``count`` highest scores (usually about twice as
    many: all scores above a cut taken from an evenly strided sample, which is much quicker
    than a partial sort of all of them)."""
    n = len(scores)
    if count >= n:
        return np.arange(n)
    sample = scores[::_CUT_STRIDE]
    rank = min(len(sample), 2 * count // _CUT_STRIDE + 1)
    cut = np.partition(sample, len(sample) - rank)[len(sample) - rank]
    found = np.flatnonzero(scores >= cut)
    if len(found) < count or len(found) > 4 * count:  # an unlucky sample
        return np.sort(np.argpartition(scores, n - count)[n - count:])
    return found


class ReducedSpace:
    """Phrasing vectors and entry centroids projected onto the principal directions of the
    phrasings."""

    def __init__(self, vecs: np.ndarray, centroid_vecs: np.ndarray,
                 dims: int = REDUCED_DIMS) -> None:
        self.basis = principal_basis(vecs, min(dims, vecs.shape[1]))
        self.phrasings = np.ascontiguousarray(vecs @ self.basis, dtype=np.float32)
        self.centroids = np.ascontiguousarray(centroid_vecs @ self.basis, dtype=np.float32)

    def similarities(self, query: np.ndarray,
                     with_centroids: bool) -> tuple[np.ndarray, np.ndarray]:
        """Coarse cosines of one query with every phrasing and (if asked) every centroid."""
        reduced = query @ self.basis
        phrasings = matvec(self.phrasings, reduced)
        if not with_centroids or len(self.centroids) == 0:
            return phrasings, np.zeros(0, dtype=np.float32)
        return phrasings, matvec(self.centroids, reduced)
