"""The voice-activity gate in front of the wake word detector: pure, no audio."""

from assistant.wake.gate import VoiceGate


def run(gate: VoiceGate[int], speech: str) -> list[list[int]]:
    """Frame i is the integer i; ``speech`` has one character per frame ('x' = speech)."""
    return [gate.push(i, c == "x") for i, c in enumerate(speech)]


def test_silence_feeds_nothing() -> None:
    out = run(VoiceGate(30, pre_roll_s=0.09, hangover_s=0.06), "." * 100)
    assert all(fed == [] for fed in out)


def test_speech_start_hands_out_the_pre_roll_first() -> None:
    gate: VoiceGate[int] = VoiceGate(30, pre_roll_s=0.09, hangover_s=0.06)  # 3 and 2 frames
    out = run(gate, "......xx")
    assert out[6] == [3, 4, 5, 6]  # the 3 frames before speech, then the first speech frame
    assert out[7] == [7]


def test_hangover_then_closed_and_every_frame_fed_once() -> None:
    gate: VoiceGate[int] = VoiceGate(30, pre_roll_s=0.09, hangover_s=0.06)
    out = run(gate, "..xx...." + "....x.")
    assert out[4] == [4] and out[5] == [5]  # 2 frames of hangover
    assert out[6] == [] and out[7] == []
    assert out[12] == [9, 10, 11, 12]  # reopened: the pre-roll again, frames 6-8 too old
    fed = [f for frames in out for f in frames]
    assert fed == sorted(set(fed))  # in order, never twice: a detector sees a clean stream


def test_short_pause_is_bridged_without_a_gap() -> None:
    """A pause shorter than hangover + pre-roll reaches the detector whole: no restart."""
    gate: VoiceGate[int] = VoiceGate(30, pre_roll_s=0.09, hangover_s=0.06)
    fed = [f for frames in run(gate, "xx" + "....." + "xx") for f in frames]
    assert fed == list(range(9))


def test_disabled_gate_feeds_every_frame() -> None:
    gate: VoiceGate[int] = VoiceGate(30, enabled=False)
    assert [f for frames in run(gate, "..x..") for f in frames] == [0, 1, 2, 3, 4]
