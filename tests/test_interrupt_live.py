"""Interrupting an answer, live: the assistant (`assistant run`, interruption on, speex) in the
simulated room of assistant/bench/barge.py (its own private PulseAudio server; the loudspeaker
reaches the microphone through a room's impulse response). Its own voice must never stop an
answer; "stop" said over one must. Figures over many trials: benchmarks/barge_in.py and
docs/interrupt.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.bench.barge import Trial, run_barge_scene
from assistant.bench.room import RoomError, missing_tools
from assistant.interrupt.speex import _load_library

pytestmark = pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))


def test_stop_over_an_answer_ends_it_and_its_own_voice_never_does(tmp_path: Path) -> None:
    try:
        _load_library()
    except Exception:
        pytest.skip("libspeexdsp is not installed (apt install libspeexdsp1)")
    # the first answer plays out (the canceller learns the room meanwhile); then "stop" at the
    # answer's level, said twice as a person would if the first was missed (9 of 10 are not)
    plan = [Trial("none"), Trial("stop", "stop", 0.0, 4.0), Trial("stop", "stop", 0.0, 4.0)]
    try:
        trials = run_barge_scene(tmp_path, plan, config_extra="  canceller: speex\n")
    except RoomError as exc:
        pytest.skip(str(exc))
    log = (tmp_path / "assistant.log").read_text(errors="replace")
    assert all(t.answered for t in trials), log[-3000:]
    assert trials[0].interrupted is None, log[-3000:]  # its own voice, a whole answer long
    assert any(t.interrupted == "stop" for t in trials[1:]), log[-3000:]
