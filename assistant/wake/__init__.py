"""Wake word detectors behind one small Protocol, imported lazily.

A detector is fed 16 kHz mono audio in any chunk size and returns the detections it found,
each with the stream time (``time_ms``, from the chunks' own timestamps) and its score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..audio.types import Audio
    from ..config import WakeConfig

BUNDLED_WORDS = ("alexa", "okay_nabu", "hey_jarvis", "hey_mycroft")


@dataclass(frozen=True)
class Detection:
    word: str
    time_ms: float  # where the wake word ended in the stream
    score: float


class WakeDetector(Protocol):
    word: str
    threshold: float

    def process(self, audio: Audio) -> list[Detection]: ...

    def reset(self) -> None: ...


def build_detector(cfg: WakeConfig) -> WakeDetector:
    """The detector for ``cfg.word``; raises WakeError (one line) for a bad name or file."""
    from .micro import MicroDetector

    return MicroDetector.load(cfg.word, cfg.threshold)


__all__ = ["BUNDLED_WORDS", "Detection", "WakeDetector", "build_detector"]
