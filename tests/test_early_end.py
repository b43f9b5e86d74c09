"""Early end of turn, the pure decision: transcripts and replies built by hand, no audio."""

from __future__ import annotations

from assistant.asr import Transcript
from assistant.kb.knowledge import Entry, KnowledgeBase
from assistant.kb.matcher import Candidate, Match
from assistant.vad.early_end import CompleteQuestions, EarlyEnd, decide

KB = KnowledgeBase((
    Entry("I was built by a small team.", ("Who made you?", "Who built you?")),
    Entry("Nobody made me laugh.", ("Who made you laugh today?",)),
    Entry("It is {time}.", ("What time is it?", "What time is it now?")),
    Entry("Goodbye!", ("Goodbye",)),
))


def ps(text: str, confidence: float = 0.9, rejected: bool = False) -> Transcript:
    return Transcript("" if rejected else text, "pocketsphinx", confidence,
                      {"ratio": 0.0, "hypothesis": text, "rejected": rejected})


def w2v(text: str, margin: float | None) -> Transcript:
    extra = {} if margin is None else {"biased_from": text[:-1], "bias_margin": margin}
    return Transcript(text, "wav2vec2", None, extra)


class FakeReply:
    def __init__(self, entry: int, score: float = 0.9, second: float = 0.4,
                 fallback: bool = False) -> None:
        self.match = Match((Candidate(entry, "?", score), Candidate((entry + 1) % 4, "?",
                                                                    second)), 0.5)
        self.fallback = fallback
        self.answer = KB.entries[entry].answer


def early(transcript: Transcript, reply: FakeReply | None) -> bool:
    return decide(transcript, reply, CompleteQuestions.of(KB)).early


def test_a_whole_known_question_heard_clearly_ends_the_turn() -> None:
    assert early(ps("what time is it"), FakeReply(2))
    assert early(w2v("who built you", 25.0), FakeReply(0))
    assert early(ps("goodbye"), FakeReply(3))


def test_a_question_that_begins_another_with_a_different_answer_waits() -> None:
    verdict = decide(ps("who made you"), FakeReply(0), CompleteQuestions.of(KB))
    assert not verdict.early and "longer" in verdict.reason
    assert early(ps("who made you laugh today"), FakeReply(1))  # the longer one itself


def test_a_longer_phrasing_with_the_same_answer_does_not_block() -> None:
    assert early(ps("what time is it"), FakeReply(2))  # "what time is it now": same entry


def test_uncertain_recognition_waits() -> None:
    assert not early(ps("what time is it", confidence=0.55), FakeReply(2))
    assert not early(ps("what time is it", rejected=True), FakeReply(2))
    assert not early(w2v("who built you", 6.0), FakeReply(0))  # accepted, margin not clear
    assert not early(w2v("who built you", None), FakeReply(0))  # greedy text, no closed set


def test_free_text_and_unknown_phrasings_never_end_early() -> None:
    general = Transcript("what time is it", "pocketsphinx", 0.99)  # language model: no ratio
    assert not early(general, FakeReply(2))
    assert not early(ps("what time is it in tokyo"), FakeReply(2))
    assert not early(ps(""), FakeReply(2))


def test_the_matcher_must_agree_clearly() -> None:
    assert not early(ps("what time is it"), FakeReply(2, fallback=True))
    assert not early(ps("what time is it"), FakeReply(0))  # another entry won
    assert not early(ps("what time is it"), FakeReply(2, score=0.62, second=0.6))
    assert not early(ps("what time is it"), None)


def test_contractions_and_case_are_the_same_phrasing() -> None:
    kb = KnowledgeBase((Entry("Fine.", ("What's up?",)), Entry("Up high.", ("Where is up?",))))
    reply = FakeReply(0)
    reply.match = Match((Candidate(0, "?", 0.9),), 0.5)
    assert EarlyEnd()(ps("what is up"), reply, kb).early


def test_a_reloaded_knowledge_base_is_used() -> None:
    judge = EarlyEnd()
    assert judge(ps("who made you"), FakeReply(0), KB).early is False
    smaller = KnowledgeBase(KB.entries[:1] + KB.entries[2:])
    reply = FakeReply(0)
    reply.match = Match((Candidate(0, "?", 0.9), Candidate(1, "?", 0.3)), 0.5)
    assert judge(ps("who made you"), reply, smaller).early is True
