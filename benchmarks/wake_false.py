"""False wakes on long speech without the wake word: espeak-ng reading text (TV-like talk).

    .venv/bin/python benchmarks/wake_false.py TEXTFILE [MINUTES]
"""

from __future__ import annotations

import re
import sys

import numpy as np

from assistant.audio.types import Audio
from assistant.config import WakeConfig
from assistant.spoken_set import speak
from assistant.wake import BUNDLED_WORDS, build_detector


def main() -> None:
    text = open(sys.argv[1], encoding="utf-8").read()
    minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    words = re.sub(r"[^A-Za-z0-9.,;:?!' ]+", " ", text)
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+", words) if len(s.split()) >= 3]
    sentences = [s for s in sentences
                 if not re.search(r"alexa|nabu|jarvis|mycroft", s, re.IGNORECASE)]
    parts, total = [], 0.0
    for i, sentence in enumerate(sentences):
        audio = speak(sentence[:300], ("en-us", "en-gb", "en-us+f3")[i % 3], 160 + 20 * (i % 3))
        parts += [audio.samples, np.zeros(4000, np.int16)]
        total += audio.duration_s + 0.25
        if total >= 60 * minutes:
            break
    samples = np.concatenate(parts)
    print(f"{len(samples) / 16000 / 60:.1f} min of espeak-ng speech, {i + 1} sentences")
    for word in BUNDLED_WORDS:
        detector = build_detector(WakeConfig(enabled=True, word=word))
        found = []
        for j in range(0, len(samples), 480):
            found += detector.process(Audio(samples[j:j + 480], timestamp_ms=j / 16))
        print(f"{word}: {len(found)} false wake(s)"
              + "".join(f" at {d.time_ms / 1000:.1f}s ({d.score:.2f})" for d in found))


if __name__ == "__main__":
    main()
