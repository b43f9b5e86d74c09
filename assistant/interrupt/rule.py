"""When a spotted stop phrase counts: pure, fed levels and stream times, testable without audio.

The spotter runs on what the echo canceller leaves of the microphone. What it leaves of the
assistant's own voice (the residual echo) is quiet but not silent, and keyphrase spotting on a
quiet residual can still "hear" a stop phrase in it. A person saying "stop" over the answer is
much louder than that residual, so a detection counts only when

- the canceller has heard ``learn_ms`` of the assistant's voice since it started (it is kept
  across answers; a fresh one leaves a residual loud enough to be "heard" as a stop phrase,
  so the first seconds of the first answer cannot be interrupted),
- the canceller has learned the room: over the ``floor_window_ms`` before the phrase it
  removed at least ``min_removed_db`` of the echo (microphone level minus its output level;
  a fresh canceller needs about a second of the assistant's voice, and until then the
  residual is loud enough to be "heard" as a stop phrase), and
- the phrase is ``min_rise_db`` louder than the residual floor before it (the quiet end of the
  levels over the ``floor_window_ms`` before the phrase began), and
- the phrase is no more than ``max_below_echo_db`` quieter than the assistant's own voice at
  the microphone (its echo before the cancelling). A person who says "stop" over an answer
  is heard at about the answer's level (-6 dB, -12 dB); a spot in the residual echo is
  30-50 dB below it, and keyphrase spotting on such near-silence still fires now and then.

A phrase that began before there are ``floor_window_ms / 10`` of levels to judge it by (the
answer's first few hundred milliseconds) does not count: too early to tell it from the echo.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    stop: bool
    reason: str


@dataclass(frozen=True)
class StopRule:
    learn_ms: float = 3000.0
    min_rise_db: float = 10.0
    min_removed_db: float = 15.0
    max_below_echo_db: float = 25.0
    floor_window_ms: float = 2000.0
    floor_percentile: float = 20.0

    def judge(self, played_ms: float, phrase_db: float, floor_db: float | None,
              removed_db: float | None = None, echo_db: float | None = None,
              learned_ms: float = float("inf")) -> Verdict:
        """``played_ms``: how long the answer had played when the phrase ended;
        ``phrase_db``: the phrase's level; ``floor_db``: the residual floor before it;
        ``removed_db``: the echo the canceller removed before it, ``echo_db``: the echo's
        level at the microphone before it (None: no echo to judge by); ``learned_ms``: how
        much of the assistant's voice the canceller has heard in all."""
        if learned_ms < self.learn_ms:
            return Verdict(False, f"the canceller has heard {learned_ms:.0f} ms of the "
                                  f"assistant's voice, still learning the room (needs "
                                  f"{self.learn_ms:.0f})")
        if floor_db is None:
            return Verdict(False, f"{played_ms:.0f} ms into the answer: too early to judge")
        if removed_db is not None and removed_db < self.min_removed_db:
            return Verdict(False, f"the canceller removed only {removed_db:.1f} dB of the echo "
                                  f"before it (needs {self.min_removed_db:.0f}: still learning "
                                  "the room)")
        if phrase_db - floor_db < self.min_rise_db:
            return Verdict(False, f"{phrase_db - floor_db:.1f} dB above the residual echo "
                                  f"(needs {self.min_rise_db:.0f})")
        if echo_db is not None and echo_db - phrase_db > self.max_below_echo_db:
            return Verdict(False, f"{echo_db - phrase_db:.1f} dB below the answer's own voice "
                                  f"(at most {self.max_below_echo_db:.0f}): residual echo")
        return Verdict(True, f"{played_ms:.0f} ms into the answer, {phrase_db - floor_db:.1f} dB "
                             "above the residual echo")
