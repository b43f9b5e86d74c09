"""End of turn from the voice: a trained model says whether the speaker has finished.

Silence alone cannot tell "what time is it" from "what time is it ... in tokyo" (see
docs/latency.md). smart-turn v3.2 (Pipecat's end-of-turn model, BSD-2-Clause, 8.7 MB ONNX,
trained on many speakers and languages) hears intonation, pace and filler words: fed the last
8 s of the utterance as Whisper log-mel features, it returns the probability that the turn is
complete. It ships inside the ``pipecat-ai`` wheel; only the file is used, found through the
installed distribution's file list without importing pipecat (which would import its many
dependencies): ``pip install --no-deps pipecat-ai==1.14.0``.

The daemon scores the utterance once per pause, when the trailing silence reaches
``pause_s``; the model runs on its own thread (about 110 ms of CPU a call, features
included, on the loaded 2-core development machine), never while nobody speaks.
``decide`` is the pure part: fed the probability, the silence so far and the rule, it says
whether the turn ends now; otherwise the hangover runs as before. Measured, and why it is off
by default: docs/latency.md.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib.metadata
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..audio.mel import log_mel
from ..audio.types import Audio
from ..config import VadConfig
from ..errors import VadError

log = logging.getLogger("assistant.vad")

PACKAGE = "pipecat-ai"
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
RATE_HZ = 16000
WINDOW_S = 8  # the model hears the last 8 s, zero-padded at the front


def model_path() -> Path:
    """The ONNX file inside the installed pipecat-ai wheel, found without importing it."""
    try:
        files = importlib.metadata.files(PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise VadError(f"vad.turn_model needs {MODEL_FILE} from the {PACKAGE} wheel: pip install "
                       f"--no-deps {PACKAGE}==1.14.0 (only the model file is used), or set "
                       "vad.turn_model: false", code="missing-package") from None
    for f in files:
        if f.name == MODEL_FILE:
            path = Path(str(f.locate()))
            if path.is_file():
                return path
            raise VadError(f"{path} ({PACKAGE}) is missing; reinstall it: pip install "
                           f"--force-reinstall --no-deps {PACKAGE}==1.14.0", code="missing-model")
    raise VadError(f"the installed {PACKAGE} wheel has no {MODEL_FILE}; install version 1.14.0: "
                   f"pip install --no-deps {PACKAGE}==1.14.0", code="missing-model")


def features(audio: Audio) -> np.ndarray:
    """The model's input: float32 [1, 80, 800], Whisper log-mel of the last 8 s (zero-padded
    at the front), the waveform normalised to zero mean and unit variance first."""
    if audio.rate_hz != RATE_HZ:
        raise VadError(f"the end-of-turn model needs {RATE_HZ} Hz audio, got {audio.rate_hz} Hz",
                       code="frame")
    n = WINDOW_S * RATE_HZ
    x = np.zeros(n, np.float32)
    tail = audio.samples[-n:].astype(np.float32) / np.float32(32768.0)
    if len(tail):
        x[n - len(tail):] = tail
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    return log_mel(x)[None]


class TurnModel(Protocol):
    def probability(self, audio: Audio) -> float: ...


class SmartTurn:
    """smart-turn v3.2 through ONNX Runtime (one thread: it runs beside recognition)."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        path = path or model_path()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        try:
            self._session = ort.InferenceSession(str(path), opts,
                                                 providers=["CPUExecutionProvider"])
            self.probability(Audio(np.zeros(RATE_HZ, np.int16)))  # the first run is slow
        except Exception as exc:
            raise VadError(f"cannot load the end-of-turn model {path} ({PACKAGE}): {exc}",
                           code="model") from exc

    def probability(self, audio: Audio) -> float:
        out = self._session.run(None, {"input_features": features(audio)})
        return float(np.asarray(out[0]).reshape(-1)[0])


@dataclass(frozen=True)
class TurnEndRule:
    threshold: float = 0.5  # probability of a complete turn from which the turn ends now
    pause_s: float = 0.2  # trailing silence at which the utterance is scored


@dataclass(frozen=True)
class Decision:
    end: bool
    reason: str


def decide(probability: float | None, silence_s: float, rule: TurnEndRule) -> Decision:
    """Whether the turn ends now: scored (at ``pause_s``), still silent, and sure enough."""
    if probability is None:
        return Decision(False, "not scored yet")
    if silence_s < rule.pause_s - 1e-9:
        return Decision(False, "the speaker went on")
    if probability >= rule.threshold:
        return Decision(True, f"turn complete, p={probability:.2f}")
    return Decision(False, f"turn incomplete, p={probability:.2f} < {rule.threshold:.2f}")


class TurnEnd:
    """The model bound to the daemon: one score per pause on a thread of its own.

    ``pause(audio)`` starts scoring the utterance so far; ``verdict(silence_s)`` is the
    decision once the score is there (None before); ``drop()`` forgets it (speech resumed).
    A model that fails at run time is logged once, and the plain hangover ends turns."""

    def __init__(self, model: TurnModel, rule: TurnEndRule = TurnEndRule()) -> None:
        self.model = model
        self.rule = rule
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="turn-end")
        self._job: cf.Future[float] | None = None
        self._verdict: Decision | None = None
        self.failed = False
        self.scored = 0  # how many times the model ran (CPU per utterance in benchmarks)
        self.last_ms = 0.0  # how long the last score took (wall clock)

    def pause(self, audio: Audio) -> None:
        if self.failed or self._job is not None:
            return
        self._verdict = None
        self._job = self._pool.submit(self._score, audio)

    def _score(self, audio: Audio) -> float:
        self.scored += 1
        t0 = time.perf_counter()
        p = self.model.probability(audio)
        self.last_ms = 1000.0 * (time.perf_counter() - t0)
        return p

    def check(self, silence_s: float, audio: Callable[[], Audio]) -> bool:
        """Called every frame of trailing silence: scores ``audio()`` once the silence
        reaches ``pause_s``; True once the score says the turn is over."""
        if self._job is None and silence_s >= self.rule.pause_s - 1e-9:
            self.pause(audio())
        verdict = self.verdict(silence_s)
        return verdict is not None and verdict.end

    def verdict(self, silence_s: float) -> Decision | None:
        job = self._job
        if job is None or not job.done():
            return None
        if self._verdict is None:
            try:
                p: float | None = job.result()
            except Exception as exc:
                self.failed = True
                log.error("end-of-turn model failed (%s); turns end after the hangover from "
                          "now on", exc)
                p = None
            self._verdict = decide(p, silence_s, self.rule)
            (log.info if self._verdict.end else log.debug)(
                "turn model: %s (%.0f ms)", self._verdict.reason, self.last_ms)
        return self._verdict

    def drop(self) -> None:
        job, self._job, self._verdict = self._job, None, None
        if job is not None:
            job.cancel()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def load(cfg: VadConfig) -> TurnEnd | None:
    """The configured detector, or None (logged once) when the model cannot be loaded: the
    daemon then ends turns after the hangover, as without it."""
    try:
        return TurnEnd(SmartTurn(), TurnEndRule(cfg.turn_model_threshold, cfg.turn_model_pause_s))
    except VadError as exc:
        log.error("%s; turns end after the hangover", exc)
        return None
