"""Round trip through the simulated room: a click handed to the output (as SpeakerSink does,
or through a kept-open low-latency stream) until an input stream like the daemon's (30 ms
blocks) delivers it = output latency + input latency.

    python benchmarks/room_roundtrip.py
"""

import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.bench.room import Room  # noqa: E402

code = r'''
import time, json, queue, numpy as np, sounddevice as sd
from assistant.audio.sinks import SpeakerSink
from assistant.audio.types import Audio
q = queue.Queue()
def cb(indata, frames, t, status): q.put((time.perf_counter(), indata.copy()))
def wait_click(t0, timeout=3.0):
    while True:
        t, block = q.get(timeout=timeout)
        if t < t0: continue
        idx = np.nonzero(np.abs(block[:, 0].astype(np.int32)) > 5000)[0]
        if len(idx): return t - t0  # block delivered (the daemon sees it no sooner)
def drain():
    while not q.empty(): q.get_nowait()
click = (np.sin(np.arange(800) / 3) * 20000).astype(np.int16)
mode = __import__("sys").argv[1]
inp = sd.InputStream(samplerate=16000, channels=1, dtype="int16", blocksize=480, callback=cb,
                     latency=None if mode != "low" else "low")
inp.start(); time.sleep(1.0)
out = sd.OutputStream(samplerate=16000, channels=1, dtype="int16", latency="low", blocksize=160)
out.start()
sink = SpeakerSink(None); res = {"sd.play": [], "open stream": []}
for i in range(6):
    time.sleep(0.6); drain(); t0 = time.perf_counter()
    sink.play(Audio(np.concatenate([click, np.zeros(1600, np.int16)]), 16000))
    res["sd.play"].append(1000 * wait_click(t0))
    time.sleep(0.6); drain(); t0 = time.perf_counter(); out.write(click)
    res["open stream"].append(1000 * wait_click(t0))
print(json.dumps({"in_latency": inp.latency, "res": res}))
'''
with Room.start() as room:
    for mode in ("default", "low"):
        p = subprocess.run([sys.executable, "-c", code, mode], env=room.env,
                           capture_output=True, text=True, timeout=120)
        lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
        if not lines:
            print(p.stderr[-800:])
            continue
        d = json.loads(lines[-1])
        print(f"input latency={mode} ({d['in_latency']:.3f} s):",
              {k: (round(statistics.median(v)), [round(x) for x in v])
               for k, v in d["res"].items()})
