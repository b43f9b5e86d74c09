"""The espeak-ng program itself: no Python binding needed, WAV on stdout."""

from __future__ import annotations

import io
import subprocess

from ..audio.types import Audio, to_pipeline
from ..config import TtsConfig
from ..errors import TtsError


class EspeakSynthesizer:
    name = "espeak"

    def __init__(self, cfg: TtsConfig) -> None:
        self.cfg = cfg

    def synthesize(self, text: str) -> Audio:
        import soundfile as sf

        cmd = ["espeak-ng", "--stdout", "-s", str(self.cfg.rate_wpm),
               "-a", str(int(round(self.cfg.volume * 200)))]
        if self.cfg.voice:
            cmd += ["-v", self.cfg.voice]
        try:
            proc = subprocess.run([*cmd, "--", text], capture_output=True, timeout=30,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TtsError(f"espeak-ng failed to run ({exc})", code="engine") from exc
        if proc.returncode != 0 or not proc.stdout:
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise TtsError(f"espeak-ng failed: {msg[0] if msg else 'no audio'}; check tts.voice "
                           "with `espeak-ng --voices`", code="engine")
        data, rate = sf.read(io.BytesIO(proc.stdout), dtype="int16")
        return to_pipeline(data, rate, out_rate_hz=rate)
