"""Audio files in (WAV/FLAC/OGG through soundfile) and out (WAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import AudioError
from .types import PIPELINE_RATE_HZ, Audio, StreamConverter

SUPPORTED = "WAV, FLAC or OGG"
BLOCK_FRAMES = 1 << 16  # frames read at once (~1.4 s at 48 kHz)


def read_audio(path: str | Path, rate_hz: int = PIPELINE_RATE_HZ) -> Audio:
    """Read a whole file, any rate or channel count, as pipeline audio."""
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: audio file not found; check the path", code="missing")
    if p.is_dir():
        raise AudioError(f"{p}: is a folder, not an audio file", code="missing")
    try:  # block by block: a long file costs its 16 kHz int16 size, not float32 x channels
        with sf.SoundFile(str(p)) as f:
            converter = StreamConverter(int(f.samplerate), rate_hz)
            parts = [converter.convert(b).samples
                     for b in f.blocks(blocksize=BLOCK_FRAMES, dtype="int16", always_2d=True)]
            parts.append(converter.flush().samples)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"{p}: not a readable {SUPPORTED} file ({exc}); convert it, e.g. "
                         f"`sox {p.name} -r 16000 -c 1 out.wav`", code="format") from None
    except OSError as exc:
        raise AudioError(f"{p}: cannot read ({exc.strerror or exc})", code="unreadable") from None
    samples = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    if len(samples) == 0:
        raise AudioError(f"{p}: the file holds no audio samples", code="empty")
    return Audio(samples, rate_hz)


def file_level_dbfs(path: str | Path) -> float:
    """RMS level of a whole file in dBFS, read in blocks (constant memory): lets a long
    silent file be rejected without loading it."""
    import soundfile as sf

    total, n = 0.0, 0
    try:
        with sf.SoundFile(str(path)) as f:
            for b in f.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
                mono = b.mean(axis=1, dtype=np.float64)
                total += float(np.dot(mono, mono))
                n += len(mono)
    except (sf.LibsndfileError, RuntimeError, TypeError, OSError):
        return 0.0  # not readable here: read_audio gives the one-line error
    return -200.0 if n == 0 or total == 0 else 10 * float(np.log10(total / n))


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
