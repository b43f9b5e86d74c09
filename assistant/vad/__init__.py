"""Voice activity: frame classifiers and the pure endpointing state machine."""

from __future__ import annotations

from ..config import VadConfig
from .noise_floor import NoiseFloorGate
from .segmenter import PRESETS, Segmenter, SegmenterSettings, SegState
from .webrtc import Framer, VoiceDetector, WebRtcVad, segmenter_settings


def build_detector(cfg: VadConfig) -> VoiceDetector:
    """The configured frame classifier (webrtcvad or silero, imported lazily), behind the
    noise-floor gate unless ``vad.noise_gate_db`` is 0."""
    vad: VoiceDetector
    if cfg.backend == "silero":
        from .silero import SileroVad

        vad = SileroVad(cfg.silero_threshold)
    else:
        vad = WebRtcVad(cfg.aggressiveness)
    if cfg.noise_gate_db > 0:
        vad = NoiseFloorGate(vad, cfg.noise_gate_db, cfg.noise_window_s, cfg.frame_ms)
    return vad


__all__ = ["PRESETS", "Framer", "NoiseFloorGate", "SegState", "Segmenter", "SegmenterSettings",
           "VoiceDetector", "WebRtcVad", "build_detector", "segmenter_settings"]
