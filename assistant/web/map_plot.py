"""Drawing the knowledge-base map with matplotlib (Agg, object API: no pyplot, no global state,
safe from the web server's worker threads). matplotlib is imported only when drawing.

``Mapper(answerer).map("where do you live")`` gives the data (:class:`KnowledgeMap`);
``render_png`` draws it: one dot per phrasing, one colour per answer, the asked question as a
red star with dashed lines to its nearest phrasings (cosine in the full embedding space).
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..kb.projection import QUERY_COLOUR, KnowledgeMap, Projection, build_map, fit_pca
from . import WebError, require

if TYPE_CHECKING:
    from ..answerer import Answerer

MAX_LABELS = 80  # above this many questions the dots carry no text (it would be a smear)
MAX_LEGEND = 20
SIZE_IN = (12.0, 7.0)
DPI = 100


class Mapper:
    """Maps of one answerer's knowledge base. The projection is fitted once per knowledge base
    (the answerer swaps its matcher on reload, and the fit follows)."""

    def __init__(self, answerer: Answerer, neighbours: int = 3) -> None:
        self.answerer = answerer
        self.neighbours = neighbours
        self._fitted: tuple[object, Projection] | None = None

    def _projection(self, matcher: object, vecs: np.ndarray) -> Projection:
        if self._fitted is None or self._fitted[0] is not matcher:
            self._fitted = (matcher, fit_pca(vecs))
        return self._fitted[1]

    def map(self, query: str | None = None) -> KnowledgeMap:
        matcher = self.answerer.matcher
        kb = matcher.kb
        query = " ".join((query or "").split()) or None
        query_vec = None
        if query is not None:
            # as reply embeds it, in the space the matcher scores in (its fitted map)
            query_vec = matcher.decision.apply(self.answerer.embed_queries([query]))[0]
        return build_map(matcher.vecs, kb.questions, kb.question_entry,
                         [e.answer for e in kb.entries], query, query_vec, self.neighbours,
                         self._projection(matcher, matcher.vecs))


def _short(text: str, width: int = 38, lines: int = 2) -> str:
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder=" …"))


LABEL_OFFSETS = ((4, 3), (4, -10), (-4, 3), (-4, -10), (4, 12), (4, -19))


def _place_labels(fig: Any, ax: Any, pts: Any, questions: list[str]) -> None:
    """Label each dot at the first offset where its text overlaps no label placed before;
    a label that fits nowhere is left out (its dot and colour remain), never overprinted."""
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    for (x, y), q in zip(pts, questions, strict=True):
        for dx, dy in LABEL_OFFSETS:
            text = ax.annotate(q, (x, y), xytext=(dx, dy), textcoords="offset points",
                               fontsize=7, color="#333333", zorder=4, annotation_clip=True,
                               clip_on=True, ha="left" if dx > 0 else "right")
            box = text.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            text.remove()


def draw(kmap: KnowledgeMap) -> Any:
    """The map as a matplotlib Figure attached to an Agg canvas."""
    require("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.08, 0.62, 0.84))
    pts, colours = kmap.points, kmap.colours
    for g in sorted(set(kmap.groups)):
        idx = [i for i, gi in enumerate(kmap.groups) if gi == g]
        label = _short(kmap.answers[g]) if g < MAX_LEGEND else None
        ax.scatter(pts[idx, 0], pts[idx, 1], s=46, c=colours[idx[0]], label=label,
                   edgecolors="white", linewidths=0.6, zorder=3)
    if kmap.query_point is not None:
        qx, qy = kmap.query_point
        for i, _ in kmap.neighbours:
            nx, ny = pts[i]
            ax.plot([qx, nx], [qy, ny], color=QUERY_COLOUR, lw=1.2, ls="--", alpha=0.8, zorder=2)
        near = "\n".join(f"{cos:.2f}  {_short(kmap.questions[i], 44, 1)}"
                         for i, cos in kmap.neighbours)
        fig.text(0.69, 0.06, f"nearest to the asked question (cosine):\n{near}", fontsize=7.5,
                 color=QUERY_COLOUR, va="bottom")
        ax.scatter([qx], [qy], s=220, marker="*", c=QUERY_COLOUR, edgecolors="black",
                   linewidths=0.6, zorder=6, label=_short(f"asked: {kmap.query}"))
        ax.annotate(kmap.query or "", (qx, qy), xytext=(6, -12), textcoords="offset points",
                    fontsize=9, fontweight="bold", color=QUERY_COLOUR, zorder=7,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    n_answers = len(set(kmap.groups))
    ax.set_title(f"{len(pts)} questions, {n_answers} answers: sentence embeddings projected "
                 "to 2-D (PCA)", fontsize=10)
    ax.set_xlabel(f"first axis ({kmap.explained[0]:.0%} of the variance)", fontsize=8)
    ax.set_ylabel(f"second axis ({kmap.explained[1]:.0%})", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, alpha=0.25)
    every = np.vstack([pts, kmap.query_point[None]]) if kmap.query_point is not None else pts
    (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
    dx, dy = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    ax.set_xlim(x0 - 0.05 * dx, x1 + (0.3 if len(pts) <= MAX_LABELS else 0.05) * dx)  # labels
    ax.set_ylim(y0 - 0.08 * dy, y1 + 0.08 * dy)
    if len(pts) <= MAX_LABELS:  # after the limits: placement is measured on the canvas
        _place_labels(fig, ax, pts, kmap.questions)
    handles, labels = ax.get_legend_handles_labels()
    title = "answers" + (f" (first {MAX_LEGEND} of {n_answers})" if n_answers > MAX_LEGEND
                         else "")
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.69, 0.92), fontsize=7.5,
               title=title, title_fontsize=8, frameon=False, labelspacing=0.9)
    return fig


def render_png(kmap: KnowledgeMap, path: str | Path | None = None) -> bytes:
    """The map as PNG bytes; also written to ``path`` when given."""
    buf = io.BytesIO()
    draw(kmap).savefig(buf, format="png", dpi=DPI)
    data = buf.getvalue()
    if path is not None:
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        except OSError as exc:
            raise WebError(f"{p}: cannot write the map ({exc.strerror or exc})",
                           code="unwritable") from None
    return data


def render_rgb(kmap: KnowledgeMap) -> np.ndarray:
    """The map as an (height, width, 3) uint8 image, what the web page shows."""
    fig = draw(kmap)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
