"""`assistant eval-text`: the pure metrics on hand-made matches, then the command on a tiny
knowledge base through the real command line and the real all-MiniLM-L6-v2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.cli import main
from assistant.kb.evaluate import accuracy_at_rejection, evaluate, needed_threshold
from assistant.kb.matcher import Candidate, Match

KB_YAML = """\
entries:
  - answer: "I am Echo."
    questions: ["What is your name?", "Who are you?"]
  - answer: "It is {time}."
    questions: ["What time is it?", "What is the time now?"]
  - answer: "Goodbye!"
    questions: ["Goodbye", "See you later"]
"""

ROWS = [
    ("what's your name", "What is your name?"),
    ("tell me the time", "What time is it?"),
    ("bye bye", "goodbye"),  # case and punctuation of the phrasing do not matter
    ("what is the capital of france", ""),
    ("tell me a joke", ""),
]


def match(entry: int, score: float, threshold: float = 0.5) -> Match:
    return Match((Candidate(entry, f"q{entry}", score),), threshold)


def test_metrics_count_in_scope_and_out_of_scope_separately() -> None:
    matches = [match(0, 0.9), match(1, 0.4), match(2, 0.7), match(0, 0.6), match(1, 0.3)]
    m = evaluate(matches, [0, 1, 1, None, None])
    assert (m.n, m.n_in_scope, m.n_out_of_scope) == (5, 3, 2)
    assert m.top1 == pytest.approx(2 / 3)  # entry 2 was wrong whatever the threshold
    assert m.accuracy == pytest.approx(1 / 3)  # entry 1 scored below 0.5
    assert m.rejection == pytest.approx(1 / 2)  # 0.6 was answered
    assert m.threshold == 0.5
    # best min(accuracy, rejection): answer from 0.4 up (2/3 right, 1/2 rejected), placed
    # halfway between the neighbouring confidences 0.3 and 0.4
    assert m.balanced_threshold == pytest.approx(0.35)
    assert (m.balanced_accuracy, m.balanced_rejection) == (pytest.approx(2 / 3), 0.5)


def test_metrics_without_out_of_scope_rows() -> None:
    m = evaluate([match(0, 0.9), match(1, 0.2)], [0, 1])
    assert (m.top1, m.accuracy, m.rejection, m.balanced_threshold) == (1.0, 0.5, None, None)
    d = m.as_dict()
    assert {"top1", "accuracy", "rejection", "n", "threshold"} <= set(d)


def test_confident_wrong_answers_and_the_threshold_that_was_needed() -> None:
    matches = [match(1, 0.8), match(0, 0.7), match(0, 0.4), match(2, 0.3), match(2, 0.9)]
    expected = [0, None, 0, 1, 2]
    m = evaluate(matches, expected)
    assert m.confident_wrong == 2  # a wrong entry at 0.8, an unrelated question at 0.7
    needed = [needed_threshold(x, e) for x, e in zip(matches, expected, strict=True)]
    assert needed == [None,  # the best entry was wrong: no threshold makes it right
                      (">", pytest.approx(0.7)),  # above 0.7 it would have been turned away
                      ("<=", pytest.approx(0.4)),  # right entry first, but below 0.5
                      None,  # wrong entry and not answered: the fallback was wrong too
                      None]  # right


def test_accuracy_at_rejection() -> None:
    acc, t = accuracy_at_rejection(np.array([True, True, False]), np.array([0.9, 0.5, 0.95]),
                                   np.array([0.1, 0.2, 0.3, 0.6]), 0.75)
    assert 0.3 < t < 0.5 and acc == pytest.approx(2 / 3)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    kb = tmp_path / "qa.yaml"
    kb.write_text(KB_YAML, encoding="utf-8")
    tsv = tmp_path / "test.tsv"
    tsv.write_text("text\texpected\n" + "".join(f"{t}\t{e}\n" for t, e in ROWS),
                   encoding="utf-8")
    return {"kb": kb, "tsv": tsv, "dir": tmp_path}


def run_json(capsys: pytest.CaptureFixture[str], files: dict[str, Path],
             threshold: object, background: str = "home-assistant") -> dict[str, object]:
    config = files["dir"] / f"config_{threshold}.yaml"
    config.write_text(f"matcher:\n  threshold: {threshold}\n  background: {background}\n",
                      encoding="utf-8")
    capsys.readouterr()
    code = main(["eval-text", str(files["tsv"]), "--qa", str(files["kb"]), "--config",
                 str(config), "--json", "-q"])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_eval_text_agrees_with_ask_row_by_row(capsys: pytest.CaptureFixture[str],
                                              files: dict[str, Path]) -> None:
    got = run_json(capsys, files, "auto")
    assert got["n"] == 5 and got["n_in_scope"] == 3 and got["n_out_of_scope"] == 2
    assert got["top1"] == 1.0
    answers = {"What is your name?": "I am Echo.", "What time is it?": "It is",
               "goodbye": "Goodbye!", "": None}
    right_in = right_out = 0
    for text, expected in ROWS:
        assert main(["ask", text, "--qa", str(files["kb"]), "--config",
                     str(files["dir"] / "config_auto.yaml"), "--json", "-q"]) == 0
        reply = json.loads(capsys.readouterr().out)
        if expected:
            right_in += not reply["fallback"] and reply["answer"].startswith(answers[expected])
        else:
            right_out += reply["fallback"]
    assert got["accuracy"] == pytest.approx(right_in / 3, abs=1e-4)
    assert got["rejection"] == pytest.approx(right_out / 2, abs=1e-4)
    assert isinstance(got["threshold"], float) and isinstance(got["balanced_threshold"], float)
    assert isinstance(got["confident_wrong"], int) and str(got["fit"]).startswith("none: ")
    for miss in got["misses"]:  # type: ignore[attr-defined]
        assert miss["needed"] is None or miss["needed"][0] in (">", "<=")


def test_threshold_extremes(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    everything = run_json(capsys, files, -1, "none")  # every question answered
    assert (everything["accuracy"], everything["rejection"]) == (everything["top1"], 0.0)
    # ... except those closer to a Home Assistant command than to any phrasing, which no
    # threshold answers ("tell me a joke", "what is the capital of france")
    assert run_json(capsys, files, -1)["rejection"] == 1.0
    nothing = run_json(capsys, files, 3)  # confidence never reaches 3
    assert (nothing["accuracy"], nothing["rejection"]) == (0.0, 1.0)


def test_text_report(capsys: pytest.CaptureFixture[str], files: dict[str, Path]) -> None:
    assert main(["eval-text", str(files["tsv"]), "--qa", str(files["kb"]), "-q"]) == 0
    out = capsys.readouterr().out
    assert "top-1 accuracy          100.0%" in out and "balanced threshold" in out
    assert "confident wrong answers" in out
    # three answers of two phrasings: too few to fit the whitening on, and it says so
    assert "matcher model           none (plain cosine: fewer than" in out


@pytest.mark.parametrize("content,message", [
    (None, "test file not found"),
    ("question\texpected\nhi\t\n", "no column 'text'"),
    ("text\tanswer\nhi\t\n", "no column 'expected'"),
    ("text\texpected\nhello there\tWhat is your name?\nhi\tWhat is your age?\n",
     "line 3: expected 'What is your age?' is not a question"),
    ("text\texpected\n\tGoodbye\n", "line 2: empty text"),
])
def test_bad_test_files_exit_2_with_one_line(capsys: pytest.CaptureFixture[str],
                                             files: dict[str, Path], content: str | None,
                                             message: str) -> None:
    bad = files["dir"] / "bad.tsv"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    capsys.readouterr()
    assert main(["eval-text", str(bad), "--qa", str(files["kb"])]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and str(bad) in err and len(err.splitlines()) == 1
