"""Speculative recognition for streamed utterances: Home Assistant sends ``audio-stop`` only
after its own end-of-speech silence, so when our VAD hears the speaker pause we can start
recognizing the audio so far, and at ``audio-stop`` the transcript is (nearly) ready. If the
speaker goes on, the guess is discarded. Only started when a recognition slot is free, so it
never delays another client.

``PauseWatch`` is the pure decision, fed ``(frame_ms, is_speech)``.
"""

from __future__ import annotations


class PauseWatch:
    """Says once per pause when speech (at least ``min_speech_ms``) has been followed by
    ``pause_ms`` of silence. ``version`` changes with every speech frame: a guess made at one
    version is still right at ``audio-stop`` if the version has not changed since."""

    def __init__(self, pause_ms: float = 300.0, min_speech_ms: float = 150.0) -> None:
        self.pause_ms = pause_ms
        self.min_speech_ms = min_speech_ms
        self.speech_ms = 0.0
        self.silent_ms = 0.0
        self.version = 0
        self._fired_at = -1

    def push(self, frame_ms: float, is_speech: bool) -> bool:
        if is_speech:
            self.speech_ms += frame_ms
            self.silent_ms = 0.0
            self.version += 1
            return False
        self.silent_ms += frame_ms
        if (self.speech_ms >= self.min_speech_ms and self.silent_ms >= self.pause_ms
                and self._fired_at != self.version):
            self._fired_at = self.version
            return True
        return False
