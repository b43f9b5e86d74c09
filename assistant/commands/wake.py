"""assistant wake FILE...: print each wake word detection with its time and score (tuning)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from .common import add_command, config_from_args


def register(sub: Any) -> None:
    p = add_command(sub, "wake", "print wake word detections in audio files (tuning)", run,
                    description="Run the configured wake word detector (wake.word and "
                    "wake.threshold, or wake.phrase and wake.phrase_threshold; it need not be "
                    "enabled) over audio files and print each "
                    "detection as FILE TIME_S SCORE, to tune the threshold on your own "
                    "recordings. The files are fed as the daemon feeds the microphone: VAD frames, "
                    "through the voice-activity gate (wake.gate).")
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (any rate/channels)")
    p.add_argument("--word", help="wake word or model .json file instead of wake.word")
    p.add_argument("--threshold", type=float, help="instead of wake.threshold (0-1)")
    p.add_argument("--phrase", help="a custom wake phrase instead of wake.phrase (pocketsphinx)")
    p.add_argument("--phrase-threshold", type=float,
                   help="instead of wake.phrase_threshold (e.g. 1e-30; smaller wakes more "
                   "easily)")


def run(args: argparse.Namespace) -> int:
    from ..audio.files import read_audio
    from ..config import with_overrides
    from ..vad import build_detector as build_vad
    from ..wake import build_detector
    from ..wake.gate import detect_in

    cfg = config_from_args(args)
    over = {k: v for k, v in (("word", args.word), ("threshold", args.threshold),
                              ("phrase", args.phrase),
                              ("phrase_threshold", args.phrase_threshold)) if v is not None}
    if over:
        cfg = with_overrides(cfg, wake=over)
    if args.word and not args.phrase:  # --word: the microWakeWord model, not wake.phrase
        cfg = dataclasses.replace(cfg, wake=dataclasses.replace(cfg.wake, phrase=None))
    detector = build_detector(cfg.wake)
    vad = build_vad(cfg.vad)
    for path in args.files:
        audio = read_audio(path)
        found = 0
        for d in detect_in(audio, detector, vad, cfg.vad.frame_ms, cfg.wake.gate):
            print(f"{path}\t{d.time_ms / 1000:.2f}s\t{d.word}\t{d.score:.3f}")
            found += 1
        if not found:
            print(f"{path}\t-\tnot detected")
    return 0
