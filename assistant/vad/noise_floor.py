"""A running noise floor in front of a frame classifier: stationary noise is not speech.

Why: webrtcvad keeps a noise model that it updates only on frames it calls noise. Measured
(`python benchmarks/vad_noise.py`): white noise at -40 dBFS RMS is speech in 0% of its frames on
its own, and in 100% of them for as long as it lasts when it starts right after speech, because
once the model has switched to speech it never learns the new noise. Such noise held
utterances open until ``max_utterance_s``.

The gate remembers the lowest frame energy of the last ``window_s`` (speech has gaps between
syllables and words, stationary noise does not) and calls a frame speech only when it is
``margin_db`` above that floor *and* the inner classifier says speech. Cost: one RMS per frame.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..audio.types import Audio
from .webrtc import VoiceDetector

SILENT_DB = -96.0  # energy of an all-zero frame


def frame_db(frame: Audio) -> float:
    x = frame.samples.astype(np.float32)
    power = float(np.dot(x, x)) / max(1, len(x)) / (32768.0 ** 2)
    return 10.0 * np.log10(power) if power > 1e-10 else SILENT_DB


class NoiseFloorGate:
    """``inner.is_speech`` and louder than the running floor by ``margin_db``."""

    def __init__(self, inner: VoiceDetector, margin_db: float = 6.0, window_s: float = 0.6,
                 frame_ms: int = 30) -> None:
        self.inner = inner
        self.margin_db = margin_db
        self._recent: deque[float] = deque(maxlen=max(1, round(1000 * window_s / frame_ms)))

    @property
    def floor_db(self) -> float:
        return min(self._recent) if self._recent else SILENT_DB

    def is_speech(self, frame: Audio) -> bool:
        energy = frame_db(frame)
        self._recent.append(energy)
        speech = self.inner.is_speech(frame)  # every frame: its own model keeps adapting
        return speech and energy >= self.floor_db + self.margin_db
