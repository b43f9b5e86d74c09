"""Early end of turn: answer as soon as the speech so far is a complete known question.

When the speaker pauses, the daemon recognizes the utterance so far (speculation). If that
result is a *complete known question heard with high confidence*, waiting out the rest of the
hangover only delays the answer, so the turn ends now. Pure logic: fed a transcript, the reply
the matcher gave for it and the knowledge base, it says yes or no and why. No audio here.

"Complete", per recognizer mode:
  * pocketsphinx grammar: the grammar's final state was reached (the hypothesis *is* one of
    the phrasings, word for word) and the phone-loop verification accepted it with
    ``confidence >= min_confidence`` (0.5 is the accept bar; see ``asr/pocketsphinx.py``).
  * wav2vec2 closed-set check: the CTC rescoring replaced the greedy text by a known phrasing
    (``bias_margin`` in the transcript's extra) with a margin of at least ``min_ctc_margin``
    nats over the runner-up phrasing (the acceptance bar itself is 5 nats).
  * any other mode (pocketsphinx's general language model, a paraphrase language model,
    wav2vec2 without a closed-set win): never complete: free text can always go on.
And in every mode: the matcher answered (no fallback) with the entry that owns that phrasing,
leading the runner-up entry by ``min_match_margin``; and the phrasing is not the beginning of
another phrasing with a different answer ("who made you" / "who made you laugh today"): the
longer one may follow. A longer phrasing with the same answer does not block it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..kb.knowledge import KnowledgeBase
from ..kb.normalize import normalize


@dataclass(frozen=True)
class EarlyEndRule:
    min_confidence: float = 0.6  # pocketsphinx verification confidence (0.5 = accept bar)
    min_ctc_margin: float = 10.0  # nats over the runner-up phrasing (wav2vec2 closed set)
    min_match_margin: float = 0.05  # best entry's score lead over the runner-up entry
    after_s: float = 0.0  # trailing silence before an early end may happen (beyond the
    # speculation's own 0.15 s and its recognition time); the risk/latency trade-off


@dataclass(frozen=True)
class Decision:
    early: bool
    reason: str  # why (or why not), for the debug log and the benchmarks


def _key(text: str) -> tuple[str, ...]:
    return tuple(normalize(text).split())


@dataclass(frozen=True)
class CompleteQuestions:
    """The knowledge base as early end sees it: each normalised phrasing -> the answers it
    may lead to (its own, and those of longer phrasings it begins)."""

    answers: Mapping[tuple[str, ...], frozenset[str]]
    entry_answers: tuple[str, ...] = ()  # entry index -> its answer as written

    @classmethod
    def of(cls, kb: KnowledgeBase) -> CompleteQuestions:
        own: dict[tuple[str, ...], set[str]] = {}
        for entry in kb.entries:
            for q in entry.questions:
                if _key(q):
                    own.setdefault(_key(q), set()).add(entry.answer)
        reach = {k: set(v) for k, v in own.items()}
        for longer, answers in own.items():
            for n in range(1, len(longer)):
                if longer[:n] in reach:
                    reach[longer[:n]] |= answers
        return cls({k: frozenset(v) for k, v in reach.items()},
                   tuple(e.answer for e in kb.entries))


def heard_complete(transcript: Any, rule: EarlyEndRule) -> Decision:
    """Whether the recognizer itself vouches for a whole known phrasing (see module doc)."""
    if transcript is None or not transcript.text:
        return Decision(False, "nothing recognised")
    extra = transcript.extra or {}
    if transcript.backend == "pocketsphinx" and "ratio" in extra:
        if extra.get("rejected"):
            return Decision(False, "grammar path rejected by the verification")
        if (transcript.confidence or 0.0) < rule.min_confidence:
            return Decision(False, f"confidence {transcript.confidence:.2f} < "
                            f"{rule.min_confidence:.2f}")
        return Decision(True, f"grammar phrasing, confidence {transcript.confidence:.2f}")
    margin = extra.get("bias_margin")
    if isinstance(margin, (int, float)):
        if margin < rule.min_ctc_margin:
            return Decision(False, f"closed-set margin {margin:.1f} < {rule.min_ctc_margin:.1f}")
        return Decision(True, f"closed-set phrasing, margin {margin:.1f} nats")
    return Decision(False, f"{transcript.backend or 'recognizer'}: free text is never complete")


def decide(transcript: Any, reply: Any, questions: CompleteQuestions,
           rule: EarlyEndRule = EarlyEndRule()) -> Decision:
    """Early end for one speculative result: ``transcript`` (asr.Transcript) and ``reply``
    (answerer.Reply) of the speech so far."""
    heard = heard_complete(transcript, rule)
    if not heard.early:
        return heard
    key = _key(transcript.text)
    reachable = questions.answers.get(key)
    if reachable is None:
        return Decision(False, "not a known phrasing word for word")
    if reply is None or reply.fallback or reply.match.best is None:
        return Decision(False, "the matcher did not answer")
    if len(reachable) > 1:
        return Decision(False, "a longer known question with another answer begins so")
    best = reply.match.best.entry
    chosen = questions.entry_answers[best] if best < len(questions.entry_answers) else None
    if chosen not in reachable:
        return Decision(False, "the matcher chose another entry than the phrasing's")
    cands = reply.match.candidates
    lead = cands[0].score - cands[1].score if len(cands) > 1 else 1.0
    if lead < rule.min_match_margin:
        return Decision(False, f"lead over the runner-up {lead:.3f} < {rule.min_match_margin}")
    return Decision(True, f"{heard.reason}, lead {lead:.2f}")


class EarlyEnd:
    """``decide`` bound to the current knowledge base (rebuilt when a reload swaps it)."""

    def __init__(self, rule: EarlyEndRule = EarlyEndRule()) -> None:
        self.rule = rule
        self._kb: KnowledgeBase | None = None
        self._questions = CompleteQuestions({})

    def __call__(self, transcript: Any, reply: Any, kb: KnowledgeBase) -> Decision:
        if kb is not self._kb:
            self._kb, self._questions = kb, CompleteQuestions.of(kb)
        return decide(transcript, reply, self._questions, self.rule)
