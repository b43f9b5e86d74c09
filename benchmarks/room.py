"""The room scene (assistant/bench/scene.py) as a benchmark: prints the figures of docs/room.md.

    .venv/bin/python benchmarks/room.py [--out DIR] [--noise CLIP.wav ...] [--tv-repeats N]

--noise takes real household recordings (e.g. /work/shared/datasets/speech-dev's
nonspeech__*.wav); without it the household noise is synthesised. Needs PulseAudio
(pulseaudio, pulseaudio-utils, libasound2-plugins).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from assistant.bench.room import RoomError
from assistant.bench.scene import run_room_scene

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, help="keep the scene, recording and logs here")
    p.add_argument("--qa", type=Path, default=REPO / "qa.yaml")
    p.add_argument("--noise", type=Path, nargs="*", default=[], help="real noise clips")
    p.add_argument("--tv-repeats", type=int, default=1, help="TV speech, ~25 s each")
    p.add_argument("--config-extra", default="", help="YAML appended to the scene's config")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="room-scene-"))
    try:
        report = run_room_scene(out, args.qa.resolve(), args.noise, args.config_extra,
                                args.tv_repeats)
    except RoomError as exc:
        print(f"error[bench:room]: {exc}")
        return 2
    print("\n".join(report.lines()))
    print(f"scene, recording (room.wav), results.json and the assistant's log: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
