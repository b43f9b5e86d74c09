"""Echo cancellers: the microphone while the assistant speaks, without the assistant's voice.

One small Protocol, three backends chosen by name (``interrupt.canceller``):

- ``livekit``: WebRTC's audio processing in-process (the ``livekit`` package, the
  ``interrupt`` extra): the assistant hands it what it plays (``played``) and the microphone
  (``process``), on any sound system. Lazily imported.
- ``server``: the sound server already cancels the echo (PulseAudio ``module-echo-cancel
  aec_method=webrtc``, PipeWire ``libpipewire-module-echo-cancel``) and the configured
  microphone is its cancelled source: audio passes unchanged.
- ``none``: nothing is cancelled (the assistant stays deaf while it speaks).

Measured in docs/interrupt.md ("Echo cancellers, measured"; benchmarks/echo_cancel.py).
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any, Protocol

import numpy as np

from ..audio.types import PIPELINE_RATE_HZ, Audio, to_pipeline
from ..errors import InterruptError

log = logging.getLogger(__name__)

NAMES = ("livekit", "speex", "server", "none")
FRAME = PIPELINE_RATE_HZ // 100  # WebRTC processes 10 ms frames
GAP_S = 0.03  # what is played this much after what was played before starts anew
KEEP_S = 0.3  # reference kept after it was heard: the echo is looked for this far back
ALIGN_S = 0.6  # microphone used to find the echo's delay at the start of an answer
ALIGN_MAX_S = 2.0  # ... or as much as it takes, until the answer has been heard this long
INSTALL = "pip install 'assistant[interrupt]' (the livekit package)"


class Canceller(Protocol):
    name: str

    def played(self, audio: Audio, at_s: float | None = None) -> None:
        """What the loudspeaker plays, at any rate, and when its first sample is heard
        (``at_s``, on the clock ``process`` is given; None: right after what was played before,
        or now if that has ended)."""
        ...

    def process(self, chunk: Audio, at_s: float | None = None) -> Audio:
        """Microphone audio (16 kHz) captured at ``at_s`` (None: its ``timestamp_ms``) -> the
        same span with the echo removed: as many samples, possibly up to 10 ms late
        (``timestamp_ms`` says where they sit)."""
        ...

    def reset(self) -> None:
        """Between answers, or when playback is cut short: forget what was to be played."""
        ...


class NoCanceller:
    """Cancels nothing: with it the assistant stays deaf while it speaks."""

    name = "none"

    def played(self, audio: Audio, at_s: float | None = None) -> None:
        pass

    def process(self, chunk: Audio, at_s: float | None = None) -> Audio:
        return chunk

    def reset(self) -> None:
        pass


class ServerCanceller(NoCanceller):
    """The sound server cancels the echo: the configured microphone is its echo-cancelled
    source (PulseAudio ``module-echo-cancel``, PipeWire ``libpipewire-module-echo-cancel``) and
    the answers play through its sink. Nothing to do in-process."""

    name = "server"


class TimedCanceller:
    """What every in-process canceller shares: what is played is kept on a timeline, and each
    10 ms microphone frame is cancelled (``_cancel``) beside the reference heard when that frame
    was captured.

    ``played`` places what is played at the time it is heard. The echo's delay then stays the
    same from one answer to the next (the room's, plus what the clocks miss), so the canceller
    does not have to find it again at the start of every answer, whatever the sound card
    buffers and however far the listening thread lags. Clocks: the sink's and the microphone's
    times in monotonic seconds (live), or neither (then the microphone's stream time, and what
    is played follows on in order). While nothing has been played for ``tail_s`` (the echo's
    delay and the room's reverberation), microphone audio passes unprocessed and costs
    nothing. ``played`` (playback thread) and ``process`` (listening thread) share one lock.

    ``align_s`` (a linear canceller's): the echo's delay is measured in the first ``ALIGN_S``
    of each stretch played anew (align.py; meanwhile the microphone passes uncancelled) and the
    reference placed so that the echo follows it by ``align_s``: what the filter learnt stays
    valid from one answer to the next, however differently the sound card starts them."""

    name = "timed"

    def __init__(self, tail_s: float = 1.0, max_reference_s: float = 120.0,
                 lead_s: float = 0.0, align_s: float | None = None) -> None:
        self._lock = threading.Lock()
        self._lead_s = lead_s  # a frame is paired with what is heard this much after it
        self._align_s = align_s
        self._echo_s = 0.0  # the echo's delay as measured, beyond the timeline's
        self._align_from: collections.deque[float] = collections.deque()  # starts to align
        self._align_mic: list[np.ndarray] = []  # microphone frames since then
        self._tail_frames = int(tail_s * 100)
        self._max_reference_s = max_reference_s
        # (time heard, samples at 16 kHz) in the order played; earlier ones dropped as heard
        self._reference: collections.deque[tuple[float, np.ndarray]] = collections.deque()
        self._played_end_s = float("-inf")  # when what was played so far has been heard
        self._mic_s = 0.0  # when the next microphone frame was captured
        self._mic_rest = np.zeros(0, np.int16)  # under a frame of microphone, waiting
        self._out = np.zeros(0, np.int16)  # processed, not yet returned
        self._lag = 0  # samples the output sits behind the input (< FRAME)
        self._quiet_frames = self._tail_frames  # frames since the last reference frame

    def _cancel(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """One 10 ms microphone frame, with the echo of ``ref`` (heard meanwhile) removed."""
        raise NotImplementedError

    def played(self, audio: Audio, at_s: float | None = None) -> None:
        if audio.rate_hz != PIPELINE_RATE_HZ:
            audio = to_pipeline(audio.samples, audio.rate_hz)
        with self._lock:
            start = at_s if at_s is not None else max(self._played_end_s, self._mic_s)
            if self._align_s is not None and start > self._played_end_s + GAP_S:
                self._align_from.append(start)
            self._reference.append((start, audio.samples))
            self._played_end_s = start + audio.duration_s
            while self._played_end_s - self._reference[0][0] > self._max_reference_s:
                self._reference.popleft()

    def process(self, chunk: Audio, at_s: float | None = None) -> Audio:
        if chunk.rate_hz != PIPELINE_RATE_HZ:
            raise ValueError(f"the echo canceller takes {PIPELINE_RATE_HZ} Hz microphone audio, "
                             f"not {chunk.rate_hz} Hz")
        with self._lock:
            start_s = (at_s if at_s is not None else chunk.timestamp_ms / 1000.0)
            start_s -= self._mic_rest.size / PIPELINE_RATE_HZ
            data = np.concatenate([self._mic_rest, chunk.samples])
            whole = len(data) // FRAME * FRAME
            frames = [self._frame(f, start_s + k / 100.0)
                      for k, f in enumerate(data[:whole].reshape(-1, FRAME))]
            self._mic_rest = data[whole:]
            self._mic_s = start_s + whole / PIPELINE_RATE_HZ
            out = np.concatenate([self._out, *frames])
            need = len(chunk.samples)
            if len(out) < need:  # a chunk that ends mid-frame: the output lags by the rest
                self._lag += need - len(out)
                out = np.concatenate([np.zeros(need - len(out), np.int16), out])
            self._out = out[need:]
            lag_ms = 1000.0 * self._lag / PIPELINE_RATE_HZ
        return Audio(out[:need].copy(), PIPELINE_RATE_HZ, chunk.timestamp_ms - lag_ms)

    def _heard_at(self, t_s: float, n: int = FRAME) -> np.ndarray | None:
        """The ``n`` samples of reference heard from ``t_s`` on (zeros where nothing played),
        or None if nothing was; what was heard ``KEEP_S`` before it is dropped."""
        while self._reference and (self._reference[0][0] + self._reference[0][1].size
                                   / PIPELINE_RATE_HZ <= t_s - KEEP_S):
            self._reference.popleft()
        ref = None
        for start_s, samples in self._reference:
            a = int(round((t_s - start_s) * PIPELINE_RATE_HZ))
            if a >= samples.size:
                continue
            if a + n <= 0:
                break  # played later (in order)
            ref = np.zeros(n, np.int16) if ref is None else ref
            lo, hi = max(a, 0), min(a + n, samples.size)
            ref[lo - a:hi - a] = samples[lo:hi]
        return ref

    def _frame(self, mic: np.ndarray, t_s: float) -> np.ndarray:
        ref = self._heard_at(t_s + self._lead_s - self._echo_s)
        self._quiet_frames = 0 if ref is not None else self._quiet_frames + 1
        if self._quiet_frames > self._tail_frames:
            return mic
        while len(self._align_from) > 1 and t_s >= self._align_from[1]:
            self._align_from.popleft()  # a newer start: the older one was never heard
            self._align_mic = []
        if self._align_from and t_s >= self._align_from[0]:
            self._align_mic.append(mic)
            if len(self._align_mic) * FRAME >= ALIGN_S * PIPELINE_RATE_HZ:
                self._align(t_s + 1 / 100 - len(self._align_mic) * FRAME / PIPELINE_RATE_HZ)
            return mic  # uncancelled until the echo is found
        return self._cancel(mic, ref if ref is not None else np.zeros(FRAME, np.int16))

    def _align(self, start_s: float) -> None:
        """Find the echo in the microphone since ``start_s`` (align.py) and place the reference
        by it; with too little of the answer heard yet, wait for more (up to ALIGN_MAX_S)."""
        from .align import echo_offset

        mic = np.concatenate(self._align_mic)
        back_s = self._align_s + 0.25  # look for the echo up to this much later than now
        ref_s = start_s + self._lead_s - self._echo_s - back_s
        span = self._heard_at(ref_s, len(mic) + int((back_s + 0.05) * PIPELINE_RATE_HZ))
        k = echo_offset(mic, span) if span is not None else None
        if k is None and len(mic) < ALIGN_MAX_S * PIPELINE_RATE_HZ:
            return
        self._align_from.popleft()
        self._align_mic = []
        if k is not None:  # the echo follows the reference by back_s - k/rate
            self._echo_s += back_s - k / PIPELINE_RATE_HZ - self._align_s
            log.debug("echo canceller: the echo comes %.1f ms after the timeline says",
                      1000 * (self._echo_s + self._align_s - self._lead_s))

    def reset(self) -> None:
        """Forget the reference not yet heard (an answer cut short); the canceller keeps what
        it learnt of the room."""
        with self._lock:
            self._reference.clear()
            self._played_end_s = float("-inf")
            self._align_from.clear()
            self._align_mic = []


class LiveKitCanceller(TimedCanceller):
    """WebRTC's echo canceller (AEC3), noise suppressor and high-pass filter, in-process. Its
    echo suppressor removes the most echo but damages a voice speaking over it
    (docs/interrupt.md)."""

    name = "livekit"

    def __init__(self, noise_suppression: bool = True, auto_gain_control: bool = False,
                 tail_s: float = 1.0, max_reference_s: float = 120.0,
                 stream_delay_ms: int | None = None) -> None:
        super().__init__(tail_s, max_reference_s)
        self._rtc = _import_rtc()
        try:
            self._apm = self._rtc.AudioProcessingModule(
                echo_cancellation=True, noise_suppression=noise_suppression,
                high_pass_filter=True, auto_gain_control=auto_gain_control)
        except Exception as exc:
            raise InterruptError(f"the livekit echo canceller failed to start ({exc}); "
                                 f"reinstall it: {INSTALL}", code="canceller-start") from exc
        self._delay_ms = stream_delay_ms  # a hint of the echo's delay; AEC3 finds it anyway

    def _cancel(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        rtc: Any = self._rtc
        self._apm.process_reverse_stream(rtc.AudioFrame(ref.tobytes(), PIPELINE_RATE_HZ, 1,
                                                        FRAME))
        near = rtc.AudioFrame(mic.tobytes(), PIPELINE_RATE_HZ, 1, FRAME)
        if self._delay_ms is not None:
            self._apm.set_stream_delay_ms(self._delay_ms)
        self._apm.process_stream(near)
        return np.frombuffer(near.data, np.int16).copy()


def _import_rtc() -> Any:
    try:
        from livekit import rtc
    except ModuleNotFoundError as exc:
        if (exc.name or "livekit").split(".")[0] != "livekit":
            raise InterruptError(f"the livekit echo canceller cannot load ({exc}); reinstall "
                                 f"it: {INSTALL}", code="canceller-start") from exc
        raise InterruptError(f"interrupt.canceller livekit needs the livekit package: {INSTALL}; "
                             "or set interrupt.canceller to server or none",
                             code="missing-package") from exc
    except Exception as exc:  # its native library did not load (an unsupported machine)
        raise InterruptError(f"the livekit echo canceller cannot load ({exc}); reinstall it: "
                             f"{INSTALL}", code="canceller-start") from exc
    return rtc


def load_canceller(name: str) -> Canceller:
    """The echo canceller called ``name``; InterruptError (one line) says what to install or
    which names exist."""
    if name == "livekit":
        return LiveKitCanceller()
    if name == "speex":
        from .speex import SpeexCanceller

        return SpeexCanceller()
    if name == "server":
        return ServerCanceller()
    if name == "none":
        return NoCanceller()
    raise InterruptError(f"unknown echo canceller {name!r}; use one of: {', '.join(NAMES)}",
                         code="unknown-canceller")
