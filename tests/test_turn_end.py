"""The end-of-turn model (assistant/vad/turn_end.py): the pure decision, the once-per-pause
scoring the daemon relies on, a model that is missing or fails, and the real smart-turn model
on real speech where the pipecat-ai wheel is installed."""

from __future__ import annotations

import importlib.metadata
import logging
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.types import Audio
from assistant.errors import VadError
from assistant.vad import turn_end
from assistant.vad.turn_end import TurnEnd, TurnEndRule, decide, features

RULE = TurnEndRule(threshold=0.6, pause_s=0.2)


def test_the_turn_ends_only_when_scored_still_silent_and_sure() -> None:
    assert not decide(None, 0.3, RULE).end
    assert not decide(0.99, 0.1, RULE).end  # the speaker went on before the pause
    assert decide(0.6, 0.2, RULE).end
    no = decide(0.59, 0.5, RULE)
    assert not no.end and "0.59" in no.reason


class Fake:
    def __init__(self, p: float | Exception) -> None:
        self.p, self.calls = p, 0

    def probability(self, audio: Audio) -> float:
        self.calls += 1
        if isinstance(self.p, Exception):
            raise self.p
        return self.p


def settle(te: TurnEnd, silence_s: float) -> bool:
    """check() until the score is in (it runs on the detector's own thread)."""
    audio = Audio(np.zeros(16000, np.int16))
    for _ in range(200):
        end = te.check(silence_s, lambda: audio)
        if te.verdict(silence_s) is not None:
            return end
        time.sleep(0.01)
    raise AssertionError("never scored")


def test_scored_once_per_pause_and_again_after_speech_resumes() -> None:
    model = Fake(0.9)
    te = TurnEnd(model, RULE)
    assert not te.check(0.1, lambda: Audio(np.zeros(160, np.int16)))  # too soon: not scored
    assert model.calls == 0
    assert settle(te, 0.2) and settle(te, 0.3)
    assert model.calls == 1
    te.drop()  # speech resumed
    assert settle(te, 0.2) and model.calls == 2
    te.close()


def test_an_unsure_model_leaves_the_turn_to_the_hangover() -> None:
    te = TurnEnd(Fake(0.3), RULE)
    assert not settle(te, 0.2)
    te.close()


def test_a_model_that_fails_is_logged_once_and_never_ends_a_turn(
        caplog: pytest.LogCaptureFixture) -> None:
    model = Fake(RuntimeError("onnx said no"))
    te = TurnEnd(model, RULE)
    with caplog.at_level(logging.ERROR, "assistant.vad"):
        assert not settle(te, 0.2)
        te.drop()
        assert not te.check(0.3, lambda: Audio(np.zeros(160, np.int16)))
    assert model.calls == 1  # not tried again
    assert [r.message for r in caplog.records if "end-of-turn" in r.message] == [
        "end-of-turn model failed (onnx said no); turns end after the hangover from now on"]
    te.close()


def test_features_hear_the_last_8_s_padded_at_the_front() -> None:
    short = features(Audio((np.random.default_rng(0).standard_normal(16000) * 3000)
                           .astype(np.int16)))
    assert short.shape == (1, 80, 800) and short.dtype == np.float32
    flat = np.ptp(short[0, :, :690], axis=1).max()  # 7 s of padding: the same every frame
    assert flat < 1e-3 < np.ptp(short[0, :, 700:], axis=1).max()
    long = features(Audio(np.zeros(16000 * 12, np.int16)))
    assert long.shape == (1, 80, 800)
    with pytest.raises(VadError, match="16000 Hz"):
        features(Audio(np.zeros(8000, np.int16), 8000))


def test_a_missing_package_names_the_package_and_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", missing)
    with pytest.raises(VadError, match=r"pip install --no-deps pipecat-ai==1\.14\.0"):
        turn_end.model_path()


def test_check_names_the_missing_model_file_and_package_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    def missing(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    folder = tmp_path
    (folder / "qa.yaml").write_text('entries:\n  - answer: "Hi."\n    questions: ["Hello"]\n')
    cfg = folder / "config.yaml"
    cfg.write_text(f"qa_file: {folder / 'qa.yaml'}\nvad:\n  turn_model: true\n")
    monkeypatch.setattr(importlib.metadata, "files", missing)
    assert main(["check", "--no-models", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "smart-turn-v3.2-cpu.onnx" in lines[0] and "pipecat-ai" in lines[0]


def test_the_daemon_scores_only_the_pause_and_ends_the_turn_there(
        tmp_path: Path, minilm: object) -> None:
    """Wiring: nothing is scored while nobody speaks (idle CPU unchanged); the pause after
    the question is scored once and, the model being sure, ends the turn before the
    hangover."""
    import threading

    from assistant.answerer import Answerer
    from assistant.audio.files import write_wav
    from assistant.audio.sinks import NullSink
    from assistant.audio.sources import FileSource
    from assistant.daemon import Daemon
    from assistant.kb.knowledge import load_kb
    from assistant.pipeline import Exchange, Pipeline
    from assistant.vad import PRESETS, WebRtcVad
    from tests.conftest import REPO, espeak_audio, join_with_silence
    from tests.test_daemon import EchoRecognizer

    scene = join_with_silence([espeak_audio("where do you live")], gap_s=1.0, lead_s=1.0)
    path = write_wav(tmp_path / "q.wav", scene)
    for p, end in ((0.95, "turn-model"), (0.1, "silence")):
        model = Fake(p)
        exchanges: list[Exchange] = []
        daemon = Daemon(FileSource(path, realtime=True), WebRtcVad(2), PRESETS["default"],
                        Pipeline(EchoRecognizer(), Answerer(load_kb(REPO / "qa.yaml"), minilm,
                                                            0.5), None, NullSink()),
                        on_exchange=exchanges.append, turn_end=TurnEnd(model, RULE))
        daemon.run(threading.Event())
        assert [e.end_reason for e in exchanges] == [end]
        assert model.calls == 1


def test_at_run_time_a_missing_model_is_logged_once_and_the_hangover_is_used(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from assistant.config import VadConfig

    def missing(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", missing)
    with caplog.at_level(logging.ERROR, "assistant.vad"):
        assert turn_end.load(VadConfig(turn_model=True)) is None
    assert len(caplog.records) == 1
    assert "pipecat-ai" in caplog.records[0].message
    assert "turns end after the hangover" in caplog.records[0].message
