"""A spoken test set the project makes itself: every question of a knowledge base said by
espeak-ng in several voices and speeds, plus paraphrases, unrelated sentences and noise-only
clips, optionally mixed with noise at a given SNR. Writes DATASET.tsv for `assistant eval`."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio.files import write_wav
from .audio.types import Audio, to_pipeline
from .errors import AudioError, ConfigError
from .kb.knowledge import KnowledgeBase

UNRELATED = (
    "the weather in paris is rainy and cold",
    "please turn off the kitchen lights",
    "how many grams are in a kilogram",
    "my favourite football team lost again",
    "what is the capital of australia",
    "order a large pizza with mushrooms",
)
# The same sentences in the other languages measured (docs/languages.md); for any other
# language, unrelated sentences come from --extra (rows with no expected phrasing).
UNRELATED_IN = {
    "en": UNRELATED,
    "es": ("el tiempo en parís es lluvioso y frío", "por favor apaga las luces de la cocina",
           "cuántos gramos hay en un kilogramo", "mi equipo de fútbol favorito perdió otra vez",
           "cuál es la capital de australia", "pide una pizza grande con champiñones"),
    "de": ("das Wetter in Paris ist regnerisch und kalt", "bitte mach das Licht in der Küche aus",
           "wie viele Gramm hat ein Kilogramm", "meine Lieblingsmannschaft hat wieder verloren",
           "was ist die Hauptstadt von Australien", "bestell eine große Pizza mit Pilzen"),
}


def default_voices(language: str) -> list[str]:
    """espeak-ng voices for a spoken set in ``language``: two accents or a male and a
    female variant of its voice."""
    if language == "en":
        return ["en-us", "en-gb"]
    if language == "es":
        return ["es", "es-419"]
    from .language import espeak_voice

    return [espeak_voice(language), espeak_voice(language) + "+f3"]


@dataclass(frozen=True)
class Item:
    text: str  # what is said ("" for noise only)
    expected: str  # the qa.yaml phrasing it should match ("" = no answer)


def speak(text: str, voice: str = "en-us", speed_wpm: int = 160) -> Audio:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise AudioError("espeak-ng is not installed; `sudo apt install espeak-ng`",
                         code="missing-program")
    out = subprocess.run([exe, "-v", voice, "-s", str(speed_wpm), "--stdout", text],
                         capture_output=True, check=False)
    if out.returncode != 0 or not out.stdout:
        raise AudioError(f"espeak-ng could not speak with voice {voice!r}: "
                         f"{out.stderr.decode(errors='replace').strip()[:120]}", code="espeak")
    import soundfile as sf

    data, rate = sf.read(io.BytesIO(out.stdout), dtype="int16")
    return to_pipeline(data, rate)


def with_noise(audio: Audio, snr_db: float | None, rng: np.random.Generator,
               pad_s: float = 0.5) -> Audio:
    """Pad with silence on both sides; add white noise at ``snr_db`` relative to the speech
    power (None: clean)."""
    pad = np.zeros(int(pad_s * audio.rate_hz), np.float64)
    x = np.concatenate([pad, audio.samples.astype(np.float64), pad])
    if snr_db is not None:
        speech = audio.samples.astype(np.float64)
        power = float(np.mean(speech**2)) if len(speech) else 1e4
        noise_rms = np.sqrt(max(power, 1.0) / 10 ** (snr_db / 10))
        x = x + rng.standard_normal(len(x)) * noise_rms
    return Audio(np.clip(np.round(x), -32768, 32767).astype(np.int16), audio.rate_hz)


def noise_only(seconds: float, level_rms: float, rng: np.random.Generator) -> Audio:
    return Audio(np.clip(rng.standard_normal(int(16000 * seconds)) * level_rms, -32768,
                         32767).astype(np.int16))


def read_extra(path: str | Path) -> list[Item]:
    """Extra rows (paraphrases, unrelated sentences): a TSV with columns text, expected."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc})", code="dataset") from None
    if rows and not {"text", "expected"} <= set(rows[0]):
        raise ConfigError(f"{p}: needs the columns text and expected", code="dataset")
    return [Item(r["text"].strip(), (r["expected"] or "").strip()) for r in rows]


def items_for(kb: KnowledgeBase, extra: Iterable[Item] = (),
              unrelated: Sequence[str] = UNRELATED) -> list[Item]:
    items = [Item(q, q) for q in kb.questions]
    items += list(extra)
    items += [Item(s, "") for s in unrelated]
    return items


def write_dataset(out_dir: str | Path, items: Sequence[Item], voices: Sequence[str],
                  speeds_wpm: Sequence[int], snr_db: float | None = None,
                  noise_clips: int = 3, seed: int = 0) -> Path:
    """Speak every item in every voice and speed; returns the DATASET.tsv path."""
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = []
    n = 0
    for item in items:
        for voice in voices:
            for speed in speeds_wpm:
                n += 1
                name = f"audio/{n:04d}_{voice.replace('/', '-')}_{speed}.wav"
                write_wav(out / name, with_noise(speak(item.text, voice, speed), snr_db, rng))
                lines.append((name, item.expected, item.text))
    for i in range(noise_clips):
        n += 1
        name = f"audio/{n:04d}_noise.wav"
        write_wav(out / name, noise_only(2.0, 300.0 * (i + 1), rng))
        lines.append((name, "", ""))
    tsv = out / "DATASET.tsv"
    with tsv.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(("audio", "expected", "text"))
        w.writerows(lines)
    return tsv
