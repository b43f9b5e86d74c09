"""A spoken set of one knowledge base, re-labelled for its translation: each row's expected
phrasing becomes the phrasing at the same place (entry, position) in the other file, so the
same recordings measure the other knowledge base ("an English knowledge base asked in
Spanish", docs/languages.md).

    python benchmarks/cross_language.py /tmp/lang-es/DATASET.tsv \
        docs/languages/qa.es.yaml qa.yaml /tmp/lang-es/DATASET.en.tsv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from assistant.kb.knowledge import load_kb


def main(dataset: str, from_qa: str, to_qa: str, out: str) -> None:
    src, dst = load_kb(from_qa), load_kb(to_qa)
    if [len(e.questions) for e in src.entries] != [len(e.questions) for e in dst.entries]:
        sys.exit(f"{from_qa} and {to_qa} differ in shape: not a translation of each other")
    where = {q: (i, j) for i, e in enumerate(src.entries) for j, q in enumerate(e.questions)}
    with open(dataset, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    folder = Path(dataset).resolve().parent
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(("audio", "expected", "text"))
        for r in rows:
            expected = r["expected"]
            if expected:
                i, j = where[expected]
                expected = dst.entries[i].questions[j]
            w.writerow((str(folder / r["audio"]), expected, r.get("text", "")))
    print(f"{out}: {len(rows)} rows")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
