"""assistant web: try the assistant in a browser, with a map of the knowledge base."""

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
        sub, "web", "a web page to try the assistant in a browser", run, kb=True, asr=True,
        description="Serve a local web page: type, record or upload a question and see the "
        "transcript, the matched question, its score, the top 3 candidates, the answer (text "
        "and speech), a map of the knowledge base, and the recent exchanges of `assistant run` "
        "(its exchange log). Uses the same config, knowledge base and models as `assistant "
        "run`. Needs the web extra (`pip install .[web]`).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1: this machine only; 0.0.0.0 answers anyone who can reach it)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--no-speak", action="store_true", help="no spoken answers on the page")
    p.add_argument("--no-map", action="store_true", help="no knowledge-base map on the page")


def run(args: argparse.Namespace) -> int:
    from ..web import LOCAL_HOSTS, WebError, require

    require("gradio", "matplotlib")  # before the models load: a missing package fails at once
    if not 0 < args.port < 65536:
        raise WebError(f"--port {args.port} is not a port number (1..65535)", code="bad-port")
    from ..exchange_log import find_log
    from ..pipeline import Pipeline
    from ..tts import SpeechThread
    from ..web.app import build_app, launch

    cfg = config_from_args(args)
    answerer = build_answerer(cfg)
    recognizer = build_recognizer(cfg, answerer.kb.questions)
    speech = None if args.no_speak else SpeechThread(cfg.tts, cfg.cache_path)
    wake = None
    if cfg.wake.enabled:  # a bad word or phrase: one line, exit 2, before the page starts
        from ..wake import how_to_ask
        from ..web.app import WakeCheck

        wake = WakeCheck(cfg)
    app = build_app(Pipeline(recognizer, answerer), speech, show_map=not args.no_map,
                    wake=wake, exchanges=find_log(cfg))  # the file `assistant log` reads
    if args.host not in LOCAL_HOSTS:
        log.warning("listening on %s: anyone who can reach this address can ask questions and "
                    "upload audio; there is no login. Use --host 127.0.0.1 for this machine "
                    "only (browsers allow the microphone only on localhost or HTTPS)",
                    args.host)

    stop = threading.Event()  # SIGTERM/Ctrl-C: close the server ourselves, quietly

    def on_signal(signum: int, frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    log.info("ready: %d questions, recognizer %s%s; open http://%s:%d in a browser (Ctrl-C "
             "stops)", len(answerer.kb.questions), recognizer.name,
             f" (`assistant run`: {how_to_ask(wake.detector.word)})" if wake else "",
             f"[{args.host}]" if ":" in args.host else args.host, args.port)
    try:
        launch(app, args.host, args.port, block=False)
        while not stop.wait(0.5):
            pass
        app.close()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if speech is not None:
            speech.close()
    return 0
