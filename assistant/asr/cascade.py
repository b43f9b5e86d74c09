"""Two recognizers in turn: the pocketsphinx grammar first (fast, and exact on the phrasings
written in qa.yaml), then an open-vocabulary recognizer (Whisper) for what the grammar is not
sure of, so that a question in the speaker's own words still reaches the matcher.

    utterance -> grammar -- accepted, clear margin (ratio >= verify_below) --> its phrasing
                    | rejected, or accepted narrowly
                    v
                 Whisper (guarded against noise)
                    | heard nothing: the grammar's result (its phrasing, or nothing)
                    | heard (about) the grammar's phrasing, or is unsure: the phrasing
                    v heard something else, surely: Whisper's words, for the matcher

The grammar forces every utterance onto the nearest phrasing, and its phone-loop check lets a
few wrong ones through with a narrow margin ("what city do you live in" accepted as "what is
the date today"); those are the ones Whisper is asked about. ``CascadeRule`` is the decision,
pure; docs/paraphrases.md has the measurements behind ``verify_below``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from ..audio.types import Audio
from . import Recognizer, Transcript

VERIFY_BELOW = -20.0  # pocketsphinx ratio; the check's own bar is -26
MIN_CONFIDENCE = 0.7  # exp(mean log-probability per token) of Whisper's kept segments


@dataclass(frozen=True)
class CascadeRule:
    verify_below: float = VERIFY_BELOW
    min_confidence: float = MIN_CONFIDENCE  # Whisper's, to replace an accepted phrasing
    agree_ratio: float = 0.8  # difflib ratio of the word sequences

    def ask_second(self, first: Transcript) -> bool:
        """The grammar rejected the utterance, or accepted it narrowly."""
        if not first.text:
            return True
        ratio = first.extra.get("ratio")
        return isinstance(ratio, (int, float)) and ratio < self.verify_below

    def agree(self, a: str, b: str) -> bool:
        return difflib.SequenceMatcher(None, a.split(), b.split()).ratio() >= self.agree_ratio

    def choose(self, first: Transcript, second: Transcript) -> Transcript:
        """Which transcript goes on to the matcher."""
        if not second.text:
            return first
        if first.text and (self.agree(first.text, second.text)
                           or (second.confidence or 0.0) < self.min_confidence):
            return first
        return second


class CascadeRecognizer:
    name = "cascade"

    def __init__(self, first: Recognizer, second: Recognizer,
                 rule: CascadeRule | None = None) -> None:
        self.first = first
        self.second = second
        self.rule = rule or CascadeRule()

    def adapt(self, phrases: Sequence[str]) -> None:
        self.first.adapt(phrases)
        self.second.adapt(phrases)

    def transcribe(self, audio: Audio) -> Transcript:
        first = self.first.transcribe(audio)
        if not self.rule.ask_second(first):
            return first
        second = self.second.transcribe(audio)
        chosen = self.rule.choose(first, second)
        extra = {**chosen.extra, "cascade": True, "grammar": first.text,
                 "grammar_hypothesis": first.extra.get("hypothesis", ""),
                 "whisper": second.extra.get("said", second.text)}
        return Transcript(chosen.text, chosen.backend, chosen.confidence, extra)
