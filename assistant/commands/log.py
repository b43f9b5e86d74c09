"""assistant log: the recent exchanges from the JSON Lines log, or the questions that got the
fallback (what to add to qa.yaml next)."""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..exchange_log import find_log, read_exchanges, shown_answer, shown_time, tally, unanswered
from .common import add_command, config_from_args, print_json


def register(sub: Any) -> None:
    p = add_command(
        sub, "log", "recent exchanges, or the questions that got no answer", run,
        description="Show what `assistant run` heard and answered, from its exchange log "
        "(log.file; by default ~/.local/state/assistant/exchanges.jsonl, or "
        "/var/log/assistant/exchanges.jsonl for the system service).")
    p.add_argument("-n", "--lines", type=int, default=20, metavar="N",
                   help="how many rows (default 20; 0 = all)")
    p.add_argument("--unanswered", action="store_true", help="questions that got the "
                   "fallback, most frequent first: the list to improve qa.yaml from")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.add_argument("--file", metavar="PATH", help="read this log file")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(0, width - 1)] + "…"


def _table(rows: list[list[str]], widths: list[int]) -> str:
    lines = []
    for row in rows:
        cells = [_cut(c, w).ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _exchanges_table(records: list[dict[str, Any]], width: int) -> str:
    rows = [["time", "heard", "matched (score question)", "ms", "answer"]]
    for r in records:
        latency = r.get("latency_ms") or {}
        total = sum(v for k, v in latency.items() if k != "tts" and isinstance(v, (int, float)))
        if r.get("error"):
            matched = f"error: {r['error']}"
        elif r.get("question") is None:
            matched = "-"
        else:
            score = r.get("score")
            matched = f"{score:.3f} {r['question']}" if isinstance(score, (int, float)) \
                else str(r["question"])  # the score first: a long question cannot cut it
            if r.get("fallback"):
                matched = "fallback; " + matched
        rows.append([shown_time(r.get("time", "")), repr(r.get("transcript") or ""), matched,
                     f"{total:.0f}", shown_answer(r)])
    widths = [19, 28, 34, 5]
    answer_w = max(20, width - sum(widths) - 2 * len(widths))
    rows = [[*row[:-1], _cut(row[-1], answer_w)] for row in rows]
    return _table(rows, widths)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    path = Path(args.file) if args.file else find_log(cfg)
    if not path.is_file():
        print(f"no exchanges logged yet: {path} does not exist (`assistant run` writes it; "
              "see log.* in config.yaml)", file=sys.stderr)
        if args.json:
            print_json([])
        return 0
    limit = args.lines if args.lines > 0 else None
    width = shutil.get_terminal_size((120, 24)).columns
    if args.unanswered:
        result = read_exchanges(path)
        groups = unanswered(result.records)[:limit]
        counts = tally(result.records)
        if not args.json:
            print(f"{path}: {counts.line()}")
        if args.json:
            print_json([asdict(g) for g in groups])
        elif not groups:
            print("no unanswered questions" + (f"; {counts.ignored} utterance(s) with no "
                  "words heard were ignored (noise, or a microphone problem: try `assistant "
                  "answer` on a recording)" if counts.ignored else ""))
        else:
            rows = [["times", "last asked", "question", "closest known (score)"]]
            for g in groups:
                closest = "-" if g.best_question is None else (
                    f"{g.best_question} ({g.best_score:.2f})" if g.best_score is not None
                    else g.best_question)
                rows.append([str(g.count), shown_time(g.last_time), g.transcript, closest])
            print(_table(rows, [5, 19, max(30, width - 5 - 19 - 40)]))
    else:
        result = read_exchanges(path, last=limit)
        if args.json:
            print_json(result.records)
        else:
            print(_exchanges_table(result.records, width))
    if result.skipped:
        print(f"note: skipped {result.skipped} unreadable line(s) in {path} (a line cut by a "
              "crash is expected)", file=sys.stderr)
    return 0
