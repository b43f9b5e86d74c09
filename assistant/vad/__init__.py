"""Voice activity: frame classifiers and the pure endpointing state machine."""

from .segmenter import PRESETS, Segmenter, SegmenterSettings, SegState
from .webrtc import Framer, WebRtcVad, segmenter_settings

__all__ = ["PRESETS", "Framer", "SegState", "Segmenter", "SegmenterSettings", "WebRtcVad",
           "segmenter_settings"]
