"""assistant eval-text DATA.tsv: how well the knowledge base answers labelled questions."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, build_answerer, config_from_args, print_json

DESCRIPTION = """\
Ask every question of a tab-separated test file and score the answers.

The file has a header line naming the columns 'text' and 'expected'. 'expected' is any
phrasing of the right entry, exactly as written in qa.yaml, or empty when no entry fits
and the fallback is the right reply:

    text<TAB>expected
    what are you called<TAB>What is your name?
    tell me a joke<TAB>

Reported: top-1 accuracy (in-scope questions whose best entry is right, threshold ignored),
accuracy at the configured threshold (in-scope questions answered with the right entry),
rejection (out-of-scope questions given the fallback), and the threshold that would balance
the two on this file, and the confident wrong answers: questions answered with a wrong
entry, or answered when the fallback was right. Each wrong reply listed says which
threshold would have made it right ("needed > 0.71": a threshold above 0.71 gives the
fallback instead; "needed <= 0.64": the right entry was first and a threshold of 0.64
answers it), or that no threshold would (the best entry was wrong).
--json keys: top1, accuracy, rejection, n, threshold (the one in effect), balanced_threshold,
balanced_accuracy, balanced_rejection, n_in_scope, n_out_of_scope, confident_wrong, fit (the
matcher's fitted model and why), misses (each with line, text, expected, got, confidence,
needed: [">" or "<=", threshold] or null)."""


def register(sub: Any) -> None:
    p = add_command(sub, "eval-text", "score the knowledge base on a file of labelled questions",
                    run, kb=True, description=DESCRIPTION)
    p.add_argument("data", metavar="DATA.tsv", help="test questions: columns text, expected")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--misses", type=int, default=5, metavar="N",
                   help="list up to N wrong replies (default 5; 0 = none)")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def run(args: argparse.Namespace) -> int:
    from ..kb.evaluate import evaluate, needed_threshold, read_cases

    cfg = config_from_args(args)
    answerer = build_answerer(cfg)
    cases = read_cases(args.data, answerer.kb)
    matches = answerer.match_many([c.text for c in cases])
    metrics = evaluate(matches, [c.expected for c in cases])
    questions = [e.questions[0] for e in answerer.kb.entries]
    misses = []
    for case, match in zip(cases, matches, strict=True):
        got = match.best.entry if match.answered and match.best else None
        if got != case.expected:
            need = needed_threshold(match, case.expected)
            misses.append({"line": case.line, "text": case.text,
                           "needed": None if need is None else [need[0], round(need[1], 4)],
                           "expected": None if case.expected is None
                           else questions[case.expected],
                           "got": None if got is None else questions[got],
                           "confidence": None if match.confidence is None
                           else round(match.confidence, 4),
                           "elsewhere": match.elsewhere})
    decision = answerer.matcher.decision
    if args.json:
        print_json({**metrics.as_dict(), "fit": f"{decision.model}: {decision.note}",
                    "misses": misses[:max(args.misses, 0)]})
        return 0
    print(f"{metrics.n} questions: {metrics.n_in_scope} in scope, {metrics.n_out_of_scope} "
          f"out of scope ({args.data})")
    print(f"top-1 accuracy          {_pct(metrics.top1)}")
    print(f"accuracy at threshold   {_pct(metrics.accuracy)}   (threshold {metrics.threshold:.3f})")
    print(f"out-of-scope rejected   {_pct(metrics.rejection)}")
    if metrics.balanced_threshold is not None:
        print(f"balanced threshold      {metrics.balanced_threshold:.3f}   (accuracy "
              f"{_pct(metrics.balanced_accuracy)}, rejection {_pct(metrics.balanced_rejection)})")
    print(f"confident wrong answers {metrics.confident_wrong}   (answered, but the fallback or "
          "another answer was right)")
    print(f"matcher model           {decision.model} ({decision.note})")
    for miss in misses[:max(args.misses, 0)]:
        need = miss["needed"]
        hint = (f"needed {need[0]} {need[1]:.3f}" if need else
                f"closer to a Home Assistant command: {miss['elsewhere']!r}"
                if miss["elsewhere"] else "no threshold helps: the best answer was wrong")
        print(f"  line {miss['line']}: {miss['text']!r} -> {miss['got'] or 'fallback'!r}, "
              f"expected {miss['expected'] or 'fallback'!r} (confidence {miss['confidence']}; "
              f"{hint})")
    return 0
