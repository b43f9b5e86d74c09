"""The room scene's score: what a user would notice, counted from the cues and the exchanges
each one drew (``scene.play_scene``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .scene import QUESTIONS, CueResult


@dataclass
class SceneReport:
    questions: int
    right: int
    noise_cues: int
    noise_replies: int
    unrelated_cues: int  # conversation lines and the TV
    unrelated_replies: int
    unrelated_utterances: int  # what the assistant heard of them (each a chance to reply)
    self_replies: int
    delays_s: list[float]
    unwoken: int = 0  # wake mode: questions asked without the wake word (must stay unanswered)
    unwoken_replies: int = 0

    def lines(self) -> list[str]:
        d = sorted(self.delays_s)
        delay = (f"median {d[len(d) // 2]:.2f} s, max {d[-1]:.2f} s (n={len(d)})" if d
                 else "none measured")
        return [f"right answers:                 {self.right}/{self.questions}",
                f"spoken replies to noise:       {self.noise_replies} "
                f"(of {self.noise_cues} noise cues)",
                f"replies to unrelated speech:   {self.unrelated_replies} "
                f"(of {self.unrelated_cues} cues, {self.unrelated_utterances} utterances)",
                f"replies to its own voice:      {self.self_replies}",
                *([f"replies without the wake word: {self.unwoken_replies} "
                   f"(of {self.unwoken} questions)"] if self.unwoken else []),
                f"question end -> answer sound:  {delay}"]


def score(results: Sequence[CueResult], right_question: dict[str, set[str]]) -> SceneReport:
    """``right_question``: for each asked text, the knowledge-base phrasings that count as
    the right match."""
    asked = [r for r in results if r.cue.kind == "question"]
    q = [r for r in asked if r.cue.wake is not False]
    unwoken = [r for r in asked if r.cue.wake is False]
    right = sum(1 for r in q if r.spoken and r.spoken[0].get("question")
                in right_question.get(r.cue.text, set()))
    noise_r = [r for r in results if r.cue.kind in ("noise", "household")]
    unrelated = [r for r in results if r.cue.kind in ("conversation", "tv")]
    # a reply beyond the first for one cue came from hearing its own answer
    self_replies = sum(max(0, len(r.spoken) - 1) for r in q)
    return SceneReport(len(q), right, len(noise_r), sum(len(r.spoken) for r in noise_r),
                       len(unrelated), sum(len(r.spoken) for r in unrelated),
                       sum(len(r.exchanges) for r in unrelated), self_replies,
                       [r.answer_delay_s for r in q if r.answer_delay_s is not None],
                       len(unwoken), sum(len(r.spoken) for r in unwoken))


def right_questions(qa: Path) -> dict[str, set[str]]:
    """Each scene question -> the phrasings of its knowledge-base entry (normalised text)."""
    from ..kb.knowledge import load_kb

    kb = load_kb(qa)
    out: dict[str, set[str]] = {}
    for text, _voice in QUESTIONS:
        for entry in kb.entries:
            norm = {"".join(c for c in p.lower() if c.isalnum() or c == " "): p
                    for p in entry.questions}
            if text in norm:
                out[text] = set(entry.questions)
    return out
