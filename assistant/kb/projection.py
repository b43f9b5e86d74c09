"""A flat map of the knowledge base: question embeddings projected to two dimensions.

Pure numpy, no model and no plotting: principal component analysis through an SVD of the
centred embeddings, the query placed with the same projection, its nearest phrasings found by
cosine in the full space (the flat map only shows them; it does not decide anything), and one
colour per answer. ``assistant.web.map_plot`` draws the result.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# matplotlib's "tab10" followed by the light half of "tab20": distinct on white, colour-blind
# friendlier than a rainbow. Past 20 answers, evenly spaced hues take over.
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94",
            "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5", "#393b79", "#637939")
QUERY_COLOUR = "#d62728"
"""The asked question is drawn in red; red is left out of the answers' palette for it."""


@dataclass(frozen=True)
class Projection:
    """``points = (vecs - mean) @ axes.T``: the two directions of largest variance."""

    mean: np.ndarray  # (dim,)
    axes: np.ndarray  # (2, dim), orthonormal rows (a zero row when there is no variance left)
    explained: tuple[float, float]  # share of the total variance along each axis, 0..1

    def apply(self, vecs: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(vecs, dtype=np.float64))
        return (x - self.mean) @ self.axes.T


def fit_pca(vecs: np.ndarray) -> Projection:
    """Principal axes of ``vecs`` (n, dim). Signs are fixed (each axis's largest component is
    positive) so the same knowledge base always gives the same picture."""
    x = np.atleast_2d(np.asarray(vecs, dtype=np.float64))
    if x.shape[0] == 0:
        raise ValueError("no vectors to project")
    mean = x.mean(axis=0)
    centred = x - mean
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    axes = np.zeros((2, x.shape[1]))
    k = min(2, vt.shape[0])
    axes[:k] = vt[:k]
    for row in axes:
        if np.any(row):
            row *= np.sign(row[np.argmax(np.abs(row))])
    var = sing**2
    total = float(var.sum())
    shares = [float(var[i]) / total if total > 0 and i < len(var) else 0.0 for i in range(2)]
    return Projection(mean, axes, (shares[0], shares[1]))


def nearest(vecs: np.ndarray, query: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The ``k`` rows of ``vecs`` closest to ``query`` by cosine, best first, with the cosine."""
    m = np.atleast_2d(np.asarray(vecs, dtype=np.float64))
    q = np.asarray(query, dtype=np.float64).ravel()
    norms = np.linalg.norm(m, axis=1) * max(float(np.linalg.norm(q)), 1e-12)
    sims = (m @ q) / np.maximum(norms, 1e-12)
    order = np.argsort(-sims, kind="stable")[:max(k, 0)]
    return [(int(i), float(sims[i])) for i in order]


def answer_colours(groups: Sequence[int]) -> list[str]:
    """One colour per question, the same for every phrasing of one answer (``groups[i]`` is
    the answer, i.e. the entry index, of question ``i``)."""
    n = max(groups, default=-1) + 1
    palette = list(_PALETTE[:n])
    for i in range(len(palette), n):  # more answers than the palette: spread the hues
        r, g, b = colorsys.hsv_to_rgb(((i - len(_PALETTE)) * 0.618034) % 1.0, 0.55, 0.8)
        palette.append(f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}")
    return [palette[g] for g in groups]


@dataclass(frozen=True)
class KnowledgeMap:
    """Everything a drawing needs: one 2-D point per question, its answer, and the query."""

    points: np.ndarray  # (n_questions, 2)
    questions: tuple[str, ...]
    groups: tuple[int, ...]  # answer (entry index) of each question
    answers: tuple[str, ...]  # answer text of each entry
    explained: tuple[float, float]
    query: str | None = None
    query_point: np.ndarray | None = None  # (2,)
    neighbours: tuple[tuple[int, float], ...] = field(default=())  # (question index, cosine)

    @property
    def colours(self) -> list[str]:
        return answer_colours(self.groups)


def build_map(vecs: np.ndarray, questions: Sequence[str], groups: Sequence[int],
              answers: Sequence[str], query: str | None = None,
              query_vec: np.ndarray | None = None, k: int = 3,
              projection: Projection | None = None) -> KnowledgeMap:
    """Project the questions (and the query, when given) with ``projection`` or a fresh PCA."""
    m = np.atleast_2d(np.asarray(vecs, dtype=np.float64))
    if not (len(m) == len(questions) == len(groups)):
        raise ValueError(f"{len(m)} vectors, {len(questions)} questions and {len(groups)} "
                         "groups: one of each per question")
    proj = projection or fit_pca(m)
    q_point: np.ndarray | None = None
    near: tuple[tuple[int, float], ...] = ()
    if query_vec is not None:
        q_point = proj.apply(query_vec)[0]
        near = tuple(nearest(m, query_vec, k))
    return KnowledgeMap(proj.apply(m), tuple(questions), tuple(int(g) for g in groups),
                        tuple(answers), proj.explained, query, q_point, near)
