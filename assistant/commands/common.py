"""Options every command shares, and the builders that turn a Config into pipeline objects."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from ..config import Config, load_config, with_overrides
from ..errors import ConfigError

log = logging.getLogger("assistant")

DEFAULT_CONFIG = "config.yaml"


def add_command(sub: Any, name: str, help: str, func: Any, kb: bool = False,
                asr: bool = False, description: str | None = None) -> argparse.ArgumentParser:
    """A subparser with --config, --debug (and --qa / --asr when the command uses them)."""
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=description or help,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="PATH", help="config file (default: ./config.yaml when "
                   "present, else built-in defaults; see README 'Configuration')")
    if kb:
        p.add_argument("--qa", metavar="PATH", help="knowledge base file; overrides qa_file "
                       "from the config")
    if asr:
        p.add_argument("--asr", choices=("auto", "cascade", "whisper", "wav2vec2", "pocketsphinx"),
                       help="speech recognizer; overrides asr.backend")
    p.add_argument("--debug", action="store_true", help="debug logging and full tracebacks")
    p.add_argument("-q", "--quiet", dest="log_level", action="store_const",
                   const=logging.WARNING, default=logging.INFO, help="log warnings only")
    p.set_defaults(func=func)
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    path = args.config
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    cfg = load_config(path)
    if getattr(args, "qa", None):
        cfg = _with_qa(cfg, args.qa)
    if getattr(args, "asr", None):
        cfg = with_overrides(cfg, asr={"backend": args.asr})
    from ..language import for_language

    return for_language(cfg)


def _with_qa(cfg: Config, qa: str) -> Config:
    import dataclasses

    return dataclasses.replace(cfg, qa_file=str(Path(qa).resolve()))


def answerer_for(cfg: Config, kb: Any, embedder: Any) -> Any:
    """The Answerer with every matcher setting from the config (the one place they meet)."""
    from ..answerer import Answerer

    m = cfg.matcher
    return Answerer(kb, embedder, m.threshold, cfg.cache_path, scoring=m.scoring,
                    margin_weight=m.margin_weight, normalize=m.normalize, fit=m.fit,
                    language=cfg.language, background=m.background)


def build_answerer(cfg: Config) -> Any:
    from ..kb.embed import load_embedder
    from ..kb.knowledge import load_kb
    from ..language import require

    require(cfg)  # one line naming what to install for the language, before any model loads
    kb = load_kb(cfg.qa_path)
    m = cfg.matcher
    embedder = load_embedder(m.model, m.device, m.runtime, cfg.cache_path)
    return answerer_for(cfg, kb, embedder)


def build_recognizer(cfg: Config, phrases: list[str] | None = None) -> Any:
    from ..asr import load_recognizer

    return load_recognizer(cfg.asr, phrases or [], cfg.cache_path)


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


__all__ = ["ConfigError", "add_command", "build_answerer", "build_recognizer",
           "config_from_args", "print_json"]
