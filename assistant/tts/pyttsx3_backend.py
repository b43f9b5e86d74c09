"""pyttsx3 (espeak-ng on Linux, SAPI5 on Windows, NSSpeech on macOS), rendered to a WAV file
that we read back, so the pipeline controls playback and knows when speaking ends.

Keep one synthesizer per process (the daemon's TTS thread): pyttsx3 hands every caller the
same engine, espeak-ng's rate is global to the process, and with pyttsx3 2.99 a change of
rate sometimes lands one render late, so two synthesizers with different rates interfere."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import tempfile
from pathlib import Path

from ..audio.files import read_audio
from ..audio.types import Audio
from ..config import TtsConfig
from ..errors import AudioError, TtsError

log = logging.getLogger(__name__)


def _quiet_espeak_driver() -> None:
    """pyttsx3 2.99's espeak driver prints "Audio saved to ..." from its synthesis callback,
    which can run after ``runAndWait`` has returned (seen on a slow Pi), so redirecting stdout
    around the render misses it: the driver module's ``print`` goes to the debug log."""
    driver = sys.modules.get("pyttsx3.drivers.espeak")
    if driver is not None:
        driver.print = lambda *args, **kw: log.debug(  # type: ignore[attr-defined]
            "pyttsx3: %s", " ".join(str(a) for a in args))


class Pyttsx3Synthesizer:
    name = "pyttsx3"

    def __init__(self, cfg: TtsConfig) -> None:
        import pyttsx3

        try:
            self.engine = pyttsx3.init()
        except (RuntimeError, OSError) as exc:
            raise TtsError(f"pyttsx3 could not start a speech engine ({exc}); on Linux "
                           "`sudo apt install espeak-ng`", code="engine") from exc
        _quiet_espeak_driver()
        self.engine.setProperty("rate", cfg.rate_wpm)
        self.engine.setProperty("volume", cfg.volume)
        if cfg.voice:
            self.engine.setProperty("voice", self._find_voice(cfg.voice))

    def _find_voice(self, wanted: str) -> str:
        voices = self.engine.getProperty("voices")
        key = wanted.casefold()
        for v in voices:
            if key in (str(v.id).casefold(), str(v.name).casefold()):
                return str(v.id)
        for v in voices:
            if key in str(v.id).casefold() or key in str(v.name).casefold():
                return str(v.id)
        sample = ", ".join(sorted({str(v.name) for v in voices})[:8])
        raise TtsError(f"tts.voice {wanted!r} is not installed; try one of: {sample}, ...",
                       code="unknown-voice")

    def _render(self, text: str, out: Path) -> None:
        out.unlink(missing_ok=True)
        # The espeak driver prints "Audio saved to ..." on stdout; keep stdout for results.
        with contextlib.redirect_stdout(io.StringIO()):
            self.engine.save_to_file(text, str(out))
            self.engine.runAndWait()

    def synthesize(self, text: str) -> Audio:
        with tempfile.TemporaryDirectory(prefix="assistant-tts-") as tmp:
            return self._synthesize(text, Path(tmp) / "say.wav")

    def _synthesize(self, text: str, out: Path) -> Audio:
        # pyttsx3 2.99's espeak driver now and then writes an empty file (its callback can
        # see the end-of-message event before the audio); a second render has always worked.
        for attempt in range(3):
            self._render(text, out)
            try:
                return read_audio(out, rate_hz=22050)
            except AudioError as exc:
                error = exc
                log.debug("pyttsx3 gave no audio for %r (attempt %d)", text[:40], attempt + 1)
        raise TtsError(f"pyttsx3 produced no audio for {text[:40]!r} ({error}); try "
                       "tts.backend: espeak", code="no-audio")
