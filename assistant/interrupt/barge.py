"""The Interrupter: canceller + spotters + rule, between the listening thread and the sink.

Threads: ``begin``/``end`` run on the pipeline thread around one answer's playback,
``played`` on the same thread as the sink writes, ``hear`` on the listening thread. The
spotters' decoders are only touched by ``hear``; the rest is flags and Events.

A spot that the rule accepts holds the answer (``held``: the sink plays silence) while Whisper
checks it, so a stop is silent within a block of being spotted, not after the check; anything
else lets the answer go on where it paused (a gap of about 0.3 s).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ..audio.types import Audio
from ..vad.noise_floor import frame_db
from ..vad.webrtc import Framer
from ..wake.gate import VoiceGate
from .rule import StopRule
from .spotter import Spotted, StopSpotter

log = logging.getLogger("assistant.interrupt")

_FRAME_MS = 30
_KEEP_MS = 3000.0  # cancelled audio kept for the second opinion
_VERIFY_BEFORE_MS = 500.0  # the second opinion hears from this long before the spot began
# and until this long after it ended: the spotter fires before the word's last sound ("sto";
# at 120 ms Whisper heard "star", "Tom", "It's top" for 6 of 20 stops). The answer is held
# silent meanwhile, so this delays only the check, not the silence
_VERIFY_AFTER_MS = 250.0
_WAKE_SPAN_MS = 600.0
_ECHO_DBFS = -55.0  # a block this loud at the microphone holds echo to judge the canceller by


def said_phrase(said: str, phrases: list[str]) -> bool:
    """``said`` holds one of ``phrases`` as whole words (a word may carry an ending:
    "cancelled" for "cancel")."""
    from ..asr.pocketsphinx_grammar import tokens

    words = tokens(said)
    for phrase in phrases:
        want = phrase.split()
        for i in range(len(words) - len(want) + 1):
            if all(w.startswith(p) for w, p in zip(words[i:i + len(want)], want, strict=True)):
                return True
    return False


class Interrupter:
    def __init__(self, canceller: Any, spotter: StopSpotter, rule: StopRule,
                 wake: Any = None, vad: Any = None,
                 verify: Callable[[Audio], str] | None = None) -> None:
        self.canceller = canceller  # canceller.Canceller
        self.spotter = spotter
        self.rule = rule
        self.wake = wake  # a wake.WakeDetector fed the cancelled audio too, or None
        # the spotters hear only voice in what the canceller leaves (vad.webrtc verdicts,
        # through wake/gate.py's pre-roll gate): their cepstral mean then follows speech,
        # not the near-silence of a cancelled echo, and a quiet residual costs nothing
        self.vad = vad
        self._framer = Framer(_FRAME_MS)
        self._gate: VoiceGate[Audio] = VoiceGate(_FRAME_MS, pre_roll_s=0.3, hangover_s=0.3,
                                                 enabled=vad is not None)
        # a second opinion on a spotted phrase (Whisper's words for the audio around it):
        # keyphrase spotting alone hears "stop" in a quarter of ordinary sentences
        self.verify = verify
        # the microphone's clock: stream ms -> time.monotonic() of capture (the source's
        # capture_s), so the canceller pairs each frame with what was heard then; None: the
        # reference follows on in stream time (files, tests)
        self.clock: Callable[[float], float] | None = None
        self._heard: deque[Audio] = deque()  # the last seconds of what the canceller left
        self._pending: Spotted | None = None  # a spot waiting for its second opinion
        self.stopped = threading.Event()  # the sink stops writing once set
        self.held = threading.Event()  # the sink plays silence while a spot is checked
        self.by: str | None = None  # what stopped the answer ("stop", or the wake word)
        self.at_ms: float | None = None  # stream time the phrase ended
        self.by_wake = False  # it was the wake word (a new question may follow)
        self._active = False
        self._fresh = False
        self._learned_ms = 0.0  # microphone audio the canceller has heard while it spoke
        self._start_ms = 0.0
        # (stream ms, dB at the microphone, dB after the canceller) of 20 ms blocks
        self._levels: deque[tuple[float, float, float]] = deque()

    # --- the pipeline thread --------------------------------------------------------------
    def begin(self) -> None:
        """An answer starts playing: listen for a stop from now on."""
        self.stopped.clear()
        self.held.clear()
        self.by, self.at_ms, self.by_wake = None, None, False
        self._fresh, self._active = True, True

    def played(self, audio: Audio, at_s: float | None = None) -> None:
        """What the loudspeaker is given now, and when (monotonic) it will be heard: the
        canceller's reference, placed at that time when the microphone's clock is known."""
        self.canceller.played(audio, at_s if self.clock is not None else None)

    def end(self) -> str | None:
        """The answer is over (played out or stopped): what stopped it, or None."""
        self._active = False
        self.held.clear()
        if self.stopped.is_set():
            self.canceller.reset()  # what was queued to play never will be
        return self.by

    # --- the listening thread -------------------------------------------------------------
    def hear(self, chunk: Audio) -> None:
        """A microphone chunk while the assistant speaks."""
        if not self._active or self.stopped.is_set():
            return
        clean = self.canceller.process(
            chunk, self.clock(chunk.timestamp_ms) if self.clock is not None else None)
        if self._fresh:
            self._fresh = False
            self._start_ms = clean.timestamp_ms
            self._levels.clear()
            self._heard.clear()
            self._pending = None
            self._framer = Framer(_FRAME_MS)
            self._gate.reset()
            self.spotter.begin(clean.timestamp_ms)
            if self.wake is not None:
                self.wake.reset()
        self._remember(chunk, clean)
        self._heard.append(clean)
        while self._heard and self._heard[0].end_ms < clean.end_ms - _KEEP_MS:
            self._heard.popleft()
        self._learned_ms += 1000.0 * chunk.duration_s
        found: list[tuple[Spotted, bool]] = []
        for frame in self._framer.push(clean):
            for voiced in self._gate.push(frame, self.vad is None or self.vad.is_speech(frame)):
                found += [(s, False) for s in self.spotter.process(voiced)]
                if self.wake is not None:
                    found += [(Spotted(d.word, d.time_ms - _WAKE_SPAN_MS, d.time_ms), True)
                              for d in self.wake.process(voiced)]
        for spot, by_wake in found:
            log.debug("spotted %r %.0f ms after it ended", spot.phrase, clean.end_ms - spot.end_ms)
            if not self._judge(spot):
                continue
            if by_wake or self.verify is None:
                self._stop(spot, by_wake)
                return
            self._pending = spot  # checked once the end of the word has been heard
            self.held.set()  # silent meanwhile: a stop then ends the answer at once
        spot = self._pending
        if spot is not None and clean.end_ms >= spot.end_ms + _VERIFY_AFTER_MS:
            self._pending = None
            if self._verified(spot):
                self._stop(spot, False)
            else:
                self.held.clear()  # not a stop: the answer goes on where it paused

    def _stop(self, spot: Spotted, by_wake: bool) -> None:
        self.by, self.at_ms, self.by_wake = spot.phrase, spot.end_ms, by_wake
        self.stopped.set()

    def _remember(self, mic: Audio, clean: Audio) -> None:
        step = clean.rate_hz // 50  # 20 ms blocks
        for i in range(0, min(len(clean.samples), len(mic.samples)) - step + 1, step):
            t = clean.timestamp_ms + 1000.0 * i / clean.rate_hz
            self._levels.append((t, frame_db(Audio(mic.samples[i:i + step], mic.rate_hz)),
                                 frame_db(Audio(clean.samples[i:i + step], clean.rate_hz))))
        horizon = clean.end_ms - self.rule.floor_window_ms - 3000.0
        while self._levels and self._levels[0][0] < horizon:
            self._levels.popleft()

    def _verified(self, spot: Spotted) -> bool:
        """Whisper (``verify``) hears one of the stop phrases around the spot."""
        if self.verify is None:
            return True
        start_ms = spot.start_ms - _VERIFY_BEFORE_MS
        parts = [a for a in self._heard if a.end_ms > start_ms]
        if not parts:
            return False
        try:
            said = self.verify(Audio.concat(parts))
        except Exception as exc:  # a failed check is no stop; the answer goes on
            log.warning("interrupt: could not check %r (%s)", spot.phrase, exc)
            return False
        ok = said_phrase(said, self.spotter.phrases)
        (log.info if ok else log.debug)("%r checked: heard %r: %s", spot.phrase, said,
                                        "a stop" if ok else "not a stop")
        return ok

    def _judge(self, spot: Spotted) -> bool:
        inside = [out for t, _, out in self._levels if spot.start_ms <= t < spot.end_ms]
        before = [(mic, out) for t, mic, out in self._levels
                  if spot.start_ms - self.rule.floor_window_ms <= t < spot.start_ms - 100.0]
        phrase_db = float(np.percentile(inside, 90)) if inside else -120.0
        floor_db = (float(np.percentile([out for _, out in before], self.rule.floor_percentile))
                    if len(before) >= self.rule.floor_window_ms / 200.0 else None)
        # the sound server's canceller: the microphone is its output, the echo is not seen
        echo = ([(mic, mic - out) for mic, out in before if mic > _ECHO_DBFS]
                if self.canceller.name != "server" else [])
        removed_db = float(np.median([r for _, r in echo])) if len(echo) >= 10 else None
        echo_db = float(np.median([m for m, _ in echo])) if len(echo) >= 10 else None
        verdict = self.rule.judge(spot.end_ms - self._start_ms, phrase_db, floor_db, removed_db,
                                  echo_db, self._learned_ms if echo else float("inf"))
        (log.info if verdict.stop else log.debug)(
            "%s %r at %.2f s: %s", "stop:" if verdict.stop else "not a stop:", spot.phrase,
            spot.end_ms / 1000, verdict.reason)
        return verdict.stop
