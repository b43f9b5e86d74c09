"""When to stay silent: the rule that keeps the assistant from talking to the room.

Pure decision logic, no audio: given what the recognizer heard and what the matcher replied,
return why this utterance gets no spoken reply, or None to speak. The daemon still logs an
ignored utterance (one line, and ``ignored`` in the exchange log).

    fallback_on = "words"   no words heard -> silent; words, no answer -> the fallback is
                            spoken, unless the confidence is below ``floor`` (talk that was
                            not meant for the assistant: silent). floor "auto" = the
                            matcher's threshold minus AUTO_FLOOR_GAP, so it follows the
                            calibration and reloads.
    fallback_on = "always"  the old behaviour: every utterance gets a reply
    fallback_on = "never"   only answers are spoken; the fallback never
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answerer import Reply

FALLBACK_ON = ("words", "always", "never")
AUTO_FLOOR_GAP = 0.08  # measured on the demo qa.yaml: README "Staying quiet"
_WORD = re.compile(r"[a-z']{2,}|[0-9]+")


def has_words(transcript: str) -> bool:
    """A transcript holds words when it has a word of two letters or more (or a number):
    greedy CTC on noise tends to leave stray single letters ("a", "e i"), which are not."""
    return bool(_WORD.search(transcript.lower()))


@dataclass(frozen=True)
class QuietPolicy:
    fallback_on: str = "words"
    floor: float | str | None = "auto"  # below this confidence no fallback ("words" only)

    def __post_init__(self) -> None:
        if self.fallback_on not in FALLBACK_ON:
            raise ValueError(f"fallback_on must be one of {', '.join(FALLBACK_ON)}")

    def reason(self, transcript: str, reply: Reply | None) -> str | None:
        """Why this utterance gets no spoken reply; None = speak ``reply.answer``."""
        if self.fallback_on == "always":
            return None
        if not has_words(transcript):
            return "no words"
        if reply is None or not reply.fallback:
            return None
        if self.fallback_on == "never":
            return "no answer fits (matcher.fallback_on: never)"
        floor = self.floor_for(reply.match.threshold)
        confidence = reply.match.confidence
        if floor is not None and (confidence is None or confidence < floor):
            shown = "none" if confidence is None else f"{confidence:.2f}"
            return f"not for me (confidence {shown} < floor {floor:.2f})"
        return None

    def floor_for(self, threshold: float) -> float | None:
        if self.floor == "auto":
            return threshold - AUTO_FLOOR_GAP
        return None if self.floor is None else float(self.floor)
