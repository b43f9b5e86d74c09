"""Audio in and out. Everything inside the pipeline is :class:`Audio` at 16 kHz, 16-bit mono;
conversion happens once, at the edge (file reader, microphone callback)."""

from .types import PIPELINE_RATE_HZ, Audio, to_pipeline

__all__ = ["PIPELINE_RATE_HZ", "Audio", "to_pipeline"]
