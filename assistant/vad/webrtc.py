"""webrtcvad as the frame classifier, plus the framer that cuts any chunk size into frames."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

import numpy as np

from ..audio.types import Audio
from ..config import VadConfig
from ..errors import VadError
from .segmenter import PRESETS, SegmenterSettings


class VoiceDetector(Protocol):
    def is_speech(self, frame: Audio) -> bool: ...


class WebRtcVad:
    """Google's WebRTC VAD: a few microseconds a frame, so the idle loop stays nearly free."""

    def __init__(self, aggressiveness: int = 2) -> None:
        import webrtcvad

        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: Audio) -> bool:
        try:
            return bool(self._vad.is_speech(frame.pcm, frame.rate_hz))
        except Exception as exc:  # webrtcvad raises a bare Error on a bad frame length
            raise VadError(f"webrtcvad rejected a {frame.duration_s * 1000:.1f} ms frame at "
                           f"{frame.rate_hz} Hz ({exc}); frames must be 10, 20 or 30 ms",
                           code="frame") from exc


class Framer:
    """Re-cuts audio of any block size into fixed frames, keeping stream timestamps."""

    def __init__(self, frame_ms: int, rate_hz: int = 16000) -> None:
        self.frame_len = rate_hz * frame_ms // 1000
        self.rate_hz = rate_hz
        self._buf = np.zeros(0, np.int16)
        self._buf_start_ms = 0.0

    def push(self, chunk: Audio) -> Iterator[Audio]:
        if not len(self._buf):
            self._buf_start_ms = chunk.timestamp_ms
        self._buf = np.concatenate([self._buf, chunk.samples])
        n = len(self._buf) // self.frame_len
        for i in range(n):
            samples = self._buf[i * self.frame_len:(i + 1) * self.frame_len]
            ts = self._buf_start_ms + 1000.0 * i * self.frame_len / self.rate_hz
            yield Audio(samples.copy(), self.rate_hz, ts)
        used = n * self.frame_len
        self._buf = self._buf[used:]
        self._buf_start_ms += 1000.0 * used / self.rate_hz


def segmenter_settings(cfg: VadConfig) -> SegmenterSettings:
    """The preset's timings, with any value set explicitly in config taking precedence."""
    explicit = {name: getattr(cfg, name) for name in
                ("pre_roll_s", "min_speech_s", "hangover_s", "max_utterance_s")
                if getattr(cfg, name) is not None}
    return replace(PRESETS[cfg.preset], **explicit)
