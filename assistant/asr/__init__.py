"""Speech recognition: one small Protocol, backends chosen by name and imported lazily so a
missing optional package (torch on a Raspberry Pi) breaks nothing until it is asked for."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..audio.types import Audio
from ..config import AsrConfig
from ..errors import AsrError

log = logging.getLogger(__name__)

BACKENDS = ("cascade", "whisper", "wav2vec2", "pocketsphinx")


@dataclass(frozen=True)
class Transcript:
    """What a recognizer heard: lower-case words, no punctuation."""

    text: str
    backend: str = ""
    confidence: float | None = None  # backend-specific, 0..1 when known
    extra: dict[str, object] = field(default_factory=dict, compare=False)


class Recognizer(Protocol):
    name: str

    def transcribe(self, audio: Audio) -> Transcript:
        """Transcribe one utterance (16 kHz mono). Raises AsrError."""
        ...

    def adapt(self, phrases: Sequence[str]) -> None:
        """Bias toward the knowledge base's questions (called at load and on reload)."""
        ...


def wav2vec2_available(cfg: AsrConfig, cache_dir: Path | None = None) -> tuple[bool, str]:
    """Whether the wav2vec2 backend can load without a network: packages and weights, or
    (without torch) its ONNX model already in ``cache_dir`` (`assistant download`)."""
    for pkg in ("torch", "transformers"):
        if importlib.util.find_spec(pkg) is None:
            if onnx_ready(cfg, cache_dir):
                return True, ""
            return False, f"the Python package '{pkg}' is not installed"
    from .wav2vec2 import weights_on_disk

    if not weights_on_disk(cfg.model):
        return False, f"the model '{cfg.model}' is not downloaded"
    return True, ""


def onnx_ready(cfg: AsrConfig, cache_dir: Path | None) -> bool:
    """The ONNX runtime is configured and installed and the model's ONNX file is cached."""
    if cache_dir is None or cfg.runtime != "onnx" or cfg.device != "cpu" or \
            importlib.util.find_spec("onnxruntime") is None:
        return False
    from ..model_files import local_folder
    from .wav2vec2 import WEIGHTS
    from .wav2vec2_onnx import onnx_path

    folder = local_folder(cfg.model, (WEIGHTS,))
    return folder is not None and onnx_path(folder, cache_dir, cfg.quantize).is_file()


def whisper_available(cfg: AsrConfig) -> tuple[bool, str]:
    """Whether the Whisper backend can load: faster-whisper and the model's files (not yet
    hashed: that happens on loading)."""
    if importlib.util.find_spec("faster_whisper") is None:
        return False, "the Python package 'faster-whisper' is not installed"
    from .whisper_model import PACKAGED, installed

    model = cfg.whisper_model
    if model in PACKAGED:
        if model not in installed():
            return False, (f"the model package(s) {' '.join(PACKAGED[model].packages)} "
                           "are not installed")
        return True, ""
    if Path(model).expanduser().is_dir() or model.startswith(("/", ".", "~")):
        return Path(model).expanduser().is_dir(), f"the folder {model} does not exist"
    from ..model_files import local_folder

    if "/" in model and local_folder(model, ("model.bin",)) is None:
        return False, f"the Whisper model {model} is not downloaded"
    return True, ""  # an unknown name: loading says which ones are installed


def resolve_backend(cfg: AsrConfig, cache_dir: Path | None = None, say: bool = True) -> str:
    """``asr.backend`` with auto resolved; ``cache_dir`` lets auto see a downloaded ONNX model
    on a machine without torch. ``say``: log auto's choice (callers that load the recognizer
    next pass False: loading says it once)."""
    if cfg.backend != "auto":
        return cfg.backend
    ok, why_not_whisper = whisper_available(cfg)
    if ok:
        return "cascade"
    ok, why = wav2vec2_available(cfg, cache_dir)
    if ok:
        return "wav2vec2"
    if say:
        log.info("asr.backend auto: using pocketsphinx because %s and %s (install the whisper "
                 "extra, or run `assistant download` for wav2vec2)", why_not_whisper, why)
    return "pocketsphinx"


def _whisper(cfg: AsrConfig, cache_dir: Path) -> Recognizer:
    from .whisper import WhisperRecognizer  # its errors name the package or the file missing

    return WhisperRecognizer.load(cfg, cache_dir)


def _pocketsphinx(cfg: AsrConfig, cache_dir: Path) -> Recognizer:
    if importlib.util.find_spec("pocketsphinx") is None:
        raise AsrError("asr.backend pocketsphinx needs the package 'pocketsphinx'; "
                       "`pip install pocketsphinx`", code="missing-package")
    from .pocketsphinx import PocketsphinxRecognizer

    return PocketsphinxRecognizer(cache_dir=cache_dir, mode=cfg.pocketsphinx_mode)


def load_recognizer(cfg: AsrConfig, phrases: Sequence[str] = (),
                    cache_dir: Path | None = None, fall_back: bool = True) -> Recognizer:
    """Build the configured backend and adapt it to ``phrases`` (the knowledge base). With
    ``fall_back``, a Whisper model that is installed but cannot load (corrupt, changed) is
    logged and pocketsphinx is used instead, so the daemon keeps running."""
    from ..config import Config

    cache_dir = cache_dir or Config().cache_path
    name = resolve_backend(cfg, cache_dir)
    recognizer: Recognizer
    if name == "wav2vec2":
        # ONNX Runtime on the CPU (torch only to build its cached model once); CUDA uses torch.
        onnx = cfg.runtime == "onnx" and cfg.device == "cpu"
        for pkg in ("onnxruntime",) if onnx else ("torch", "transformers"):
            if importlib.util.find_spec(pkg) is None:
                raise AsrError(f"asr.backend wav2vec2 needs the package '{pkg}'; install the "
                               "neural extra (see README) or set asr.backend: pocketsphinx",
                               code="missing-package")
        if onnx:
            from .wav2vec2_onnx import Wav2Vec2OnnxRecognizer

            recognizer = Wav2Vec2OnnxRecognizer.load(cfg, cache_dir)
        else:
            from .wav2vec2 import Wav2Vec2Recognizer

            recognizer = Wav2Vec2Recognizer.load(cfg)
    elif name == "pocketsphinx":
        recognizer = _pocketsphinx(cfg, cache_dir)
    elif name in ("whisper", "cascade"):
        try:
            whisper = _whisper(cfg, cache_dir)
        except AsrError as exc:
            if not fall_back or exc.code != "model-invalid":
                raise
            # a corrupt or changed model: keep listening with the grammar alone
            log.error("Whisper cannot be used (%s); recognizing with pocketsphinx alone", exc)
            recognizer = _pocketsphinx(cfg, cache_dir)
        else:
            if name == "whisper":
                recognizer = whisper
            else:
                from .cascade import CascadeRecognizer, CascadeRule

                recognizer = CascadeRecognizer(_pocketsphinx(cfg, cache_dir), whisper,
                                               CascadeRule(cfg.cascade_verify_below))
    else:
        raise AsrError(f"unknown asr.backend {name!r}; choose one of auto, "
                       f"{', '.join(BACKENDS)}", code="unknown-backend")
    recognizer.adapt(phrases)
    return recognizer
