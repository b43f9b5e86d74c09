"""A running noise floor in front of a frame classifier: stationary noise is not speech.

Why: webrtcvad keeps a noise model that it updates only on frames it calls noise. Measured
(`python benchmarks/vad_noise.py`): white noise at -40 dBFS RMS is speech in 0% of its frames on
its own, and in 100% of them for as long as it lasts when it starts right after speech, because
once the model has switched to speech it never learns the new noise. Such noise held
utterances open until ``max_utterance_s``.

The gate calls a frame speech only when it is ``margin_db`` above the noise floor *and* the
inner classifier says speech. The floor is the lowest frame energy of the last ``long_window_s``
(speech has gaps between syllables and words, stationary noise does not), but never more than
``range_db`` below the loudest frame of that window (so a breathy tail ~30 dB under the voice
is not speech, even in digital silence); except when the last ``window_s`` has been steady
(every frame within ``margin_db`` of the others, as a fan or a tap is): then it is the lowest of
that short window, so noise that starts after speech is ignored after ``window_s``.

Why two windows: with the short one alone, a slow speaker's voiced stretch ("your name" at
120 wpm, ~0.6 s without a gap) became its own floor, and the decaying end of the word (-25 to
-35 dBFS) was called silence: a 400 ms pause was heard as 660 ms and split the question
(docs/quiet.md). Cost: one RMS per frame and a min/max over ``long_window_s`` of floats.
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
                 frame_ms: int = 30, long_window_s: float = 2.0, range_db: float = 35.0) -> None:
        self.inner = inner
        self.margin_db = margin_db
        self.range_db = range_db
        self._short = max(1, round(1000 * window_s / frame_ms))
        long_frames = max(self._short, round(1000 * long_window_s / frame_ms))
        self._recent: deque[float] = deque(maxlen=long_frames)

    @property
    def floor_db(self) -> float:
        if not self._recent:
            return SILENT_DB
        short = list(self._recent)[-self._short:]
        if len(short) == self._short and max(short) - min(short) < self.margin_db:
            return min(short)  # steady for window_s: noise, whatever came before
        return max(min(self._recent), max(self._recent) - self.range_db)

    def is_speech(self, frame: Audio) -> bool:
        energy = frame_db(frame)
        self._recent.append(energy)
        speech = self.inner.is_speech(frame)  # every frame: its own model keeps adapting
        return speech and energy >= self.floor_db + self.margin_db
