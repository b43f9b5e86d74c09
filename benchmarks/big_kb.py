"""A big knowledge base (5,000 entries x 3 phrasings): YAML parsing (pure-Python vs libyaml
loader) and the embedding cache (cold, warm, one phrasing changed), with the real sentence
model. CPU seconds (process time) and wall seconds; the machine is shared, so CPU is the
figure to compare.

    .venv/bin/python benchmarks/big_kb.py [--entries 5000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml


def write_kb(path: Path, entries: int, changed: int | None = None) -> None:
    lines = ["entries:"]
    for i in range(entries):
        third = f"fact {i} please" if i != changed else f"fact {i} right now"
        lines += [f'  - answer: "Answer number {i}."',
                  f'    questions: ["What is fact number {i}?", "Tell me about fact {i}", '
                  f'"{third}"]']
    path.write_text("\n".join(lines) + "\n")


def timed(label: str, fn: object) -> object:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()  # type: ignore[operator]
    print(f"{label:<40} cpu {time.process_time() - c0:7.2f} s   wall "
          f"{time.perf_counter() - w0:7.2f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=5000)
    args = ap.parse_args()
    from assistant.answerer import Answerer
    from assistant.kb.embed import DEFAULT_MODEL, load_embedder
    from assistant.kb.knowledge import load_kb

    with tempfile.TemporaryDirectory() as tmp:
        qa, cache = Path(tmp) / "qa.yaml", Path(tmp) / "cache"
        write_kb(qa, args.entries)
        text = qa.read_text()
        print(f"{args.entries} entries x 3 phrasings, {len(text) / 1e6:.1f} MB; "
              f"{os.cpu_count()} cores (shared)")
        timed("yaml SafeLoader (pure Python)", lambda: yaml.load(text, Loader=yaml.SafeLoader))
        timed("yaml CSafeLoader (libyaml)", lambda: yaml.load(text, Loader=yaml.CSafeLoader))
        kb = timed("load_kb (parse + validate)", lambda: load_kb(qa))
        embedder = timed("load sentence model", lambda: load_embedder(
            DEFAULT_MODEL, cache_dir=cache))
        timed("answerer, cold cache (embed all)", lambda: Answerer(kb, embedder, 0.5, cache))
        timed("answerer, warm cache", lambda: Answerer(load_kb(qa), embedder, 0.5, cache))
        write_kb(qa, args.entries, changed=7)
        timed("answerer, one phrasing changed", lambda: Answerer(load_kb(qa), embedder, 0.5,
                                                                 cache))


if __name__ == "__main__":
    main()
