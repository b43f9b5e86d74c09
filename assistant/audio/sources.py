"""Where audio comes from: the microphone (PortAudio) or a file replayed like one.

Both yield pipeline :class:`Audio` chunks (16 kHz mono int16) with stream timestamps; the
conversion from the device's or file's format happens here and nowhere else.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..config import AudioConfig
from ..errors import AudioError
from .files import read_audio
from .types import PIPELINE_RATE_HZ, Audio, StreamConverter

log = logging.getLogger(__name__)

_CLOCK_SETTLE_BLOCKS = 100  # blocks whose earliest capture time sets the microphone's clock
_CLOCK_SLIP_S = 0.02  # a later estimate this far off moves it (the sound card's clock drifted)


class Source(Protocol):
    realtime: bool  # True when audio arrives at the pace it was spoken

    def chunks(self, stop: threading.Event) -> Iterator[Audio]:
        """Yield audio until the source ends or ``stop`` is set. Raises AudioError."""
        ...


class FileSource:
    """A recording replayed block by block, at real-time pace or as fast as possible."""

    def __init__(self, path: str | Path, block_ms: int = 30, realtime: bool = True) -> None:
        self.audio = read_audio(path)
        self.block = PIPELINE_RATE_HZ * block_ms // 1000
        self.realtime = realtime
        self.started_at: float | None = None  # perf_counter() when stream time 0 was "now"

    def chunks(self, stop: threading.Event) -> Iterator[Audio]:
        samples = self.audio.samples
        start = time.monotonic()
        self.started_at = time.perf_counter()
        for offset in range(0, len(samples), self.block):
            if stop.is_set():
                return
            ts_ms = 1000.0 * offset / PIPELINE_RATE_HZ
            if self.realtime:
                delay = start + ts_ms / 1000.0 - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    return
            yield Audio(samples[offset:offset + self.block], PIPELINE_RATE_HZ, ts_ms)


class MicrophoneSource:
    """sounddevice input stream; its callback only copies into a bounded queue. A full queue
    counts an overflow and drops the block: logged, never fatal. A stream that stops (device
    unplugged, sound server gone) or goes silent for ``stall_s`` raises AudioError; the next
    ``chunks()`` re-reads the device list first, so a device plugged back in is found."""

    realtime = True
    stall_s = 10.0  # no block at all for this long (silence still delivers blocks): lost

    def __init__(self, cfg: AudioConfig) -> None:
        self.cfg = cfg
        self.overflows = 0
        # (block, when its first sample was captured: time.monotonic())
        self._queue: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(
            maxsize=cfg.queue_blocks)
        self._status_errors = 0
        self._opened = 0
        self._latency_s = 0.0  # the input stream's, as PortAudio reports it
        self._offset_s: float | None = None  # capture time - stream time, see capture_s
        self._clock_blocks = 0
        self._slips: collections.deque[float] = collections.deque(maxlen=_CLOCK_SETTLE_BLOCKS)

    def capture_s(self, timestamp_ms: float) -> float:
        """When (``time.monotonic()``) the sample at stream time ``timestamp_ms`` of the
        chunks yielded so far was captured: the echo canceller pairs the microphone with what
        the loudspeaker played then. The earliest estimate of the last blocks (a callback
        may run late, never early): the earliest estimate of the stream's first blocks, then
        held, so that callbacks running late never move the echo in the canceller; moved only
        when the sound card's clock has drifted from the computer's by ``_CLOCK_SLIP_S``)."""
        return timestamp_ms / 1000.0 + (self._offset_s or 0.0)

    def _track_clock(self, offset_s: float) -> None:
        self._clock_blocks += 1
        if self._offset_s is None or (self._clock_blocks <= _CLOCK_SETTLE_BLOCKS
                                      and offset_s < self._offset_s):
            self._offset_s = offset_s
        elif abs(offset_s - self._offset_s) > _CLOCK_SLIP_S:
            self._slips.append(offset_s)
            if len(self._slips) == self._slips.maxlen:  # consistently off: the clock drifted
                self._offset_s = min(self._slips)
                self._slips.clear()
        else:
            self._slips.clear()

    def _open(self) -> tuple[object, int]:
        from .devices import _sd, resolve_device

        sd = _sd()
        if self._opened:
            _refresh_devices(sd)
        self._opened += 1
        self._offset_s, self._clock_blocks = None, 0  # a new stream, a new clock
        while not self._queue.empty():  # blocks left over from a stream that died
            self._queue.get_nowait()
        index = resolve_device(self.cfg.input_device, "input")
        try:
            info = sd.query_devices(index, "input")
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioError(f"no usable microphone ({exc}); plug one in or set "
                             "audio.input_device (see `assistant devices`)", code="no-input"
                             ) from None
        rate = self.cfg.capture_rate_hz or int(info["default_samplerate"])

        def callback(indata: np.ndarray, frames: int, t: Any, status: object) -> None:
            now = time.monotonic()
            if status:
                self._status_errors += 1
            # how long ago the block's first sample was captured, as PortAudio says, or
            # its length and the stream's latency where the host does not tell
            age_s = float(getattr(t, "currentTime", 0.0) - getattr(t, "inputBufferAdcTime", 0.0))
            if not 0.0 < age_s < 1.0:
                age_s = frames / rate + self._latency_s
            try:
                self._queue.put_nowait((indata.copy(), now - age_s))
            except queue.Full:
                self.overflows += 1

        try:
            stream = sd.InputStream(device=index, samplerate=rate, channels=1, dtype="int16",
                                    blocksize=rate * self.cfg.block_ms // 1000,
                                    callback=callback)
            self._latency_s = float(stream.latency)
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioError(f"cannot open microphone {self.cfg.input_device or 'default'!r} "
                             f"at {rate} Hz ({exc}); try audio.capture_rate_hz or another "
                             "device (`assistant devices`)", code="open-input") from None
        log.info("microphone open: %s at %d Hz", info["name"], rate)
        return stream, rate

    def chunks(self, stop: threading.Event) -> Iterator[Audio]:
        stream, rate = self._open()
        converter = StreamConverter(rate)
        reported = 0
        last_block = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    block, captured_s = self._queue.get(timeout=0.1)
                    last_block = time.monotonic()
                except queue.Empty:
                    if not getattr(stream, "active", True):
                        raise AudioError("the microphone stream stopped (device unplugged?)",
                                         code="input-lost") from None
                    if time.monotonic() - last_block > self.stall_s:
                        raise AudioError(f"no audio from the microphone for {self.stall_s:.0f}"
                                         " s", code="input-stalled") from None
                    continue
                chunk = converter.convert(block)
                self._track_clock(captured_s - chunk.timestamp_ms / 1000.0)
                if self.overflows > reported:
                    log.warning("microphone queue overflowed %d time(s): audio was dropped "
                                "(the machine is too busy?)", self.overflows - reported)
                    reported = self.overflows
                yield chunk
        finally:
            try:
                stream.close()  # type: ignore[attr-defined]
            except Exception as exc:  # closing a vanished device may fail; we are leaving
                log.debug("closing the microphone failed: %s", exc)


def _refresh_devices(sd: Any) -> None:
    """PortAudio reads the device list once, when it starts: a microphone plugged in again
    (a new ALSA card) stays invisible until it is re-initialised. Only called between
    streams: the daemon reopens the microphone once the answer in progress has been spoken."""
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:  # an older sounddevice: keep the list it has
        log.debug("could not refresh the PortAudio device list: %s", exc)
