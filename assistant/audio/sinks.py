"""Where spoken answers go: the loudspeaker, WAV files, or nowhere (benchmarks)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from ..errors import AudioError
from .files import write_wav
from .types import Audio


class Sink(Protocol):
    def play(self, audio: Audio) -> None:
        """Play (or store) ``audio``; returns when it has finished."""
        ...


class SpeakerSink:
    """The loudspeaker through PortAudio. Blocks until the answer has been played."""

    def __init__(self, device: str | int | None = None) -> None:
        self.device = device

    def play(self, audio: Audio) -> None:
        import sounddevice as sd

        from .devices import open_output_rate, resolve_output

        index = resolve_output(self.device)
        rate = open_output_rate(index, audio.rate_hz)
        samples = audio.samples
        if rate != audio.rate_hz:
            from .types import to_pipeline

            samples = to_pipeline(samples, audio.rate_hz, out_rate_hz=rate).samples
        try:
            sd.play(samples, rate, device=index, blocking=True)
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot play on output device {self.device!r} ({exc}); see "
                             "`assistant devices`", code="output") from exc


class WavDirSink:
    """Writes each answer as answer_001.wav, answer_002.wav, ... (``--out DIR``)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.written: list[Path] = []

    def play(self, audio: Audio) -> None:
        path = self.folder / f"answer_{len(self.written) + 1:03d}.wav"
        self.written.append(write_wav(path, audio))


class NullSink:
    """Discards audio, remembering when each answer's first sample was handed over."""

    def __init__(self, realtime: bool = False) -> None:
        self.realtime = realtime
        self.first_sample_at: list[float] = []

    def play(self, audio: Audio) -> None:
        self.first_sample_at.append(time.perf_counter())
        if self.realtime:
            time.sleep(audio.duration_s)
