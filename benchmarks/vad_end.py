"""How late the VAD decides that speech has ended: the daemon's frame classifier (as configured
by default: webrtcvad behind the noise-floor gate) and segmenter, over the knowledge base's
questions spoken by espeak-ng voices, each followed by silence or light steady noise.

For each question it prints nothing; at the end, per condition, the median and 90th percentile
of (the end of the last speech frame) - (the last sample louder than amplitude 600), which is
what `assistant bench`'s mouth-to-ear figure counts from, and the same for webrtcvad alone.

    python benchmarks/vad_end.py [--qa qa.yaml] [--voices en-us,en-us+f3,en-gb+m3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.audio.types import Audio  # noqa: E402
from assistant.bench.mouth_to_ear import LOUD  # noqa: E402
from assistant.config import VadConfig  # noqa: E402
from assistant.kb.knowledge import load_kb  # noqa: E402
from assistant.spoken_set import speak  # noqa: E402
from assistant.vad import Framer, Segmenter, WebRtcVad, build_detector, segmenter_settings  # noqa: E402
from assistant.vad.segmenter import Ended  # noqa: E402


def speech_end_delays_ms(clip: np.ndarray, noise_std: float, gated: bool,
                         rng: np.random.Generator) -> float | None:
    """Speech end as the segmenter reports it, minus the last loud sample (ms)."""
    cfg = VadConfig()
    x = np.concatenate([np.zeros(8000), clip.astype(np.float64), np.zeros(16000)])
    x += rng.standard_normal(len(x)) * noise_std
    audio = Audio(np.clip(x, -32768, 32767).astype(np.int16))
    detector = build_detector(cfg) if gated else WebRtcVad(cfg.aggressiveness)
    segmenter = Segmenter(segmenter_settings(cfg), cfg.frame_ms)
    ends = []
    for frame in Framer(cfg.frame_ms).push(audio):
        ends += [e.speech_end_ms for e in segmenter.push(frame, detector.is_speech(frame))
                 if isinstance(e, Ended)]
    loud = np.nonzero(np.abs(clip.astype(np.int32)) > LOUD)[0]
    if not ends or not len(loud):
        return None
    return ends[-1] - 1000.0 * (8000 + loud[-1] + 1) / 16000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", default=str(REPO / "qa.yaml"))
    ap.add_argument("--voices", default="en-us,en-us+f3,en-gb+m3")
    args = ap.parse_args()
    questions = [q for e in load_kb(Path(args.qa)).entries for q in e.questions]
    clips = [speak(q, v, 160).samples for v in args.voices.split(",") for q in questions]
    print(f"{len(clips)} clips ({len(questions)} questions x {args.voices})")
    for noise_std, name in ((0.0, "digital silence"), (30.0, "noise std 30 (-61 dBFS)"),
                            (100.0, "noise std 100 (-50 dBFS)")):
        for gated in (True, False):
            rng = np.random.default_rng(0)
            d = [x for c in clips if (x := speech_end_delays_ms(c, noise_std, gated, rng))
                 is not None]
            label = "default (gate + webrtcvad)" if gated else "webrtcvad alone"
            print(f"{name:26s} {label:27s} speech end - last loud sample: median "
                  f"{np.median(d):5.0f} ms, p90 {np.percentile(d, 90):5.0f} ms (n={len(d)})")


if __name__ == "__main__":
    main()
