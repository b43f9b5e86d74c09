"""assistant ask "TEXT": text in, answer out."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import add_command, build_answerer, config_from_args, print_json


def register(sub: Any) -> None:
    p = add_command(sub, "ask", "answer a typed question from the knowledge base", run, kb=True,
                    description="Answer a typed question: prints the answer; --json adds the "
                    "matched question, its score, the confidence (score plus margin) and "
                    "the threshold it was compared with, and the top 3 alternatives.")
    p.add_argument("text", help="the question, in quotes")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--speak", action="store_true", help="also speak the answer aloud")


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    reply = build_answerer(cfg).reply(args.text)
    if args.json:
        print_json(reply.as_dict())
    else:
        print(reply.answer)
        score = "-" if reply.score is None else f"{reply.score:.3f}"
        print(f"({reply.question!r}, score {score}, {reply.decision()}"
              f"{', fallback' if reply.fallback else ''})", file=sys.stderr)
    if args.speak:
        from ..tts import speak_once

        speak_once(cfg, reply.answer)
    return 0
