"""The wake word / follow-up state machine: pure, fed stream times, testable without audio.

    WAITING --wake word--> AWAKE (earcon; the mic stays open) --utterance--> question
        ^                    | timeout_s without a question: "not understood" tone
        |                    v
        +---- follow_up_s ---- FOLLOW_UP <--answer-- (no wake word needed in the window)
    question not understood: "not understood" tone, back to WAITING
    answer interrupted (interrupt.enabled): a stop phrase -> WAITING; the wake word -> AWAKE
    noise (AWAKE or FOLLOW_UP): no tone, the state stays, its deadline moves on by the time
        from the noise's start until the assistant listens again (docs/room.md)

"alexa, where do you live" in one breath is one VAD utterance holding the wake word: the
question is the audio after the wake word's end (``cut_ms``). The wake word alone (the
question follows after a pause) leaves too little after the cut: it is dropped and the
machine stays AWAKE for the next utterance.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.Enum):
    """What became of an utterance taken as a question."""

    ANSWERED = "answered"
    NOT_UNDERSTOOD = "not understood"  # an error, or nothing to say to real words
    NOISE = "noise"  # nothing said because it was no question (no words, or ignored)
    STOPPED = "stopped"  # a stop phrase over the answer (interrupt): back to waiting
    WOKEN = "woken"  # the wake word over the answer (interrupt): a new question may follow

    @classmethod
    def of(cls, answer: str | None, ignored: str | None,
           interrupted: str | None = None, by_wake: bool = False) -> Outcome:
        """An exchange's outcome from its spoken ``answer``, its ``ignored`` reason and the
        phrase that interrupted it (``by_wake``: the wake word)."""
        if interrupted is not None:
            return cls.WOKEN if by_wake else cls.STOPPED
        if answer is not None:
            return cls.ANSWERED
        return cls.NOISE if ignored is not None else cls.NOT_UNDERSTOOD


class WakeState(enum.Enum):
    WAITING = "waiting for wake word"
    AWAKE = "wake word heard"
    FOLLOW_UP = "follow-up"


@dataclass(frozen=True)
class Verdict:
    """What to do with an utterance: ``accept`` it as a question starting at ``cut_ms``."""

    accept: bool
    cut_ms: float = 0.0
    reason: str = ""  # why it was not taken: "no wake word", "wake word only"


class WakeMachine:
    MIN_QUESTION_MS = 300.0  # less speech than this after the wake word is not a question

    def __init__(self, timeout_s: float, follow_up_s: float) -> None:
        self.timeout_ms = 1000.0 * timeout_s
        self.follow_up_ms = 1000.0 * follow_up_s
        self.state = WakeState.WAITING
        self._wake_ms = -1.0
        self._deadline_ms = -1.0
        self._question_ms = -1.0  # where the utterance taken as a question started

    @property
    def deadline_ms(self) -> float:
        """When the wake (AWAKE) or the follow-up window (FOLLOW_UP) runs out."""
        return self._deadline_ms

    def wake(self, time_ms: float) -> bool:
        """The wake word ended at ``time_ms``. True: play the earcon (only on a new wake)."""
        fresh = self.state is not WakeState.AWAKE
        self.state, self._wake_ms = WakeState.AWAKE, time_ms
        self._deadline_ms = time_ms + self.timeout_ms
        return fresh

    def utterance(self, start_ms: float, speech_end_ms: float) -> Verdict:
        """An utterance from ``start_ms`` to ``speech_end_ms`` ended: is it a question?"""
        if self.state is WakeState.WAITING:
            return Verdict(False, reason="no wake word")
        if self.state is WakeState.FOLLOW_UP:
            if start_ms <= self._deadline_ms:
                self._question_ms = start_ms
                return Verdict(True, start_ms)
            self.state = WakeState.WAITING
            return Verdict(False, reason="no wake word")
        cut = max(start_ms, self._wake_ms)
        if speech_end_ms - cut < self.MIN_QUESTION_MS:
            return Verdict(False, reason="wake word only")  # the question comes next
        if start_ms > self._deadline_ms:
            self.state = WakeState.WAITING
            return Verdict(False, reason="no wake word")
        self._question_ms = start_ms
        return Verdict(True, cut)

    def answered(self, time_ms: float, outcome: Outcome) -> bool:
        """The question was answered (or not understood, or was noise) at ``time_ms``, when
        the assistant listens again. True: play the "not understood" tone. Noise is no
        question: the state stays and its deadline moves on by the time it took."""
        if outcome is Outcome.NOISE:
            if self.state is not WakeState.WAITING:
                self._deadline_ms += max(0.0, time_ms - self._question_ms)
            return False
        if outcome is Outcome.STOPPED:  # "stop": they have heard enough, no follow-up
            self.state = WakeState.WAITING
            return False
        if outcome is Outcome.WOKEN:  # the wake word over the answer: as if just woken
            self.wake(time_ms)
            return False
        understood = outcome is Outcome.ANSWERED
        if understood and self.follow_up_ms > 0:
            self.state, self._deadline_ms = WakeState.FOLLOW_UP, time_ms + self.follow_up_ms
        else:
            self.state = WakeState.WAITING
        return not understood

    def tick(self, time_ms: float, hearing: bool) -> bool:
        """Stream time advanced; ``hearing``: an utterance is in progress. True when the
        wake word timed out with no question ("not understood" tone)."""
        if hearing or time_ms <= self._deadline_ms:
            return False
        if self.state is WakeState.AWAKE:
            self.state = WakeState.WAITING
            return True
        if self.state is WakeState.FOLLOW_UP:
            self.state = WakeState.WAITING
        return False
