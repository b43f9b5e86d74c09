"""One utterance from the network: ``audio-start``, ``audio-chunk``s, ``audio-stop``.

Clients send any rate, sample width and channel count (a satellite at 16 kHz mono, a test at
44.1 kHz stereo); each chunk is converted once, here, to the pipeline's 16 kHz mono int16. The
utterance is capped at the daemon's ``max_utterance_s``: later audio is dropped, so a client
that never stops cannot fill the memory.
"""

from __future__ import annotations

import logging

import numpy as np

from ..audio.types import Audio, StreamConverter
from ..errors import ServeError

log = logging.getLogger("assistant.serve")

DTYPES = {1: np.uint8, 2: np.int16, 4: np.int32}


def check_format(data: dict[str, object]) -> tuple[int, int, int]:
    """(rate_hz, width, channels) of an audio event, validated."""
    try:
        rate, width, channels = (int(data["rate"]), int(data["width"]),  # type: ignore[call-overload]
                                 int(data["channels"]))  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        raise ServeError("audio events need integer 'rate', 'width' and 'channels'",
                         code="bad-format") from None
    if not 8000 <= rate <= 192000 or width not in DTYPES or not 1 <= channels <= 8:
        raise ServeError(f"unsupported audio format {rate} Hz, {width} bytes, {channels} "
                         "channels; send 8-192 kHz, 1, 2 or 4 bytes, 1-8 channels",
                         code="bad-format")
    return rate, width, channels


class Utterance:
    """Collects converted chunks up to ``max_s`` seconds."""

    def __init__(self, fmt: tuple[int, int, int], max_s: float) -> None:
        self.fmt = fmt
        self.max_samples = int(max_s * 16000)
        self._converter = StreamConverter(fmt[0])
        self._parts: list[Audio] = []
        self.samples = 0
        self.cut = False

    def add(self, fmt: tuple[int, int, int], payload: bytes) -> Audio | None:
        """Convert and keep one chunk; returns it (None once the utterance is full)."""
        rate, width, channels = fmt
        frame = width * channels
        if len(payload) % frame:
            raise ServeError(f"an audio chunk of {len(payload)} bytes is not a whole number "
                             f"of {frame}-byte frames", code="bad-format")
        if self.cut:
            return None
        if rate != self._converter.rate_hz:  # a client changed rate mid-stream
            self._converter = StreamConverter(rate)
        block = np.frombuffer(payload, DTYPES[width]).reshape(-1, channels)
        audio = self._converter.convert(block)
        room = self.max_samples - self.samples
        if len(audio.samples) > room:
            audio = Audio(audio.samples[:room].copy())
            self.cut = True
            log.warning("an utterance reached %.0f s; the rest is dropped",
                        self.max_samples / 16000)
        self._parts.append(audio)
        self.samples += len(audio.samples)
        return audio

    def audio(self) -> Audio:
        return Audio.concat(self._parts)
