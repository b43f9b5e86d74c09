"""`assistant eval` and the spoken test set: metrics by hand, then real audio end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.errors import ConfigError
from assistant.evaluation import Outcome, Row, read_dataset, summarize, word_errors
from assistant.kb.knowledge import Entry, KnowledgeBase
from assistant.spoken_set import Item, write_dataset

KB = KnowledgeBase((Entry("Kathmandu.", ("Where do you live?", "Which city are you from?")),
                    Entry("Echo.", ("What is your name?",))), source="kb.yaml")


def test_word_errors() -> None:
    assert word_errors("where do you live", "where do you live") == (0, 4)
    assert word_errors("where do you live", "where you liv") == (2, 4)
    assert word_errors("What is your name?", "what's your name") == (2, 4)


def test_summary_counts_accuracy_rejection_and_worst_rows() -> None:
    live = Row(Path("a.wav"), "Where do you live?", "where do you live", 0)
    name = Row(Path("b.wav"), "What is your name?", "what is your name", 1)
    noise = Row(Path("c.wav"), "", "", None)
    outcomes = [
        Outcome(live, "where do you live", 0, "Where do you live?", 0.9, {"asr": 10.0}),
        Outcome(name, "where is your name", 0, "Where do you live?", 0.6, {"asr": 30.0}),
        Outcome(noise, "", None, None, None, {}),
    ]
    s = summarize(outcomes)
    assert s["n"] == 3 and s["accuracy"] == 0.5 and s["rejection"] == 1.0
    assert s["wer"] == pytest.approx(1 / 8)
    assert s["latency_ms"]["asr"]["median"] == 20.0
    assert [w["audio"] for w in s["worst"]] == ["b.wav"]


def test_dataset_errors_name_the_line(tmp_path: Path) -> None:
    tsv = tmp_path / "d.tsv"
    tsv.write_text("audio\texpected\na.wav\tWhere do you live?\nb.wav\tWhat is love?\n")
    with pytest.raises(ConfigError, match="line 3.*What is love"):
        read_dataset(tsv, KB)
    tsv.write_text("file\texpected\na.wav\t\n")
    with pytest.raises(ConfigError, match="missing column.*audio"):
        read_dataset(tsv, KB)
    rows = read_dataset(_ok(tmp_path), KB)
    assert rows[0].expected_entry == 0 and rows[1].expected_entry is None


def _ok(tmp_path: Path) -> Path:
    tsv = tmp_path / "ok.tsv"
    tsv.write_text("audio\texpected\na.wav\twhere do you live\nb.wav\t\n")
    return tsv


def test_make_dataset_then_eval_with_pocketsphinx(tmp_path: Path, repo_qa: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A small part of the spoken set through the real recognizer and matcher."""
    items = [Item("Where do you live?", "Where do you live?"),
             Item("What time is it?", "What time is it?"),
             Item("Who made you?", "Who made you?"),
             Item("the weather in paris is rainy and cold", "")]
    tsv = write_dataset(tmp_path / "set", items, voices=["en-us"], speeds_wpm=[150],
                        noise_clips=2)
    assert len(tsv.read_text().splitlines()) == 1 + 4 + 2
    code = main(["eval", str(tsv), "--qa", str(repo_qa), "--config", "/dev/null",
                 "--asr", "pocketsphinx", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 6
    assert result["accuracy"] == 1.0  # every known question answered right
    assert result["rejection"] == 1.0  # unrelated speech and noise: no confident wrong answer
    assert 0.0 <= result["wer"] < 0.5
    assert {"asr", "embed", "match"} <= set(result["latency_ms"])
    assert result["categories"]["written"] == {"n": 3, "correct": 3, "accuracy": 1.0}
    assert result["categories"]["unrelated"]["n"] == 3 and result["confident_wrong"] == []


def test_summary_per_category_and_confident_wrong_answers() -> None:
    written = Row(Path("a.wav"), "Where do you live?", "Where do you live?", 0)
    para = Row(Path("b.wav"), "Where do you live?", "where's your home", 0)
    para2 = Row(Path("c.wav"), "What is your name?", "tell me your name", 1)
    unrelated = Row(Path("d.wav"), "", "order a pizza", None)
    outcomes = [
        Outcome(written, "where do you live", 0, "Where do you live?", 0.9),
        Outcome(para, "where is your home", 0, "Where do you live?", 0.7),
        Outcome(para2, "tell me your age", 0, "Where do you live?", 0.8),
        Outcome(unrelated, "", None, None, None),
    ]
    s = summarize(outcomes)
    assert s["categories"] == {
        "written": {"n": 1, "correct": 1, "accuracy": 1.0},
        "paraphrase": {"n": 2, "correct": 1, "accuracy": 0.5},
        "unrelated": {"n": 1, "correct": 1, "accuracy": 1.0}}
    assert [(w["audio"], w["category"]) for w in s["confident_wrong"]] == [("c.wav",
                                                                           "paraphrase")]
