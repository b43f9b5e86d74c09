"""Speech out: one small Protocol, backends chosen by name and imported lazily, and a thread
that owns the synthesizer (the pyttsx3 engine is not thread-safe)."""

from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import queue
import shutil
import threading
from typing import TYPE_CHECKING, Protocol

from ..audio.types import Audio
from ..config import TtsConfig
from ..errors import TtsError

if TYPE_CHECKING:
    from ..config import Config

BACKENDS = ("pyttsx3", "espeak")


class Synthesizer(Protocol):
    name: str

    def synthesize(self, text: str) -> Audio:
        """Speak ``text`` into audio at the engine's own rate. Raises TtsError."""
        ...


def load_synthesizer(cfg: TtsConfig) -> Synthesizer:
    if cfg.backend == "pyttsx3":
        if importlib.util.find_spec("pyttsx3") is None:
            raise TtsError("tts.backend pyttsx3 needs the package 'pyttsx3'; `pip install "
                           "pyttsx3` or set tts.backend: espeak", code="missing-package")
        from .pyttsx3_backend import Pyttsx3Synthesizer

        return Pyttsx3Synthesizer(cfg)
    if cfg.backend == "espeak":
        if shutil.which("espeak-ng") is None:
            raise TtsError("tts.backend espeak needs the espeak-ng program; `sudo apt install "
                           "espeak-ng`", code="missing-program")
        from .espeak_backend import EspeakSynthesizer

        return EspeakSynthesizer(cfg)
    raise TtsError(f"unknown tts.backend {cfg.backend!r}; choose one of {', '.join(BACKENDS)}",
                   code="unknown-backend")


class SpeechThread:
    """Runs every synthesis on one thread of its own. ``synthesize`` may be called from any
    thread; the engine is created on first use inside the worker."""

    def __init__(self, cfg: TtsConfig) -> None:
        self.cfg = cfg
        self._jobs: queue.Queue[tuple[str, cf.Future[Audio]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="tts", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        engine: Synthesizer | None = None
        while (job := self._jobs.get()) is not None:
            text, fut = job
            try:
                engine = engine or load_synthesizer(self.cfg)
                fut.set_result(engine.synthesize(text))
            except TtsError as exc:
                fut.set_exception(exc)
            except Exception as exc:  # any engine failure is a TTS error, never a crash
                fut.set_exception(TtsError(f"speech synthesis failed ({exc})", code="engine"))

    def synthesize(self, text: str, timeout_s: float = 30.0) -> Audio:
        fut: cf.Future[Audio] = cf.Future()
        self._jobs.put((text, fut))
        try:
            return fut.result(timeout=timeout_s)
        except cf.TimeoutError:
            raise TtsError(f"speech synthesis took over {timeout_s:.0f} s; check the TTS "
                           "engine (`assistant say hello`)", code="timeout") from None

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=2)


def speak_once(cfg: Config, text: str) -> None:
    """Synthesize and play on the configured loudspeaker (used by `ask --speak`, `say`)."""
    from ..audio.sinks import SpeakerSink

    SpeakerSink(cfg.audio.output_device).play(load_synthesizer(cfg.tts).synthesize(text))
