"""CLINC-like splits of BANKING77: does the matcher pick the right answer for phrasings nobody
wrote down, and turn away questions about answers that are not in the knowledge base?

A split: 20 of the 77 intents (drawn per seed) are out of scope; the other 57 are answers of
a knowledge base holding K phrasings each, drawn from train.csv. Two kinds of split, never
mixed up:

  dev       questions = the train.csv phrasings not in the knowledge base (3,000 drawn),
            seeds 1000, 1001, ...: the settings (shrinkage, margin weight) were tuned here
  held-out  questions = every test.csv question (never seen while tuning), seeds 0, 1, ...:
            the figures reported in docs/matcher.md

Reported per method and K, averaged over the seeds, as percentages:

  top1      in-scope questions whose best answer is right, threshold ignored
  acc/rej   at the method's automatic threshold (calibrated from the knowledge base alone):
            in-scope answered right / out-of-scope given the fallback
  acc@rej85 in-scope answered right at the threshold that rejects 85% of out-of-scope
  bal       min(acc, rej) at the best threshold for the questions (an upper bound)
  wrong     confident wrong answers per split (answered, but wrong or out of scope)

Methods: "cosine" = the matcher before #28 (matcher.fit none, margin weight 1);
"whiten" = the default since #28 (matcher.fit whiten, margin weight 1; --margin); "+lex"
adds a lexical view (TF-IDF cosine over the normalised words, weight 0.2) fused into every
cosine; "whiten+bg" adds matcher.background (Home Assistant's sentences turn away a question
closer to them than to every phrasing).

    python benchmarks/banking77_splits.py --split held-out --ks 3,10,30 --seeds 10

Embeddings of every normalised text are computed once with the assistant's own sentence
model (ONNX Runtime) and cached in --vecs (~10 minutes on 2 loaded cores); --vecs FILE.npz
with arrays ``texts`` and ``vecs`` brings another model's vectors.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.kb.background import Background  # noqa: E402
from assistant.kb.background import sentences as background_sentences  # noqa: E402
from assistant.kb.decision import DEFAULT_SHRINKAGE, fit  # noqa: E402
from assistant.kb.evaluate import accuracy_at_rejection  # noqa: E402
from assistant.kb.knowledge import Entry, KnowledgeBase  # noqa: E402
from assistant.kb.matcher import Matcher  # noqa: E402
from assistant.kb.normalize import normalize  # noqa: E402
from assistant.kb.scores import best_threshold  # noqa: E402

HOLDOUT = 20  # intents out of scope per split
DEV_QUESTIONS = 3000
LEX_WEIGHT = 0.2
TUNE = {"shrinkage": DEFAULT_SHRINKAGE, "margin": 1.0}  # whiten's settings: --shrinkage, --margin

Split = tuple[list[str], np.ndarray, list[str], list[int | None]]


def read(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(normalize(r["text"].strip()) or r["text"].strip(), r["category"])
                for r in csv.DictReader(f)]


def make_split(train: list[tuple[str, str]], test: list[tuple[str, str]], k: int, seed: int,
               dev: bool) -> Split:
    """(phrasings, their answer, questions, expected answer or None)."""
    rng = random.Random(seed)
    intents = sorted({c for _, c in train})
    out = set(rng.sample(intents, HOLDOUT))
    inside = [i for i in intents if i not in out]
    by: dict[str, list[str]] = {}
    for t, c in train:
        if t not in by.setdefault(c, []):
            by[c].append(t)
    texts: list[str] = []
    entry: list[int] = []
    for e, intent in enumerate(inside):
        texts += rng.sample(by[intent], k)
        entry += [e] * k
    index = {i: e for e, i in enumerate(inside)}
    if dev:
        used = set(texts)
        pool = [(t, c) for t, c in train if t not in used]
        rng.shuffle(pool)
        pool = pool[:DEV_QUESTIONS]
    else:
        pool = test
    return texts, np.array(entry), [t for t, _ in pool], [index.get(c) for _, c in pool]


def tfidf(phrasings: Sequence[str], queries: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Unit TF-IDF vectors (binary term frequency) over the phrasings' words."""
    df: dict[str, int] = {}
    for p in phrasings:
        for w in set(p.split()):
            df[w] = df.get(w, 0) + 1
    col = {w: i for i, w in enumerate(sorted(df))}
    idf = np.log((1 + len(phrasings)) / (1 + np.array([df[w] for w in sorted(df)]))) + 1

    def vec(texts: Sequence[str]) -> np.ndarray:
        m = np.zeros((len(texts), len(col)), np.float32)
        for r, t in enumerate(texts):
            for w in set(t.split()):
                if w in col:
                    m[r, col[w]] = idf[col[w]]
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

    return vec(phrasings), vec(queries)


def kb_of(entry: np.ndarray) -> KnowledgeBase:
    sizes = np.bincount(entry)
    return KnowledgeBase(tuple(Entry(f"a{e}", tuple(f"q{e}.{j}" for j in range(n)))
                               for e, n in enumerate(sizes)), source="banking77")


Method = Callable[[np.ndarray, np.ndarray, np.ndarray, Split, Background | None],
                  tuple[np.ndarray, ...]]


def method(model: str, margin_weight: float, lexical: bool = False,
           background: bool = False) -> Method:
    """``background``: Home Assistant's sentences (the last argument) turn questions away."""
    def run(pv: np.ndarray, entry: np.ndarray, qv: np.ndarray, split: Split,
            sentences: Background | None) -> tuple[np.ndarray, ...]:
        if lexical:
            lp, lq = tfidf(split[0], split[2])
            a, b = np.sqrt(1 - LEX_WEIGHT), np.sqrt(LEX_WEIGHT)
            pv = np.hstack([a * pv, b * lp]).astype(np.float32)
            qv = np.hstack([a * qv, b * lq]).astype(np.float32)
        weight = TUNE["margin"] if model == "whiten" else margin_weight
        decision = fit(pv, entry, "auto", "blend", weight, model, TUNE["shrinkage"])
        matches = Matcher(kb_of(entry), pv, decision=decision,
                          background=sentences if background else None
                          ).match_many(qv, top_k=1)
        best = np.array([m.best.entry if m.best else -1 for m in matches])
        # a question the background claims is turned away at any threshold
        conf = np.array([-1.0 if m.elsewhere else m.confidence for m in matches],
                        dtype=np.float64)
        return best, conf, np.array(decision.threshold)
    return run


METHODS = {
    "cosine": method("none", 1.0),
    "whiten": method("whiten", 1.0),
    "cosine+lex": method("none", 1.0, lexical=True),
    "whiten+lex": method("whiten", 1.0, lexical=True),
    "whiten+bg": method("whiten", 1.0, background=True),
}


def score(best: np.ndarray, conf: np.ndarray, threshold: float,
          expected: Sequence[int | None]) -> dict[str, float]:
    exp = np.array([-2 if e is None else e for e in expected])
    inside, right, answered = exp >= 0, best == exp, conf >= threshold
    _, bal_acc, bal_rej = best_threshold(right[inside], conf[inside], conf[~inside])
    return {"top1": right[inside].mean(), "acc": (right & answered)[inside].mean(),
            "rej": (~answered)[~inside].mean(),
            "acc@rej85": accuracy_at_rejection(right[inside], conf[inside], conf[~inside],
                                               0.85)[0],
            "bal": min(bal_acc, bal_rej), "wrong": float(np.sum(answered & ~right)),
            "thr": threshold}


def embeddings(path: Path, texts: Sequence[str]) -> dict[str, np.ndarray]:
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            cached = dict(zip(z["texts"].tolist(), z["vecs"].astype(np.float32), strict=True))
        if all(t in cached for t in texts):
            return cached
    import os

    from assistant.kb.embed import DEFAULT_MODEL, load_embedder

    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assistant"
    embedder = load_embedder(DEFAULT_MODEL, "cpu", "onnx", xdg)
    todo = sorted(set(texts))
    print(f"embedding {len(todo)} texts once into {path} ...", file=sys.stderr)
    vecs = np.vstack([embedder.embed(todo[i:i + 256]) for i in range(0, len(todo), 256)])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, texts=np.array(todo), vecs=vecs.astype(np.float32))
    return dict(zip(todo, vecs, strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", type=Path,
                    default=REPO / ".." / "shared" / "datasets" / "banking77")
    ap.add_argument("--split", choices=("dev", "held-out"), default="held-out")
    ap.add_argument("--ks", default="3,10,30", help="phrasings per answer, comma-separated")
    ap.add_argument("--seeds", type=int, default=10, help="splits per K")
    ap.add_argument("--methods", default="cosine,whiten",
                    help=f"comma-separated, of: {', '.join(METHODS)}")
    ap.add_argument("--vecs", type=Path, default=Path("/tmp/banking77-minilm.npz"),
                    help="embedding cache (.npz with texts, vecs)")
    ap.add_argument("--shrinkage", type=float, default=DEFAULT_SHRINKAGE,
                    help="whitening shrinkage to try (dev splits)")
    ap.add_argument("--margin", type=float, default=1.0,
                    help="margin weight to try with whiten (dev splits)")
    args = ap.parse_args(argv)
    TUNE.update(shrinkage=args.shrinkage, margin=args.margin)
    unknown = [m for m in args.methods.split(",") if m not in METHODS]
    if unknown:
        ap.error(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")
    if not (args.data / "train.csv").is_file():
        ap.error(f"{args.data}: no train.csv; pass the BANKING77 folder")
    train, test = read(args.data / "train.csv"), read(args.data / "test.csv")
    pairs = background_sentences("en") if "+bg" in args.methods else []
    bg_texts = [normalize(t) or t for _, t in pairs]
    vecs = embeddings(args.vecs, [t for t, _ in train + test] + bg_texts)
    sentences = (Background(tuple(bg_texts), tuple(i for i, _ in pairs),
                            np.stack([vecs[t] for t in bg_texts])) if pairs else None)
    dev = args.split == "dev"
    seeds = [(1000 if dev else 0) + i for i in range(args.seeds)]
    print(f"BANKING77 {args.split} splits: 57 answers, {HOLDOUT} intents out of scope, "
          f"{len(seeds)} seeds, vectors {args.vecs.name}, whiten: shrinkage "
          f"{args.shrinkage:g}, margin weight {args.margin:g}\n")
    print("| K | method | top1 | acc | rej | acc@rej85 | bal | wrong | thr | s per split |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in (int(x) for x in args.ks.split(",")):
        for name in args.methods.split(","):
            rows, spent = [], 0.0
            for seed in seeds:
                split = make_split(train, test, k, seed, dev)
                pv = np.stack([vecs[t] for t in split[0]])
                qv = np.stack([vecs[t] for t in split[2]])
                t0 = time.perf_counter()
                best, conf, thr = METHODS[name](pv, split[1], qv, split, sentences)
                spent += time.perf_counter() - t0
                rows.append(score(best, conf, float(thr), split[3]))
            avg = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
            pct = " | ".join(f"{100 * avg[key]:.1f}" for key in
                             ("top1", "acc", "rej", "acc@rej85", "bal"))
            print(f"| {k} | {name} | {pct} | {avg['wrong']:.0f} | {avg['thr']:.3f} | "
                  f"{spent / len(seeds):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
