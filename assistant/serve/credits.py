"""Who made what the Wyoming ``info`` event names: Home Assistant shows these to its users.

Each function returns ``(name, url)``. A recognizer backend's model source is looked up by the
backend's name in ``RECOGNIZERS`` (the one place a new backend adds its entry); wav2vec2's
comes from ``asr.model`` (its model card). The program itself is the project's name and the
homepage pyproject.toml gives (the installed package's metadata).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

HUB = "https://huggingface.co/"
PIPER = ("Piper", "https://github.com/OHF-Voice/piper1-gpl")  # piper-tts's home page
PIPER_VOICES = "https://huggingface.co/rhasspy/piper-voices"
ESPEAK = ("eSpeak NG", "https://github.com/espeak-ng/espeak-ng")
WAV2VEC2 = "https://github.com/facebookresearch/fairseq/tree/main/examples/wav2vec"

# recognizer backend name -> who made its model (wav2vec2: model_card(asr.model) instead)
RECOGNIZERS = {
    "pocketsphinx": ("CMU Sphinx (pocketsphinx and its en-us model)",
                     "https://github.com/cmusphinx/pocketsphinx"),
    "whisper": ("OpenAI Whisper, converted to CTranslate2", "https://github.com/openai/whisper"),
    "cascade": ("CMU Sphinx (pocketsphinx, en-us) then OpenAI Whisper (CTranslate2)",
                "https://github.com/openai/whisper"),
}
TTS_PROGRAMS = {"piper": PIPER, "espeak": ESPEAK,
                "pyttsx3": ("pyttsx3 (eSpeak NG on Linux)",
                            "https://github.com/nateshmbhat/pyttsx3")}
_PIPER_NAME = re.compile(r"^(?P<lang>[a-z]{2,3})_(?P<region>[A-Z]{2})-(?P<speaker>\w+)-"
                         r"(?P<quality>x_low|low|medium|high)$")


def project(package: str = "assistant") -> tuple[str, str]:
    """The program: its name and homepage from the installed package's metadata."""
    try:
        meta = metadata.metadata(package)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return package, ""
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [] if ", " in u)
    return str(meta["Name"]), urls.get("Homepage", "")


def model_card(model: str, fallback_url: str) -> tuple[str, str]:
    """A Hugging Face model id: the id and its model card. A local folder: its name and
    ``fallback_url`` (where the architecture comes from)."""
    path = Path(model).expanduser()
    if model.count("/") == 1 and not model.startswith((".", "~")) and not path.exists():
        return model, HUB + model
    return f"{path.name} (local model)", fallback_url


def recognizer(backend: str, model: str) -> tuple[str, str]:
    """Who made the recognizer's model, by the backend's name (``asr.model`` for wav2vec2)."""
    if backend == "wav2vec2":
        return model_card(model, WAV2VEC2)
    return RECOGNIZERS.get(backend, project())


def tts_program(backend: str) -> tuple[str, str]:
    return TTS_PROGRAMS.get(backend, project())


def voice(backend: str, name: str | None) -> tuple[str, str]:
    """The voice's own source: a Piper voice's folder in the Piper voices collection (the
    bundled joe voice is en_US-joe-medium from there), a local .onnx file's name."""
    if backend != "piper":
        return ESPEAK if backend in ("espeak", "pyttsx3") else project()
    name = "en_US-joe-medium" if name in (None, "", "joe") else name
    found = _PIPER_NAME.match(name)
    if found is None:  # a path to an .onnx voice
        return f"{Path(name).stem} (local Piper voice)", PIPER_VOICES
    g = found.groupdict()
    return (f"Piper voice {name}", f"{PIPER_VOICES}/tree/v1.0.0/{g['lang']}/"
            f"{g['lang']}_{g['region']}/{g['speaker']}/{g['quality']}")


def sentence_model(model: str) -> tuple[str, str]:
    """The matcher's sentence embedding model."""
    return model_card(model, "https://www.sbert.net")
