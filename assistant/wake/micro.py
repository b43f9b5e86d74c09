"""microWakeWord (pymicro-wakeword): tiny streaming tflite models, ~0.002 real-time factor."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from ..audio.types import Audio
from ..errors import WakeError
from . import BUNDLED_WORDS, Detection

_STEP_MS = 10.0  # one feature window per 10 ms of audio
# The model's probability crosses its cutoff ~200 ms after the word ends, in a same-breath
# question already inside its first word; the word's end is looked for this far back.
LOOK_BACK_MS = 350.0
_KEEP_MS = 600.0  # recent audio kept for that


def word_end_ms(samples: np.ndarray, start_ms: float, fired_ms: float,
                rate_hz: int = 16000, look_back_ms: float = LOOK_BACK_MS) -> float:
    """Where the wake word ended: the quietest 20 ms (the latest of the quietest, within
    3 dB) between ``look_back_ms`` before the detection and the detection itself, in the
    audio ``samples`` that start at stream time ``start_ms``. Pure; ``fired_ms`` when the
    audio does not cover the window."""
    hop = rate_hz // 100  # 10 ms
    lo = int((fired_ms - look_back_ms - start_ms) * rate_hz / 1000)
    hi = int((fired_ms - start_ms) * rate_hz / 1000)
    lo, hi = max(0, lo), min(len(samples), hi)
    if hi - lo < 4 * hop:
        return fired_ms
    x = samples[lo:hi].astype(np.float64)
    n = (len(x) - 2 * hop) // hop + 1
    energy = np.array([10 * np.log10(np.mean(x[i * hop:i * hop + 2 * hop] ** 2) + 1.0)
                       for i in range(n)])
    quiet = np.nonzero(energy <= energy.min() + 3.0)[0]
    best = int(quiet[-1])
    return start_ms + (lo + best * hop + hop) * 1000 / rate_hz  # the middle of those 20 ms


class MicroDetector:
    def __init__(self, model: object, features_factory: type, word: str,
                 threshold: float) -> None:
        self._model = model
        self._features_factory = features_factory
        self._features = features_factory()
        self.word = word
        self.threshold = threshold
        self._fed_ms: float | None = None  # stream time of the next feature window's end
        self._end_ms: float | None = None  # stream time of the end of the last chunk
        self._recent: list[Audio] = []  # the last ~0.6 s fed, for word_end_ms
        self._refractory_until_ms = -1.0

    @classmethod
    def load(cls, word: str, threshold: float | None = None) -> MicroDetector:
        if importlib.util.find_spec("pymicro_wakeword") is None:
            raise WakeError("wake word needs pymicro-wakeword: pip install pymicro-wakeword",
                            code="missing-package")
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures
        from pymicro_wakeword.microwakeword import _MODELS_DIR

        if word in BUNDLED_WORDS:
            path = Path(_MODELS_DIR) / f"{word}.json"
        elif word.endswith(".json") or "/" in word:
            path = Path(word)
            if not path.is_file():
                raise WakeError(f"wake word model file {word} not found", code="no-model")
        else:
            raise WakeError(f"unknown wake word {word!r}; bundled: {', '.join(BUNDLED_WORDS)}"
                            " (or the path of a model's .json file)", code="unknown-word")
        try:
            config = json.loads(path.read_text())
            tflite = path.parent / config["model"]
            with open(tflite, "rb") as f:  # the C library crashes on a file that is no model
                if f.read(8)[4:8] != b"TFL3":
                    raise ValueError(f"{tflite.name} is not a tflite model")
            model = MicroWakeWord.from_config(path)
            cutoff = float(config["micro"]["probability_cutoff"])
        except Exception as exc:  # bad JSON, missing keys, a tflite file it cannot load
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise WakeError(f"wake word model {path} cannot be loaded: {first}",
                            code="bad-model") from None
        return cls(model, MicroWakeWordFeatures, model.wake_word,
                   cutoff if threshold is None else threshold)

    def reset(self) -> None:
        self._model.reset()  # type: ignore[attr-defined]
        self._features = self._features_factory()
        self._fed_ms = self._end_ms = None
        self._recent = []

    def _word_end(self, fired_ms: float) -> float:
        recent = [a for a in self._recent if a.end_ms > fired_ms - LOOK_BACK_MS - 50]
        if not recent:
            return fired_ms
        joined = np.concatenate([a.samples for a in recent])  # gaps (the gate) are rare here
        return word_end_ms(joined, recent[0].timestamp_ms, fired_ms, recent[0].rate_hz)

    def flush(self) -> list[Detection]:
        return []

    def process(self, audio: Audio) -> list[Detection]:
        if self._fed_ms is None or abs(audio.timestamp_ms - self._fed_ms) > 1000:
            self._fed_ms = audio.timestamp_ms  # a gap in the stream: re-anchor the clock
        elif self._end_ms is not None and abs(audio.timestamp_ms - self._end_ms) > 1:
            self._fed_ms += audio.timestamp_ms - self._end_ms  # a short gap (the VAD gate)
        self._end_ms = audio.end_ms
        self._recent.append(audio)
        while self._recent and self._recent[0].end_ms < audio.end_ms - _KEEP_MS:
            self._recent.pop(0)
        found: list[Detection] = []
        samples = np.ascontiguousarray(audio.samples, dtype=np.int16)
        for features in self._features.process_streaming(samples.tobytes()):
            self._fed_ms += _STEP_MS
            prob = self._model.process_streaming_prob(features)  # type: ignore[attr-defined]
            if prob is not None and prob > self.threshold and \
                    self._fed_ms >= self._refractory_until_ms:
                found.append(Detection(self.word, self._word_end(self._fed_ms), float(prob)))
                self._refractory_until_ms = self._fed_ms + 1000.0  # one word, one detection
        return found
