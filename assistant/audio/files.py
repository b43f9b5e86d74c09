"""Audio files in (WAV/FLAC/OGG through soundfile) and out (WAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import AudioError
from .types import PIPELINE_RATE_HZ, Audio, to_pipeline

SUPPORTED = "WAV, FLAC or OGG"


def read_audio(path: str | Path, rate_hz: int = PIPELINE_RATE_HZ) -> Audio:
    """Read a whole file, any rate or channel count, as pipeline audio."""
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: audio file not found; check the path", code="missing")
    if p.is_dir():
        raise AudioError(f"{p}: is a folder, not an audio file", code="missing")
    try:
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"{p}: not a readable {SUPPORTED} file ({exc}); convert it, e.g. "
                         f"`sox {p.name} -r 16000 -c 1 out.wav`", code="format") from None
    except OSError as exc:
        raise AudioError(f"{p}: cannot read ({exc.strerror or exc})", code="unreadable") from None
    if len(data) == 0:
        raise AudioError(f"{p}: the file holds no audio samples", code="empty")
    return to_pipeline(data, int(rate), out_rate_hz=rate_hz)


def write_wav(path: str | Path, audio: Audio) -> Path:
    import soundfile as sf

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        sf.write(str(p), audio.samples, audio.rate_hz, subtype="PCM_16")
    except (OSError, RuntimeError) as exc:
        raise AudioError(f"{p}: cannot write WAV ({exc})", code="unwritable") from None
    return p


def is_silent(audio: Audio, dbfs: float = -55.0) -> bool:
    """True when the whole clip is quieter than ``dbfs`` (RMS): nothing to transcribe."""
    if not len(audio.samples):
        return True
    rms = float(np.sqrt(np.mean((audio.samples.astype(np.float64) / 32768.0) ** 2)))
    return rms < 10 ** (dbfs / 20)
