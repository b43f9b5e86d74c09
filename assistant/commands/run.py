"""assistant run: the daemon. Listens on the microphone (or replays --input) until Ctrl-C or
SIGTERM; SIGHUP reloads qa.yaml; under systemd it notifies READY, the watchdog and STATUS."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from .common import add_command, build_answerer, build_recognizer, config_from_args

log = logging.getLogger("assistant")


def register(sub: Any) -> None:
    p = add_command(
        sub, "run", "listen and answer until Ctrl-C / SIGTERM", run, kb=True, asr=True,
        description="Listen on the microphone, answer each question aloud, until Ctrl-C or "
        "SIGTERM. With --input, replay a recording exactly like live audio instead.")
    p.add_argument("--input", metavar="AUDIO", help="replay a WAV/FLAC/OGG file instead of "
                   "the microphone (any rate, mono or stereo)")
    p.add_argument("--fast", action="store_true", help="with --input: do not wait for real "
                   "time; process the file as fast as possible")
    p.add_argument("--out", metavar="DIR", help="write each spoken answer as DIR/answer_NNN.wav "
                   "instead of playing it")
    p.add_argument("--no-speak", action="store_true", help="do not speak answers (log only)")
    p.add_argument("--preset", choices=("fast", "default", "relaxed"),
                   help="endpointing preset; overrides vad.preset")
    p.add_argument("--log", metavar="PATH", help="append each exchange to this JSON Lines "
                   "file (default: log.file for the microphone, none for --input)")
    p.add_argument("--watch", action="store_true", help="reload when config.yaml or qa.yaml "
                   "changes (checked every 2 s), as on SIGHUP")


def _config(args: argparse.Namespace) -> Any:
    from ..config import with_overrides

    cfg = config_from_args(args)
    return with_overrides(cfg, vad={"preset": args.preset}) if args.preset else cfg


def _exit_now(code: int) -> None:
    """Leave without joining the pipeline thread, which may be deep in recognition."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _have_loudspeaker(cfg: Any) -> bool:
    """False (said in one line, once) on a machine with no audio output at all: the daemon
    then listens and logs without speaking. A wrong device *name* is an error (exit 2)."""
    from ..audio.devices import resolve_output
    from ..errors import AudioError

    try:
        resolve_output(cfg.audio.output_device)
    except AudioError as exc:
        if exc.code != "no-output":
            raise
        log.error("error[audio:%s]: %s; answers are logged, not spoken", exc.code, exc)
        return False
    return True


def stop_handler(stop: threading.Event,
                 stopping: Callable[[], None]) -> Callable[[int, object], None]:
    """SIGTERM/SIGINT: say it and stop, once (a second delivery, seen under emulation, or
    Ctrl-C pressed again, is a debug line)."""
    def on_signal(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.debug("%s received again: already stopping", name)
            return
        log.info("%s received: stopping", name)
        stopping()
        stop.set()
    return on_signal


def run(args: argparse.Namespace) -> int:
    from ..audio.sinks import Sink, SpeakerSink, WavDirSink
    from ..audio.sources import FileSource, MicrophoneSource, Source
    from ..daemon import Daemon
    from ..exchange_log import ExchangeLog
    from ..interrupt import build_interrupter
    from ..pipeline import Pipeline
    from ..quiet import QuietPolicy
    from ..service.notify import Notifier
    from ..service.reload import Reloader
    from ..tts import SpeechThread, static_answers
    from ..vad import build_detector, segmenter_settings
    from ..vad.early_end import EarlyEnd, EarlyEndRule
    from ..vad.turn_end import load as turn_end
    from ..wake import how_to_ask
    from ..wake.earcon import earcon_hook
    from ..wake.hook import build_hook
    from ..wake.mute import MuteSwitch, mute_path

    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a reload while loading: files read below
    cfg = _config(args)
    if not args.input:  # a wrong device name fails now, not after the models have loaded
        from ..audio.devices import resolve_device

        resolve_device(cfg.audio.input_device, "input")
    source: Source = (FileSource(args.input, cfg.audio.block_ms, realtime=not args.fast)
                      if args.input else MicrophoneSource(cfg.audio))
    if args.fast and not args.input:
        log.warning("--fast only applies to --input; ignored")
    sink: Sink | None = None
    speech = None
    if not args.no_speak:  # a Piper voice name that does not exist: now, not per answer
        from ..tts import backend_name, voices_dir

        if backend_name(cfg.tts) == "piper":
            from ..tts.piper_backend import resolve_voice

            resolve_voice(cfg.tts.voice, voices_dir(cfg.cache_path))
    if not args.no_speak and not args.out and not _have_loudspeaker(cfg):
        args.no_speak = True
    if not args.no_speak:  # a wrong device or voice fails now, not on the first answer
        sink = WavDirSink(args.out) if args.out else SpeakerSink(
            cfg.audio.output_device, "low" if cfg.interrupt.enabled else "high")
        speech = SpeechThread(cfg.tts, cfg.cache_path)
        ready = speech.synthesize("ready")  # start the engine now, not on the first question
        if isinstance(sink, SpeakerSink):
            sink.open(ready.rate_hz)  # the first answer does not wait for the device to open
    answerer = build_answerer(cfg)
    recognizer = build_recognizer(cfg, answerer.kb.questions)
    if speech is not None:
        speech.prerender(static_answers(answerer.kb))  # in the background, cached on disk
    exchanges = (ExchangeLog.from_config(cfg, args.log) if args.log or not args.input
                 else None)
    notifier = Notifier.from_env()  # a no-op outside systemd
    # the loudspeaker only: a file answer (--out) or a file question (--input) has no echo
    interrupter = (build_interrupter(cfg, recognizer)
                   if isinstance(sink, SpeakerSink) and not args.input else None)
    if interrupter is not None and isinstance(source, MicrophoneSource):
        interrupter.clock = source.capture_s  # the reference placed by when it is heard
    daemon = Daemon(source, build_detector(cfg.vad), segmenter_settings(cfg.vad),
                    Pipeline(recognizer, answerer, speech, sink,
                             QuietPolicy(cfg.matcher.fallback_on, cfg.matcher.quiet_below),
                             interrupter),
                    cfg.vad.frame_ms,
                    cfg.tts.refractory_s, speculative=cfg.asr.speculative,
                    on_exchange=exchanges.append if exchanges else None,
                    on_state=notifier.on_state, on_tick=notifier.tick,
                    early_end=EarlyEnd(EarlyEndRule(after_s=cfg.vad.early_end_after_s))
                    if cfg.vad.early_end else None,
                    wake=build_hook(cfg, earcon_hook(sink) if cfg.wake.earcon else None),
                    mute=MuteSwitch(mute_path(cfg)),
                    turn_end=turn_end(cfg.vad) if cfg.vad.turn_model else None,
                    interrupter=interrupter)

    def adapt(questions: list[str]) -> None:
        if speech is not None:  # changed answers render again; unchanged ones are cached
            speech.prerender(static_answers(answerer.kb))
        recognizer.adapt(questions)

    reloader = Reloader(answerer, cfg, lambda: _config(args), adapt, notifier,
                        [exchanges.reopen] if exchanges else [], 2.0 if args.watch else None)
    stop = threading.Event()

    on_signal = stop_handler(stop, notifier.stopping)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, lambda signum, frame: reloader.request())
    reloader.start()
    log.info("ready: %d questions, recognizer %s, listening on %s%s",
             len(answerer.kb.questions), recognizer.name, args.input or "the microphone",
             f"; {how_to_ask(daemon.wake.detector.word)}" if daemon.wake else "")
    try:
        daemon.run(stop, reconnect=not args.input)
    finally:
        reloader.close()
        notifier.stopping()
        if exchanges is not None:
            exchanges.close()
    log.info("stopped after %d utterance(s)", daemon.exchanges)
    if daemon.busy:  # stopped mid-utterance: drop it rather than keep systemd waiting
        log.info("the utterance in progress was dropped")
        _exit_now(0)
    if speech is not None:
        speech.close()
    if not args.input:  # the interpreter's last collection over the models' objects takes
        gc.freeze()     # seconds (systemd waits for it); the OS frees the memory at once
    return 0
