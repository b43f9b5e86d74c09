"""Earcons: distinct short tones, played off the listening thread, failures survived."""

from __future__ import annotations

import threading

import numpy as np

from assistant.wake.earcon import player, tone


def test_tones_are_short_and_distinct() -> None:
    wake, sorry = tone("wake"), tone("not understood")
    assert 0.1 < wake.duration_s < 0.3 and 0.1 < sorry.duration_s < 0.3
    assert not np.array_equal(wake.samples, sorry.samples)
    assert np.abs(wake.samples[:10]).max() < 2000  # soft start: no click


def test_player_plays_on_another_thread_and_survives_a_failure() -> None:
    played: list[str] = []
    done = threading.Event()

    def play(audio: object) -> None:
        played.append(threading.current_thread().name)
        done.set()
        raise OSError("device gone")

    player(play)("wake")
    assert done.wait(5)
    assert played == ["earcon"]
