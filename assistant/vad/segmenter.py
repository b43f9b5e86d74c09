"""Endpointing as a pure state machine: fed (frame, is_speech), it says when an utterance starts,
when its trailing silence begins, and when it ends. No audio analysis happens here, so it is
tested with booleans alone.

    SILENCE --speech--> SPEECH --silence--> TRAILING --hangover elapsed--> SILENCE (Ended)
                          ^                    |
                          +------speech--------+ (SpeechResumed)
    SPEECH/TRAILING --max_utterance_s reached--> SILENCE (Ended, reason="max-length")

An utterance whose speech frames add up to less than ``min_speech_s`` ends as Dropped.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

from ..audio.types import Audio


@dataclass(frozen=True)
class SegmenterSettings:
    pre_roll_s: float = 0.3
    min_speech_s: float = 0.25
    hangover_s: float = 0.5
    max_utterance_s: float = 10.0
    speculate_after_s: float = 0.15  # trailing silence before SilenceBegan (not word gaps)


PRESETS: dict[str, SegmenterSettings] = {
    "fast": SegmenterSettings(pre_roll_s=0.2, min_speech_s=0.2, hangover_s=0.3,
                              max_utterance_s=8.0),
    "default": SegmenterSettings(),
    "relaxed": SegmenterSettings(pre_roll_s=0.5, min_speech_s=0.3, hangover_s=0.9,
                                 max_utterance_s=15.0),
}


class SegState(enum.Enum):
    SILENCE = "silence"
    SPEECH = "speech"
    TRAILING = "trailing"  # silence after speech, waiting out the hangover


@dataclass(frozen=True)
class Started:
    timestamp_ms: float


@dataclass(frozen=True)
class SilenceBegan:
    """Trailing silence has lasted ``speculate_after_s``: ``audio`` is the utterance so far
    (for speculative recognition). Shorter gaps between words do not count."""

    audio: Audio


@dataclass(frozen=True)
class SpeechResumed:
    timestamp_ms: float


@dataclass(frozen=True)
class Ended:
    audio: Audio
    reason: str  # "silence", "max-length", "end-of-stream", "early" (a complete question) or
    # "turn-model" (the end-of-turn model heard a finished turn)
    speech_end_ms: float  # stream time when the last speech frame ended


@dataclass(frozen=True)
class Dropped:
    timestamp_ms: float
    speech_s: float


Event = Started | SilenceBegan | SpeechResumed | Ended | Dropped


@dataclass
class Segmenter:
    settings: SegmenterSettings
    frame_ms: float = 30.0
    state: SegState = SegState.SILENCE
    _pre: deque[Audio] = field(default_factory=deque)
    _frames: list[Audio] = field(default_factory=list)
    _speech_s: float = 0.0
    _silence_s: float = 0.0
    _speech_end_ms: float = 0.0
    _announced: bool = False  # SilenceBegan already sent for this stretch of silence

    def reset(self) -> None:
        """Forget everything (used while the assistant speaks: its own voice is not input)."""
        self.state = SegState.SILENCE
        self._pre.clear()
        self._frames = []
        self._speech_s = self._silence_s = 0.0

    def push(self, frame: Audio, is_speech: bool) -> list[Event]:
        frame_s = frame.duration_s
        if self.state is SegState.SILENCE:
            if not is_speech:
                self._pre.append(frame)
                while len(self._pre) * frame_s > self.settings.pre_roll_s + 1e-9:
                    self._pre.popleft()
                return []
            self.state = SegState.SPEECH
            self._frames = [*self._pre, frame]
            self._pre.clear()
            self._speech_s, self._silence_s = frame_s, 0.0
            self._speech_end_ms = frame.end_ms
            return [Started(frame.timestamp_ms)]

        self._frames.append(frame)
        events: list[Event] = []
        if is_speech:
            self._speech_s += frame_s
            self._speech_end_ms = frame.end_ms
            if self.state is SegState.TRAILING:
                self.state = SegState.SPEECH
                events.append(SpeechResumed(frame.timestamp_ms))
            self._silence_s = 0.0
        else:
            self._silence_s += frame_s
            if self.state is SegState.SPEECH:
                self.state = SegState.TRAILING
                self._announced = False
            if (not self._announced and self._speech_s >= self.settings.min_speech_s
                    and self._silence_s >= self.settings.speculate_after_s - 1e-9):
                self._announced = True
                events.append(SilenceBegan(Audio.concat(self._frames)))
            if self._silence_s >= self.settings.hangover_s - 1e-9:
                return [*events, self._finish("silence")]
        if len(self._frames) * frame_s >= self.settings.max_utterance_s - 1e-9:
            events.append(self._finish("max-length"))
        return events

    @property
    def silence_s(self) -> float:
        """Trailing silence so far (0 while speech goes on)."""
        return self._silence_s if self.state is SegState.TRAILING else 0.0

    def audio(self) -> Audio:
        """The utterance so far (pre-roll, speech and trailing silence)."""
        return Audio.concat(self._frames)

    def cut(self, reason: str) -> Ended | Dropped:
        """End the utterance in progress now (the daemon's early end of turn)."""
        return self._finish(reason)

    def flush(self) -> Ended | Dropped | None:
        """The stream ended: close the utterance in progress, if any."""
        if self.state is SegState.SILENCE:
            self._pre.clear()
            return None
        return self._finish("end-of-stream")

    def _finish(self, reason: str) -> Ended | Dropped:
        audio = Audio.concat(self._frames)
        speech_s = self._speech_s
        self.reset()
        if speech_s < self.settings.min_speech_s - 1e-9:
            return Dropped(audio.timestamp_ms, speech_s)
        return Ended(audio, reason, self._speech_end_ms)
