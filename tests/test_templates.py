"""Question templates in qa.yaml (hassil syntax): expansion, limits, errors, `check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main
from assistant.errors import KnowledgeError
from assistant.kb.knowledge import parse_kb
from assistant.kb.templates import MAX_EXPANSIONS, TemplateError, expand


def test_template_expands_alternatives_and_optional_words() -> None:
    got = expand("(what's|what is) [the] time [now]?")
    assert set(got) == {f"{a} {b}time{c}?" for a in ("what's", "what is")
                        for b in ("the ", "") for c in (" now", "")}
    assert expand("Who are you?") == ("Who are you?",)


def test_template_past_the_limit_is_refused() -> None:
    letters = "|".join("abcdefghijklmnopqrstu")
    with pytest.raises(TemplateError, match=f"more than {MAX_EXPANSIONS}"):
        expand(f"({letters}) ({letters})")


def test_knowledge_base_gets_every_phrasing_and_keeps_the_template() -> None:
    kb = parse_kb({"entries": [
        {"answer": "It is {time}.", "questions": ["What time is it?", "tell me the (time|hour)",
                                                  "[please] tell me the time"]},
        {"answer": "Hi.", "questions": ["hello"]}]}, "qa.yaml")
    assert kb.questions == ["What time is it?", "tell me the time", "tell me the hour",
                            "please tell me the time", "hello"]
    assert kb.entries[0].templates == ("tell me the (time|hour)", "[please] tell me the time")
    assert kb.entry_of("tell me the hour") == 0


@pytest.mark.parametrize(("question", "message"), [
    ("(where|what", "entries[1].questions[1]: template '(where|what' is not valid"),
    ("(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o) (a|b|c|d|e|f|g|h|i|j|k|l|m|n|o)", "expands to more than"),
    ("what is (your|the) {name}", "slot lists"),
])
def test_bad_template_is_one_line_error_naming_the_entry(question: str, message: str) -> None:
    with pytest.raises(KnowledgeError, match="qa.yaml") as err:
        parse_kb({"entries": [{"answer": "x", "questions": [question]}]}, "qa.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_template_repeating_another_answer_is_a_duplicate() -> None:
    with pytest.raises(KnowledgeError, match="duplicate question 'hello'"):
        parse_kb({"entries": [{"answer": "a", "questions": ["hello"]},
                              {"answer": "b", "questions": ["(hello|hi)"]}]}, "qa.yaml")


def test_check_shows_template_counts_and_refuses_a_huge_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qa = tmp_path / "qa.yaml"
    qa.write_text('entries:\n  - answer: "It is {time}."\n    questions: ["What time is it?", '
                  '"(what\'s|what is) [the] time [now]"]\n', encoding="utf-8")
    assert main(["check", "--qa", str(qa), "--no-models", "--asr", "pocketsphinx"]) == 0
    out = capsys.readouterr().out
    assert "templates:  1, expanded to 8 phrasings" in out and "9 questions" in out
    qa.write_text('entries:\n  - answer: x\n    questions: ["(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o) '
                  '(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o)"]\n', encoding="utf-8")
    assert main(["check", "--qa", str(qa), "--no-models", "--asr", "pocketsphinx"]) == 2
    assert "expands to more than" in capsys.readouterr().err
