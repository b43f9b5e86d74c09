"""A custom wake phrase's threshold: detections and false wakes per pocketsphinx kws_threshold.

    .venv/bin/python benchmarks/wake_phrase.py ["hey echo"] [SPEECH_DEV_DIR]

Clips go through the daemon's path (webrtcvad, the gate with its pre-roll, one detector that
lives across clips like a running daemon, so its cepstral mean adapts). Positives: espeak-ng
saying the phrase then a question, 4 voices/speeds x 4 questions. Negatives: the same
questions without the phrase, and near-misses that share its sounds ("hello", "the echo",
"hey, check"). SPEECH_DEV_DIR (e.g. ../shared/datasets/speech-dev): real people's recordings,
none of which says the phrase: every detection there is a false wake.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from assistant.audio.files import read_audio
from assistant.audio.types import Audio
from assistant.config import VadConfig
from assistant.spoken_set import speak
from assistant.vad import build_detector as build_vad
from assistant.wake.gate import detect_in
from assistant.wake.phrase import PhraseDetector

QUESTIONS = ("where do you live", "what is your name", "what time is it",
             "what can you do")
NEAR = ("hello, what is your name", "the echo in the hall was loud", "hey, check the weather",
        "a heck of a day, I know", "hey Eddie, let's go", "okay, tell me a joke")
VOICES = (("en-us", 150), ("en-us", 190), ("en-gb", 150), ("en-us", 120))
THRESHOLDS = (1e-20, 1e-25, 1e-30, 1e-35, 1e-40, 1e-45)


def clip(text: str, voice: str, wpm: int) -> Audio:
    sil = np.zeros(8000, np.int16)
    return Audio(np.concatenate([sil, speak(text, voice, wpm).samples, sil]))


def main() -> None:
    phrase = sys.argv[1] if len(sys.argv) > 1 else "hey echo"
    real_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    pos = [clip(f"{phrase}, {q}", v, w) for q in QUESTIONS for v, w in VOICES]
    neg = [clip(t, v, w) for t in QUESTIONS + NEAR for v, w in VOICES]
    real = [read_audio(p) for p in sorted(real_dir.glob("*.wav"))] if real_dir else []
    real_s = sum(a.duration_s for a in real)
    print(f"phrase {phrase!r}: {len(pos)} espeak-ng clips with it, {len(neg)} without "
          f"({len(QUESTIONS) * len(VOICES)} plain questions, {len(NEAR) * len(VOICES)} "
          f"near-misses), {len(real)} real recordings ({real_s:.0f} s) without it")
    vad = build_vad(VadConfig())
    for threshold in THRESHOLDS:
        detector = PhraseDetector.load(phrase, threshold)
        hits = sum(bool(detect_in(a, detector, vad)) for a in pos)
        plain = sum(len(detect_in(a, detector, vad)) for a in neg[:len(QUESTIONS) * 4])
        near = sum(len(detect_in(a, detector, vad)) for a in neg[len(QUESTIONS) * 4:])
        row = (f"{threshold:g}: detected {hits}/{len(pos)}, false wakes: {plain} on plain "
               f"questions, {near} on near-misses")
        if real:
            row += f", {sum(len(detect_in(a, detector, vad)) for a in real)} on real speech"
        print(row, flush=True)


if __name__ == "__main__":
    main()
