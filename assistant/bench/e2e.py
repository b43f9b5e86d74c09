"""End of speech -> first answer sample, through the real daemon: a recording replayed at
real-time pace, real VAD, recognizer, matcher and TTS, a null sink that notes when each answer's
first sample is handed over."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.files import write_wav
from ..audio.sources import FileSource
from ..audio.types import Audio
from ..config import VadConfig
from ..daemon import Daemon
from ..pipeline import Exchange, Pipeline
from ..vad import PRESETS, build_detector
from ..vad.early_end import EarlyEnd, EarlyEndRule


class TimingSink:
    """Discards audio; remembers when the latest answer started."""

    def __init__(self) -> None:
        self.started_at: float | None = None

    def play(self, audio: Audio) -> None:
        self.started_at = time.perf_counter()
        time.sleep(min(audio.duration_s, 0.2))  # a bit of playing, like a loudspeaker

    def play_stream(self, parts: Iterable[Audio], interrupt: object = None) -> None:
        for i, audio in enumerate(parts):
            if i == 0:
                self.play(audio)


def spoken_questions(questions: list[str], gap_s: float = 2.5) -> Audio:
    """The questions spoken by espeak-ng, separated by silence with light noise."""
    from ..spoken_set import speak

    rng = np.random.default_rng(0)
    parts = []
    for q in questions:
        parts += [speak(q, "en-us", 160).samples,
                  (rng.standard_normal(int(16000 * gap_s)) * 30).astype(np.int16)]
    lead = (rng.standard_normal(8000) * 30).astype(np.int16)
    return Audio(np.concatenate([lead, *parts]))


def e2e_ms(recording: Path, recognizer: Any, answerer: Any, speech: Any, preset: str,
           speculative: bool, early_end: bool = False,
           early_after_s: float = 0.4) -> dict[str, Any]:
    settings = PRESETS[preset]
    sink = TimingSink()
    source = FileSource(recording, realtime=True)
    latencies: list[float] = []

    def on_exchange(ex: Exchange) -> None:
        if sink.started_at is None or ex.speech_end_ms is None or source.started_at is None:
            return
        spoken_end = source.started_at + ex.speech_end_ms / 1000
        latencies.append(1000 * (sink.started_at - spoken_end))
        sink.started_at = None

    daemon = Daemon(source, build_detector(VadConfig()), settings,
                    Pipeline(recognizer, answerer, speech, sink),
                    on_exchange=on_exchange, speculative=speculative,
                    early_end=EarlyEnd(EarlyEndRule(after_s=early_after_s)) if early_end
                    else None)
    daemon.run(threading.Event())
    return {"median": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
            "hangover_ms": round(1000 * settings.hangover_s), "n": len(latencies),
            "speculative": speculative,
            "early_end_after_s": early_after_s if early_end else None}


def startup(config: str | None, asr: str | None, qa: str | None,
            asr_model: str | None = None) -> tuple[float, float]:
    """(seconds, resident MB) from spawning a fresh interpreter until all models are loaded
    and warmed: what READY waits for, minus opening the microphone."""
    args = ["--config", config] if config else []
    args += ["--asr", asr] if asr else []
    args += ["--qa", qa] if qa else []
    code = (
        "import time\n"
        "import argparse, sys\n"
        "from assistant.commands.common import config_from_args, build_answerer, "
        "build_recognizer\n"
        "from assistant.tts import SpeechThread\n"
        "p = argparse.ArgumentParser(); p.add_argument('--config'); p.add_argument('--asr');"
        " p.add_argument('--qa')\n"
        f"cfg = config_from_args(p.parse_args({args!r}))\n"
        "from assistant.config import with_overrides\n"
        f"cfg = with_overrides(cfg, asr={{'model': {asr_model!r}}}) if {asr_model!r} else cfg\n"
        "a = build_answerer(cfg); r = build_recognizer(cfg, a.kb.questions)\n"
        "s = SpeechThread(cfg.tts, cfg.cache_path); s.synthesize('ready')\n"
        "dt = time.time() - float(sys.argv[1])\n"
        "from assistant.bench.stages import rss_mb\n"
        "print(dt, rss_mb())\n")
    out = subprocess.run([sys.executable, "-c", code, repr(time.time())], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr else "failed")
    seconds, rss = out.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(rss)


def all_presets(recognizer: Any, answerer: Any, speech: Any, questions: list[str],
                compare_speculation: bool = True, early_after_s: float = 0.4) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_wav(Path(tmp) / "questions.wav", spoken_questions(questions))
        out: dict[str, Any] = {}
        for preset in PRESETS:
            out[preset] = e2e_ms(path, recognizer, answerer, speech, preset, True)
        out["default_early_end"] = e2e_ms(path, recognizer, answerer, speech, "default", True,
                                          early_end=True, early_after_s=early_after_s)
        if compare_speculation:
            out["default_without_speculation"] = e2e_ms(path, recognizer, answerer, speech,
                                                        "default", False)
    return out


__all__ = ["all_presets", "e2e_ms", "spoken_questions", "startup"]
