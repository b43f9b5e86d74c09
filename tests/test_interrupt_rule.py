"""When a spotted stop phrase stops an answer: the pure rule, the second opinion's word match,
and the phrase check (real pocketsphinx dictionary)."""

from __future__ import annotations

import pytest

from assistant.errors import InterruptError
from assistant.interrupt.barge import said_phrase
from assistant.interrupt.rule import StopRule
from assistant.interrupt.spotter import check_phrases, phrase_threshold


def test_a_loud_stop_over_a_learned_room_counts() -> None:
    verdict = StopRule().judge(4000, phrase_db=-30, floor_db=-80, removed_db=30, echo_db=-20,
                               learned_ms=5000)
    assert verdict.stop


@pytest.mark.parametrize("why, kwargs", [
    ("still learning", dict(learned_ms=1000)),
    ("too early", dict(floor_db=None)),
    ("removed only", dict(removed_db=8)),
    ("above the residual", dict(floor_db=-35)),
    ("below the answer", dict(phrase_db=-60, floor_db=-90)),
])
def test_residual_echo_and_a_fresh_canceller_never_stop_an_answer(why: str, kwargs: dict) -> None:
    args = dict(phrase_db=-30, floor_db=-80, removed_db=30, echo_db=-20, learned_ms=5000)
    verdict = StopRule().judge(4000, **{**args, **kwargs})
    assert not verdict.stop and why in verdict.reason


def test_the_second_opinion_needs_the_phrase_as_words() -> None:
    phrases = ["stop", "never mind"]
    assert said_phrase(" Stop. Stop.", phrases)
    assert said_phrase("oh never mind that", phrases)
    assert said_phrase("cancelled", ["cancel"])
    assert not said_phrase(" top. top.", phrases)
    assert not said_phrase("the bus stopped never", ["never mind"])


def test_phrases_are_checked_and_longer_ones_get_a_smaller_threshold() -> None:
    assert check_phrases(("Stop!", "never mind")) == ["stop", "never mind"]
    assert phrase_threshold("never mind", 1e-25) < phrase_threshold("stop", 1e-25)
    with pytest.raises(InterruptError, match="cannot pronounce 'zxqv'"):
        check_phrases(("zxqv",))
    with pytest.raises(InterruptError, match="empty"):
        check_phrases(())
