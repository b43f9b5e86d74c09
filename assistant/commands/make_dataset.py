"""assistant make-dataset OUT_DIR: a spoken test set (espeak-ng) for `assistant eval`."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, config_from_args, positive_float


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def register(sub: Any) -> None:
    p = add_command(
        sub, "make-dataset", "speak the knowledge base's questions into a test set", run,
        kb=True, description="Speak every question of the knowledge base with espeak-ng in "
        "several voices (of its language) and speeds, add paraphrases (--extra) and unrelated "
        "sentences and noise-only clips that must get no answer, optionally mix in white noise, "
        "and write OUT_DIR/DATASET.tsv for `assistant eval`.")
    p.add_argument("out_dir", help="folder to write audio/ and DATASET.tsv into")
    p.add_argument("--voices", type=_csv, help="espeak-ng voices, comma-separated (default: "
                   "for the config's language: en-us,en-gb; es,es-419; else the language's "
                   "voice and its +f3 variant)")
    p.add_argument("--speeds", type=lambda t: [int(x) for x in _csv(t)], default=[150, 180],
                   help="speaking rates in words per minute (default 150,180)")
    p.add_argument("--snr-db", type=positive_float, help="mix in white noise at this SNR")
    p.add_argument("--extra", metavar="TSV", help="more rows: columns text, expected "
                   "(paraphrases with their qa.yaml phrasing; expected empty = unrelated)")


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..kb.knowledge import load_kb
    from ..spoken_set import UNRELATED_IN, default_voices, items_for, read_extra, write_dataset

    cfg = config_from_args(args)
    kb = load_kb(cfg.qa_path)
    extra = read_extra(args.extra) if args.extra else []
    for item in extra:
        if item.expected and kb.entry_of(item.expected) is None:
            raise ConfigError(f"{args.extra}: expected {item.expected!r} is not a phrasing in "
                              f"{cfg.qa_path}", code="dataset")
    language = kb.language or cfg.language
    if language not in UNRELATED_IN:
        print(f"note: no built-in unrelated sentences in {language}; add some to --extra "
              "(rows with an empty expected)")
    items = items_for(kb, extra, UNRELATED_IN.get(language, ()))
    voices = args.voices or default_voices(language)
    tsv = write_dataset(args.out_dir, items, voices, args.speeds, args.snr_db)
    print(f"{tsv}: {len(items) * len(voices) * len(args.speeds) + 3} clips "
          f"(voices {', '.join(voices)})")
    return 0
