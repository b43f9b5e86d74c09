"""The one audio type. It carries its format, so no stage guesses a rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PIPELINE_RATE_HZ = 16000
"""The rate every stage after the edge works at."""


@dataclass(frozen=True)
class Audio:
    """Mono 16-bit PCM samples with their rate. ``timestamp_ms`` is where the first sample sits
    in the stream it came from (0 for a file)."""

    samples: np.ndarray  # int16, shape (n,)
    rate_hz: int = PIPELINE_RATE_HZ
    timestamp_ms: float = 0.0

    def __post_init__(self) -> None:
        if self.samples.dtype != np.int16 or self.samples.ndim != 1:
            raise ValueError("Audio.samples must be a 1-D int16 array; use to_pipeline()")

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate_hz

    @property
    def end_ms(self) -> float:
        return self.timestamp_ms + 1000.0 * self.duration_s

    @property
    def pcm(self) -> bytes:
        return self.samples.tobytes()

    def as_float(self) -> np.ndarray:
        """Samples as float32 in [-1, 1), what neural recognizers take."""
        return self.samples.astype(np.float32) / 32768.0

    @classmethod
    def concat(cls, parts: list[Audio]) -> Audio:
        if not parts:
            return cls(np.zeros(0, np.int16))
        return cls(np.concatenate([p.samples for p in parts]), parts[0].rate_hz,
                   parts[0].timestamp_ms)

    @classmethod
    def silence(cls, seconds: float, rate_hz: int = PIPELINE_RATE_HZ) -> Audio:
        return cls(np.zeros(int(round(seconds * rate_hz)), np.int16), rate_hz)


def trim_lead(audio: Audio, floor_db: float = -60.0, keep_s: float = 0.01) -> Audio:
    """``audio`` without the near-silence before its first sound (10 ms windows quieter than
    ``floor_db`` dBFS RMS), keeping ``keep_s`` of it. Piper starts answers with 30-250 ms of
    silence: time the listener waits for nothing."""
    win = max(1, audio.rate_hz // 100)
    x = audio.samples[: len(audio.samples) // win * win].astype(np.float64).reshape(-1, win)
    power = (x * x).mean(axis=1) / 32768.0 ** 2
    loud = np.nonzero(power > 10.0 ** (floor_db / 10.0))[0]
    start = max(0, int(loud[0]) * win - int(keep_s * audio.rate_hz)) if len(loud) else 0
    if start == 0:
        return audio
    return Audio(audio.samples[start:], audio.rate_hz, audio.timestamp_ms)


def to_pipeline(data: np.ndarray, rate_hz: int, timestamp_ms: float = 0.0,
                out_rate_hz: int = PIPELINE_RATE_HZ) -> Audio:
    """Convert any PCM block (int16/int32/float, mono or (n, channels)) to pipeline audio:
    channels averaged, resampled with soxr, clipped to int16. The one conversion point."""
    x = np.asarray(data)
    if x.dtype == np.int16:
        f = x.astype(np.float32) / 32768.0
    elif x.dtype == np.int32:
        f = x.astype(np.float32) / 2147483648.0
    elif x.dtype == np.uint8:
        f = (x.astype(np.float32) - 128.0) / 128.0
    else:
        f = x.astype(np.float32)
    if f.ndim == 2:  # after scaling: the mean of int16 channels is a float, not a sample
        f = f.mean(axis=1, dtype=np.float32) if f.shape[1] > 1 else f[:, 0]
    if rate_hz != out_rate_hz and len(f):
        import soxr  # lazy: only needed when rates differ

        f = soxr.resample(f, rate_hz, out_rate_hz)
    pcm = np.clip(np.round(f * 32768.0), -32768, 32767).astype(np.int16)
    return Audio(pcm, out_rate_hz, timestamp_ms)


class StreamConverter:
    """Like :func:`to_pipeline` for consecutive blocks of one stream: the resampler keeps its
    state across blocks, so block edges leave no clicks."""

    def __init__(self, rate_hz: int, out_rate_hz: int = PIPELINE_RATE_HZ) -> None:
        self.rate_hz = rate_hz
        self.out_rate_hz = out_rate_hz
        self.stream_ms = 0.0
        self._resampler = None
        if rate_hz != out_rate_hz:
            import soxr

            self._resampler = soxr.ResampleStream(rate_hz, out_rate_hz, 1, dtype="float32")

    def convert(self, block: np.ndarray) -> Audio:
        mono = to_pipeline(block, self.out_rate_hz, out_rate_hz=self.out_rate_hz)
        samples = mono.samples
        if self._resampler is not None:
            f = self._resampler.resample_chunk(samples.astype(np.float32) / 32768.0)
            samples = np.clip(np.round(f * 32768.0), -32768, 32767).astype(np.int16)
        audio = Audio(samples, self.out_rate_hz, self.stream_ms)
        self.stream_ms = audio.end_ms
        return audio

    def flush(self) -> Audio:
        """The resampler's last samples, at the end of the stream."""
        samples = np.zeros(0, np.int16)
        if self._resampler is not None:
            f = self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            samples = np.clip(np.round(f * 32768.0), -32768, 32767).astype(np.int16)
        audio = Audio(samples, self.out_rate_hz, self.stream_ms)
        self.stream_ms = audio.end_ms
        return audio
