"""assistant eval DATASET.tsv: accuracy, rejection, WER and latency through the real pipeline."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from .common import add_command, build_answerer, build_recognizer, config_from_args, print_json


def register(sub: Any) -> None:
    p = add_command(
        sub, "eval", "measure answers on a spoken dataset (accuracy, rejection, WER, latency)",
        run, kb=True, asr=True, description="Run every recording of DATASET.tsv through the "
        "same pipeline as the daemon (segmenter included) and report answer accuracy on rows "
        "with an expected question, rejection rate on rows without one (fallback or no "
        "utterance counts as rejected), accuracy per category (questions as written, "
        "paraphrases: 'text' differs from 'expected', unrelated speech and noise), the "
        "confident wrong answers, word error rate, latency per stage, and the worst "
        "rows. DATASET.tsv: header, columns 'audio' (path relative to the TSV) and "
        "'expected' (a phrasing from qa.yaml, or empty), optional 'text' (what was said).")
    p.add_argument("dataset", help="the DATASET.tsv file")
    p.add_argument("--json", action="store_true", help="print one JSON object (keys accuracy, "
                   "rejection, wer, n, categories, confident_wrong, asr_ms_mean, latency_ms, "
                   "worst)")
    p.add_argument("--worst", type=int, default=5, help="how many failing rows to list")


def evaluate(rows: list[Any], recognizer: Any, answerer: Any, cfg: Any) -> list[Any]:
    from ..audio.sources import FileSource
    from ..daemon import Daemon
    from ..evaluation import Outcome
    from ..pipeline import Exchange, Pipeline
    from ..vad import build_detector, segmenter_settings

    pipeline = Pipeline(recognizer, answerer)  # no speech: evaluation stops at the answer
    settings = segmenter_settings(cfg.vad)
    outcomes = []
    for row in rows:
        heard: list[Exchange] = []
        daemon = Daemon(FileSource(row.audio, cfg.audio.block_ms, realtime=False),
                        build_detector(cfg.vad), settings, pipeline,
                        cfg.vad.frame_ms, on_exchange=heard.append)
        daemon.run(threading.Event())
        out = Outcome(row, transcript=" ".join(ex.transcript for ex in heard).strip())
        answered = [ex for ex in heard if ex.reply and not ex.reply.fallback]
        chosen = answered[0] if answered else (heard[-1] if heard else None)
        if chosen is not None:
            out.timings_ms = dict(chosen.timings_ms)
            out.error = chosen.error
            if chosen.reply is not None:
                out.question, out.score = chosen.reply.question, chosen.reply.score
                best = chosen.reply.match.best
                if answered and best is not None:
                    out.answered_entry = best.entry
        outcomes.append(out)
    return outcomes


def run(args: argparse.Namespace) -> int:
    import logging

    from ..evaluation import read_dataset, summarize

    cfg = config_from_args(args)
    answerer = build_answerer(cfg)
    rows = read_dataset(args.dataset, answerer.kb)
    recognizer = build_recognizer(cfg, answerer.kb.questions)
    daemon_log = logging.getLogger("assistant.daemon")
    level = daemon_log.level
    daemon_log.setLevel(logging.WARNING)  # a line per utterance would bury the summary
    try:
        summary = summarize(evaluate(rows, recognizer, answerer, cfg), args.worst)
    finally:
        daemon_log.setLevel(level)
    summary["recognizer"] = recognizer.name
    if args.json:
        print_json(summary)
        return 0
    pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    print(f"rows: {summary['n']}  recognizer: {recognizer.name}")
    print(f"answer accuracy (rows with an expected question): {pct(summary['accuracy'])}")
    print(f"rejection (rows that should get no answer):       {pct(summary['rejection'])}")
    print(f"word error rate:                                  {pct(summary['wer'])}")
    for name, c in summary["categories"].items():
        label = {"written": "questions as written", "paraphrase": "paraphrases",
                 "unrelated": "unrelated speech and noise (no answer)"}[name]
        print(f"  {label + ':':<40} {c['correct']:>4} of {c['n']:<4} {pct(c['accuracy'])}")
    if summary["asr_ms_mean"] is not None:
        print(f"recognition time per utterance (mean):           {summary['asr_ms_mean']:.1f} ms")
    for stage, v in summary["latency_ms"].items():
        print(f"latency {stage:<6} median {v['median']:>7.1f} ms   p95 {v['p95']:>7.1f} ms")
    wrong = summary["confident_wrong"]
    print(f"confident wrong answers (answered, but not the right answer): {len(wrong)}")
    for w in wrong:
        print(f"  [{w['category']}] said {w['spoken'] or '(noise)'!r}, heard {w['transcript']!r}"
              f", answered {w['matched']!r} ({w['score']}), expected {w['expected']!r}")
    if summary["worst"]:
        print("worst rows:")
        for w in summary["worst"]:
            print(f"  {w['audio']}: expected {w['expected']!r}, heard {w['transcript']!r}, "
                  f"matched {w['matched']!r} ({w['score']}){'' if w['answered'] else ' [fallback]'}"
                  f"{' error: ' + w['error'] if w['error'] else ''}")
    return 0
