"""Recognizers side by side on the sets of benchmarks/asr_sets.py, through the same pipeline
as `assistant eval` (segmenter, recognizer, matcher, the staying-quiet rule) (issue #25).

    python benchmarks/asr_eval.py SETS_DIR [--sets tune,heldout,piper,dev]
        [--modes pocketsphinx,whisper,cascade] [--set asr.whisper_chunk_s=15 ...] [--errors]
        [--remember DIR] [--config config.yaml]

Per set and mode: questions as written, paraphrases and unrelated speech/noise (no answer)
right, the confident wrong answers, and the mean recognition time per utterance (this machine,
wall clock). ``--set`` overrides asr fields for every mode (e.g. a shorter Whisper window).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.asr import Transcript  # noqa: E402
from assistant.commands.common import build_answerer, build_recognizer  # noqa: E402
from assistant.commands.eval import evaluate  # noqa: E402
from assistant.config import load_config, with_overrides  # noqa: E402
from assistant.evaluation import read_dataset, summarize  # noqa: E402


class Remembered:
    """A recognizer whose transcripts are kept on disk, keyed by the audio: a rerun with
    another matcher (or matcher setting) costs no recognition."""

    def __init__(self, recognizer: object, path: Path) -> None:
        self.recognizer, self.path = recognizer, path
        self.name = recognizer.name  # type: ignore[attr-defined]
        self.memo = json.loads(path.read_text()) if path.is_file() else {}

    def adapt(self, phrases: object) -> None:
        pass

    def transcribe(self, audio: object) -> Transcript:
        key = hashlib.sha1(audio.pcm).hexdigest()  # type: ignore[attr-defined]
        if key not in self.memo:
            t = self.recognizer.transcribe(audio)  # type: ignore[attr-defined]
            extra = {k: v for k, v in t.extra.items()
                     if isinstance(v, (str, int, float, bool, type(None)))}
            self.memo[key] = [t.text, t.backend, t.confidence, extra]
            self.path.write_text(json.dumps(self.memo))
        text, backend, confidence, extra = self.memo[key]
        return Transcript(text, backend, confidence, extra)


def _value(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", type=Path)
    ap.add_argument("--sets", dest="names", default="tune,heldout,piper,dev")
    ap.add_argument("--modes", default="pocketsphinx,whisper,cascade")
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="asr.FIELD=VALUE")
    ap.add_argument("--errors", action="store_true", help="list every wrong row")
    ap.add_argument("--remember", type=Path, metavar="DIR", help="keep each mode's "
                    "transcripts in DIR and reuse them (rerun the matching alone)")
    ap.add_argument("--config", type=Path, default=REPO / "config.yaml")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    extra = {}
    for o in args.overrides:
        key, _, value = o.partition("=")
        extra[key.removeprefix("asr.")] = _value(value)
    cache = Path(tempfile.gettempdir()) / "asr-eval-cache"
    print("| set | mode | as written | paraphrases | unrelated + noise, no answer | "
          "confident wrong | asr ms/utterance |")
    print("|---|---|---|---|---|---|---|")
    for name in args.names.split(","):
        folder = args.sets / name
        cfg = load_config(args.config)
        qa = folder / "qa.yaml"
        cfg = dataclasses.replace(cfg, qa_file=str(qa if qa.is_file() else REPO / "qa.yaml"),
                                  cache_dir=str(cache))
        answerer = build_answerer(cfg)
        rows = read_dataset(folder / "DATASET.tsv", answerer.kb)
        for mode in args.modes.split(","):
            mcfg = with_overrides(cfg, asr={"backend": mode, **extra})
            recognizer = build_recognizer(mcfg, answerer.kb.questions)
            if args.remember:
                args.remember.mkdir(parents=True, exist_ok=True)
                tag = "-".join(f"{k}={v}" for k, v in sorted(extra.items()))
                recognizer = Remembered(recognizer, args.remember / f"{name}-{mode}{tag}.json")
            outcomes = evaluate(rows, recognizer, answerer, mcfg)
            s = summarize(outcomes, worst=0)
            cells = []
            for cat in ("written", "paraphrase", "unrelated"):
                c = s["categories"].get(cat)
                cells.append("-" if not c else
                             f"{100 * c['accuracy']:.1f}% ({c['correct']}/{c['n']})")
            asr_ms = s["asr_ms_mean"] or 0.0
            print(f"| {name} | {mode} | {' | '.join(cells)} | {len(s['confident_wrong'])} | "
                  f"{asr_ms:.0f} |", flush=True)
            if args.errors:
                for o in outcomes:
                    if not o.correct:
                        print(f"    [{o.category}] said {o.row.spoken!r} heard {o.transcript!r}"
                              f" -> {o.question!r} ({o.score})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
