"""The mouth-to-ear analysis: alignment and answer onsets on a made-up recording with known
delays (the room run itself is measured by `assistant bench`, not asserted here)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.bench import mouth_to_ear
from assistant.bench.room import RoomError


def test_delays_are_found_from_a_known_scene() -> None:
    audio, ends = mouth_to_ear.scene(["what time is it", "who are you"], gap_s=2.0)
    played = audio.samples
    rng = np.random.default_rng(1)
    lead, delays_ms = 4321, (350.0, 612.0)
    recording = np.zeros(lead + len(played) + 16000, np.int16)
    recording[lead: lead + len(played)] = played
    for end, delay in zip(ends, delays_ms, strict=True):
        at = lead + int(16 * (end + delay))
        recording[at: at + 4000] = (rng.standard_normal(4000) * 4000).astype(np.int16)
    offset = mouth_to_ear.align_ms(recording, played)
    assert abs(offset - 1000 * lead / 16000) < 1.0
    found = mouth_to_ear.answer_onsets_ms(recording, offset, ends, window_ms=1500)
    assert all(f is not None and abs(f - d) < 2.0 for f, d in zip(found, delays_ms,
                                                                   strict=True)), found


def test_a_silent_room_gives_no_answer() -> None:
    audio, ends = mouth_to_ear.scene(["goodbye"], gap_s=1.0)
    assert mouth_to_ear.answer_onsets_ms(audio.samples, 0.0, ends, 800) == [None]


def test_no_pulseaudio_is_a_reason_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RoomError("needs PulseAudio (pulseaudio not found)")

    monkeypatch.setattr(mouth_to_ear.Room, "start", classmethod(refuse))
    out = mouth_to_ear.measure(mouth_to_ear.Path("qa.yaml"), mouth_to_ear.Path("/tmp"),
                               ["who are you"], ["default"])
    assert out == {"skipped": "needs PulseAudio (pulseaudio not found)"}
