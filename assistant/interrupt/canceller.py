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

NAMES = ("livekit", "server", "none")
FRAME = PIPELINE_RATE_HZ // 100  # WebRTC processes 10 ms frames
INSTALL = "pip install 'assistant[interrupt]' (the livekit package)"


class Canceller(Protocol):
    name: str

    def played(self, audio: Audio) -> None:
        """What the loudspeaker starts playing now, at any rate (called by the sink as it hands
        samples to the device)."""
        ...

    def process(self, chunk: Audio) -> Audio:
        """Microphone audio (16 kHz) -> the same span with the echo removed: as many samples,
        possibly up to 10 ms late (``timestamp_ms`` says where they sit)."""
        ...

    def reset(self) -> None:
        """Between answers, or when playback is cut short: forget what was to be played."""
        ...


class NoCanceller:
    """Cancels nothing: with it the assistant stays deaf while it speaks."""

    name = "none"

    def played(self, audio: Audio) -> None:
        pass

    def process(self, chunk: Audio) -> Audio:
        return chunk

    def reset(self) -> None:
        pass


class ServerCanceller(NoCanceller):
    """The sound server cancels the echo: the configured microphone is its echo-cancelled
    source (PulseAudio ``module-echo-cancel``, PipeWire ``libpipewire-module-echo-cancel``) and
    the answers play through its sink. Nothing to do in-process."""

    name = "server"


class LiveKitCanceller:
    """WebRTC's echo canceller (AEC3), noise suppressor and high-pass filter, in-process.

    ``played`` queues the reference; ``process`` releases one 10 ms reference frame to the
    canceller per 10 ms microphone frame, as a full-duplex sound card would, so a sink may hand
    over a whole sentence at once. While nothing has been played for ``tail_s`` (the echo's
    delay and the room's reverberation), microphone audio passes unprocessed and costs nothing.
    ``played`` (playback thread) and ``process`` (listening thread) share one lock."""

    name = "livekit"

    def __init__(self, noise_suppression: bool = True, auto_gain_control: bool = False,
                 tail_s: float = 1.0, max_reference_s: float = 120.0,
                 stream_delay_ms: int | None = None) -> None:
        self._rtc = _import_rtc()
        try:
            self._apm = self._rtc.AudioProcessingModule(
                echo_cancellation=True, noise_suppression=noise_suppression,
                high_pass_filter=True, auto_gain_control=auto_gain_control)
        except Exception as exc:
            raise InterruptError(f"the livekit echo canceller failed to start ({exc}); "
                                 f"reinstall it: {INSTALL}", code="canceller-start") from exc
        self._delay_ms = stream_delay_ms  # a hint of the echo's delay; AEC3 finds it anyway
        self._lock = threading.Lock()
        self._tail_frames = int(tail_s * 100)
        self._reference: collections.deque[np.ndarray] = collections.deque(
            maxlen=int(max_reference_s * 100))
        self._ref_rest = np.zeros(0, np.int16)  # under a frame of reference, waiting
        self._mic_rest = np.zeros(0, np.int16)  # under a frame of microphone, waiting
        self._out = np.zeros(0, np.int16)  # processed, not yet returned
        self._lag = 0  # samples the output sits behind the input (< FRAME)
        self._quiet_frames = self._tail_frames  # frames since the last reference frame

    def played(self, audio: Audio) -> None:
        if audio.rate_hz != PIPELINE_RATE_HZ:
            audio = to_pipeline(audio.samples, audio.rate_hz)
        with self._lock:
            data = np.concatenate([self._ref_rest, audio.samples])
            whole = len(data) // FRAME * FRAME
            self._reference.extend(data[:whole].reshape(-1, FRAME))
            self._ref_rest = data[whole:]

    def process(self, chunk: Audio) -> Audio:
        if chunk.rate_hz != PIPELINE_RATE_HZ:
            raise ValueError(f"the echo canceller takes {PIPELINE_RATE_HZ} Hz microphone audio, "
                             f"not {chunk.rate_hz} Hz")
        with self._lock:
            data = np.concatenate([self._mic_rest, chunk.samples])
            whole = len(data) // FRAME * FRAME
            frames = [self._frame(f) for f in data[:whole].reshape(-1, FRAME)]
            self._mic_rest = data[whole:]
            out = np.concatenate([self._out, *frames])
            need = len(chunk.samples)
            if len(out) < need:  # a chunk that ends mid-frame: the output lags by the rest
                self._lag += need - len(out)
                out = np.concatenate([np.zeros(need - len(out), np.int16), out])
            self._out = out[need:]
            lag_ms = 1000.0 * self._lag / PIPELINE_RATE_HZ
        return Audio(out[:need].copy(), PIPELINE_RATE_HZ, chunk.timestamp_ms - lag_ms)

    def _frame(self, mic: np.ndarray) -> np.ndarray:
        """One 10 ms microphone frame through the canceller, beside its reference frame."""
        ref = self._reference.popleft() if self._reference else None
        if ref is None and self._ref_rest.size:  # the end of what was played
            ref = np.pad(self._ref_rest, (0, FRAME - self._ref_rest.size))
            self._ref_rest = np.zeros(0, np.int16)
        self._quiet_frames = 0 if ref is not None else self._quiet_frames + 1
        if self._quiet_frames > self._tail_frames:
            return mic
        rtc: Any = self._rtc
        far = rtc.AudioFrame((ref if ref is not None else np.zeros(FRAME, np.int16)).tobytes(),
                             PIPELINE_RATE_HZ, 1, FRAME)
        self._apm.process_reverse_stream(far)
        near = rtc.AudioFrame(mic.tobytes(), PIPELINE_RATE_HZ, 1, FRAME)
        if self._delay_ms is not None:
            self._apm.set_stream_delay_ms(self._delay_ms)
        self._apm.process_stream(near)
        return np.frombuffer(near.data, np.int16).copy()

    def reset(self) -> None:
        """Forget the reference not yet heard (an answer cut short); the canceller keeps what
        it learnt of the room."""
        with self._lock:
            self._reference.clear()
            self._ref_rest = np.zeros(0, np.int16)


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
    if name == "server":
        return ServerCanceller()
    if name == "none":
        return NoCanceller()
    raise InterruptError(f"unknown echo canceller {name!r}; use one of: {', '.join(NAMES)}",
                         code="unknown-canceller")
