"""Answers rendered ahead of time on a large knowledge base: time and disk for the first
render, for a restart with everything cached, and for a reload with a few answers changed.

    .venv/bin/python benchmarks/voice_cache.py --answers 1000 [--backend piper] [--out F.json]

The answers are the demo qa.yaml's answers with a numbered clause, so each is distinct and
of the usual length (one or two sentences)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from assistant.config import TtsConfig
from assistant.kb.knowledge import load_kb
from assistant.tts import SpeechThread, static_answers


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def render(cfg: TtsConfig, cache: Path, texts: list[str]) -> dict[str, float]:
    speech = SpeechThread(cfg, cache)
    speech.synthesize("ready")
    w0, c0 = time.perf_counter(), cpu_s()
    speech.prerender(texts)
    while not speech.wait_idle(10):
        print(f"  rendered {speech.rendered}", file=sys.stderr, flush=True)
    out = {"wall_s": round(time.perf_counter() - w0, 2), "cpu_s": round(cpu_s() - c0, 2),
           "rendered": speech.rendered}
    t = time.perf_counter()
    for text in texts[:50]:
        speech.synthesize(text)
    out["cached_answer_ms"] = round(1000 * (time.perf_counter() - t) / 50, 2)
    speech.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--answers", type=int, default=1000)
    ap.add_argument("--backend", default="piper")
    ap.add_argument("--qa", default=str(Path(__file__).resolve().parents[1] / "qa.yaml"))
    ap.add_argument("--out")
    args = ap.parse_args()
    base = static_answers(load_kb(args.qa))
    texts = [f"{base[i % len(base)]} This is answer {i + 1}." for i in range(args.answers)]
    cfg = TtsConfig(backend=args.backend)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        result: dict[str, object] = {"answers": len(texts), "backend": args.backend,
                                     "cores": os.cpu_count()}
        result["first_render"] = render(cfg, cache, texts)
        files = list((cache / "speech").iterdir())
        result["disk_mb"] = round(sum(f.stat().st_size for f in files) / 1e6, 1)
        result["files"] = len(files)
        result["restart_all_cached"] = render(cfg, cache, texts)
        changed = [t + " Updated." if i % 100 == 0 else t for i, t in enumerate(texts)]
        result["reload_10_changed"] = render(cfg, cache, changed)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
