"""The daemon's wake word hook: detector + state machine on the stream's own timestamps.

The daemon calls ``chunk`` for every microphone chunk it listens to, ``frame`` for every VAD
frame with the VAD's verdict (the detector is fed through the voice-activity gate, gate.py),
``question`` when an
utterance ends (the audio to recognize, or None), and ``answered`` once the answer has been
spoken. Everything runs on audio time, so ``run --input FILE --fast`` behaves like the mic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..audio.types import Audio
from . import WakeDetector
from .gate import VoiceGate
from .machine import Outcome, WakeMachine, WakeState

log = logging.getLogger("assistant.wake")


class WakeHook:
    def __init__(self, detector: WakeDetector, machine: WakeMachine,
                 on_earcon: Callable[[str], None] | None = None,
                 gate: VoiceGate[Audio] | None = None) -> None:
        self.detector = detector
        self.machine = machine
        self.gate = gate if gate is not None else VoiceGate(30, enabled=False)
        self.on_earcon = on_earcon  # "wake" or "not understood"; never mutes the mic
        self._pending: Outcome | None = None  # set by the worker, used by the loop
        self._why: str | None = None  # the pending outcome's ignored reason

    @property
    def waiting(self) -> bool:
        return self.machine.state is WakeState.WAITING

    def _tone(self, kind: str) -> None:
        if self.on_earcon:
            try:
                self.on_earcon(kind)
            except Exception:
                log.exception("earcon failed")

    def chunk(self, chunk: Audio, hearing: bool) -> None:
        if self._pending is not None:  # the answer is over: the follow-up window starts now
            if self.machine.answered(chunk.timestamp_ms, self._pending):
                self._tone("not understood")
            elif self._pending is Outcome.WOKEN:
                self._tone("wake")
            elif self._pending is Outcome.NOISE and not self.waiting:
                window = ("follow-up window" if self.machine.state is WakeState.FOLLOW_UP
                          else "wake")
                log.info("not a question (%s): no tone, the %s goes on until %.2f s",
                         self._why, window, self.machine.deadline_ms / 1000)
            self._pending = None
        if self.machine.tick(chunk.end_ms, hearing):
            log.info("no question within %.0f s of the wake word", self.machine.timeout_ms / 1000)
            self._tone("not understood")

    def frame(self, frame: Audio, is_speech: bool) -> None:
        """One VAD frame: the gate decides what reaches the detector."""
        for audio in self.gate.push(frame, is_speech):
            for d in self.detector.process(audio):
                log.info("wake word %s at %.2f s (score %.2f)", d.word, d.time_ms / 1000,
                         d.score)
                if self.machine.wake(d.time_ms):
                    self._tone("wake")

    def question(self, audio: Audio, speech_end_ms: float) -> Audio | None:
        verdict = self.machine.utterance(audio.timestamp_ms, speech_end_ms)
        if not verdict.accept:
            log.info("utterance at %.2f s not taken: %s", audio.timestamp_ms / 1000,
                     verdict.reason)
            return None
        skip = int(round((verdict.cut_ms - audio.timestamp_ms) * audio.rate_hz / 1000))
        if skip <= 0:
            return audio
        return Audio(audio.samples[skip:], audio.rate_hz, verdict.cut_ms)

    def answered(self, answer: str | None, ignored: str | None,
                 interrupted: str | None = None, by_wake: bool = False) -> None:
        """Called by the worker with the exchange's spoken ``answer``, its ``ignored`` reason
        (noise: not a question) and what interrupted it (``by_wake``: the wake word); takes
        effect at the next chunk's stream time."""
        self._why = ignored
        self._pending = Outcome.of(answer, ignored, interrupted, by_wake)


def build_hook(cfg: object, on_earcon: Callable[[str], None] | None = None) -> WakeHook | None:
    """The hook for ``cfg.wake`` (a Config), or None when the wake word is off."""
    wake = cfg.wake  # type: ignore[attr-defined]
    if not wake.enabled:
        return None
    from . import build_detector

    frame_ms = cfg.vad.frame_ms  # type: ignore[attr-defined]
    return WakeHook(build_detector(wake), WakeMachine(wake.timeout_s, wake.follow_up_s),
                    on_earcon, VoiceGate(frame_ms, enabled=wake.gate))
