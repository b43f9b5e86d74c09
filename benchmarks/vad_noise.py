"""Why steady noise held utterances open, and what the noise-floor gate changes.

For espeak-ng questions followed by steady noise, and for the real recordings (speech and
household noise) in a speech-dev folder, prints the utterances the default endpointing finds
(their lengths in seconds) with webrtcvad alone and with the noise-floor gate in front of it.

    python benchmarks/vad_noise.py [--dev ../shared/datasets/speech-dev] [--margin-db 6]
                                   [--window-s 0.6]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from assistant.audio.files import read_audio
from assistant.audio.types import Audio
from assistant.spoken_set import speak
from assistant.vad import PRESETS, Framer, NoiseFloorGate, Segmenter, VoiceDetector, WebRtcVad
from assistant.vad.segmenter import Ended

QUESTIONS = ["where do you live", "what is your name and who made you",
             "can you tell me the time please"]


def noise(kind: str, seconds: float, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal(int(16000 * seconds))
    if kind == "brown":
        x = np.cumsum(x)
        x -= np.convolve(x, np.ones(1601) / 1601, mode="same")
    return (x / np.sqrt(np.mean(x ** 2)) * 10 ** (dbfs / 20) * 32767).astype(np.int16)


def segment(audio: Audio, vad: VoiceDetector) -> list[Audio]:
    """The utterances the default endpointing finds in ``audio`` with ``vad``."""
    seg, out = Segmenter(PRESETS["default"], 30), []
    for frame in Framer(30).push(audio):
        out += [e.audio for e in seg.push(frame, vad.is_speech(frame)) if isinstance(e, Ended)]
    last = seg.flush()
    return out + ([last.audio] if isinstance(last, Ended) else [])


def utterances(samples: np.ndarray, gate: bool, margin_db: float, window_s: float,
               backend: str = "webrtcvad") -> list[float]:
    if backend == "silero":
        from assistant.vad.silero import SileroVad

        base: VoiceDetector = SileroVad()
    else:
        base = WebRtcVad(3)
    vad = NoiseFloorGate(base, margin_db, window_s) if gate else base
    return [round(u.duration_s, 2) for u in segment(Audio(samples), vad)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, help="speech-dev folder with real recordings")
    ap.add_argument("--margin-db", type=float, default=6.0)
    ap.add_argument("--window-s", type=float, default=0.6)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    pad = np.zeros(8000, np.int16)
    print(f"{'clip':45s} {'webrtcvad alone':>20s}  {'with the gate':>20s}  "
          f"{'silero alone':>20s}  {'silero + gate':>20s}")

    def row(name: str, samples: np.ndarray) -> None:
        cols = [utterances(samples, gate, args.margin_db, args.window_s, backend)
                for backend in ("webrtcvad", "silero") for gate in (False, True)]
        print(f"{name:45s} " + "  ".join(f"{c!s:>20s}" for c in cols))

    for q in QUESTIONS:
        sp = speak(q, "en-us", 150).samples
        row(f"'{q}'", np.concatenate([pad, sp, pad, pad]))
        for kind, dbfs in (("white", -40), ("white", -50), ("brown", -40)):
            row(f"  + {kind} noise {dbfs} dBFS", np.concatenate(
                [pad, sp, noise(kind, 5.0, dbfs, rng)]))
    for kind, dbfs in (("white", -40), ("brown", -40)):
        row(f"{kind} noise {dbfs} dBFS alone", noise(kind, 5.0, dbfs, rng))
    if args.dev:
        for path in sorted(args.dev.glob("*.wav")):
            row(path.name[:45], np.concatenate([pad, read_audio(path).samples, pad, pad]))


if __name__ == "__main__":
    main()
