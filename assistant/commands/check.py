"""assistant check: validate config.yaml and qa.yaml and say what `run` would load."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import shutil
from typing import Any

from .common import add_command, config_from_args

WORST = 20  # ambiguous phrasings listed without --all


def register(sub: Any) -> None:
    p = add_command(sub, "check", "validate config.yaml and qa.yaml, print what would load", run,
                    kb=True, asr=True, description="Validate the config and knowledge base "
                    "and print what `assistant run` would load: recognizer, models, voice. "
                    "Exit code 2 when something is wrong.")
    p.add_argument("--no-models", action="store_true",
                   help="skip the checks that load the sentence model (faster)")
    p.add_argument("--all", action="store_true", help="list every ambiguous phrasing, not "
                   f"only the worst {WORST}")


def run(args: argparse.Namespace) -> int:
    from ..asr import onnx_ready, resolve_backend
    from ..kb.embed import bundled_model_dir
    from ..kb.knowledge import load_kb
    from ..vad import segmenter_settings

    cfg = config_from_args(args)
    print(f"config:     {cfg.source}")
    from ..language import describe, require

    print(f"language:   {describe(cfg)}")
    require(cfg)
    kb = load_kb(cfg.qa_path)
    print(f"knowledge:  {cfg.qa_path}: {len(kb.entries)} answers, {len(kb.questions)} "
          f"questions, fallback {kb.fallback!r}")
    templates = [(t, e) for e in kb.entries for t in e.templates]
    if templates:
        from ..kb.templates import expand

        print(f"templates:  {len(templates)}, expanded to "
              f"{sum(len(expand(t)) for t, _ in templates)} phrasings")
        for t, _ in templates:
            print(f"            {t!r}: {len(expand(t))} phrasings")
    s = segmenter_settings(cfg.vad)
    print(f"vad:        preset {cfg.vad.preset}, aggressiveness {cfg.vad.aggressiveness}, "
          f"pre-roll {s.pre_roll_s}s, min speech {s.min_speech_s}s, hangover {s.hangover_s}s, "
          f"max {s.max_utterance_s}s")
    if cfg.vad.backend == "silero":  # the wheel's ONNX model must be there (VadError if not)
        from ..vad.silero import model_path

        print(f"vad:        silero, threshold {cfg.vad.silero_threshold}: {model_path()}")
    if cfg.vad.turn_model:  # the end-of-turn model file must be there (VadError if not)
        from ..vad.turn_end import model_path as turn_model_path

        print(f"vad:        end-of-turn model at {cfg.vad.turn_model_pause_s}s pauses, threshold "
              f"{cfg.vad.turn_model_threshold}: {turn_model_path()}")
    backend = resolve_backend(cfg.asr, cfg.cache_path)
    a = cfg.asr
    onnx = a.runtime == "onnx" and a.device == "cpu"
    detail = (f"{a.model}, {'ONNX Runtime ' + a.quantize if onnx else 'torch ' + a.device}"
              if backend == "wav2vec2" else "the pocketsphinx grammar, then Whisper "
              f"{a.whisper_model} for what it rejects" if backend == "cascade" else
              f"{a.whisper_model}" if backend == "whisper" else "bundled US-English model")
    print(f"recognizer: {backend} ({detail}){' [auto]' if cfg.asr.backend == 'auto' else ''}")
    if backend == "wav2vec2" and onnx and not onnx_ready(a, cfg.cache_path):
        from ..asr.wav2vec2_onnx import converts_here

        if not converts_here():  # `run` would stop with asr:onnx-missing
            print("warning:    wav2vec2 has no ONNX model in cache_dir and torch is not "
                  "installed to convert it: run `assistant download`")
    if backend in ("whisper", "cascade"):
        check_whisper(cfg, args.no_models)
    if backend in ("pocketsphinx", "cascade"):
        from ..asr.pocketsphinx import missing_words

        missing = missing_words(kb.questions)
        if missing:
            print(f"warning:    {len(missing)} word(s) not in the pronunciation dictionary, "
                  f"pronunciation guessed: {', '.join(missing[:20])}")
    bundled = bundled_model_dir(cfg.matcher.model)
    print(f"matcher:    {cfg.matcher.model}{' (bundled package)' if bundled else ''}, "
          f"threshold {cfg.matcher.threshold}")
    print(f"speech:     {describe_speech(cfg)}")
    report_devices(cfg)
    if cfg.wake.enabled:
        from ..wake import build_detector

        detector = build_detector(cfg.wake)  # a bad name or model file: one line, exit 2
        kind = (f"phrase {detector.word!r} (pocketsphinx" if cfg.wake.phrase is not None
                else f"{cfg.wake.word} (microWakeWord")
        print(f"wake word:  {kind}, threshold {detector.threshold:g}), timeout "
              f"{cfg.wake.timeout_s}s, follow-up {cfg.wake.follow_up_s}s, "
              f"{'gated by voice activity' if cfg.wake.gate else 'every frame'}")
    else:
        print("wake word:  off (every utterance is a question)")
    if not args.no_models:
        report_ambiguity(cfg, kb, args.all)
    print("ok")
    return 0


def check_whisper(cfg: Any, no_models: bool) -> None:
    """The Whisper model is there and unchanged (SHA-256), and loads unless --no-models:
    anything wrong is one line and exit 2 (`run` would fall back to pocketsphinx)."""
    from ..asr import load_recognizer
    from ..asr.whisper import need_faster_whisper
    from ..asr.whisper_model import describe, locate

    need_faster_whisper(cfg.asr.backend)
    folder = locate(cfg.asr.whisper_model, cfg.cache_path)
    if not no_models:
        load_recognizer(dataclasses.replace(cfg.asr, backend="whisper"), [], cfg.cache_path,
                        fall_back=False)
    print(f"whisper:    {describe(cfg.asr.whisper_model)}: {folder}")


def describe_background(setting: str, matcher: Any) -> str:
    """What matcher.background turns away, in one line."""
    from ..kb.background import available

    if setting == "none":
        return "off (matcher.background none)"
    if not available():
        return ("off: the package 'home-assistant-intents' is not installed (pip install "
                "home-assistant-intents)")
    bg = matcher.background
    if bg is None:
        return "off: Home Assistant has no sentences in this language"
    kinds = len(set(bg.intents))
    left = (f"; left out, as qa.yaml covers them: {', '.join(matcher.covered_intents)}"
            if matcher.covered_intents else "")
    return (f"{len(bg.texts)} of Home Assistant's sentences ({kinds} intents) get no answer "
            f"from qa.yaml (matcher.background {setting}){left}")


def report_devices(cfg: Any) -> None:
    """Resolve both devices as `run` will: a wrong name is an error (exit 2); a machine with
    no microphone or loudspeaker at all is a warning (`run --input`, `--out` still work)."""
    from ..audio.devices import list_devices, resolve_device, resolve_output
    from ..errors import AudioError

    a = cfg.audio
    index = resolve_device(a.input_device, "input")
    try:
        has_input = index is not None or any(d["default_input"] for d in list_devices())
    except AudioError:
        has_input = False
    print(f"microphone: {_device_name(index) if index is not None else 'system default'}"
          f"{'' if has_input else ' (NONE FOUND: only `run --input FILE` will work)'}")
    resolve_device(a.output_device, "output")
    try:
        out = resolve_output(a.output_device)
        print(f"loudspeaker: {_device_name(out) if out is not None else 'system default'}")
    except AudioError as exc:
        if exc.code != "no-output":
            raise
        print(f"note:       {exc}")


def _device_name(index: int) -> str:
    from ..audio.devices import list_devices

    return next((f"{d['index']}: {d['name']}" for d in list_devices() if d["index"] == index),
                str(index))


def report_ambiguity(cfg: Any, kb: Any, show_all: bool = False) -> None:
    """Say which model of the knowledge base was fitted (or why not), and warn about
    phrasings that read the same to the matcher under two answers, phrasings the fitted
    model gives to another answer, and phrasings closer to another answer than to their own."""
    from ..kb.calibrate import ambiguous_pairs, confusions
    from ..kb.embed import load_embedder
    from .common import answerer_for

    m = cfg.matcher
    embedder = load_embedder(m.model, m.device, m.runtime, cfg.cache_path)
    from ..kb.embed_onnx import OnnxSentenceEmbedder

    engine = "ONNX Runtime" if isinstance(embedder, OnnxSentenceEmbedder) else "torch"
    print(f"sentence:   runs on {engine} (matcher.runtime {m.runtime})")
    answerer = answerer_for(cfg, kb, embedder)
    matcher = answerer.matcher
    decision = matcher.decision
    print(f"fitted:     {decision.model} ({decision.note}; matcher.fit {m.fit})")
    print(f"threshold:  {matcher.threshold:.3f}"
          f"{' (calibrated from the knowledge base)' if m.threshold == 'auto' else ''}")
    print(f"background: {describe_background(m.background, matcher)}")
    if len(kb.entries) < 2:
        print("note:       one answer only: nothing to tell apart; the threshold is the fixed "
              "fallback and unrelated questions are turned away by it alone")
    report_duplicates(kb, answerer)
    confused = confusions(kb, matcher.vecs, matcher.scoring)
    answers = [e.questions[0] for e in kb.entries]
    by_pair: dict[tuple[int, int], list[Any]] = {}
    for c in confused:
        by_pair.setdefault((c.entry, c.other_entry), []).append(c)
    if by_pair:
        more = ("" if show_all or len(by_pair) <= WORST
                else f"; the worst {WORST} below (--all for the rest)")
        print(f"warning:    {len(confused)} phrasing(s) of {len(by_pair)} answer pair(s) go to "
              "another answer when left out (the model confuses them; add phrasings that "
              f"tell them apart, or merge the answers){more}")
    for (own, other), items in list(by_pair.items())[:None if show_all else WORST]:
        shown = ", ".join(repr(c.question) for c in items[:3])
        more = f" and {len(items) - 3} more" if len(items) > 3 else ""
        print(f"warning:    confused: {shown}{more} (answer {answers[own]!r}) -> answer "
              f"{answers[other]!r}, closest {items[0].other_question!r}")
    pairs = ambiguous_pairs(kb, matcher.vecs)  # worst first
    shown_pairs = pairs if show_all else pairs[:WORST]
    if pairs:
        print(f"warning:    {len(pairs)} ambiguous phrasing(s), closer to another answer's "
              f"phrasing than to their own answer; "
              f"{'all' if len(shown_pairs) == len(pairs) else f'the worst {len(shown_pairs)}'}"
              f" below{'' if len(shown_pairs) == len(pairs) else ' (--all for the rest)'}")
    for question, own_s, other, other_score in shown_pairs:
        print(f"warning:    ambiguous: {question!r} is closer to {other!r} ({other_score:.4f}), "
              f"another answer's phrasing, than to its own answer ({own_s:.4f})")


def report_duplicates(kb: Any, answerer: Any) -> None:
    """Phrasings of two answers that are the same text once normalised as the matcher
    normalises them ("What's the time" and "what is the time"): the matcher cannot tell
    them apart."""
    seen: dict[str, tuple[int, str]] = {}
    for entry, question in zip(kb.question_entry, kb.questions, strict=True):
        key = answerer.prepare(question)
        if key in seen and seen[key][0] != entry:
            print(f"warning:    duplicate: {question!r} and {seen[key][1]!r} read the same to "
                  f"the matcher ({key!r}) under two answers; keep it under one answer only")
        seen.setdefault(key, (entry, question))


def describe_speech(cfg: Any) -> str:
    """One line on the voice `run` would speak with; a bad Piper voice raises TtsError."""
    from ..tts import backend_name, load_synthesizer, voices_dir

    backend = backend_name(cfg.tts)
    auto = " [auto]" if cfg.tts.backend == "auto" else ""
    if backend == "piper":
        from ..tts.piper_backend import resolve_voice

        path = resolve_voice(cfg.tts.voice, voices_dir(cfg.cache_path))
        load_synthesizer(cfg.tts, cfg.cache_path)  # 0.7 s; a corrupt voice file fails here
        return (f"piper{auto}, voice {path.stem} ({path}), {cfg.tts.rate_wpm} wpm; "
                "fallback espeak-ng")
    ok = (importlib.util.find_spec("pyttsx3") is not None if backend == "pyttsx3"
          else shutil.which("espeak-ng") is not None)
    if ok and cfg.tts.voice:  # a voice `say` would reject fails here, not on first answer
        load_synthesizer(cfg.tts, cfg.cache_path).synthesize("ok")
    return (f"{backend}{auto}{'' if ok else ' (NOT INSTALLED)'}, voice "
            f"{cfg.tts.voice or 'default'}, {cfg.tts.rate_wpm} wpm")
