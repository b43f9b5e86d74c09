"""The listening loop: source -> VAD -> segmenter -> pipeline, with states and signals.

    LISTENING --speech--> HEARING --end of speech--> THINKING --answer ready--> SPEAKING
        ^                    | (too short: dropped)                                 |
        +--------------------+-------------- done + refractory time ----------------+
    any state --microphone error--> NO_MICROPHONE --retry with backoff, first audio--> LISTENING

The loop itself only runs VAD (microseconds a frame) so listening to silence is nearly free.
Recognition, matching and speech run on one worker thread; while it works and speaks, and for
``refractory_s`` after, microphone audio is discarded so the assistant never answers itself.
With ``interrupt.enabled`` the audio heard while it speaks goes to the Interrupter instead
(assistant/interrupt/): echo-cancelled, it listens for a stop phrase only.
"""

from __future__ import annotations

import concurrent.futures as cf
import enum
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .audio.sources import Source
from .audio.types import Audio
from .errors import AudioError
from .pipeline import Exchange, Pipeline
from .vad.early_end import EarlyEnd
from .vad.segmenter import (
    Dropped,
    Ended,
    Segmenter,
    SegmenterSettings,
    SegState,
    SilenceBegan,
    SpeechResumed,
    Started,
)
from .vad.turn_end import TurnEnd
from .vad.webrtc import Framer, VoiceDetector

log = logging.getLogger("assistant.daemon")


class State(enum.Enum):
    LISTENING = "listening"
    HEARING = "hearing"
    THINKING = "thinking"
    SPEAKING = "speaking"
    NO_MICROPHONE = "microphone lost"
    WAITING_WAKE = "waiting for wake word"
    MUTED = "muted"


class Daemon:
    def __init__(self, source: Source, vad: VoiceDetector, settings: SegmenterSettings,
                 pipeline: Pipeline, frame_ms: int = 30, refractory_s: float = 0.3,
                 on_exchange: Callable[[Exchange], None] | None = None,
                 on_state: Callable[[State], None] | None = None,
                 reconnect_max_s: float = 30.0, speculative: bool = True,
                 on_tick: Callable[[], None] | None = None,
                 early_end: EarlyEnd | None = None, wake: Any = None,
                 mute: Any = None, turn_end: TurnEnd | None = None,
                 interrupter: Any = None) -> None:
        self.source = source
        self.vad = vad
        self.pipeline = pipeline
        self.segmenter = Segmenter(settings, frame_ms)
        self.frame_ms = frame_ms
        self.refractory_ms = 1000.0 * refractory_s
        self.on_exchange = on_exchange
        self.on_state = on_state
        self.on_tick = on_tick  # once per chunk, and per second without a microphone: cheap
        self.reconnect_max_s = reconnect_max_s
        self.speculative = speculative
        self.wake = wake  # assistant.wake.hook.WakeHook or None: answer only when woken
        self.mute = mute  # assistant.wake.mute.MuteSwitch or None
        self._speculation: cf.Future[Exchange] | None = None
        self.early_end = early_end  # end the turn once the speculation is a complete question
        self._early: bool | None = None  # its verdict on the current speculation
        self.turn_end = turn_end  # the end-of-turn model, scoring each pause (vad/turn_end.py)
        # interrupt.barge.Interrupter or None: hears the microphone while it speaks (the
        # pipeline hands it to the sink, which stops when it has heard a stop phrase)
        self.interrupter = interrupter
        self.exchanges = 0
        self.state = State.LISTENING
        self._worker = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipeline")
        self._busy: cf.Future[None] | None = None
        self._ignore_until_ms = -1.0
        self._spoke = False  # the last utterance got a spoken answer (refractory_s applies)
        self._jobs: list[cf.Future[Any]] = []  # what the pipeline thread has to do
        self._delay_s = min(1.0, reconnect_max_s)
        self._lost_at: float | None = None
        self._had_audio = False  # "no microphone" until the first block, then "lost"

    @property
    def busy(self) -> bool:
        """The pipeline thread is still working (after a stop: that utterance is dropped)."""
        return any(not job.done() for job in self._jobs)

    def _submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        job = self._worker.submit(fn, *args)
        self._jobs = [j for j in self._jobs if not j.done()] + [job]
        return job

    def _set_state(self, state: State) -> None:
        if state is State.LISTENING and self.wake is not None and self.wake.waiting:
            state = State.WAITING_WAKE
        if state is not self.state:
            self.state = state
            if self.on_state:
                self.on_state(state)

    # --- the worker side -------------------------------------------------------------------
    def _process(self, audio: Audio, speech_end_ms: float,
                 heard: cf.Future[Exchange] | None = None, reason: str | None = None) -> None:
        """Recognize (or take the speculative result), answer, and speak."""
        ex = heard.result() if heard is not None else self.pipeline.hear(audio)
        ex.speech_end_ms, ex.end_reason = speech_end_ms, reason
        self._spoke = ex.answer is not None
        if ex.answer is not None:
            self._set_state(State.SPEAKING)
            self.pipeline.respond(ex)
        self.exchanges += 1
        if self.wake is not None:
            by_wake = bool(ex.interrupted) and getattr(self.interrupter, "by_wake", False)
            self.wake.answered(ex.answer, ex.ignored, ex.interrupted, by_wake)
        (log.warning if ex.error else log.info)("%s", ex.log_line())
        if self.on_exchange:
            try:
                self.on_exchange(ex)
            except Exception:
                log.exception("exchange hook failed")

    # --- the listening side ----------------------------------------------------------------
    def _utterance_ended(self, event: Ended, realtime: bool) -> None:
        if self.wake is not None:
            audio = self.wake.question(event.audio, event.speech_end_ms)
            if audio is None:
                self._drop_speculation()
                self._set_state(State.LISTENING)
                return
            if audio is not event.audio:  # cut after the wake word: a guess on more is stale
                self._drop_speculation()
                event = Ended(audio, event.reason, event.speech_end_ms)
        self._set_state(State.THINKING)
        heard, self._speculation = self._speculation, None
        if realtime:
            self._busy = self._submit(self._process, event.audio, event.speech_end_ms, heard,
                                      event.reason)
        else:  # a file replayed as fast as possible: one thing at a time, deterministic
            self._process(event.audio, event.speech_end_ms, None, event.reason)
            self._busy = cf.Future()
            self._busy.set_result(None)

    def _silence_began(self, event: SilenceBegan, realtime: bool) -> None:
        """Speculative recognition: start on the utterance so far while the hangover runs.
        If the silence completes, the answer is (nearly) ready; if speech resumes, the
        result is dropped. The worker runs jobs in order, so at most one is wasted. While the
        wake word has not been heard the utterance will be dropped: nothing to guess."""
        if self.speculative and realtime and (self.wake is None or not self.wake.waiting):
            self._speculation = self._submit(self._speculate, event.audio)
            self._early = None

    def _speculate(self, audio: Audio) -> Exchange:
        """Recognize and match the speech so far, and start rendering its answer: if the
        silence completes (or the turn ends early), the sound is ready too."""
        return self.pipeline.prepare(self.pipeline.hear(audio))

    def _drop_speculation(self) -> None:
        """The speaker went on (or the guess is stale): forget the speculation, and its
        answer's rendering unless it has begun."""
        spec, self._speculation = self._speculation, None
        if spec is not None and not spec.cancel():  # never started: it costs nothing
            spec.add_done_callback(
                lambda f: f.exception() is None and self.pipeline.discard(f.result()))

    def _ends_early(self) -> bool:
        """The speculation is done and is a complete known question (vad/early_end.py)."""
        spec = self._speculation
        if (self.early_end is None or spec is None or not spec.done() or spec.cancelled()
                or self.segmenter.state is not SegState.TRAILING
                or self.segmenter.silence_s < self.early_end.rule.after_s):
            return False
        if self._early is None:
            ex = spec.result()
            verdict = self.early_end(ex.heard, ex.reply, self.pipeline.answerer.kb)
            (log.info if verdict.early else log.debug)(
                "early end %s: %s", "yes" if verdict.early else "no", verdict.reason)
            self._early = verdict.early
        return self._early

    def _feed(self, chunk: Audio, framer: Framer, realtime: bool) -> None:
        if self._busy is not None:
            if not self._busy.done():
                if self.interrupter is not None:  # speaking: only a stop phrase is heard
                    self.interrupter.hear(chunk)
                return  # thinking or speaking: the microphone is otherwise ignored
            self._busy = None
            # nothing said (noise): listen at once, a follow-up may be near
            self._ignore_until_ms = chunk.timestamp_ms + (self.refractory_ms if self._spoke
                                                          else 0.0)
            self.segmenter.reset()
            self._set_state(State.LISTENING)
        if chunk.timestamp_ms < self._ignore_until_ms:
            return
        if self.mute is not None and self.mute.muted():
            if self.state is not State.MUTED:
                self.segmenter.reset()
                self._set_state(State.MUTED)
            return
        if self.state is State.MUTED:
            self._set_state(State.LISTENING)
        if self.wake is not None:
            self.wake.chunk(chunk, self.state is State.HEARING)
            if self.state in (State.LISTENING, State.WAITING_WAKE):
                self._set_state(State.LISTENING)
        for frame in framer.push(chunk):
            speech = self.vad.is_speech(frame)
            if self.wake is not None:  # fed around speech only (wake/gate.py)
                self.wake.frame(frame, speech)
            for event in self.segmenter.push(frame, speech):
                if isinstance(event, Started):
                    self._set_state(State.HEARING)
                    if self.turn_end is not None:
                        self.turn_end.drop()  # nothing scored before belongs to this one
                    if self.speculative and realtime:
                        self.pipeline.warm()  # the time/date answers, ready in case
                elif isinstance(event, SilenceBegan):
                    self._silence_began(event, realtime)
                elif isinstance(event, (SpeechResumed, Dropped)):
                    self._drop_speculation()  # the speaker went on: a stale guess
                    if self.turn_end is not None:
                        self.turn_end.drop()
                    if isinstance(event, Dropped):
                        self._set_state(State.LISTENING)
                elif isinstance(event, Ended):
                    self._utterance_ended(event, realtime)
                    return
            te, seg = self.turn_end, self.segmenter
            reason = ("early" if self._ends_early() else "turn-model"
                      if te is not None and realtime and seg.state is SegState.TRAILING
                      and te.check(seg.silence_s, seg.audio) else None)
            if reason is not None:
                cut = self.segmenter.cut(reason)
                if isinstance(cut, Ended):
                    self._utterance_ended(cut, realtime)
                    return

    def _listen_once(self, stop: threading.Event) -> None:
        framer = Framer(self.frame_ms)
        self.segmenter.reset()
        self._speculation = None
        self._ignore_until_ms = -1.0  # a reopened stream starts its clock at 0 again
        for chunk in self.source.chunks(stop):
            if self.on_tick:
                self.on_tick()
            self._had_audio = True
            if self._lost_at is not None:
                log.info("microphone back after %.0f s", time.monotonic() - self._lost_at)
                self._lost_at, self._delay_s = None, min(1.0, self.reconnect_max_s)
                self._set_state(State.LISTENING)
            self._feed(chunk, framer, self.source.realtime)
        if not stop.is_set() and self._busy is None:
            last = self.segmenter.flush()
            if isinstance(last, Ended):
                self._drop_speculation()  # the end-of-stream cut may hold more audio
                self._utterance_ended(last, self.source.realtime)

    def run(self, stop: threading.Event, reconnect: bool = False) -> None:
        """Listen until the source ends or ``stop`` is set. With ``reconnect`` (the
        microphone), a lost device is retried with backoff instead of ending the run."""
        try:
            while not stop.is_set():
                try:
                    self._listen_once(stop)
                    if not reconnect:
                        break
                except AudioError as exc:
                    if not reconnect:
                        raise
                    if self._lost_at is None:  # said once; the retries are debug lines
                        self._lost_at = time.monotonic()
                        if self._had_audio:
                            log.error("microphone lost: %s; retrying until it is back", exc)
                        else:
                            log.error("no microphone: %s; waiting until one is plugged in "
                                      "(`assistant devices`, audio.input_device)", exc)
                    else:
                        log.debug("microphone still unavailable: %s", exc)
                    self._set_state(State.NO_MICROPHONE)
                    if self._wait(stop, self._delay_s):
                        break
                    self._delay_s = min(2 * self._delay_s, self.reconnect_max_s)
        finally:
            self._finish(stop)

    def _wait(self, stop: threading.Event, seconds: float) -> bool:
        """Wait before reconnecting, and until the answer in progress has been spoken (the
        device list may be refreshed on reopen); ticks every second. True when stopped."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline or self.busy:
            if self.on_tick:
                self.on_tick()
            if stop.wait(min(1.0, max(0.05, deadline - time.monotonic()))):
                return True
        return False

    def _finish(self, stop: threading.Event) -> None:
        busy = self._busy
        if busy is not None and not stop.is_set():
            busy.result()  # the source ended: let the last answer finish
        elif busy is not None:
            deadline = time.monotonic() + 1.5  # SIGTERM: give it a moment, then leave
            while not busy.done() and time.monotonic() < deadline:
                time.sleep(0.02)
        self._worker.shutdown(wait=False, cancel_futures=True)
        if self.turn_end is not None:
            self.turn_end.close()
