"""assistant bench: latency and resource figures on this machine, as a table or JSON."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import platform
from pathlib import Path
from typing import Any

from .common import add_command, build_answerer, build_recognizer, config_from_args, print_json

log = logging.getLogger("assistant.bench")


def register(sub: Any) -> None:
    p = add_command(
        sub, "bench", "measure latency, speed per stage, idle CPU, memory, start-up", run,
        kb=True, asr=True, description="Measure on this machine: end of speech -> first "
        "answer sample per preset (real daemon, recording replayed in real time, null "
        "loudspeaker), mouth to ear per preset (the real `assistant run` in a simulated room: "
        "a private PulseAudio server, the question played into it, the answer's first sample "
        "as recorded; the pocketsphinx grammar, and the cascade on the same questions and "
        "on paraphrases when Whisper is installed, and vad.turn_model's end-of-turn model "
        "when pipecat-ai is installed), time per stage, CPU while listening to "
        "silence, memory, start-up. "
        "Without downloaded wav2vec2 weights, a randomly initialised model of the exact "
        "wav2vec2-base architecture is timed instead (same cost; said in the output).")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    p.add_argument("--no-e2e", action="store_true", help="skip the end-to-end replay")
    p.add_argument("--no-room", action="store_true", help="skip mouth to ear in the simulated "
                   "room (a private PulseAudio server; needs pulseaudio and pulseaudio-utils)")


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}"}


def _wav2vec2(cfg: Any) -> tuple[Any, str, str]:
    """The configured wav2vec2 model, or random wav2vec2-base weights when not downloaded."""
    from ..asr import load_recognizer
    from ..asr.wav2vec2 import weights_on_disk
    from ..bench.models import random_wav2vec2_base

    if weights_on_disk(cfg.asr.model):
        return load_recognizer(cfg.asr, [], cfg.cache_path), cfg.asr.model, cfg.asr.model
    # kept in the cache so its one-time ONNX conversion is reused by the next run
    folder = random_wav2vec2_base(cfg.cache_path / "bench" / "wav2vec2-base-random")
    asr = dataclasses.replace(cfg.asr, backend="wav2vec2", model=str(folder))
    recognizer = load_recognizer(asr, [], cfg.cache_path)
    return recognizer, "wav2vec2-base (random weights: same timings)", str(folder)


# Questions in other words than the demo qa.yaml's, for the cascade's mouth-to-ear row; only
# those the matcher answers as typed are used, so another knowledge base may have none.
DEMO_PARAPHRASES = ("where is your home", "tell me your name", "what do you do",
                    "who programmed you", "do you work offline", "what's today's date",
                    "have you got the time", "how does it work")


def _paraphrases(answerer: Any) -> list[str]:
    return [p for p in DEMO_PARAPHRASES if not answerer.reply(p).fallback]


def _silero_installed() -> bool:
    from ..errors import VadError
    from ..vad.silero import model_path

    try:
        model_path()
    except VadError:
        return False
    return True


def _turn_model_installed() -> bool:
    from ..errors import VadError
    from ..vad.turn_end import model_path

    try:
        model_path()
    except VadError:
        return False
    return True


def run(args: argparse.Namespace) -> int:
    from ..asr import resolve_backend, whisper_available
    from ..bench import e2e, stages
    from ..tts import SpeechThread

    cfg = config_from_args(args)
    reps = 1 if args.quick else 3
    out: dict[str, Any] = {"machine": _machine()}
    answerer = build_answerer(cfg)
    backend = resolve_backend(cfg.asr, cfg.cache_path, say=False)  # loading says it
    if backend == "wav2vec2":
        recognizer, name, model = _wav2vec2(cfg)
    else:
        recognizer, name, model = build_recognizer(cfg, answerer.kb.questions), backend, None
    log.info("start-up time (fresh process)...")
    startup_s, startup_rss_mb = e2e.startup(args.config, args.asr, args.qa, model)
    out["startup_s"], out["rss_mb"] = round(startup_s, 2), round(startup_rss_mb, 1)
    speech = SpeechThread(cfg.tts, cfg.cache_path)
    speech.synthesize("ready")
    out["recognizer"] = name
    questions = [e.questions[0] for e in answerer.kb.entries][: 3 if args.quick else 8]
    clips = [e2e.spoken_questions([q], gap_s=0.0) for q in questions[:3]]
    log.info("per-stage timings...")
    out["vad_us_per_frame"] = round(stages.vad_us_per_frame(), 1)
    out["asr_rtf"] = round(stages.asr_rtf(recognizer, clips, reps), 3)
    out["embed_ms"] = round(stages.embed_ms(answerer, 5 * reps), 2)
    out["match_ms"] = {k: round(v, 3) for k, v in stages.match_ms(
        repeat=10 * reps).items()}
    out["tts_ms"] = round(stages.tts_first_sample_ms(speech, reps + 2), 1)
    log.info("time to first sample per voice (cached, live)...")
    out["voice_first_sample_ms"] = {b: {k: round(v, 1) for k, v in d.items()} for b, d in
                                    stages.voice_first_sample_ms(repeat=reps).items()}
    log.info("idle CPU over real-time silence...")
    out["idle_cpu_percent"] = round(stages.idle_cpu_percent(3.0 if args.quick else 10.0), 2)
    if not args.no_e2e:
        log.info("end-to-end replay per preset (real time)...")
        out["e2e_ms"] = e2e.all_presets(recognizer, answerer, speech, questions,
                                        compare_speculation=not args.quick,
                                        early_after_s=cfg.vad.early_end_after_s)
    if not args.no_room:
        from ..bench import mouth_to_ear

        log.info("mouth to ear through real audio devices (simulated room)...")
        out["mouth_to_ear_ms"] = mouth_to_ear.measure(
            cfg.qa_path.resolve(), cfg.cache_path, questions,
            ["default"] if args.quick else ["fast", "default", "relaxed"],
            early_after_s=() if args.quick else (0.0,),
            silero=not args.quick and _silero_installed(),
            cascade=whisper_available(cfg.asr)[0],
            paraphrases=_paraphrases(answerer)[: 3 if args.quick else 8],
            turn_model=(cfg.vad.turn_model_pause_s, cfg.vad.turn_model_threshold)
            if not args.quick and _turn_model_installed() else None)
    speech.close()
    if args.json:
        print_json(out)
    else:
        print_table(out)
    return 0


def print_table(out: dict[str, Any]) -> None:
    m = out["machine"]
    print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}")
    print(f"recognizer: {out['recognizer']}")
    rows = [("start-up to ready", f"{out['startup_s']:.2f} s"),
            ("resident memory after start (same process)", f"{out['rss_mb']:.0f} MB"),
            ("VAD per 30 ms frame", f"{out['vad_us_per_frame']:.1f} us"),
            ("recognition real-time factor", f"{out['asr_rtf']:.3f}"),
            ("embedding per query", f"{out['embed_ms']:.1f} ms"),
            *[(f"matching per query, {int(k):,} entries", f"{v:.3f} ms")
              for k, v in out["match_ms"].items()],
            ("TTS to first sample", f"{out['tts_ms']:.0f} ms"),
            *[(f"first sample, {b} voice: cached / live first sentence",
               f"{d['cached']:.1f} / {d['live']:.0f} ms")
              for b, d in out.get("voice_first_sample_ms", {}).items()],
            ("CPU while listening to silence", f"{out['idle_cpu_percent']:.2f} % of a core")]
    for name, value in rows:
        print(f"  {name:<38} {value}")
    for preset, e in out.get("e2e_ms", {}).items():
        print(f"  end of speech -> answer, {preset:<27} median {e['median']} ms, p95 "
              f"{e['p95']} ms (hangover {e['hangover_ms']} ms, n={e['n']})")
    m2e = out.get("mouth_to_ear_ms", {})
    if "skipped" in m2e:
        print(f"  mouth to ear (room): skipped: {m2e['skipped']}")
    for preset, e in m2e.items():
        if isinstance(e, dict) and "error" in e:
            print(f"  mouth to ear, {preset}: failed: {e['error']}")
        elif isinstance(e, dict):
            print(f"  mouth to ear (room), {preset:<25} median {e['median']} ms, p95 "
                  f"{e['p95']} ms (n={e['n']}/{e['questions']}, ended early {e['early_ends']})")
