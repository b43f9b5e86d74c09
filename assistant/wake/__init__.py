"""Wake word detectors behind one small Protocol, imported lazily.

Two backends: microWakeWord models (micro.py, ``wake.word``) and pocketsphinx keyphrase
spotting for a custom phrase with no training (phrase.py, ``wake.phrase``). The daemon feeds
either through a voice-activity gate with a pre-roll (gate.py).

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

    def flush(self) -> list[Detection]:
        """The stream ended: detections still held back (the phrase detector's warm-up)."""
        ...


def how_to_ask(word: str) -> str:
    """What the ready line and the web page tell a user: "say 'Alexa' to ask"."""
    return f"say '{word}' to ask"


def build_detector(cfg: WakeConfig) -> WakeDetector:
    """The detector for ``cfg.phrase`` (pocketsphinx keyphrase spotting) if set, else for
    ``cfg.word`` (microWakeWord); raises WakeError (one line) for a bad name, file or phrase."""
    if cfg.phrase is not None:
        from .phrase import PhraseDetector

        return PhraseDetector.load(cfg.phrase, cfg.phrase_threshold)
    from .micro import MicroDetector

    return MicroDetector.load(cfg.word, cfg.threshold)


__all__ = ["BUNDLED_WORDS", "Detection", "WakeDetector", "build_detector", "how_to_ask"]
