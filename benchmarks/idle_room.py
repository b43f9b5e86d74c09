"""CPU of the whole `assistant run` process while the room is silent, through real audio
devices: after one question has been answered (so the loudspeaker stream is open, kept
stopped between answers), how much of one core does the daemon use in silence?

    .venv/bin/python benchmarks/idle_room.py [--seconds 60] [--out F.json] [--config-extra YAML]

Variants: always listening; the wake word on (microWakeWord "alexa" on every chunk);
interruption on (the echo canceller and stop spotter, idle between answers). Each runs
`python -m assistant run --asr pocketsphinx` (Piper voice when installed) on the simulated room
of assistant/bench/room.py; the figure is the process's user+system CPU time (from /proc, all
threads: microphone callback, VAD, wake detector, speech thread, output stream) over the
silent stretch divided by its length. PulseAudio's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from assistant.audio.files import write_wav
from assistant.bench.room import Room, RoomError
from assistant.bench.scene import LiveAssistant
from assistant.spoken_set import speak

REPO = Path(__file__).resolve().parent.parent
VARIANTS = {"always listening": "", "wake word (alexa)": "wake:\n  enabled: true\n",
            "interruption on (speex)": "interrupt:\n  enabled: true\n  canceller: speex\n"}


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(room: Room, folder: Path, extra: str, seconds: float) -> dict[str, object]:
    folder.mkdir(parents=True)
    config = folder / "config.yaml"
    config.write_text(f"qa_file: {REPO / 'qa.yaml'}\ncache_dir: {folder.parent / 'cache'}\n"
                      "asr:\n  backend: pocketsphinx\n" + extra, encoding="utf-8")
    question = write_wav(folder / "q.wav", speak(
        ("alexa, " if "wake:" in extra else "") + "what is your name", "en-us", 150))
    assistant = LiveAssistant(room, folder, config)
    try:
        assistant.wait_ready()
        time.sleep(2.0)
        room.play(question)
        deadline = time.monotonic() + 30
        while not assistant.exchanges() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(8.0)  # the answer spoken, the stream stopped, the refractory time over
        c0, t0 = cpu_s(assistant.proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu, wall = cpu_s(assistant.proc.pid) - c0, time.monotonic() - t0
        answered = [e.get("answer") for e in assistant.exchanges()]
    finally:
        assistant.close()
    return {"cpu_percent_of_a_core": round(100 * cpu / wall, 2), "seconds": round(wall, 1),
            "answered_first": bool(answered and answered[0])}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--out", type=Path)
    p.add_argument("--config-extra", default="", help="YAML added to every variant's config")
    args = p.parse_args()
    out: dict[str, object] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="idle-room-") as tmp:
        try:
            with Room.start() as room:
                for i, (name, extra) in enumerate(VARIANTS.items()):
                    out[name] = measure(room, Path(tmp) / str(i), args.config_extra + extra,
                                        args.seconds)
                    print(name, out[name], flush=True)
        except RoomError as exc:
            print(f"error[bench:room]: {exc}")
            return 2
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
