"""How well does the end-of-turn model (smart-turn v3.2, `vad.turn_model`) tell a finished
turn from a pause? Tuned on one half of the utterances, reported on the other. (issue #26)

Each utterance is scored as the daemon would score it: the audio so far, from the start of
the utterance (0.3 s pre-roll) to ``pause`` seconds of silence after the last word. Two kinds:

  final  the speaker has finished: the model should say "complete";
  cut    the speaker has paused mid-sentence and will go on: a "complete" here is an answer
         given before the speaker finished.

Sets:
  questions  every qa.yaml phrasing, espeak-ng at 160 wpm (finals only): what `assistant bench`
             asks;
  paused     benchmarks/early_end_risk.py's 48 paused utterances ("what time is it ... in
             tokyo", 160 and 120 wpm, 200-400 ms pauses): cut = the first part, each part
             synthesised alone (so the first part ends with a sentence's falling pitch);
             final = the whole utterance;
  slow       early_end_risk.py's 27 slow ones (every phrasing at 120 wpm, paused at its middle);
  ssml       the 8 paused sentences spoken as one sentence with an SSML break (espeak-ng keeps
             the pitch up before it, as people do before a pause): cut = up to the break;
  real       real recordings (``--data``, ../shared/datasets/speech-dev), aligned word by word
             with pocketsphinx and cut after every word; the pause is the recording's own
             background noise (from before its first word), not digital silence.

Halves: by sentence (paused, ssml), by phrasing (questions, slow), by recording (real): even
indexes tune, odd ones test. The operating point: the highest share of finals ended at the
pause with at most ``--max-early`` of the paused + slow cuts ended, on the tuning half.

    pip install --no-deps pipecat-ai==1.14.0
    python benchmarks/turn_end_model.py [--data ../shared/datasets/speech-dev] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from turn_end_pitch import word_spans  # noqa: E402  (this folder is on sys.path)

from assistant.audio.types import Audio  # noqa: E402

PAUSES_S = (0.1, 0.15, 0.2, 0.3)
THRESHOLDS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99)
PRE_S = 0.3


class Item:
    def __init__(self, set_name: str, half: int, kind: str, label: str, speech: np.ndarray,
                 background: np.ndarray | None = None, text: str = "") -> None:
        self.set, self.half, self.kind, self.label = set_name, half, kind, label
        self.text = text  # the words so far
        self.speech, self.background = speech, background
        self.p: dict[float, float] = {}

    def audio(self, pause_s: float) -> Audio:
        n = int(16000 * pause_s)
        if self.background is None or not len(self.background):
            tail = np.zeros(n, np.int16)
            pre = np.zeros(int(16000 * PRE_S), np.int16)
        else:
            reps = int(np.ceil(n / len(self.background))) + 1
            tail = np.tile(self.background, reps)[:n]
            pre = np.zeros(0, np.int16)  # a recording brings its own lead-in
        return Audio(np.concatenate([pre, self.speech, tail]).astype(np.int16))


def synthetic(phrasings: list[str]) -> list[Item]:
    from early_end_risk import PAUSED, utterances, words
    from turn_end_pitch import before_break, espeak

    items: list[Item] = []
    for i, q in enumerate(phrasings):
        items.append(Item("questions", i % 2, "final", q, words(q.rstrip("?.!"), 160),
                          text=q))
    pair_index = {a: i for i, (a, _) in enumerate(PAUSED)}
    for j, (kind, texts, pause_s, wpm) in enumerate(utterances(phrasings)):
        a, b = (words(t, wpm) for t in texts)
        half = pair_index[texts[0]] % 2 if kind == "paused" else (j - 48) % 2
        label = f"{texts[0]} ... {texts[1]} ({pause_s} s, {wpm} wpm)"
        items.append(Item(kind, half, "cut", label, a, text=texts[0]))
        whole = np.concatenate([a, np.zeros(int(16000 * pause_s), np.int16), b])
        items.append(Item(kind, half, "final", label, whole, text=" ".join(texts)))
    for i, (first, rest) in enumerate(PAUSED):
        for wpm in (160, 120):
            x = espeak(f'<speak>{first} <break time="400ms"/> {rest}.</speak>', wpm)
            loud = np.nonzero(np.abs(x.astype(np.int32)) > 300)[0]
            label = f"{first} <break> {rest} ({wpm} wpm)"
            items.append(Item("ssml", i % 2, "cut", label, before_break(x[loud[0]:]),
                              text=first))
            items.append(Item("ssml", i % 2, "final", label, x[loud[0]: loud[-1] + 1],
                              text=f"{first} {rest}"))
    return items


def real(folder: Path) -> list[Item]:
    import soundfile as sf

    rows = csv.DictReader((folder / "transcripts.tsv").read_text(encoding="utf-8")
                          .splitlines(), delimiter="\t")
    items: list[Item] = []
    for i, row in enumerate(r for r in rows if r["transcript"]):
        x, rate = sf.read(folder / row["file"], dtype="int16")
        x = x[:, 0] if x.ndim > 1 else x
        spans = word_spans(x, row["transcript"]) if rate == 16000 else None
        if not spans:
            print(f"  skipped {row['file']} (a word outside the dictionary, or not 16 kHz)",
                  file=sys.stderr)
            continue
        lead = x[max(0, spans[0][0] * 160 - 4800): max(0, spans[0][0] * 160 - 800)]
        if len(lead) < 1600:  # no quiet lead-in: the quietest 100 ms of the recording
            k = int(np.argmin([np.abs(x[j:j + 1600]).mean()
                               for j in range(0, max(1, len(x) - 1600), 160)]))
            lead = x[k * 160: k * 160 + 1600]
        words = row["transcript"].split()
        for k, (_, end) in enumerate(spans):
            kind = "final" if k == len(spans) - 1 else "cut"
            label = f"{row['file']}: {' '.join(words[:k + 1])}"
            items.append(Item("real", i % 2, kind, label, x[: (end + 1) * 160], lead,
                              " ".join(words[:k + 1])))
    return items


# Words an English sentence to a voice assistant almost never ends on: articles, possessives,
# conjunctions, "of", and auxiliaries before their verb ("what time is ...", "can you ...");
# not "to" or other prepositions, which questions strand ("who are you talking to").
MID_PHRASE = frozenset(
    "a an the my your his her our their its and or but because if of is are was were am "
    "would could should will can do does did".split())


def ends_mid_phrase(text: str) -> bool:
    """The words so far stop where a phrase cannot end ("turn on the", "what time is")."""
    words = text.lower().rstrip("?.!, ").split()
    return bool(words) and words[-1] in MID_PHRASE


Rule = Callable[[Item, float, float], bool]


def rules(kb: Any) -> dict[str, Rule]:
    """The model alone, and combined with what the words say (issue #26, point 3)."""
    from assistant.kb.normalize import normalize
    from assistant.vad.early_end import CompleteQuestions

    known = CompleteQuestions.of(kb).answers

    def complete(it: Item) -> bool:  # early end's word test: a whole known phrasing
        return len(known.get(tuple(normalize(it.text).split()), ())) == 1

    return {
        "model": lambda it, pause, th: it.p[pause] >= th,
        "model, not mid-phrase": lambda it, pause, th: (it.p[pause] >= th
                                                        and not ends_mid_phrase(it.text)),
        "known question": lambda it, pause, th: complete(it),
        "known question + model": lambda it, pause, th: complete(it) and it.p[pause] >= th,
    }


def rates(items: list[Item], pause: float, th: float, half: int | None,
          sets: tuple[str, ...], kind: str, rule: Rule | None = None) -> tuple[int, int]:
    sel = [it for it in items if it.set in sets and it.kind == kind
           and (half is None or it.half == half)]
    if rule is None:
        return sum(it.p[pause] >= th for it in sel), len(sel)
    return sum(rule(it, pause, th) for it in sel), len(sel)


def pct(a: int, n: int) -> str:
    return f"{a}/{n} ({100.0 * a / max(1, n):.0f}%)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/datasets/speech-dev")
    ap.add_argument("--qa", default=str(REPO / "qa.yaml"))
    ap.add_argument("--max-early", type=float, default=0.02,
                    help="share of paused + slow cuts the chosen point may end (tuning half)")
    ap.add_argument("--json", type=Path, help="write every score here")
    ap.add_argument("--scores", type=Path, help="reuse the scores a --json run wrote")
    args = ap.parse_args()
    from assistant.kb.knowledge import load_kb
    from assistant.vad.turn_end import SmartTurn

    model = SmartTurn()
    kb = load_kb(args.qa)
    items = synthetic(kb.questions)
    if (args.data / "transcripts.tsv").is_file():
        items += real(args.data)
    else:
        print(f"no transcripts.tsv in {args.data}: real speech skipped", file=sys.stderr)
    print(f"{len(items)} utterances x {len(PAUSES_S)} pauses...", file=sys.stderr)
    cpu: list[float] = []
    saved = ({(d["set"], d["kind"], d["label"]): d["p"] for d in
              json.loads(args.scores.read_text(encoding="utf-8"))} if args.scores else {})
    for it in items:
        if (it.set, it.kind, it.label) in saved:
            it.p = {float(k): v for k, v in saved[it.set, it.kind, it.label].items()}
            continue
        for pause in PAUSES_S:
            t0 = time.process_time()
            it.p[pause] = model.probability(it.audio(pause))
            cpu.append(time.process_time() - t0)
    if cpu:
        print(f"CPU per model call (features + ONNX, 1 thread): median "
              f"{1000 * statistics.median(cpu):.0f} ms, p90 "
              f"{1000 * float(np.percentile(cpu, 90)):.0f} ms over {len(cpu)} calls")
    print("\nseparation, both halves: the chance that a finished utterance scores above a cut "
          "(AUC; 0.5 = chance, 1 = perfect)")
    for pause in PAUSES_S:
        row = []
        for s in ("paused", "slow", "ssml", "real"):
            f = [it.p[pause] for it in items if it.set == s and it.kind == "final"]
            c = [it.p[pause] for it in items if it.set == s and it.kind == "cut"]
            auc = np.mean([(a > b) + 0.5 * (a == b) for a in f for b in c]) if f and c else 0
            row.append(f"{s} {auc:.2f} ({len(f)}/{len(c)})")
        print(f"  pause {pause} s: " + ", ".join(row))
    finals = ("questions", "paused", "slow", "ssml", "real")
    cuts = ("paused", "slow", "ssml", "real")
    target = ("paused", "slow")
    best: tuple[float, float, float] | None = None
    for half, name in ((0, "tuning half"), (1, "test half")):
        print(f"\n{name}: finals ended at the pause (want high) | cuts ended (answered too "
              "early, want low)")
        print("pause th    " + "  ".join(f"final:{s:<9}" for s in finals) + "  "
              + "  ".join(f"cut:{s:<7}" for s in cuts))
        for pause in PAUSES_S:
            for th in THRESHOLDS:
                f = [rates(items, pause, th, half, (s,), "final") for s in finals]
                c = [rates(items, pause, th, half, (s,), "cut") for s in cuts]
                print(f"{pause:<5} {th:<5} " + "  ".join(f"{pct(*r):<15}" for r in f) + "  "
                      + "  ".join(f"{pct(*r):<11}" for r in c))
                if half == 0:
                    early, n = rates(items, pause, th, 0, target, "cut")
                    ok, nf = rates(items, pause, th, 0, ("questions", "real"), "final")
                    if early <= args.max_early * n and (best is None or ok / nf > best[2]):
                        best = (pause, th, ok / nf)
    if best is not None:
        print(f"\nmost finals ended with at most {100 * args.max_early:.0f}% of paused + slow "
              f"cuts ended (tuning half): pause {best[0]} s, threshold {best[1]}")
    print("\nrules tuned on the tuning half (best finals - cuts over all sets), reported on the "
          "test half:")
    print(f"{'rule':<24} {'pause':<5} {'th':<5} " + "  ".join(f"final:{s:<9}" for s in finals)
          + "  " + "  ".join(f"cut:{s:<7}" for s in cuts))
    for name, rule in rules(kb).items():
        def score(pause: float, th: float, rule: Rule = rule) -> float:
            f = rates(items, pause, th, 0, finals, "final", rule)
            c = rates(items, pause, th, 0, cuts, "cut", rule)
            return f[0] / f[1] - c[0] / c[1]
        pause, th = max(((p, t) for p in PAUSES_S for t in THRESHOLDS),
                        key=lambda pt: score(*pt))
        f = [rates(items, pause, th, 1, (s,), "final", rule) for s in finals]
        c = [rates(items, pause, th, 1, (s,), "cut", rule) for s in cuts]
        print(f"{name:<24} {pause:<5} {th:<5} " + "  ".join(f"{pct(*r):<15}" for r in f) + "  "
              + "  ".join(f"{pct(*r):<11}" for r in c))
    if args.json:
        out: list[dict[str, Any]] = [{"set": it.set, "half": it.half, "kind": it.kind,
                                      "label": it.label, "text": it.text, "p": it.p}
                                     for it in items]
        args.json.write_text(json.dumps(out, indent=0), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
