"""Intelligibility and speed of each voice: speak every answer and question of a qa.yaml,
transcribe it back with pocketsphinx (a grammar of exactly the spoken texts, and its general
language model) and report the word error rate and the synthesis real-time factor per voice.

    .venv/bin/python benchmarks/voice_quality.py [--qa qa.yaml] [--out F.json]

The grammar WER counts a rejected utterance's best grammar path (pocketsphinx's hypothesis
before the acceptance test), so it measures what was heard, not the rejection threshold."""

from __future__ import annotations

import argparse
import json
import os
import resource
from pathlib import Path

from assistant.asr.pocketsphinx import PocketsphinxRecognizer, tokens
from assistant.audio.types import to_pipeline
from assistant.config import TtsConfig
from assistant.evaluation import word_errors
from assistant.kb.knowledge import load_kb
from assistant.tts import load_synthesizer

VOICES = {"espeak-ng": TtsConfig(backend="espeak"), "piper joe": TtsConfig(backend="piper")}


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--qa", default=str(Path(__file__).resolve().parents[1] / "qa.yaml"))
    ap.add_argument("--out")
    args = ap.parse_args()
    kb = load_kb(args.qa)
    texts = list(dict.fromkeys([q for e in kb.entries for q in e.questions]
                               + [e.answer.replace("{time}", "9:05").replace(
                                   "{date}", "Monday, May 4, 2026") for e in kb.entries]))
    grammar = PocketsphinxRecognizer()
    grammar.adapt(texts)
    general = PocketsphinxRecognizer()
    result: dict[str, object] = {"texts": len(texts), "cores": os.cpu_count()}
    for name, cfg in VOICES.items():
        engine = load_synthesizer(cfg)
        g_err = n_err = words = 0
        audio_s = synth_cpu = 0.0
        for text in texts:
            c0 = cpu_s()
            audio = engine.synthesize(text)
            synth_cpu += cpu_s() - c0
            audio_s += audio.duration_s
            pcm = to_pipeline(audio.samples, audio.rate_hz)
            ref = " ".join(tokens(text))
            t = grammar.transcribe(pcm)
            hyp = t.text or str((t.extra or {}).get("hypothesis", ""))
            e, n = word_errors(ref, hyp)
            g_err += e
            words += n
            e2, _ = word_errors(ref, general.transcribe(pcm).text)
            n_err += e2
        result[name] = {"grammar_wer": round(g_err / words, 3),
                        "general_wer": round(n_err / words, 3), "words": words,
                        "audio_s": round(audio_s, 1),
                        "synthesis_cpu_rtf": round(synth_cpu / audio_s, 3)}
        print(name, result[name], flush=True)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
