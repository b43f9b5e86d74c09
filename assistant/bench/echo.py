"""Simulated loudspeaker echo and how much of it an echo canceller removes.

``room_echo`` turns what the assistant plays into what its microphone hears of it: delayed (the
sound card's latency plus the way through the air), with a room's reverberation, at a level.
``erle_db`` is the echo return loss enhancement: dB of that echo an echo canceller removed.
``kept_db`` is how much of a near-end talker (someone saying "stop") survives the canceller.
Used by tests/test_interrupt_canceller.py and benchmarks/echo_cancel.py.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from ..audio.types import Audio


def room_echo(audio: Audio, delay_ms: float = 40.0, reverb: float | None = 50.0,
              gain_db: float = -6.0, seed: int = 0) -> Audio:
    """What a microphone hears of ``audio`` played by a loudspeaker beside it: ``audio``
    delayed by ``delay_ms``, reverberated (``reverb``: sox's reverberance 0-100, None = none),
    scaled by ``gain_db``; same length and timestamp as ``audio`` (the tail is cut), so sample
    i of the echo is what the microphone hears at the time of sample i of ``audio``.

    The reverberation is sox's ``reverb`` when sox is installed, else a decaying-noise impulse
    response of similar length (``seed`` fixes it)."""
    x = audio.samples.astype(np.float64) / 32768.0
    if reverb is not None and reverb > 0:
        x = _sox_reverb(x, audio.rate_hz, reverb) if shutil.which("sox") else \
            _numpy_reverb(x, audio.rate_hz, reverb, seed)
    shift = int(round(delay_ms * audio.rate_hz / 1000.0))
    y = np.concatenate([np.zeros(shift), x])[: len(audio.samples)]
    y = np.pad(y, (0, len(audio.samples) - len(y))) * 10.0 ** (gain_db / 20.0)
    pcm = np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)
    return Audio(pcm, audio.rate_hz, audio.timestamp_ms)


def _sox_reverb(x: np.ndarray, rate_hz: int, reverberance: float) -> np.ndarray:
    """sox's reverb (wet and dry) on float samples; scaled down first so it never clips."""
    headroom = 0.25
    fmt = ["-t", "raw", "-r", str(rate_hz), "-e", "floating-point", "-b", "32", "-c", "1"]
    out = subprocess.run(["sox", *fmt, "-", *fmt, "-", "reverb", f"{reverberance:g}"],
                         input=(x * headroom).astype(np.float32).tobytes(),
                         capture_output=True, check=True, timeout=120)
    y = np.frombuffer(out.stdout, np.float32).astype(np.float64) / headroom
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def _numpy_reverb(x: np.ndarray, rate_hz: int, reverberance: float, seed: int) -> np.ndarray:
    """The direct sound plus a tail of exponentially decaying noise (RT60 up to ~0.6 s at
    reverberance 100), convolved by FFT."""
    rt60_s = 0.1 + 0.5 * reverberance / 100.0
    n = int(rt60_s * rate_hz)
    t = np.arange(n) / rate_hz
    tail = np.random.default_rng(seed).standard_normal(n) * 10.0 ** (-3.0 * t / rt60_s)
    tail[: int(0.005 * rate_hz)] = 0.0  # the first reflections arrive a few ms late
    ir = 0.35 * tail / np.sqrt(np.sum(tail**2))
    ir[0] = 1.0
    size = 1 << int(np.ceil(np.log2(len(x) + n)))
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)
    return y[: len(x)]


def energy_db(samples: np.ndarray) -> float:
    """Mean power in dB relative to int16 full scale (-inf guarded at -200)."""
    x = samples.astype(np.float64) / 32768.0
    return 10.0 * float(np.log10(max(float(np.mean(x * x)) if len(x) else 0.0, 1e-20)))


def erle_db(echo_at_mic: Audio, cancelled: Audio, skip_s: float = 0.0) -> float:
    """Echo return loss enhancement: the power of the echo at the microphone over the power of
    what is left after cancelling it, in dB, after the first ``skip_s`` (the canceller's
    convergence). Both hold the echo alone, on the same time span."""
    start = int(skip_s * echo_at_mic.rate_hz)
    n = min(len(echo_at_mic.samples), len(cancelled.samples))
    return energy_db(echo_at_mic.samples[start:n]) - energy_db(cancelled.samples[start:n])


def kept_db(talker: Audio, cancelled_mix: Audio, cancelled_echo: Audio) -> float:
    """How much of a near-end talker survives a canceller, in dB (0 = all of it): the power
    the talker adds to the canceller's output (its output on talker + echo minus its output on
    the echo alone, as powers, where the talker speaks) over the talker's own power there.
    All three are on the same time span."""
    loud = np.abs(talker.samples.astype(np.int32)) > 0.05 * np.abs(talker.samples).max()
    idx = np.nonzero(loud)[0]
    span = slice(int(idx[0]), int(idx[-1]) + 1) if len(idx) else slice(0, 0)
    added = _power(cancelled_mix.samples[span]) - _power(cancelled_echo.samples[span])
    return 10.0 * float(np.log10(max(added, 1e-20) / max(_power(talker.samples[span]), 1e-20)))


def _power(samples: np.ndarray) -> float:
    x = samples.astype(np.float64) / 32768.0
    return float(np.mean(x * x)) if len(x) else 0.0
