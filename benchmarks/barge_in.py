"""Interrupting answers in the simulated room: prints the figures of docs/interrupt.md.

    .venv/bin/python benchmarks/barge_in.py [--stops 10] [--talk 20] [--alone 5]
        [--delay-ms 40] [--dry] [--canceller livekit] [--out DIR]

Each trial asks for a long story (Piper) and plays over it "stop" at -6 and -12 dB relative to
the answer's voice at the microphone, an ordinary sentence at the same level (must not stop
it), or nothing (its own voice must never stop it). Needs PulseAudio (see benchmarks/room.py).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

from assistant.bench.barge import run_barge_scene, summary, trial_plan
from assistant.bench.room import RoomError


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stops", type=int, default=10, help="stop trials per level")
    p.add_argument("--levels", default="-6,-12", help="stop levels in dB, comma-separated")
    p.add_argument("--talk", type=int, default=20, help="answers with other talk over them")
    p.add_argument("--alone", type=int, default=5, help="answers with nothing over them")
    p.add_argument("--delay-ms", type=float, default=40.0,
                   help="loudspeaker -> microphone delay in the room's impulse response "
                   "(PulseAudio's own buffering comes on top)")
    p.add_argument("--dry", action="store_true",
                   help="no reverberation: the direct sound only (default: RT60 0.4 s, "
                   "reverberation as loud as the direct sound)")
    p.add_argument("--canceller", default="livekit", help="interrupt.canceller")
    p.add_argument("--config-extra", default="", help="YAML appended to the config")
    p.add_argument("--out", type=Path)
    p.add_argument("--debug", action="store_true", help="the assistant logs every spot")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="barge-"))
    plan = trial_plan(args.stops, args.talk, args.alone,
                      [float(x) for x in args.levels.split(",") if x])
    extra = f"  canceller: {args.canceller}\n" + args.config_extra
    try:
        trials = run_barge_scene(out, plan, args.delay_ms, extra, args.debug,
                                 args.canceller == "server", not args.dry)
    except RoomError as exc:
        print(f"error[bench:barge]: {exc}")
        return 2
    (out / "trials.json").write_text(json.dumps([asdict(t) for t in trials], indent=1))
    print("\n".join(summary(trials)))
    print(f"recording, trials.json and the assistant's log: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
