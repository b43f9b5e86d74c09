"""Where audio comes from: the microphone (PortAudio) or a file replayed like one.

Both yield pipeline :class:`Audio` chunks (16 kHz mono int16) with stream timestamps; the
conversion from the device's or file's format happens here and nowhere else.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from ..config import AudioConfig
from ..errors import AudioError
from .files import read_audio
from .types import PIPELINE_RATE_HZ, Audio, StreamConverter

log = logging.getLogger(__name__)


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

    def chunks(self, stop: threading.Event) -> Iterator[Audio]:
        samples = self.audio.samples
        start = time.monotonic()
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
    counts an overflow and drops the block: logged, never fatal."""

    realtime = True

    def __init__(self, cfg: AudioConfig) -> None:
        self.cfg = cfg
        self.overflows = 0
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=cfg.queue_blocks)
        self._status_errors = 0

    def _open(self) -> tuple[object, int]:
        from .devices import _sd, resolve_device

        sd = _sd()
        index = resolve_device(self.cfg.input_device, "input")
        try:
            info = sd.query_devices(index, "input")
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioError(f"no usable microphone ({exc}); plug one in or set "
                             "audio.input_device (see `assistant devices`)", code="no-input"
                             ) from None
        rate = self.cfg.capture_rate_hz or int(info["default_samplerate"])

        def callback(indata: np.ndarray, frames: int, t: object, status: object) -> None:
            if status:
                self._status_errors += 1
            try:
                self._queue.put_nowait(indata.copy())
            except queue.Full:
                self.overflows += 1

        try:
            stream = sd.InputStream(device=index, samplerate=rate, channels=1, dtype="int16",
                                    blocksize=rate * self.cfg.block_ms // 1000,
                                    callback=callback)
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
        try:
            while not stop.is_set():
                try:
                    block = self._queue.get(timeout=0.1)
                except queue.Empty:
                    if not getattr(stream, "active", True):
                        raise AudioError("the microphone stream stopped (device unplugged?)",
                                         code="input-lost")
                    continue
                chunk = converter.convert(block)
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
