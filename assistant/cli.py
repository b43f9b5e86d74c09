"""The `assistant` command. Each subcommand lives in assistant/commands/<name>.py with a
``register(subparsers)`` function; this module only parses, dispatches and turns every
AssistantError into one line and exit code 2 (a traceback only with --debug)."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from .errors import AssistantError

COMMANDS = ("run", "ask", "transcribe", "answer", "say", "devices", "check", "download",
            "eval", "eval_text", "make_dataset", "web", "map", "bench", "service", "log",
            "serve", "wake", "mute")

EPILOG = """\
Typical use:
  assistant check                 validate config.yaml and qa.yaml
  assistant ask "who are you?"    try the knowledge base with text
  assistant run                   listen on the default microphone until Ctrl-C

Exit codes: 0 ok, 1 unexpected failure, 2 bad input (config, qa.yaml, audio file, device,
model, arguments). Run `assistant COMMAND --help` for each command's options."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, plus the usage hint
        self.exit(2, f"error[usage]: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="assistant", description="Offline voice question-answering "
                     "assistant: microphone -> speech recognition -> closest known question "
                     "-> spoken answer, all on this machine.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f".commands.{name}", __package__).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else getattr(args, "log_level",
                        logging.INFO), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("httpx", "urllib3", "filelock", "huggingface_hub", "sentence_transformers",
                  "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not args.debug else logging.DEBUG)
    try:
        return int(args.func(args) or 0)
    except AssistantError as exc:
        if args.debug:
            raise
        print(f"error[{exc.stage}:{exc.code}]: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `assistant log --json | head`: the reader left, nothing to say
        try:  # keep the interpreter's final flush from raising again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())
