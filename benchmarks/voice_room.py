"""Delay from "answer chosen" to the first sound in the room, before and after #14, measured
with the room harness (assistant/bench/room.py): the assistant speaks into the room's `mic`
sink, Room.record records it, and the first sound is found in the recording.

    .venv/bin/python benchmarks/voice_room.py [--backend piper] [--trials 3]

before: the whole answer synthesized, then sounddevice.play (the device opened per answer),
as Pipeline.respond and SpeakerSink did before. after, live: sentence by sentence on the kept
open stream. after, cached: the answer from the disk cache on the kept open stream. The
recording's clock is tied to the wall clock by its end (parecord stops when terminated)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ANSWER = ("I live inside this computer, in Kathmandu. I listen through the microphone and "
          "answer from a list of questions. Nothing leaves this machine.")

CHILD = r'''
import json, sys, time
from pathlib import Path
import sounddevice as sd
from assistant.audio.sinks import SpeakerSink
from assistant.config import TtsConfig
from assistant.tts import SpeechThread, sentences
backend, trials, cache, answer = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
speech = SpeechThread(TtsConfig(backend=backend), cache)
ready = speech.synthesize("ready")
speech.prerender([answer]); speech.wait_idle(300)
sink = SpeakerSink(None); sink.open(ready.rate_hz)
marks = []
time.sleep(1.0)
for i in range(trials):
    for mode in ("before", "after live", "after cached"):
        if mode == "before":
            t0 = time.time()
            audio = speech.synthesize(answer + " " * (i + 1))  # not cached: a live render
            sd.play(audio.samples, audio.rate_hz, blocking=True)
        elif mode == "after live":
            t0 = time.time()
            futs = [speech.submit(s + " " * (i + 1)) for s in sentences(answer)]
            sink.play_stream(f.result() for f in futs)
        else:
            t0 = time.time()
            futs = [speech.submit(answer)]
            sink.play_stream(f.result() for f in futs)
        marks.append((mode, t0))
        time.sleep(1.5)
print(json.dumps(marks))
'''


def first_sound_s(samples: np.ndarray, start: int, rate: int, level: int = 300) -> float | None:
    loud = np.nonzero(np.abs(samples[start:].astype(np.int32)) > level)[0]
    return None if len(loud) == 0 else (start + int(loud[0])) / rate


def main() -> int:
    from assistant.audio.files import read_audio
    from assistant.bench.room import Room

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", default="piper")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    with Room.start() as room, tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "room.wav"
        rec = room.record(wav)
        time.sleep(0.5)
        child = subprocess.run([sys.executable, "-c", CHILD, args.backend, str(args.trials),
                                tmp, ANSWER], env=room.env, capture_output=True, text=True,
                               timeout=900)
        time.sleep(0.5)
        t_stop = time.time()
        Room.stop_recording(rec)
        if child.returncode != 0:
            print(child.stderr[-2000:], file=sys.stderr)
            return 1
        marks = json.loads(child.stdout.strip().splitlines()[-1])
        audio = read_audio(wav, rate_hz=16000)
        t_start = t_stop - audio.duration_s
        delays: dict[str, list[float]] = {}
        for mode, t0 in marks:
            idx = max(0, int((t0 - t_start) * audio.rate_hz))
            found = first_sound_s(audio.samples, idx, audio.rate_hz)
            if found is not None:
                delays.setdefault(mode, []).append(1000 * (t_start + found - t0))
    result = {"backend": args.backend,
              **{m: {"median_ms": round(statistics.median(v), 0),
                     "all_ms": [round(x) for x in v]} for m, v in delays.items()}}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
