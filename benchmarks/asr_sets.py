"""Build the spoken sets that benchmarks/asr_eval.py measures recognizers on (issue #25).

    python benchmarks/asr_sets.py OUT_DIR [--dev ../shared/datasets/speech-dev]

OUT_DIR/tune     espeak-ng en-us+f3, en-gb+m3 at 130 and 200 wpm: the demo qa.yaml's questions,
                 benchmarks/default_extra.tsv's paraphrases, unrelated sentences, noise (the
                 set #17 measured; guard thresholds were looked at on this one only)
OUT_DIR/heldout  espeak-ng voices not tuned on (en-us+m1, en-gb+f2, 160 wpm): the questions,
                 benchmarks/heldout_extra.tsv (paraphrases written for this, and unrelated
                 talk such as home commands), noise
OUT_DIR/piper    the same held-out rows spoken by the Piper voice (en_US-joe-medium)
OUT_DIR/dev      with --dev: real recordings; their knowledge base OUT_DIR/dev/qa.yaml is the
                 demo qa.yaml plus each short phrase as its own entry (long read sentences and
                 noise must get no answer)
Each has a DATASET.tsv for `assistant eval`.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.audio.files import write_wav  # noqa: E402
from assistant.audio.types import to_pipeline  # noqa: E402
from assistant.config import TtsConfig  # noqa: E402
from assistant.kb.knowledge import load_kb, normalize_key  # noqa: E402
from assistant.spoken_set import items_for, read_extra, with_noise, write_dataset  # noqa: E402


def piper_set(out: Path, items: list) -> None:
    from assistant.tts import load_synthesizer

    tts = load_synthesizer(TtsConfig(backend="piper"))
    (out / "audio").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    rows = []
    for n, item in enumerate(items, 1):
        audio = tts.synthesize(item.text)
        audio = to_pipeline(audio.samples, audio.rate_hz)
        name = f"audio/{n:04d}_piper.wav"
        write_wav(out / name, with_noise(audio, None, rng))
        rows.append((name, item.expected, item.text))
    with (out / "DATASET.tsv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(("audio", "expected", "text"))
        w.writerows(rows)


def dev_set(out: Path, dev: Path) -> None:
    kb = yaml.safe_load((REPO / "qa.yaml").read_text())
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with (dev / "transcripts.tsv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            text = r["transcript"].strip()
            known = bool(text) and len(text.split()) <= 9
            if known and not any(normalize_key(text) == normalize_key(q)
                                 for e in kb["entries"] for q in e["questions"]):
                kb["entries"].append({"answer": f"You said {text}.", "questions": [text]})
            if known and normalize_key(text) == "what time is it":
                text = "What time is it?"  # the demo's own phrasing
            rows.append((str((dev / r["file"]).resolve()), text if known else "", text))
    (out / "qa.yaml").write_text(yaml.safe_dump(kb, sort_keys=False))
    with (out / "DATASET.tsv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(("audio", "expected", "text"))
        w.writerows(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--dev", type=Path)
    args = ap.parse_args()
    kb = load_kb(REPO / "qa.yaml")
    tune = items_for(kb, read_extra(REPO / "benchmarks/default_extra.tsv"))
    held = items_for(kb, read_extra(REPO / "benchmarks/heldout_extra.tsv"))
    write_dataset(args.out / "tune", tune, ["en-us+f3", "en-gb+m3"], [130, 200])
    write_dataset(args.out / "heldout", held, ["en-us+m1", "en-gb+f2"], [160])
    piper_set(args.out / "piper", held)
    if args.dev:
        dev_set(args.out / "dev", args.dev)
    print(f"sets written under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
