"""Feed the wake word detector only around speech: a pure gate over (frame, is_speech).

pocketsphinx keyphrase spotting on every frame costs ~2.8% of a core; listening to silence
must stay under 2%. The segmenter already runs webrtcvad on every frame, so the gate reuses
its verdicts: closed, it keeps the last ``pre_roll_s`` of frames; on the first speech frame
it opens and hands out that pre-roll first (the start of the phrase, which the VAD is slow
to call speech, is not lost); it stays open for ``hangover_s`` after the last speech frame.

    CLOSED (buffer pre-roll) --speech--> OPEN (pre-roll, then every frame)
        ^                                  | hangover_s without speech
        +----------------------------------+

Generic over the frame type, so its tests need no audio.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Generic, TypeVar

T = TypeVar("T")

PRE_ROLL_S = 0.4
HANGOVER_S = 0.6


class VoiceGate(Generic[T]):
    def __init__(self, frame_ms: float, pre_roll_s: float = PRE_ROLL_S,
                 hangover_s: float = HANGOVER_S, enabled: bool = True) -> None:
        self.enabled = enabled
        self._pre: deque[T] = deque(maxlen=max(0, round(1000 * pre_roll_s / frame_ms)))
        self._hangover = max(0, round(1000 * hangover_s / frame_ms))
        self._quiet = 0  # non-speech frames since the last speech frame, while open
        self.open = False

    def push(self, frame: T, is_speech: bool) -> list[T]:
        """The frames to feed the detector now, oldest first (often none)."""
        if not self.enabled:
            return [frame]
        if is_speech:
            self._quiet = 0
            if not self.open:
                self.open = True
                out = [*self._pre, frame]
                self._pre.clear()
                return out
            return [frame]
        if self.open:
            self._quiet += 1
            if self._quiet <= self._hangover:
                return [frame]
            self.open = False
        if self._pre.maxlen:
            self._pre.append(frame)
        return []

    def reset(self) -> None:
        self._pre.clear()
        self.open, self._quiet = False, 0


def detect_in(audio: Any, detector: Any, vad: Any, frame_ms: int = 30,
              gated: bool = True) -> list[Any]:
    """The detections in a whole recording (16 kHz Audio), fed in VAD frames through the gate
    as the daemon feeds the microphone (the web page checks uploads with it)."""
    from ..audio.types import Audio
    from ..vad.webrtc import Framer

    gate: VoiceGate[Audio] = VoiceGate(frame_ms, enabled=gated)
    detector.reset()
    found: list[Any] = []
    for frame in Framer(frame_ms).push(audio):
        for piece in gate.push(frame, vad.is_speech(frame)):
            found += detector.process(piece)
    return found + detector.flush()
