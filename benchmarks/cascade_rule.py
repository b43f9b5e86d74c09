"""Choose the cascade's rule offline: from the transcripts benchmarks/asr_eval.py --remember
kept for the grammar alone and Whisper alone, rebuild what the cascade would hear under each
rule (``verify_below``: which grammar acceptances Whisper checks; ``min_confidence``: how sure
Whisper must be for its words to replace the grammar's phrasing) and score it through the
same pipeline as `assistant eval`. No recognizer runs, so a grid costs seconds.

    python benchmarks/asr_eval.py SETS --modes pocketsphinx,whisper --remember MEM
    python benchmarks/cascade_rule.py SETS MEM [--sets tune] [--verify -1000,-15,-10,-5]
        [--min-confidence 0,0.4,0.5,0.6]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.asr import Transcript  # noqa: E402
from assistant.asr.cascade import CascadeRule  # noqa: E402
from assistant.commands.common import build_answerer  # noqa: E402
from assistant.commands.eval import evaluate  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.evaluation import read_dataset, summarize  # noqa: E402


class Replayed:
    """The cascade's decision on remembered grammar and Whisper transcripts."""

    name = "cascade"

    def __init__(self, grammar: dict, whisper: dict, rule: CascadeRule) -> None:
        self.grammar, self.whisper, self.rule = grammar, whisper, rule

    def adapt(self, phrases: object) -> None:
        pass

    def transcribe(self, audio: object) -> Transcript:
        key = hashlib.sha1(audio.pcm).hexdigest()  # type: ignore[attr-defined]
        first = Transcript(*self.grammar[key])
        if not self.rule.ask_second(first):
            return first
        return self.rule.choose(first, Transcript(*self.whisper[key]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", type=Path)
    ap.add_argument("memory", type=Path)
    ap.add_argument("--sets", dest="names", default="tune")
    ap.add_argument("--verify", default="-1000,-20,-15,-10,-5,0")
    ap.add_argument("--min-confidence", default="0,0.4,0.5,0.6,0.7")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print("| set | verify_below | min_confidence | as written | paraphrases | unrelated | "
          "confident wrong |")
    print("|---|---|---|---|---|---|---|")
    for name in args.names.split(","):
        folder = args.sets / name
        cfg = load_config(REPO / "config.yaml")
        qa = folder / "qa.yaml"
        cfg = dataclasses.replace(cfg, qa_file=str(qa if qa.is_file() else REPO / "qa.yaml"))
        answerer = build_answerer(cfg)
        rows = read_dataset(folder / "DATASET.tsv", answerer.kb)
        grammar = json.loads((args.memory / f"{name}-pocketsphinx.json").read_text())
        whisper = json.loads((args.memory / f"{name}-whisper.json").read_text())
        for v in (float(x) for x in args.verify.split(",")):
            for c in (float(x) for x in args.min_confidence.split(",")):
                rule = CascadeRule(verify_below=v, min_confidence=c)
                s = summarize(evaluate(rows, Replayed(grammar, whisper, rule), answerer, cfg),
                              worst=0)
                cells = [f"{100 * s['categories'][k]['accuracy']:.1f}%"
                         if k in s["categories"] else "-"
                         for k in ("written", "paraphrase", "unrelated")]
                print(f"| {name} | {v:g} | {c:g} | {' | '.join(cells)} | "
                      f"{len(s['confident_wrong'])} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
