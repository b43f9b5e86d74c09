"""CPU cost of the wake word detector: seconds of CPU per second of audio, as % of a core.

    .venv/bin/python benchmarks/wake_cpu.py [WORD] [SECONDS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from assistant.audio.types import Audio
from assistant.config import WakeConfig
from assistant.wake import build_detector


def main() -> None:
    word = sys.argv[1] if len(sys.argv) > 1 else "alexa"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    detector = build_detector(WakeConfig(enabled=True, word=word))
    rng = np.random.default_rng(0)
    for name, level in (("silence", 0), ("room noise (-50 dBFS)", 100)):
        samples = (rng.normal(0, level, int(seconds * 16000)) if level else
                   np.zeros(int(seconds * 16000))).astype(np.int16)
        start = time.process_time()
        for i in range(0, len(samples), 480):
            detector.process(Audio(samples[i:i + 480], timestamp_ms=i / 16))
        cpu = time.process_time() - start
        print(f"{word} on {seconds:.0f} s of {name}: {cpu:.2f} s CPU = "
              f"{100 * cpu / seconds:.2f}% of a core")


if __name__ == "__main__":
    main()
