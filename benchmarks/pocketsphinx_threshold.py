"""The pocketsphinx acceptance threshold, measured through the daemon's own segmentation.

The recognizer accepts a grammar hypothesis when its acoustic score beats a free phone loop's
by at least ACCEPT_RATIO per frame. This script speaks the knowledge base and unrelated
sentences with espeak-ng, runs every clip through the real webrtcvad segmenter (the config's
aggressiveness and preset) and pocketsphinx once with the check switched off, keeps each
utterance's ratio, and then reports, for a range of thresholds, the answer accuracy on the
questions and the rejection of unrelated speech and noise:

  tuning    voices en-us, en-gb at 150/180 wpm; the unrelated tuning sentences
  held-out  voices en-us+f3, en-gb-x-rp, en-029, en-us+m3 at 140/170 wpm; other unrelated
            sentences (never looked at when choosing)

    python benchmarks/pocketsphinx_threshold.py [--qa qa.yaml] [--config config.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from pocketsphinx_lm import UNRELATED_HELDOUT, UNRELATED_TUNING  # noqa: E402

from assistant.asr import Transcript  # noqa: E402
from assistant.asr import pocketsphinx as psr  # noqa: E402
from assistant.audio.sources import FileSource  # noqa: E402
from assistant.commands.common import build_answerer  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.daemon import Daemon  # noqa: E402
from assistant.evaluation import read_dataset  # noqa: E402
from assistant.pipeline import Pipeline  # noqa: E402
from assistant.spoken_set import Item, items_for, write_dataset  # noqa: E402
from assistant.vad import WebRtcVad, segmenter_settings  # noqa: E402

SETS = {"tuning": (["en-us", "en-gb"], [150, 180], UNRELATED_TUNING),
        "held-out": (["en-us+f3", "en-gb-x-rp", "en-029", "en-us+m3"], [140, 170],
                     UNRELATED_HELDOUT)}
THRESHOLDS = [-40, -34, -30, -28, -26, -24, -22, -20, -18, -16, -14]


class Recording:
    """Pocketsphinx with the check off: every grammar hypothesis and its ratio is kept."""

    name = "pocketsphinx"

    def __init__(self, inner: psr.PocketsphinxRecognizer) -> None:
        self.inner = inner
        self.heard: list[tuple[str, float]] = []

    def adapt(self, phrases: Any) -> None:
        self.inner.adapt(phrases)

    def transcribe(self, audio: Any) -> Transcript:
        out = self.inner.transcribe(audio)
        hyp = (out.extra or {}).get("hypothesis", "")
        ratio = (out.extra or {}).get("ratio", -math.inf)
        if hyp in self.inner.phrases:
            self.heard.append((hyp, ratio))
        return Transcript("", self.name)  # the answer is decided below, per threshold


def utterances(tsv: Path, cfg: Any, answerer: Any,
               rec: Recording) -> list[tuple[Any, list]]:
    """Per dataset row: the (hypothesis, ratio) of each utterance the segmenter cut."""
    out = []
    for row in read_dataset(tsv, answerer.kb):
        rec.heard = []
        Daemon(FileSource(row.audio, cfg.audio.block_ms, realtime=False),
               WebRtcVad(cfg.vad.aggressiveness), segmenter_settings(cfg.vad),
               Pipeline(rec, answerer), cfg.vad.frame_ms).run(threading.Event())
        out.append((row, list(rec.heard)))
    return out


def score(rows: list[tuple[Any, list]], kb: Any, threshold: float) -> tuple[float, float, int]:
    """(accuracy on questions, rejection of the rest, n unrelated answered) at ``threshold``:
    the first accepted utterance is the answer, as in the daemon."""
    entry_of = {" ".join(psr.tokens(q)): kb.question_entry[i] for i, q in enumerate(kb.questions)}
    right = asked = rejected = others = 0
    for row, heard in rows:
        accepted = [h for h, r in heard if r >= threshold]
        answer = entry_of[accepted[0]] if accepted else None
        if row.expected_entry is not None:
            asked += 1
            right += answer == row.expected_entry
        else:
            others += 1
            rejected += answer is None
    return right / max(asked, 1), rejected / max(others, 1), others - rejected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qa", default=str(REPO / "qa.yaml"))
    ap.add_argument("--config", default=str(REPO / "config.yaml"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cfg = dataclasses.replace(load_config(args.config), qa_file=args.qa)
    answerer = build_answerer(cfg)  # only ever asked "": the fallback, no embedding
    kb = answerer.kb
    inner = psr.PocketsphinxRecognizer(accept_ratio=-math.inf)
    rec = Recording(inner)
    rec.adapt(kb.questions)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (voices, speeds, unrelated) in SETS.items():
            items = items_for(kb, unrelated=[]) + [Item(u, "") for u in unrelated]
            tsv = write_dataset(Path(tmp) / name, items, voices, speeds)
            results[name] = utterances(tsv, cfg, answerer, rec)
            print(f"{name}: {len(results[name])} clips", file=sys.stderr)
    print(f"VAD aggressiveness {cfg.vad.aggressiveness}, preset {cfg.vad.preset}; "
          f"current ACCEPT_RATIO {psr.ACCEPT_RATIO}")
    print("| threshold | " + " | ".join(f"{n} accuracy | {n} rejection" for n in SETS) + " |")
    print("|---|" + "---|---|" * len(SETS))
    for t in THRESHOLDS:
        cells = []
        for name in SETS:
            acc, rej, wrong = score(results[name], kb, t)
            cells += [f"{100 * acc:.1f}%", f"{100 * rej:.1f}% ({wrong} answered)"]
        print(f"| {t} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
