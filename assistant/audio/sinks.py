"""Where spoken answers go: the loudspeaker, WAV files, or nowhere (benchmarks).

``play_stream`` takes an answer as it is rendered, part by part (sentence by sentence): the
loudspeaker plays the first part while the rest are still being synthesized."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import AudioError
from .files import write_wav
from .types import Audio, to_pipeline

log = logging.getLogger("assistant.audio")


class Interruption(Protocol):
    """What a sink is given to make an answer interruptible (assistant/interrupt/barge.py)."""

    stopped: threading.Event  # set: stop playing now
    held: threading.Event  # set: play silence instead, until cleared (go on) or stopped

    def played(self, audio: Audio, at_s: float | None = None) -> None:
        """Called with each block just before it is written, and when (``time.monotonic()``)
        it will be heard: the echo canceller's reference."""
        ...


class Sink(Protocol):
    def play(self, audio: Audio) -> None:
        """Play (or store) ``audio``; returns when it has finished."""
        ...

    def play_stream(self, parts: Iterable[Audio], interrupt: Interruption | None = None) -> None:
        """Play the parts of one answer back to back; returns when the last has finished, or
        soon after ``interrupt.stopped`` is set (what is left is dropped)."""
        ...


BLOCK_S = 0.04  # an interruptible answer is written in blocks this long
UNDERRUN_S = 0.03  # a block this much later than those before it follows a gap in playback
HOLD_MAX_S = 2.0  # an answer held longer than this goes on by itself


class SpeakerSink:
    """The loudspeaker through PortAudio. Blocks until the answer has been played.

    The output stream is opened once (``open``, or at the first answer) and kept, stopped,
    between answers: a stopped stream costs no CPU, and the next answer's first sample does
    not wait for the device to open."""

    streams = True  # plays part by part: a live answer is rendered sentence by sentence

    def __init__(self, device: str | int | None = None, latency: str | float = "high") -> None:
        self.device = device
        # "high" (PortAudio's safe default) or "low": an interruptible answer wants little
        # sound queued ahead of the loudspeaker (what is queued still plays after a stop, and
        # the echo canceller sees the reference that much ahead of its echo)
        self.latency = latency
        self._stream: Any = None
        self.rate_hz: int | None = None
        self._heard_s = 0.0  # when what was written so far will have been heard (monotonic)

    def open(self, rate_hz: int) -> None:
        """Open the device ahead of the first answer (at ``rate_hz`` if it takes it)."""
        import sounddevice as sd

        from .devices import open_output_rate, resolve_output

        if self._stream is not None:
            return
        try:
            index = resolve_output(self.device)
            rate = open_output_rate(index, rate_hz)
            self._stream = sd.OutputStream(samplerate=rate, device=index, channels=1,
                                           dtype="int16", latency=self.latency)
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot open output device {self.device!r} ({exc}); see "
                             "`assistant devices`", code="output") from exc
        self.rate_hz = rate
        log.debug("loudspeaker open: %d Hz, %.0f ms output latency", rate,
                  1000 * self._stream.latency)

    def play(self, audio: Audio) -> None:
        self.play_stream([audio])

    def play_stream(self, parts: Iterable[Audio], interrupt: Interruption | None = None) -> None:
        import sounddevice as sd

        try:
            started = False
            for audio in parts:
                self.open(audio.rate_hz)
                assert self.rate_hz is not None
                samples = audio.samples
                if audio.rate_hz != self.rate_hz:
                    samples = to_pipeline(samples, audio.rate_hz, out_rate_hz=self.rate_hz).samples
                if not started:
                    self._stream.start()
                    self._heard_s = 0.0
                    started = True
                if interrupt is None:
                    self._stream.write(samples)
                elif not self._write_interruptible(samples, interrupt):
                    self._stream.abort()  # drops what the device has not played yet
                    return
            if started:
                self._stream.stop()  # waits until the last sample has been played
        except sd.PortAudioError as exc:
            self.close()  # a vanished device: reopen at the next answer
            raise AudioError(f"cannot play on output device {self.device!r} ({exc}); see "
                             "`assistant devices`", code="output") from exc

    def _write_interruptible(self, samples: np.ndarray, interrupt: Interruption) -> bool:
        """Write in short blocks, each handed to the canceller first with the time it will be
        heard; False once stopped. A block is heard when the ones before it have been (the
        device plays samples back to back: scheduling jitter must not move the echo), or, if
        they have been heard for a while (the answer's start, playback that ran dry), after the
        device's output latency: the canceller sees the same delay from one answer to the
        next."""
        assert self.rate_hz is not None
        step = int(self.rate_hz * BLOCK_S)
        silence = Audio(np.zeros(step, np.int16), self.rate_hz)
        for i in range(0, len(samples), step):
            for _ in held_blocks(interrupt):
                self._write_block(silence, interrupt)  # the stream runs on: no re-anchoring
            if interrupt.stopped.is_set():
                return False
            self._write_block(Audio(samples[i:i + step], self.rate_hz), interrupt)
        return not interrupt.stopped.is_set()

    def _write_block(self, block: Audio, interrupt: Interruption) -> None:
        at_s = time.monotonic() + self._stream.latency
        if at_s < self._heard_s + UNDERRUN_S:  # it follows on: heard once those before are
            at_s = self._heard_s
        interrupt.played(block, at_s)
        self._heard_s = at_s + block.duration_s
        self._stream.write(block.samples)

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            except Exception:
                pass
        self._stream = None
        self.rate_hz = None


class WavDirSink:
    """Writes each answer as answer_001.wav, answer_002.wav, ... (``--out DIR``), and each
    earcon as earcon_NNN_KIND.wav in the same sequence, so the order of both can be read."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.written: list[Path] = []
        self._lock = threading.Lock()  # answers (pipeline thread) and earcons (listening)

    def play(self, audio: Audio) -> None:
        self.write(audio)

    def write(self, audio: Audio, earcon: str | None = None) -> Path:
        """Write ``audio`` as the next file: an answer, or the earcon of kind ``earcon``."""
        with self._lock:
            n = len(self.written) + 1
            name = (f"answer_{n:03d}.wav" if earcon is None
                    else f"earcon_{n:03d}_{earcon.replace(' ', '_')}.wav")
            self.written.append(write_wav(self.folder / name, audio))
            return self.written[-1]

    def play_stream(self, parts: Iterable[Audio], interrupt: Interruption | None = None) -> None:
        self.play(_joined(list(parts)))  # a file is written whole: nothing to interrupt


class NullSink:
    """Discards audio, remembering when each answer's first sample was handed over."""

    def __init__(self, realtime: bool = False) -> None:
        self.realtime = realtime
        self.first_sample_at: list[float] = []

    def play(self, audio: Audio) -> None:
        self.play_stream([audio])

    def play_stream(self, parts: Iterable[Audio], interrupt: Interruption | None = None) -> None:
        for i, audio in enumerate(parts):
            if i == 0:
                self.first_sample_at.append(time.perf_counter())
            if self.realtime and interrupt is None:
                time.sleep(audio.duration_s)
            elif self.realtime:  # as the loudspeaker would: block by block, stoppable
                step = int(audio.rate_hz * BLOCK_S)
                for j in range(0, len(audio.samples), step):
                    for _ in held_blocks(interrupt):
                        time.sleep(BLOCK_S)
                    if interrupt.stopped.is_set():
                        return
                    block = Audio(audio.samples[j:j + step], audio.rate_hz)
                    interrupt.played(block)
                    time.sleep(block.duration_s)


def held_blocks(interrupt: Interruption) -> Iterable[None]:
    """One item per BLOCK_S the answer is held (a stop phrase is being checked), at most
    HOLD_MAX_S; ends when the hold is cleared or the answer stopped."""
    for _ in range(int(HOLD_MAX_S / BLOCK_S)):
        if not interrupt.held.is_set() or interrupt.stopped.is_set():
            return
        yield None


def _joined(parts: list[Audio]) -> Audio:
    """One Audio from parts that may differ in rate (converted to the first's)."""
    if not parts:
        return Audio.silence(0.0)
    rate = parts[0].rate_hz
    return Audio.concat([p if p.rate_hz == rate else to_pipeline(p.samples, p.rate_hz,
                                                                  out_rate_hz=rate)
                         for p in parts])
