"""`assistant map`: the knowledge base drawn as a PNG, with the real sentence model; and the
one-line error when the web extra is missing."""

from __future__ import annotations

import importlib.util
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.web import WebError, require

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_map_command_writes_a_png_of_every_question(
        tmp_path: Path, repo_config: Path, repo_qa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib", reason="the web extra is not installed: pip install .[web]")
    out = tmp_path / "map.png"
    code = main(["map", "--config", str(repo_config), "--qa", str(repo_qa), "--out", str(out),
                 "--ask", "which town do you live in?"])
    assert code == 0
    assert png_size(out) == (1200, 700)
    line = capsys.readouterr().out
    assert "28 questions, 9 answers" in line
    assert "nearest to 'Where do you live?'" in line  # the closest phrasing comes first
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(out, ARTIFACTS / "map.png")


def test_the_drawing_has_one_dot_per_question_coloured_by_answer(
        tmp_path: Path, repo_qa: Path, minilm: object) -> None:
    pytest.importorskip("matplotlib", reason="the web extra is not installed: pip install .[web]")
    from assistant.answerer import Answerer
    from assistant.kb.knowledge import load_kb
    from assistant.kb.projection import QUERY_COLOUR
    from assistant.web.map_plot import Mapper, draw

    kb = load_kb(repo_qa)
    answerer = Answerer(kb, minilm, "auto", tmp_path)
    kmap = Mapper(answerer).map("who built you?")
    assert kmap.points.shape == (len(kb.questions), 2)
    fig = draw(kmap)
    ax = fig.axes[0]
    dots = [(c.get_offsets(), c.get_facecolors()) for c in ax.collections]
    colours_by_answer: dict[tuple[float, ...], int] = {}
    n_dots = 0
    for offsets, faces in dots[:-1]:  # the last collection is the asked question
        n_dots += len(offsets)
        colours_by_answer[tuple(np.round(faces[0], 3))] = len(offsets)
    assert n_dots == len(kb.questions)
    assert sorted(colours_by_answer.values()) == sorted(len(e.questions) for e in kb.entries)
    star_offsets, star_faces = dots[-1]
    assert len(star_offsets) == 1
    np.testing.assert_allclose(star_faces[0][:3], [int(QUERY_COLOUR[i:i + 2], 16) / 255
                                                   for i in (1, 3, 5)], atol=1e-3)
    assert len(ax.lines) == 3  # lines to the three nearest questions
    made = next(e for e in kb.entries if "Who made you?" in e.questions)
    assert kmap.questions[kmap.neighbours[0][0]] in made.questions


def test_missing_web_extra_is_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec

    def without(name: str, *args: object) -> object:
        return None if name in ("gradio", "matplotlib") else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", without)
    for command in (["web"], ["map", "--out", "x.png"]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0
        assert err.startswith("error[web:missing-package]") and "pip install .[web]" in err
    with pytest.raises(WebError):
        require("gradio")
