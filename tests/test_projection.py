"""The knowledge-base map's pure part: PCA, nearest questions and colours, on hand-made
vectors whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.kb.projection import (
    QUERY_COLOUR,
    answer_colours,
    build_map,
    fit_pca,
    nearest,
)


def plane_points() -> np.ndarray:
    """Six points that lie exactly on a tilted plane in 5-D, far from the origin."""
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.normal(size=(5, 2)))
    flat = np.array([[0, 0], [3, 0], [0, 1], [3, 1], [1.5, 0.5], [-1, 0.2]], dtype=float)
    return flat @ basis.T + np.array([1.0, -2.0, 0.5, 4.0, 0.0])


def pairwise(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)


def test_points_on_a_plane_keep_their_distances() -> None:
    vecs = plane_points()
    proj = fit_pca(vecs)
    pts = proj.apply(vecs)
    assert pts.shape == (6, 2)  # one 2-D point per question
    np.testing.assert_allclose(pairwise(pts), pairwise(vecs), atol=1e-9)
    assert sum(proj.explained) == pytest.approx(1.0)
    assert proj.explained[0] > proj.explained[1] > 0
    np.testing.assert_allclose(pts.mean(axis=0), 0.0, atol=1e-9)  # centred


def test_first_axis_follows_the_largest_spread() -> None:
    vecs = np.array([[x, 0.1 * y, 0.0] for x, y in [(-5, 1), (5, 1), (-5, -1), (5, -1)]])
    proj = fit_pca(vecs)
    assert abs(proj.axes[0] @ [1, 0, 0]) == pytest.approx(1.0)
    assert proj.axes[0].max() > 0  # the sign is fixed: the same picture on every run


def test_the_picture_does_not_depend_on_row_order() -> None:
    vecs = plane_points()
    order = np.array([3, 0, 5, 1, 4, 2])
    np.testing.assert_allclose(fit_pca(vecs[order]).axes, fit_pca(vecs).axes, atol=1e-9)


def test_degenerate_inputs_still_give_a_point_each() -> None:
    one = fit_pca(np.array([[0.6, 0.8]]))
    assert one.apply(np.array([[0.6, 0.8]])).shape == (1, 2)
    assert one.explained == (0.0, 0.0)
    line = fit_pca(np.array([[1.0], [2.0], [4.0]]))  # 1-D vectors: the second axis is empty
    assert line.apply(np.array([[1.0], [2.0], [4.0]]))[:, 1].tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        fit_pca(np.zeros((0, 3)))


def test_nearest_ranks_by_cosine() -> None:
    vecs = np.array([[1, 0, 0], [0.8, 0.6, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
    got = nearest(vecs, np.array([2.0, 0.0, 0.0]), k=2)  # length does not matter
    assert [i for i, _ in got] == [0, 1]
    assert [round(c, 3) for _, c in got] == [1.0, 0.8]


def test_colours_group_by_answer() -> None:
    groups = [0, 0, 0, 1, 1, 2, 3, 3]
    colours = answer_colours(groups)
    assert len(colours) == len(groups)
    by_group: dict[int, set[str]] = {}
    for g, c in zip(groups, colours, strict=True):
        by_group.setdefault(g, set()).add(c)
    assert all(len(cs) == 1 for cs in by_group.values())  # one colour per answer
    assert len({next(iter(cs)) for cs in by_group.values()}) == 4  # different answers differ


def test_many_answers_still_get_distinct_colours_and_never_the_query_red() -> None:
    groups = list(range(40))
    colours = answer_colours(groups)
    assert len(set(colours)) == 40
    assert QUERY_COLOUR not in colours


def test_build_map_places_the_query_and_its_neighbours() -> None:
    vecs = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.1], [0, 0, 1]], dtype=float)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    questions = ["a1", "a2", "b1", "b2", "c1"]
    groups = [0, 0, 1, 1, 2]
    query = np.array([0.95, 0.05, 0.0])
    kmap = build_map(vecs, questions, groups, ["A", "B", "C"], "like a", query, k=2)
    assert kmap.points.shape == (5, 2)
    assert [kmap.questions[i] for i, _ in kmap.neighbours] == ["a1", "a2"]
    assert kmap.query_point is not None
    np.testing.assert_allclose(kmap.query_point, fit_pca(vecs).apply(query)[0])
    # the query lands between its two neighbours, far from the other answers
    d = np.linalg.norm(kmap.points - kmap.query_point, axis=1)
    assert d[:2].max() < d[2:].min()
    assert kmap.colours[0] == kmap.colours[1] != kmap.colours[2]


def test_build_map_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="one of each per question"):
        build_map(np.eye(3), ["a", "b"], [0, 1, 2], ["A", "B", "C"])
