"""assistant check: validate config.yaml and qa.yaml and say what `run` would load."""

from __future__ import annotations

import argparse
import importlib.util
import shutil
from typing import Any

from .common import add_command, config_from_args


def register(sub: Any) -> None:
    p = add_command(sub, "check", "validate config.yaml and qa.yaml, print what would load", run,
                    kb=True, asr=True, description="Validate the config and knowledge base "
                    "and print what `assistant run` would load: recognizer, models, voice. "
                    "Exit code 2 when something is wrong.")
    p.add_argument("--no-models", action="store_true",
                   help="skip the checks that load the sentence model (faster)")


def run(args: argparse.Namespace) -> int:
    from ..asr import resolve_backend
    from ..kb.embed import bundled_model_dir
    from ..kb.knowledge import load_kb
    from ..vad import segmenter_settings

    cfg = config_from_args(args)
    print(f"config:     {cfg.source}")
    kb = load_kb(cfg.qa_path)
    print(f"knowledge:  {cfg.qa_path}: {len(kb.entries)} answers, {len(kb.questions)} "
          f"questions, fallback {kb.fallback!r}")
    s = segmenter_settings(cfg.vad)
    print(f"vad:        preset {cfg.vad.preset}, aggressiveness {cfg.vad.aggressiveness}, "
          f"pre-roll {s.pre_roll_s}s, min speech {s.min_speech_s}s, hangover {s.hangover_s}s, "
          f"max {s.max_utterance_s}s")
    backend = resolve_backend(cfg.asr)
    a = cfg.asr
    onnx = a.runtime == "onnx" and a.device == "cpu"
    detail = (f"{a.model}, {'ONNX Runtime ' + a.quantize if onnx else 'torch ' + a.device}"
              if backend == "wav2vec2" else "bundled US-English model")
    print(f"recognizer: {backend} ({detail}){' [auto]' if cfg.asr.backend == 'auto' else ''}")
    if backend == "pocketsphinx":
        from ..asr.pocketsphinx import missing_words

        missing = missing_words(kb.questions)
        if missing:
            print(f"warning:    {len(missing)} word(s) not in the pronunciation dictionary, "
                  f"pronunciation guessed: {', '.join(missing[:20])}")
    bundled = bundled_model_dir(cfg.matcher.model)
    print(f"matcher:    {cfg.matcher.model}{' (bundled package)' if bundled else ''}, "
          f"threshold {cfg.matcher.threshold}")
    tts_ok = (importlib.util.find_spec("pyttsx3") is not None if cfg.tts.backend == "pyttsx3"
              else shutil.which("espeak-ng") is not None)
    print(f"speech:     {cfg.tts.backend}{'' if tts_ok else ' (NOT INSTALLED)'}, voice "
          f"{cfg.tts.voice or 'default'}, {cfg.tts.rate_wpm} wpm")
    if cfg.wake.enabled:
        from ..wake import build_detector

        detector = build_detector(cfg.wake)  # a bad name or model file: one line, exit 2
        print(f"wake word:  {cfg.wake.word} (threshold {detector.threshold}), timeout "
              f"{cfg.wake.timeout_s}s, follow-up {cfg.wake.follow_up_s}s")
    else:
        print("wake word:  off (every utterance is a question)")
    if not args.no_models:
        report_ambiguity(cfg, kb)
    print("ok")
    return 0


def report_ambiguity(cfg: Any, kb: Any) -> None:
    """Warn about phrasings that sit closer to another answer than to their own."""
    from ..kb.calibrate import ambiguous_pairs
    from ..kb.embed import load_embedder
    from .common import answerer_for

    m = cfg.matcher
    embedder = load_embedder(m.model, m.device, m.runtime, cfg.cache_path)
    from ..kb.embed_onnx import OnnxSentenceEmbedder

    engine = "ONNX Runtime" if isinstance(embedder, OnnxSentenceEmbedder) else "torch"
    print(f"sentence:   runs on {engine} (matcher.runtime {m.runtime})")
    answerer = answerer_for(cfg, kb, embedder)
    print(f"threshold:  {answerer.matcher.threshold:.3f}"
          f"{' (calibrated from the knowledge base)' if cfg.matcher.threshold == 'auto' else ''}")
    for question, own, other, other_score in ambiguous_pairs(kb, answerer.matcher.vecs):
        print(f"warning:    ambiguous: {question!r} is closer to {other!r} ({other_score:.2f}), "
              f"another answer's phrasing, than to its own answer ({own:.2f})")
