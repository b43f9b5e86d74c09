"""assistant run: the daemon. Listens on the microphone (or replays --input) until Ctrl-C or
SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
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


def run(args: argparse.Namespace) -> int:
    from ..audio.sinks import Sink, SpeakerSink, WavDirSink
    from ..audio.sources import FileSource, MicrophoneSource, Source
    from ..config import with_overrides
    from ..daemon import Daemon
    from ..pipeline import Pipeline
    from ..tts import SpeechThread
    from ..vad import WebRtcVad, segmenter_settings

    cfg = config_from_args(args)
    if args.preset:
        cfg = with_overrides(cfg, vad={"preset": args.preset})
    if not args.input:  # a wrong device name fails now, not after the models have loaded
        from ..audio.devices import resolve_device

        resolve_device(cfg.audio.input_device, "input")
    source: Source = (FileSource(args.input, cfg.audio.block_ms, realtime=not args.fast)
                      if args.input else MicrophoneSource(cfg.audio))
    if args.fast and not args.input:
        log.warning("--fast only applies to --input; ignored")
    answerer = build_answerer(cfg)
    recognizer = build_recognizer(cfg, answerer.kb.questions)
    sink: Sink | None = None
    speech = None
    if not args.no_speak:
        sink = WavDirSink(args.out) if args.out else SpeakerSink(cfg.audio.output_device)
        speech = SpeechThread(cfg.tts)
        speech.synthesize("ready")  # start the engine now, not on the first question
    daemon = Daemon(source, WebRtcVad(cfg.vad.aggressiveness), segmenter_settings(cfg.vad),
                    Pipeline(recognizer, answerer, speech, sink), cfg.vad.frame_ms,
                    cfg.tts.refractory_s, speculative=cfg.asr.speculative)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    log.info("ready: %d questions, recognizer %s, listening on %s", len(answerer.kb.questions),
             recognizer.name, args.input or "the microphone")
    daemon.run(stop, reconnect=not args.input)
    if speech is not None:
        speech.close()
    log.info("stopped after %d utterance(s)", daemon.exchanges)
    return 0
