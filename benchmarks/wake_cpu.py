"""CPU cost of the wake word detector: seconds of CPU per second of audio, as % of a core.

    .venv/bin/python benchmarks/wake_cpu.py [WORD|"PHRASE"] [SECONDS]

WORD is a microWakeWord model (alexa, ...); anything with a space is a pocketsphinx wake
phrase ("hey echo"). Each row feeds 30 ms frames as the daemon does: the default VAD
(webrtcvad behind the noise-floor gate, which the segmenter runs on every frame anyway), then
the detector, either on every frame ("every frame") or through the voice-activity gate with
its pre-roll ("gated", wake.gate: true). "VAD only" is the listening loop without a wake word.
Sources: digital silence, room noise (-50 dBFS white noise), and espeak-ng reading sentences
with 0.25 s pauses (speech nearly all the time: the gate's worst case).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from assistant.audio.types import Audio
from assistant.config import VadConfig, WakeConfig
from assistant.spoken_set import speak
from assistant.vad import Framer
from assistant.vad import build_detector as build_vad
from assistant.wake import build_detector
from assistant.wake.gate import VoiceGate

SENTENCES = ("where do you live and what time is it in london",
             "the weather tomorrow will be sunny with a light breeze from the west",
             "please remember to buy milk, bread and some coffee on the way home",
             "the train to the city leaves at half past nine every morning")


def speech(seconds: float) -> np.ndarray:
    parts, total = [], 0
    while total < seconds * 16000:
        for i, text in enumerate(SENTENCES):
            a = speak(text, ("en-us", "en-gb")[i % 2], 150 + 20 * (i % 3)).samples
            parts += [a, np.zeros(4000, np.int16)]
            total += len(a) + 4000
    return np.concatenate(parts)[: int(seconds * 16000)]


def cost(samples: np.ndarray, wake: WakeConfig | None, gated: bool) -> tuple[float, int]:
    """(CPU seconds, frames fed to the detector)."""
    vad = build_vad(VadConfig())
    detector = build_detector(wake) if wake is not None else None
    gate: VoiceGate[Audio] = VoiceGate(30, enabled=gated)
    framer, fed = Framer(30), 0
    start = time.process_time()
    for i in range(0, len(samples), 480):
        for frame in framer.push(Audio(samples[i:i + 480], timestamp_ms=i / 16)):
            is_speech = vad.is_speech(frame)
            if detector is not None:
                for audio in gate.push(frame, is_speech):
                    detector.process(audio)
                    fed += 1
    return time.process_time() - start, fed


def main() -> None:
    word = sys.argv[1] if len(sys.argv) > 1 else "alexa"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    wake = (WakeConfig(enabled=True, phrase=word) if " " in word
            else WakeConfig(enabled=True, word=word))
    rng = np.random.default_rng(0)
    n = int(seconds * 16000)
    sources = {"silence": np.zeros(n, np.int16),
               "room noise (-50 dBFS)": rng.normal(0, 103, n).astype(np.int16),
               "speech (espeak-ng)": speech(seconds)}
    print(f"{word!r}, {seconds:.0f} s of each source, 30 ms frames; % of one core")
    for name, samples in sources.items():
        base, _ = cost(samples, None, False)
        row = [f"{name:22s} VAD only {100 * base / seconds:5.2f}%"]
        for label, gated in (("every frame", False), ("gated", True)):
            cpu, fed = cost(samples, wake, gated)
            row.append(f"{label} {100 * cpu / seconds:5.2f}% ({100 * fed * 480 / n:3.0f}% of "
                       "frames fed)")
        print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
