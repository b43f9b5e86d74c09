"""PocketSphinx language models for the knowledge base: which one recognises the questions,
and which one says nothing for speech and noise that are no question.

Approaches (all with the package's US-English acoustic model and CMUdict):

  default-lm   the package's general language model (large vocabulary)
  trigram      an ARPA trigram model of the question phrasings (pocketsphinx.lm)
  jsgf-filler  a JSGF grammar of the phrasings, pocketsphinx defaults (fillers between words)
  jsgf         the same grammar without fillers, no verification (the recogniser, threshold -inf)
  verified     the recogniser as shipped: grammar, then the phone-loop score check
  lm-verified  asr.pocketsphinx_mode trigram: the trigram model with the phone-loop check
  hybrid       asr.pocketsphinx_mode hybrid: verified, and where it rejects, lm-verified
  mixed        asr.pocketsphinx_mode mixed: verified, and where it rejects, the trigram mixed
               with the pruned general English model (no phone-loop check on that path)
  mixed-nbest  the same with speech-to-phrase's scheme on the mixed path: of the 3 best
               hypotheses the one closest to a phrasing (difflib), none >= 0.5: rejected

Clips: every question of qa.yaml spoken by espeak-ng voices (the first four voices were used
to choose the threshold; the others are held out), the same with white noise at 20 dB SNR,
unrelated English sentences (a tuning list and a held-out list), questions in other languages,
generated noise, and, with --dev, real recordings (transcripts.tsv: an empty transcript is
noise; a transcript that is a known question counts as one). Synthetic speech is padded like a
VAD segment: 0.3 s of quiet room (about -60 dBFS) before and after. Per clip kind:

  exact    transcript == the question (normalised)       wrong  transcript is another question
  near     transcript within 0.8 difflib ratio of the right question (what a fuzzy matcher sees)
  reject   transcript is no question, nor near one (no answer would be given)
  s/clip   mean seconds per transcribe call

    python benchmarks/pocketsphinx_lm.py [--qa qa.yaml] [--dev DIR] [--approaches ...]
                                         [--cache DIR]

default-lm is slow (~1 s a clip), so it runs on the first voice (en-us), noise and --dev only.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.asr import pocketsphinx as psr  # noqa: E402
from assistant.audio.files import read_audio  # noqa: E402
from assistant.audio.types import Audio, to_pipeline  # noqa: E402
from assistant.kb.knowledge import load_kb  # noqa: E402

VOICES = [("en-us", 150), ("en-gb", 150), ("en-us+f3", 170), ("en-us+m3", 130),  # tuning
          ("en-gb-x-rp", 140), ("en-029", 160), ("en-us+f2", 190), ("en-gb-scotland", 120)]
TUNING_VOICES = 4
UNRELATED_TUNING = [
    "The weather in Paris is rainy and cold.", "Please turn on the kitchen lights.",
    "I would like a cup of coffee.", "How far is the moon from the earth?",
    "What is the capital of France?", "Who won the football game last night?",
    "Set an alarm for seven in the morning.", "My brother lives in a small house near the river.",
    "Can you play some music?", "Where is the nearest train station?", "How old is the universe?",
    "What is your favorite color?", "Tell me a joke.",
    "The quick brown fox jumps over the lazy dog.", "Do you like pizza?", "Open the garage door.",
    "What is the weather like tomorrow?",
    "How much does this cost?", "Call my mother.", "Who is the president?",
    "What time does the shop close?", "Where did you put my keys?", "I am going to the store.",
    "Read me the news.", "How do I get to the airport?"]
UNRELATED_HELDOUT = [
    "How many people live in China?", "Turn the volume down a little.", "Is it going to snow?",
    "What is the square root of nine?", "Remind me to buy milk.", "Who wrote this book?",
    "Where can I park my car?", "What do you think about football?", "The train was late again.",
    "Can you spell that for me?", "How tall is the Eiffel tower?", "Send a message to my boss.",
    "What did you have for breakfast?", "The children are playing in the garden.",
    "Why is the sky blue?", "Which team will win the cup?", "We need more paper for the printer.",
    "How do you make bread?", "My phone battery is almost empty.", "Who sings this song?"]
FOREIGN = [("de", "Wie spät ist es?"), ("fr", "Comment tu t'appelles?"),
           ("es", "¿Dónde vives?"), ("it", "Che giorno è oggi?"), ("nl", "Wie heeft je gemaakt?")]


def espeak(text: str, voice: str, wpm: int) -> Audio:
    import soundfile as sf  # type: ignore[import-untyped]

    out = subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "--stdout", text],
                         check=True, capture_output=True).stdout
    data, rate = sf.read(io.BytesIO(out), dtype="int16")
    return to_pipeline(data, rate)


def as_segment(audio: Audio, rng: np.random.Generator, snr_db: float | None = None,
               pad_s: float = 0.3) -> Audio:
    """What the VAD hands over: the speech with ``pad_s`` of room before and after, over a
    quiet noise floor (about -60 dBFS) or white noise at ``snr_db`` below the speech."""
    pad = np.zeros(int(pad_s * 16000), np.int16)
    x = np.concatenate([pad, audio.samples, pad]).astype(np.float64)
    power = float(np.mean(audio.samples.astype(np.float64) ** 2))
    std = 30.0 if snr_db is None else np.sqrt(power / 10 ** (snr_db / 10))
    return Audio(np.clip(x + rng.normal(0, std, len(x)), -32768, 32767).astype(np.int16))


def noises(rng: np.random.Generator) -> list[tuple[str, Audio]]:
    out: list[tuple[str, np.ndarray]] = [("silence", np.zeros(24000))]
    for level in (100, 1000, 5000):
        white = rng.normal(0, level, 32000)
        brown = np.cumsum(rng.normal(0, 1, 32000))
        brown = brown - np.convolve(brown, np.ones(400) / 400, "same")
        out += [(f"white{level}", white), (f"brown{level}", brown / brown.std() * level)]
    t = np.arange(32000) / 16000
    out += [("hum", 3000 * np.sin(2 * np.pi * 50 * t)),
            ("beeps", 6000 * np.sin(2 * np.pi * 880 * t) * (np.sin(2 * np.pi * 3 * t) > 0)),
            ("clicks", np.where(rng.random(32000) > 0.999, 20000.0, 0.0))]
    return [(n, Audio(np.clip(a, -32768, 32767).astype(np.int16))) for n, a in out]


def clips(phrasings: list[str], dev: Path | None) -> list[tuple[str, str, str, Audio]]:
    """(kind, expected text, source, audio); kinds: known, known-noisy, unrelated, noise.
    Questions are spoken as written in qa.yaml: "Who are you?" with a question's melody."""
    rng = np.random.default_rng(0)
    questions = [" ".join(psr.tokens(q)) for q in phrasings]
    out = []
    for k, (voice, wpm) in enumerate(VOICES):
        split = "tuning" if k < TUNING_VOICES else "held-out"
        for q, said in zip(questions, phrasings, strict=True):
            speech = as_segment(espeak(said, voice, wpm), rng)
            out.append(("known", q, f"{split}:{voice}", speech))
        for u in UNRELATED_TUNING + UNRELATED_HELDOUT:
            tag = split if u in UNRELATED_TUNING else "held-out"
            out.append(("unrelated", "", f"{tag}:{voice}:{u}",
                        as_segment(espeak(u, voice, wpm), rng)))
    for voice, wpm in VOICES[:2]:
        for q, said in zip(questions, phrasings, strict=True):
            noisy = as_segment(espeak(said, voice, wpm), rng, snr_db=20.0)
            out.append(("known-noisy", q, f"held-out:{voice}+noise20dB", noisy))
    for lang, text in FOREIGN:
        out.append(("unrelated", "", f"held-out:{lang}:{text}",
                    as_segment(espeak(text, lang, 150), rng)))
    out += [("noise", "", f"held-out:{name}", a) for name, a in noises(rng)]
    if dev is not None:
        with open(dev / "transcripts.tsv", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                text = " ".join(psr.tokens(row["transcript"]))
                kind = "noise" if not text else "known" if text in questions else "unrelated"
                out.append((kind, text if kind == "known" else "", f"dev:{row['file']}:{text}",
                            read_audio(dev / row["file"])))
    return out


def decoder_fn(decoder: object) -> Callable[[Audio], str]:
    def run(audio: Audio) -> str:
        d: Any = decoder
        d.start_utt()
        d.process_raw(audio.pcm, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        return psr.clean(hyp.hypstr) if hyp else ""
    return run


def approaches(questions: list[str], tmp: Path, names: list[str],
               cache: Path | None = None) -> dict[str, Callable]:
    import pocketsphinx  # type: ignore[import-untyped]

    hmm = str(psr._model_path("en-us", "en-us"))
    quiet = {"loglevel": "FATAL", "logfn": "/dev/null"}
    psr.build_files(questions, tmp)
    out: dict[str, Callable] = {}
    if "default-lm" in names:
        out["default-lm"] = decoder_fn(pocketsphinx.Decoder(hmm=hmm, **quiet))
    if "trigram" in names:
        from pocketsphinx.lm import ArpaBoLM  # type: ignore[import-untyped]

        lm = ArpaBoLM(text="\n".join(questions), add_start=True)
        lm.compute()
        lm.write_file(str(tmp / "questions.arpa"))
        out["trigram"] = decoder_fn(pocketsphinx.Decoder(
            hmm=hmm, lm=str(tmp / "questions.arpa"), dict=str(tmp / "words.dict"), **quiet))
    if "jsgf-filler" in names:
        out["jsgf-filler"] = decoder_fn(pocketsphinx.Decoder(
            hmm=hmm, jsgf=str(tmp / "questions.gram"), dict=str(tmp / "words.dict"), **quiet))
    for name, ratio in (("jsgf", -np.inf), ("verified", psr.ACCEPT_RATIO)):
        if name in names:
            rec = psr.PocketsphinxRecognizer(accept_ratio=ratio)
            rec.adapt(questions)
            out[name] = rec.transcribe
    for name, mode in (("lm-verified", "trigram"), ("hybrid", "hybrid")):
        if name in names:
            rec = psr.PocketsphinxRecognizer(mode=mode)
            rec.adapt(questions)
            out[name] = rec.transcribe
    for name, nbest in (("mixed", 1), ("mixed-nbest", 3)):
        if name in names:
            rec = psr.PocketsphinxRecognizer(cache_dir=cache or tmp, mode="mixed", nbest=nbest)
            rec.adapt(questions)
            out[name] = rec.transcribe
    return out


def verdict(text: str, expected: str, questions: list[str]) -> str:
    if not text:
        return "reject"
    best = max(questions, key=lambda q: difflib.SequenceMatcher(None, text, q).ratio())
    if text == expected:
        return "exact"
    if difflib.SequenceMatcher(None, text, best).ratio() < 0.8:
        return "reject"
    return "near" if best == expected else "wrong"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qa", type=Path, default=REPO / "qa.yaml")
    ap.add_argument("--dev", type=Path, default=None, help="speech-dev folder (transcripts.tsv)")
    ap.add_argument("--approaches",
                    default="default-lm,trigram,jsgf-filler,jsgf,verified,lm-verified,hybrid")
    ap.add_argument("--cache", type=Path, default=None,
                    help="cache folder for the mixed model (else built in a temporary one)")
    ap.add_argument("--sweep", action="store_true", help="verified at other thresholds too")
    ap.add_argument("--errors", action="store_true", help="print every wrong or missed clip")
    args = ap.parse_args()
    phrasings = load_kb(args.qa).questions
    questions = [" ".join(psr.tokens(q)) for q in phrasings]
    data = clips(phrasings, args.dev)
    print(f"{len(questions)} questions, {len(data)} clips; missing words: "
          f"{psr.missing_words(questions) or 'none'}")
    ratios: list[tuple[str, bool, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in approaches(questions, Path(tmp), args.approaches.split(","),
                                         args.cache).items():
            table: dict[tuple[str, str], dict[str, int]] = {}
            seconds, n = 0.0, 0
            for kind, expected, source, audio in data:
                if name == "default-lm" and not (source.startswith(("tuning:en-us:", "dev:"))
                                                 or source == "tuning:en-us" or kind == "noise"):
                    continue
                start = time.perf_counter()
                result = fn(audio)
                seconds += time.perf_counter() - start
                n += 1
                text = result if isinstance(result, str) else result.text
                if name == "verified" and not isinstance(result, str):
                    ratio = float(result.extra.get("ratio", -np.inf))
                    ratios.append((kind, result.extra.get("hypothesis") == expected, ratio))
                split = source.split(":")[0]
                cell = table.setdefault((kind, split), {})
                v = verdict(text, expected, questions)
                cell[v] = cell.get(v, 0) + 1
                if args.errors and (v == "wrong" or (v == "reject" and expected)):
                    print(f"  {v:6s} {source:28s} {expected or '-'!r} -> {text!r}")
            print(f"\n{name}: {seconds / max(n, 1):.3f} s/clip over {n} clips")
            for (kind, split), cell in sorted(table.items()):
                total = sum(cell.values())
                shown = ("exact", "near", "wrong", "reject")
                print(f"  {kind:12s} {split:9s} n={total:4d}  " + "  ".join(
                    f"{k} {100 * cell.get(k, 0) / total:5.1f}%" for k in shown))
    if args.sweep and ratios:
        print("\nverified at other thresholds (known: exact hypothesis kept; others: rejected)")
        for th in (-35, -30, -28, -26, -24, -22, -20, -15):
            row = []
            for kind in ("known", "known-noisy", "unrelated", "noise"):
                sel = [(right, r) for k, right, r in ratios if k == kind]
                kept = sum(right and r >= th for right, r in sel) if kind.startswith("known") \
                    else sum(r < th for _, r in sel)
                row.append(f"{kind} {100 * kept / max(len(sel), 1):5.1f}%")
            print(f"  {th:4d}: " + "  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
