"""Whisper's log-mel features in numpy: 80 mel bands of 25 ms windows every 10 ms at 16 kHz.

Whisper-family models (and smart-turn, which reuses Whisper's encoder) take exactly these
features, so they are computed here without librosa, torch or faster-whisper:

  * a centred short-time Fourier transform: the signal reflect-padded by half a window on
    both sides, a periodic Hann window of 400 samples, a hop of 160, the power spectrum;
  * 80 triangular mel filters on the Slaney mel scale (linear below 1 kHz, logarithmic above),
    each normalised to unit area (librosa's ``norm="slaney"``), 0 Hz to 8 kHz;
  * ``log10`` of the band energies (floored at 1e-10), the last frame dropped (Whisper's
    convention: ``n_samples / 160`` frames), clipped to 8 decades below the loudest value,
    then scaled as ``(x + 4) / 4``.

``tests/test_mel.py`` checks the result against faster-whisper's own feature extractor when
that package is installed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RATE_HZ = 16000
N_FFT = 400
HOP = 160
N_MELS = 80


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, np.float64)
    mel = 3.0 * hz / 200.0
    high = hz >= 1000.0
    return np.where(high, 15.0 + 27.0 * np.log(np.maximum(hz, 1e-9) / 1000.0) / np.log(6.4),
                    mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    hz = 200.0 * mel / 3.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(np.log(6.4) * (mel - 15.0) / 27.0), hz)


@lru_cache(maxsize=4)
def mel_filters(n_mels: int = N_MELS, n_fft: int = N_FFT, rate_hz: int = RATE_HZ) -> np.ndarray:
    """The [n_mels, n_fft // 2 + 1] filterbank (Slaney scale, unit-area triangles)."""
    fft_hz = np.linspace(0.0, rate_hz / 2.0, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(rate_hz / 2.0), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=4)
def _filters_t(n_mels: int) -> np.ndarray:
    """The filterbank transposed and contiguous (a strided operand is 10x slower in BLAS)."""
    t = np.ascontiguousarray(mel_filters(n_mels).T)
    t.flags.writeable = False
    return t


@lru_cache(maxsize=2)
def _window(n_fft: int) -> np.ndarray:
    w = np.hanning(n_fft + 1)[:-1]  # periodic
    w.flags.writeable = False
    return w


def power_spectrogram(x: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """|STFT|^2, centred (reflect padding), one row per frame: [1 + len(x) // hop,
    n_fft // 2 + 1]."""
    x = np.asarray(x, np.float64)
    padded = np.pad(x, n_fft // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    spectrum = np.fft.rfft(frames * _window(n_fft), axis=1)
    return spectrum.real ** 2 + spectrum.imag ** 2


def log_mel(x: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """Whisper's log-mel features of 16 kHz float samples: float32 [n_mels, len(x) // 160]."""
    x = np.asarray(x)
    if x.ndim != 1 or len(x) < N_FFT // 2 + 1:
        raise ValueError(f"log_mel needs one channel of at least {N_FFT // 2 + 1} samples, "
                         f"got shape {x.shape}")
    power = np.ascontiguousarray(power_spectrogram(x)[:-1])
    bands = power @ _filters_t(n_mels)  # [frames, n_mels]
    logs = np.log10(np.maximum(bands.T, 1e-10))
    logs = np.maximum(logs, logs.max() - 8.0)
    return ((logs + 4.0) / 4.0).astype(np.float32)


__all__ = ["HOP", "N_FFT", "N_MELS", "RATE_HZ", "log_mel", "mel_filters", "power_spectrogram"]
