"""Where the echo sits: the microphone against what was played, by cross-correlation (pure).

A linear echo canceller (speex) learns the room's echo path relative to the reference it is
given. If the reference moves against the echo (the sound card started an answer a few ms
later than the last one), every tap it learnt is wrong and it learns the room again, for
seconds. Measuring the echo's delay at the start of each answer and placing the reference by it
keeps what was learnt valid from the first word (docs/interrupt.md).
"""

from __future__ import annotations

import numpy as np


def echo_offset(mic: np.ndarray, span: np.ndarray, min_corr: float = 0.3) -> int | None:
    """The offset ``k`` at which ``span[k:k + len(mic)]`` (what was played, longer than the
    microphone stretch) best explains ``mic`` (its echo), or None where nothing explains it
    well enough (normalised correlation under ``min_corr``: silence, or someone talking over
    the answer's first words)."""
    n, m = len(mic), len(span)
    if n == 0 or m < n:
        return None
    x, y = mic.astype(np.float64), span.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(n + m)))
    corr = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)[:m - n + 1]
    windows = np.concatenate([[0.0], np.cumsum(y * y)])
    energy = (windows[n:] - windows[:m - n + 1]) * float(x @ x)
    norm = np.where(energy > 0, corr / np.sqrt(np.maximum(energy, 1e-9)), 0.0)
    k = int(np.argmax(norm))
    return k if norm[k] >= min_corr else None
