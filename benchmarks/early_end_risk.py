"""How often early end of turn answers before the speaker has finished.

The real daemon (the default VAD: webrtcvad behind the noise-floor gate, which also removes
webrtcvad's own ~100 ms overhang; segmenter, speculation, pocketsphinx with the knowledge base's
grammar, MiniLM matcher) hears a recording replayed in real time, exactly as `assistant run
--input FILE` does. The recording holds utterances that stop mid-sentence and go on:

  paused  sentences whose first part is (often) a complete known question ("what time is it
          ... in tokyo"), espeak-ng at 160 and 120 wpm, pauses of 200, 300 and 400 ms;
  slow    every phrasing of qa.yaml at 120 wpm with a 200-400 ms pause at its middle word
          boundary.

Each part is synthesised alone and trimmed of espeak's own silence, so the pause is exact (and
the first part ends with a sentence's falling pitch: the hardest case). An utterance counts as
answered too early when an exchange's speech ended more than 150 ms before the utterance's
last speech sample. Also reported: for the same utterances, how many turns ended early.

    python benchmarks/early_end_risk.py [--qa qa.yaml] [--preset default] [--no-early-end]
        [--turn-model [--turn-pause-s 0.2] [--turn-threshold 0.5]]

``--turn-model`` adds the end-of-turn model (`vad.turn_model`, issue #26); turns it ends are
counted as ended early too, and its calls per utterance are reported. The utterances are split
in two halves (even and odd sentence or phrasing index) so a setting tuned on one half can be
reported on the other.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.audio.files import write_wav  # noqa: E402
from assistant.audio.sources import FileSource  # noqa: E402
from assistant.audio.types import Audio  # noqa: E402
from assistant.bench.e2e import TimingSink  # noqa: E402
from assistant.daemon import Daemon  # noqa: E402
from assistant.pipeline import Exchange, Pipeline  # noqa: E402
from assistant.vad import PRESETS, build_detector  # noqa: E402
from assistant.vad.early_end import EarlyEnd, EarlyEndRule  # noqa: E402

PAUSED = [("what time is it", "in tokyo"), ("where do you live", "when you are not working"),
          ("who made", "the coffee"), ("what is your name", "in japanese"),
          ("who are you", "talking to"), ("do you need the internet", "for the weather"),
          ("what can you do", "about the noise"), ("how do you work", "with children")]
PAUSES_S = (0.2, 0.3, 0.4)
GAP_S = 2.5


def words(text: str, wpm: int) -> np.ndarray:
    from assistant.spoken_set import speak

    a = speak(text, "en-us", wpm).samples
    loud = np.nonzero(np.abs(a.astype(np.int32)) > 300)[0]
    return a[loud[0]: loud[-1] + 1]


def utterances(phrasings: list[str]) -> list[tuple[str, list[str], float, int]]:
    """(kind, parts, pause_s, wpm) for every utterance of the scene."""
    out = [("paused", [a, b], p, wpm) for a, b in PAUSED for p in PAUSES_S for wpm in (160, 120)]
    for i, q in enumerate(phrasings):
        w = q.rstrip("?.!").split()
        if len(w) >= 2:
            out.append(("slow", [" ".join(w[: len(w) // 2]), " ".join(w[len(w) // 2:])],
                        PAUSES_S[i % 3], 120))
    return out


def build(plan: list[tuple[str, list[str], float, int]]) -> tuple[Audio, list[tuple[float,
                                                                                  float]]]:
    """The scene and each utterance's (first, last) speech sample in stream ms."""
    parts, spans, at = [np.zeros(8000, np.int16)], [], 8000
    for _, texts, pause_s, wpm in plan:
        a, b = (words(t, wpm) for t in texts)
        gap = np.zeros(int(16000 * pause_s), np.int16)
        utt = np.concatenate([a, gap, b])
        spans.append((at / 16.0, (at + len(utt)) / 16.0))
        parts += [utt, np.zeros(int(16000 * GAP_S), np.int16)]
        at += len(utt) + int(16000 * GAP_S)
    return Audio(np.concatenate(parts)), spans


class Timed:
    """The end-of-turn model, noting each call's wall clock and CPU time (its own thread)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.ms: dict[str, list[float]] = {"wall": [], "cpu": []}

    def probability(self, audio: Audio) -> float:
        t0, c0 = time.perf_counter(), time.thread_time()
        p = float(self.model.probability(audio))
        self.ms["wall"].append(1000 * (time.perf_counter() - t0))
        self.ms["cpu"].append(1000 * (time.thread_time() - c0))
        return p

    def summary(self, key: str) -> list[float]:
        x = self.ms[key]
        return [round(float(np.median(x)), 1), round(float(np.percentile(x, 90)), 1)] if x else []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qa", default=str(REPO / "qa.yaml"))
    ap.add_argument("--preset", default="default", choices=sorted(PRESETS))
    ap.add_argument("--no-early-end", action="store_true")
    ap.add_argument("--after-s", type=float, default=0.0,
                    help="EarlyEndRule.after_s: trailing silence before an early end")
    ap.add_argument("--turn-model", action="store_true", help="add the end-of-turn model")
    ap.add_argument("--turn-pause-s", type=float, default=0.2)
    ap.add_argument("--turn-threshold", type=float, default=0.5)
    args = ap.parse_args()
    from assistant.asr.pocketsphinx import PocketsphinxRecognizer
    from assistant.commands.common import build_answerer
    from assistant.config import Config

    cfg = Config(qa_file=args.qa)
    answerer = build_answerer(cfg)
    recognizer = PocketsphinxRecognizer(cache_dir=cfg.cache_path)
    recognizer.adapt(answerer.kb.questions)
    plan = utterances(answerer.kb.questions)
    scene, spans = build(plan)
    exchanges: list[Exchange] = []
    turn_end = None
    if args.turn_model:
        from assistant.vad.turn_end import SmartTurn, TurnEnd, TurnEndRule

        timed = Timed(SmartTurn())
        turn_end = TurnEnd(timed, TurnEndRule(args.turn_threshold, args.turn_pause_s))
    with tempfile.TemporaryDirectory() as tmp:
        path = write_wav(Path(tmp) / "scene.wav", scene)
        print(f"{len(plan)} utterances, {scene.duration_s:.0f} s in real time...",
              file=sys.stderr)
        daemon = Daemon(FileSource(path, realtime=True), build_detector(cfg.vad),
                        PRESETS[args.preset],
                        Pipeline(recognizer, answerer, None, TimingSink()),
                        on_exchange=exchanges.append,
                        early_end=None if args.no_early_end
                        else EarlyEnd(EarlyEndRule(after_s=args.after_s)),
                        turn_end=turn_end)
        daemon.run(threading.Event())
    rows: dict[str, dict[str, Any]] = {}
    halves = {a: i % 2 for i, (a, _) in enumerate(PAUSED)}
    for j, ((kind, texts, pause_s, wpm), (start, end)) in enumerate(zip(plan, spans,
                                                                          strict=True)):
        mine = [e for e in exchanges if e.speech_end_ms is not None
                and start <= e.speech_end_ms <= end + 1000 * GAP_S - 200]
        too_early = any(e.speech_end_ms < end - 150 for e in mine)  # type: ignore[operator]
        half = halves[texts[0]] if kind == "paused" else j % 2
        r = rows.setdefault(f"{kind}_half{half}", {"n": 0, "answered_too_early": 0,
                                                   "ended_early": 0, "examples": []})
        r["n"] += 1
        r["answered_too_early"] += too_early
        r["ended_early"] += any(e.end_reason in ("early", "turn-model") for e in mine)
        if too_early and len(r["examples"]) < 6:
            r["examples"].append(f"{texts[0]} ... {texts[1]} ({pause_s:.1f} s, {wpm} wpm) -> "
                                 f"{[e.transcript for e in mine]}")
    for kind in ("paused", "slow"):
        parts = [rows[k] for k in sorted(rows) if k.startswith(kind + "_")]
        rows[kind] = {f: sum(p[f] for p in parts) for f in ("n", "answered_too_early",
                                                            "ended_early")}
    for r in rows.values():
        r["percent_too_early"] = round(100.0 * r["answered_too_early"] / max(1, r["n"]), 1)
    print(json.dumps({"preset": args.preset, "early_end": not args.no_early_end,
                      "after_s": args.after_s,
                      "turn_model": None if turn_end is None else {
                          "pause_s": args.turn_pause_s, "threshold": args.turn_threshold,
                          "calls_per_utterance": round(turn_end.scored / len(plan), 2),
                          "call_ms_median_p90": timed.summary("wall"),
                          "call_cpu_ms_median_p90": timed.summary("cpu")},
                      "utterances": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
