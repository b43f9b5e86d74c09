"""assistant map --out map.png [--ask TEXT]: a picture of the knowledge base."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, build_answerer, config_from_args


def register(sub: Any) -> None:
    p = add_command(
        sub, "map", "draw the knowledge base's questions as a 2-D map (PNG)", run, kb=True,
        description="Draw every question of the knowledge base as a dot on a 2-D map (the "
        "sentence embeddings projected with PCA), one colour per answer. With --ask, the "
        "question is drawn in red with lines to its nearest questions. Needs the web extra "
        "(`pip install .[web]`).")
    p.add_argument("--out", metavar="FILE.png", default="map.png",
                   help="the PNG to write (default: map.png)")
    p.add_argument("--ask", metavar="TEXT", help="also place this question on the map")
    p.add_argument("--neighbours", type=int, default=3, metavar="N",
                   help="lines from the asked question to its N nearest questions (default 3)")


def run(args: argparse.Namespace) -> int:
    from ..web import require

    require("matplotlib")  # before the models load: a missing package fails in a second
    from ..web.map_plot import Mapper, render_png

    if not args.out.lower().endswith(".png"):
        from ..errors import ConfigError

        raise ConfigError(f"--out {args.out!r}: the map is a PNG image; name the file "
                          "FILE.png", code="out")
    cfg = config_from_args(args)
    answerer = build_answerer(cfg)
    kmap = Mapper(answerer, max(args.neighbours, 0)).map(args.ask)
    render_png(kmap, args.out)
    line = f"{args.out}: {len(kmap.points)} questions, {len(kmap.answers)} answers"
    if kmap.query is not None:
        near = ", ".join(f"{kmap.questions[i]!r} {cos:.2f}" for i, cos in kmap.neighbours)
        line += f"; {kmap.query!r} is nearest to {near}"
    print(line)
    return 0
