"""The wake/follow-up state machine, without audio."""

from assistant.wake.machine import Outcome, WakeMachine, WakeState


def machine() -> WakeMachine:
    return WakeMachine(timeout_s=6, follow_up_s=5)


def test_no_wake_word_no_question() -> None:
    m = machine()
    v = m.utterance(1000, 2500)
    assert not v.accept and v.reason == "no wake word"
    assert m.state is WakeState.WAITING


def test_question_in_the_same_breath_is_cut_after_the_wake_word() -> None:
    m = machine()
    assert m.wake(1800)  # earcon
    v = m.utterance(1000, 3500)  # "alexa, where do you live" as one utterance
    assert v.accept and v.cut_ms == 1800


def test_question_after_a_pause() -> None:
    m = machine()
    m.wake(1800)
    assert not m.utterance(1000, 1900).accept  # the wake word alone
    assert m.state is WakeState.AWAKE
    v = m.utterance(4000, 5500)
    assert v.accept and v.cut_ms == 4000


def test_follow_up_without_wake_word_then_back_to_waiting() -> None:
    m = machine()
    m.wake(1000)
    assert m.utterance(1500, 3000).accept
    assert not m.answered(4000, Outcome.ANSWERED)
    assert m.state is WakeState.FOLLOW_UP
    assert m.utterance(6000, 7000).accept  # inside the 5 s window
    m.answered(8000, Outcome.ANSWERED)
    assert not m.tick(12000, hearing=False)
    assert not m.tick(13500, hearing=False)
    assert m.state is WakeState.WAITING
    assert not m.utterance(14000, 15000).accept


def test_timeout_plays_not_understood_and_waits() -> None:
    m = machine()
    m.wake(1000)
    assert not m.tick(5000, hearing=False)
    assert not m.tick(8000, hearing=True)  # someone is still speaking: wait for the end
    assert m.tick(8000, hearing=False)
    assert m.state is WakeState.WAITING


def test_not_understood_goes_back_to_waiting() -> None:
    m = machine()
    m.wake(1000)
    assert m.utterance(1500, 3000).accept
    assert m.answered(3500, Outcome.NOT_UNDERSTOOD)  # the tone
    assert m.state is WakeState.WAITING


def test_no_follow_up_window_when_off() -> None:
    m = WakeMachine(timeout_s=6, follow_up_s=0)
    m.wake(1000)
    m.utterance(1500, 3000)
    m.answered(3500, Outcome.ANSWERED)
    assert m.state is WakeState.WAITING


def test_noise_in_the_follow_up_window_is_no_question_and_the_window_goes_on() -> None:
    m = machine()  # follow_up_s 5
    m.wake(1000)
    assert m.utterance(1500, 3000).accept
    m.answered(4000, Outcome.ANSWERED)  # the window: until 9000
    assert m.utterance(8500, 12000).accept  # 3.5 s of clatter starting just inside it
    assert not m.answered(12500, Outcome.NOISE)  # no tone
    assert m.state is WakeState.FOLLOW_UP
    assert not m.tick(12900, hearing=False)  # the 0.5 s that were left are still there
    assert m.utterance(12900, 14000).accept  # the real follow-up, no wake word
    assert m.answered(14500, Outcome.NOT_UNDERSTOOD)  # an error still gets the tone
    assert m.state is WakeState.WAITING


def test_noise_after_the_wake_word_keeps_it_awake_until_its_timeout() -> None:
    m = machine()  # timeout_s 6
    m.wake(1000)
    assert m.utterance(2000, 2600).accept  # a cough
    assert not m.answered(3000, Outcome.NOISE)
    assert m.state is WakeState.AWAKE
    assert not m.tick(7500, hearing=False)  # moved on by the cough's 1 s
    assert m.tick(8100, hearing=False)  # then the "not understood" tone
    assert m.state is WakeState.WAITING


def test_noise_with_no_follow_up_window_changes_nothing() -> None:
    m = WakeMachine(timeout_s=6, follow_up_s=0)
    m.wake(1000)
    m.utterance(1500, 3000)
    m.answered(3500, Outcome.ANSWERED)
    assert not m.utterance(4000, 5000).accept  # noise without a wake word: not taken
    assert m.state is WakeState.WAITING


def test_outcome_of_an_exchange() -> None:
    assert Outcome.of("Kathmandu", None) is Outcome.ANSWERED
    assert Outcome.of(None, "no words") is Outcome.NOISE
    assert Outcome.of(None, "not for me (confidence 0.20 < floor 0.42)") is Outcome.NOISE
    assert Outcome.of(None, None) is Outcome.NOT_UNDERSTOOD  # an error


def test_word_end_is_found_before_the_late_detection() -> None:
    """microWakeWord fires ~200 ms after the word, inside a same-breath question: the cut goes
    back to the pause before the question, not to where it fired."""
    import numpy as np

    from assistant.wake.micro import word_end_ms

    rng = np.random.default_rng(0)
    loud = lambda ms: (rng.standard_normal(ms * 16) * 3000).astype(np.int16)  # noqa: E731
    quiet = lambda ms: (rng.standard_normal(ms * 16) * 20).astype(np.int16)  # noqa: E731
    # "alexa" 0-560 ms, a 190 ms pause, the question from 750 ms; fired at 950 ms
    samples = np.concatenate([loud(560), quiet(190), loud(600)])
    end = word_end_ms(samples, start_ms=1000.0, fired_ms=1950.0)
    assert 1560 <= end <= 1760
    # audio that does not cover the window: the detection time itself
    assert word_end_ms(samples[:800], 1000.0, 1950.0) == 1950.0


def test_an_answer_stopped_by_the_wake_word_opens_a_new_question_and_stop_does_not() -> None:
    # issue 27: the wake word said over an answer stops it and the next utterance is taken
    # as a question without the wake word; "stop" ends it and the assistant waits again
    assert Outcome.of("an answer", None, "alexa", by_wake=True) is Outcome.WOKEN
    assert Outcome.of("an answer", None, "stop") is Outcome.STOPPED
    m = WakeMachine(timeout_s=5, follow_up_s=5)
    m.wake(1000)
    assert m.utterance(1200, 2500).accept
    assert not m.answered(4000, Outcome.WOKEN)  # no "not understood" tone
    assert m.state is WakeState.AWAKE
    assert m.utterance(4500, 5500).accept  # the new question, no wake word needed
    assert not m.answered(8000, Outcome.STOPPED)
    assert m.state is WakeState.WAITING
    assert not m.utterance(8500, 9500).accept  # after "stop": no follow-up window
