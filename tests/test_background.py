"""matcher.background: a command meant for Home Assistant ("set a timer for ten minutes") is not
answered from qa.yaml because it shares a word with a question there, while every question the
knowledge base has, Home Assistant's kinds included, is still answered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.answerer import Answerer
from assistant.kb.background import Background, sentences
from assistant.kb.knowledge import load_kb

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("home_assistant_intents")


def unit(*rows: list[float]) -> np.ndarray:
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_sentences_are_home_assistant_commands_drawn_the_same_every_time() -> None:
    pairs = sentences("en")
    assert pairs == sentences("en")  # same seed: the cached embeddings stay valid
    intents = {i for i, _ in pairs}
    assert {"HassStartTimer", "HassTurnOn", "HassGetWeather"} <= intents
    assert any("timer" in t for i, t in pairs if i == "HassStartTimer")
    assert all(t == " ".join(t.split()) and t for _, t in pairs)
    assert {i for i, _ in sentences("de")} >= {"HassStartTimer"}


def test_a_language_home_assistant_lacks_gives_no_sentences() -> None:
    assert sentences("xx") == []


def test_a_query_closer_to_a_command_than_to_every_phrasing_is_claimed() -> None:
    bg = Background(("set a timer", "turn on the light"), ("HassStartTimer", "HassTurnOn"),
                    unit([1, 0, 0], [0, 1, 0]))
    query = unit([0.9, 0.1, 0.3])[0]
    assert bg.claims(query, 0.5) == "set a timer"
    assert bg.claims(query, 0.99) is None  # a phrasing is closer
    assert Background((), (), np.zeros((0, 3), np.float32)).claims(query, 0.1) is None


def test_an_intent_the_knowledge_base_covers_is_left_out_whole() -> None:
    bg = Background(("what time is it", "tell me the time", "turn on the light"),
                    ("HassGetCurrentTime", "HassGetCurrentTime", "HassTurnOn"),
                    unit([1, 0, 0], [0.7, 0.7, 0], [0, 0, 1]))
    rest, covered = bg.without_covered(unit([1, 0.05, 0]))
    assert covered == ("HassGetCurrentTime",)
    assert rest.texts == ("turn on the light",) and rest.vecs.shape == (1, 3)


@pytest.fixture(scope="module")
def demo(minilm: object, tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    return Answerer(load_kb(REPO / "qa.yaml"), minilm,  # type: ignore[arg-type]
                    cache_dir=tmp_path_factory.mktemp("bg"), background="home-assistant")


def test_a_timer_command_gets_the_fallback_not_the_time(demo: Answerer,
                                                        minilm: object) -> None:
    reply = demo.reply("set a timer for ten minutes")
    assert reply.fallback and reply.match.elsewhere
    assert "Home Assistant command" in reply.decision()
    assert not demo.reply("what is the weather like tomorrow").match.answered
    from tests.test_exchange_log import exchange

    record = exchange(demo, "set a timer for ten minutes", "2026-01-01T10:00:00").as_dict()
    assert record["fallback"] and record["elsewhere"]  # the exchange log says why
    # without the background the same matcher told the time
    plain = Answerer(demo.kb, minilm, cache_dir=demo.cache_dir)  # type: ignore[arg-type]
    assert not plain.reply("set a timer for ten minutes").fallback


def test_questions_of_the_knowledge_base_are_still_answered(demo: Answerer) -> None:
    assert set(demo.matcher.covered_intents) >= {"HassGetCurrentTime", "HassGetCurrentDate"}
    for asked, expected in [("what time is it", "What time is it?"),
                            ("tell me the date", "What is the date today?"),
                            ("who made you", "Who made you?")]:
        reply = demo.reply(asked)
        assert not reply.fallback, asked
        assert demo.kb.entry_of(expected) == reply.match.best.entry  # type: ignore[union-attr]


def test_a_knowledge_base_with_timer_questions_keeps_them(minilm: object,
                                                          tmp_path: Path) -> None:
    qa = tmp_path / "qa.yaml"
    qa.write_text("entries:\n"
                  "- answer: Use the dial on the oven.\n"
                  "  questions: [How do I set a timer?, set a timer for ten minutes]\n"
                  "- answer: We open at nine.\n"
                  "  questions: [When do you open?, What are your opening hours?]\n")
    answerer = Answerer(load_kb(qa), minilm, cache_dir=tmp_path,  # type: ignore[arg-type]
                        background="home-assistant")
    assert "HassStartTimer" in answerer.matcher.covered_intents
    reply = answerer.reply("set a timer for five minutes")
    assert not reply.fallback and reply.answer == "Use the dial on the oven."


def test_the_commands_say_why_a_command_got_no_answer(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    import json

    from assistant.cli import main

    tsv = tmp_path / "t.tsv"
    tsv.write_text("text\texpected\nset a timer for ten minutes\tWhat time is it?\n")
    config = ["--config", str(REPO / "config.yaml"), "-q"]
    assert main(["eval-text", str(tsv), *config]) == 0
    assert "closer to a Home Assistant command: '" in capsys.readouterr().out
    assert main(["ask", "set a timer for ten minutes", "--json", *config]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["fallback"] and reply["elsewhere"]
    assert main(["check", *config]) == 0
    out = capsys.readouterr().out
    assert "background: " in out and "HassGetCurrentTime" in out


def test_the_drawn_sentences_are_cached_and_a_torn_file_is_drawn_again(tmp_path: Path) -> None:
    from assistant.kb.background import cached_sentences

    first = cached_sentences("en", tmp_path)
    (stored,) = (tmp_path / "background").glob("*.json")
    assert cached_sentences("en", tmp_path) == first == sentences("en")
    stored.write_text("[[1, 2", encoding="utf-8")
    assert cached_sentences("en", tmp_path) == first


def test_without_the_package_the_matcher_runs_as_before_and_check_says_why(
        monkeypatch: pytest.MonkeyPatch, minilm: object, tmp_path: Path) -> None:
    import assistant.kb.background as background
    from assistant.commands.check import describe_background

    monkeypatch.setattr(background, "available", lambda: False)
    answerer = Answerer(load_kb(REPO / "qa.yaml"), minilm,  # type: ignore[arg-type]
                        cache_dir=tmp_path, background="home-assistant")
    assert answerer.matcher.background is None
    assert not answerer.reply("set a timer for ten minutes").fallback  # as before
    said = describe_background("home-assistant", answerer.matcher)
    assert "not installed" in said and "pip install home-assistant-intents" in said
    assert describe_background("none", answerer.matcher).startswith("off")
