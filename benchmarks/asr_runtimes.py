"""wav2vec2 on the CPU: torch fp32 against ONNX Runtime fp32 and int8, 1 and 2 threads, on an
idle machine and with another process keeping one core busy.

The model is a randomly initialised wav2vec2-base (the exact architecture: 12 layers, 768
wide, 95 M parameters): the same computation, hence the same timings, as the trained weights,
without a download. Each runtime and thread count runs in a fresh process, so start-up and
memory are its own. Reported per row:

  start s     import + load + warm-up in a fresh process (the ONNX file already cached)
  1s/2s/4s    median seconds to recognise that much audio (idle machine / one core busy)
  CPU s       CPU seconds (all threads) spent on 2 s of audio while idle: the figure that
              other people's load on a shared machine does not distort
  RSS MB      resident memory after the runs; peak MB: the most it held (VmHWM)
  agree       frames whose best token equals torch fp32's (random weights have near-ties,
              so this is a lower bound for a trained model)

    python benchmarks/asr_runtimes.py [--reps 3] [--json OUT.json]

About 4.5 minutes on 2 cores, ~40 s of it converting the model (into a temp dir).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LENGTHS_S = (1, 2, 4)
RUNTIMES = (("torch", "none", "torch fp32"), ("onnx", "none", "onnx fp32"),
            ("onnx", "int8", "onnx int8"))


def _memory_mb() -> tuple[float, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            fields[line.split(":")[0]] = int(line.split()[1]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def _busy() -> subprocess.Popen[bytes]:
    """Another CPU-bound process (one core), like a browser tab or a build next to us."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def child(runtime: str, quantize: str, threads: int, model: str, cache: str, reps: int,
          out: str) -> None:
    """One runtime at one thread count, in this fresh process; writes a JSON result."""
    start = time.perf_counter()
    import numpy as np

    from assistant.asr import load_recognizer
    from assistant.audio.types import Audio
    from assistant.config import AsrConfig

    cfg = AsrConfig(backend="wav2vec2", model=model, runtime=runtime, quantize=quantize,
                    threads=threads)
    rec: Any = load_recognizer(cfg, cache_dir=Path(cache))
    startup_s = time.perf_counter() - start
    rng = np.random.default_rng(0)
    clips = {s: Audio((rng.standard_normal(16000 * s) * 3000).astype(np.int16))
             for s in LENGTHS_S}
    for clip in clips.values():
        rec.logits(clip)  # untimed: first run of each length

    cpu: list[float] = []  # CPU seconds (all threads) for 2 s of audio: blind to other load

    def timings() -> dict[str, float]:
        times: dict[int, list[float]] = {s: [] for s in LENGTHS_S}
        for _ in range(reps):
            for s, clip in clips.items():
                t, c = time.perf_counter(), time.process_time()
                rec.logits(clip)
                times[s].append(time.perf_counter() - t)
                if s == 2:
                    cpu.append(time.process_time() - c)
        return {str(s): float(np.median(v)) for s, v in times.items()}

    idle = timings()
    cpu_s = float(np.median(cpu))
    hog = _busy()
    try:
        time.sleep(0.5)
        busy = timings()
    finally:
        hog.kill()
        hog.wait()
    rss, peak = _memory_mb()
    np.save(out + ".npy", rec.logits(clips[2]))
    Path(out).write_text(json.dumps({"startup_s": startup_s, "idle": idle, "busy": busy,
                                     "cpu_s": cpu_s,
                                     "rss_mb": rss, "peak_mb": peak}))


def _run_child(args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "result.json")
        subprocess.run([sys.executable, __file__, "--child", *args, out], check=True)
        result: dict[str, Any] = json.loads(Path(out).read_text())
        import numpy as np

        result["logits"] = np.load(out + ".npy")
    return result


def _fmt(times: dict[str, float]) -> str:
    return " / ".join(f"{times[str(s)]:.2f}" for s in LENGTHS_S)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="timed runs per length (median)")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        runtime, quantize, threads, model, cache, reps, out = args.child
        child(runtime, quantize, int(threads), model, cache, int(reps), out)
        return 0

    import logging

    import numpy as np

    from assistant.asr import load_recognizer
    from assistant.bench.models import random_wav2vec2_base
    from assistant.config import AsrConfig

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    began = time.monotonic()
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               "?")
    print(f"# wav2vec2-base, RANDOM weights (timings equal a trained model's); {cpu}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = str(random_wav2vec2_base(Path(tmp) / "wav2vec2-base-random"))
        cache = str(Path(tmp) / "cache")
        for runtime, quantize, _ in RUNTIMES:  # build the ONNX files outside the timings
            if runtime == "onnx":
                load_recognizer(AsrConfig(backend="wav2vec2", model=model, runtime=runtime,
                                          quantize=quantize), cache_dir=Path(cache))
        for runtime, quantize, label in RUNTIMES:
            for threads in (1, 2):
                r = _run_child([runtime, quantize, str(threads), model, cache, str(args.reps)])
                r.update(runtime=label, threads=threads)
                rows.append(r)
                print(f"  {label}, {threads} thread(s): done (load average "
                      f"{os.getloadavg()[0]:.1f})", flush=True)
    reference = next(r["logits"] for r in rows if r["runtime"] == "torch fp32")
    print()
    print("| runtime | threads | start s | idle: 1 s / 2 s / 4 s audio | one core busy: "
          "1 s / 2 s / 4 s | CPU s | RSS MB | peak MB | agree |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        agree = float(np.mean(r.pop("logits").argmax(-1) == reference.argmax(-1)))
        r["agree"] = agree
        print(f"| {r['runtime']} | {r['threads']} | {r['startup_s']:.1f} | {_fmt(r['idle'])} | "
              f"{_fmt(r['busy'])} | {r['cpu_s']:.2f} | {r['rss_mb']:.0f} | {r['peak_mb']:.0f} | "
              f"{agree:.0%} |")
    print(f"\n({time.monotonic() - began:.0f} s in all; median of {args.reps} runs; seconds "
          "of compute per utterance, lower is better)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
