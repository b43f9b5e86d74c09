"""The benchmark harness measures what it says (no timing asserts: only that every question
was answered and timed, and the figures are there)."""

from __future__ import annotations

from pathlib import Path

from assistant.answerer import Answerer
from assistant.audio.files import write_wav
from assistant.bench import e2e, stages
from assistant.config import TtsConfig
from assistant.kb.knowledge import load_kb
from assistant.tts import SpeechThread
from tests.conftest import REPO, FixedRecognizer


def test_e2e_times_every_question(tmp_path: Path, minilm: object) -> None:
    answerer = Answerer(load_kb(REPO / "qa.yaml"), minilm, 0.5)
    speech = SpeechThread(TtsConfig(backend="espeak"))
    path = write_wav(tmp_path / "q.wav", e2e.spoken_questions(["what time is it", "who are you"],
                                                              gap_s=2.0))
    hears = FixedRecognizer("what time is it")
    result = e2e.e2e_ms(path, hears, answerer, speech, "fast", speculative=True)
    speech.close()
    assert result["n"] == 2
    assert result["hangover_ms"] == 300
    assert result["median"] is not None and result["p95"] >= result["median"]


def test_stage_figures() -> None:
    sizes = stages.match_ms(sizes=(10, 1000), repeat=3)
    assert set(sizes) == {"10", "1000"} and all(v > 0 for v in sizes.values())
    assert stages.vad_us_per_frame(frames=50) > 0
    assert stages.rss_mb() > 10


def test_idle_loop_never_calls_the_recognizer() -> None:
    # the stub recognizer raises if called: silence must stay in the VAD loop
    assert stages.idle_cpu_percent(seconds=1.0) >= 0


def test_bench_times_a_cached_and_a_live_answer_per_voice() -> None:
    figures = stages.voice_first_sample_ms(backends=("espeak",), repeat=1)
    assert set(figures["espeak"]) == {"cached", "live"}
    assert all(v > 0 for v in figures["espeak"].values())
