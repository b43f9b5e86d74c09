"""The matcher's speed targets (#28) with the real sentence model, for each matcher.fit:

* a typed question answered (normalise, embed, fitted map, match) with 1,000 entries;
* start-up with a cached knowledge base of 1,000 entries: a fresh process that loads qa.yaml,
  the sentence model and the answerer (embeddings and fitted model from the cache);
* a reload with one entry changed (its phrasing embedded, the model refitted and calibrated).

Medians of --repeats runs, wall seconds; the machine is shared, so say how loaded it was.

    .venv/bin/python benchmarks/matcher_speed.py [--entries 1000] [--phrasings 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOPICS = ("bank card", "train ticket", "weather", "recipe", "printer", "holiday", "parcel",
          "doctor", "library book", "bicycle")
FORMS = ("How do I {v} my {t} number {i}?", "What should I do to {v} the {t} {i}",
         "Can you help me {v} {t} {i}", "I need to {v} my {t} {i}, what now",
         "Where can I {v} the {t} {i}?", "Is it possible to {v} {t} {i} today")
VERBS = ("renew", "cancel", "check", "change", "find", "order", "return", "fix")

STARTUP = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from assistant.answerer import Answerer
from assistant.kb.embed import DEFAULT_MODEL, load_embedder
from assistant.kb.knowledge import load_kb
kb = load_kb({qa!r})
embedder = load_embedder(DEFAULT_MODEL, cache_dir=Path({cache!r}))
Answerer(kb, embedder, "auto", Path({cache!r}), fit={fit!r})
print(time.perf_counter() - t0)
"""


def write_kb(path: Path, entries: int, phrasings: int, changed: int | None = None) -> None:
    lines = ["entries:"]
    for i in range(entries):
        verb, topic = VERBS[i % len(VERBS)], TOPICS[(i // len(VERBS)) % len(TOPICS)]
        qs = [FORMS[j % len(FORMS)].format(v=verb, t=topic, i=i) for j in range(phrasings)]
        if i == changed:
            qs[0] = f"Tell me how to {verb} {topic} {i} right now"
        lines += [f'  - answer: "Answer {i}."', "    questions: [" +
                  ", ".join(f'"{q}"' for q in qs) + "]"]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--phrasings", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from assistant.answerer import Answerer
    from assistant.kb.embed import DEFAULT_MODEL, load_embedder
    from assistant.kb.knowledge import load_kb

    with tempfile.TemporaryDirectory() as tmp:
        qa, cache = Path(tmp) / "qa.yaml", Path(tmp) / "cache"
        write_kb(qa, args.entries, args.phrasings)
        embedder = load_embedder(DEFAULT_MODEL, cache_dir=cache)
        print(f"{args.entries} entries x {args.phrasings} phrasings; medians of "
              f"{args.repeats}\n")
        print("| matcher.fit | typed question ms (median / p95) | start-up s | "
              "reload, one entry changed s | fit + calibrate s |")
        print("|---|---:|---:|---:|---:|")
        for fit in ("none", "whiten"):
            write_kb(qa, args.entries, args.phrasings)
            answerer = Answerer(load_kb(qa), embedder, "auto", cache, fit=fit)  # fills caches
            questions = [f"how can I {VERBS[i % 8]} a {TOPICS[i % 10]} {i * 7}" for i in
                         range(60)]
            times = []
            for q in questions:
                t0 = time.perf_counter()
                answerer.reply(q)
                times.append(1000 * (time.perf_counter() - t0))
            times.sort()
            startup = []
            for _ in range(args.repeats):
                code = STARTUP.format(repo=str(REPO), qa=str(qa), cache=str(cache), fit=fit)
                out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, check=False)
                if out.returncode:
                    sys.exit(f"start-up run failed: {out.stderr[-2000:]}")
                startup.append(float(out.stdout.strip().splitlines()[-1]))
            reloads, fits = [], []
            for r in range(args.repeats):
                write_kb(qa, args.entries, args.phrasings, changed=100 + r)
                t0 = time.perf_counter()
                answerer.reload(load_kb(qa))
                reloads.append(time.perf_counter() - t0)
                from assistant.kb.decision import fit as fit_model

                m = answerer.matcher
                t0 = time.perf_counter()
                fit_model(m.raw_vecs, m._entry_of, "auto", m.scoring, m.margin_weight, fit)
                fits.append(time.perf_counter() - t0)
            print(f"| {fit} | {statistics.median(times):.1f} / "
                  f"{times[int(0.95 * len(times)) - 1]:.1f} | {statistics.median(startup):.2f} | "
                  f"{statistics.median(reloads):.2f} | {statistics.median(fits):.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
