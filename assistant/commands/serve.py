"""assistant serve: a Wyoming server for Home Assistant (speech-to-text, answers, speech)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from .common import add_command, config_from_args

log = logging.getLogger("assistant")

DESCRIPTION = """\
Serve the assistant over the Wyoming protocol, as Home Assistant's local voice services are
served: our recognizer (speech-to-text), our answers from qa.yaml (a conversation agent:
handled, or not-handled with the fallback so Home Assistant can try another agent) and our
voice (text-to-speech). No microphone: it runs beside `assistant run`.

  assistant serve                               127.0.0.1:10700, Home Assistant on this machine
  assistant serve --uri tcp://0.0.0.0:10700 --zeroconf
                                                every address, advertised for discovery
  kill -HUP PID                                 reload qa.yaml (as for `assistant run`)

Then in Home Assistant: Settings -> Devices & services -> Add integration -> Wyoming
Protocol, host and port (see README 'Home Assistant'). The protocol has no authentication:
bind another address than 127.0.0.1 only on a network you trust."""


def register(sub: Any) -> None:
    from ..serve import DEFAULT_URI

    p = add_command(sub, "serve", "a Wyoming server for Home Assistant", serve, kb=True,
                    asr=True, description=DESCRIPTION)
    p.add_argument("--uri", default=DEFAULT_URI, help=f"where to listen (default {DEFAULT_URI}"
                   "; unix:///path for a socket)")
    p.add_argument("--zeroconf", nargs="?", const="", default=None, metavar="NAME",
                   help="advertise _wyoming._tcp for Home Assistant's discovery (needs the "
                   "'serve' extra: zeroconf); NAME defaults to assistant-MAC")
    p.add_argument("--max-recognitions", type=int, default=2, metavar="N",
                   help="recognitions and matches run at once; more wait (default 2)")
    p.add_argument("--max-connections", type=int, default=64, metavar="N",
                   help="open connections at most; more get a 'busy' error (default 64)")
    p.add_argument("--no-tts", action="store_true", help="do not offer text-to-speech")
    p.add_argument("--log", metavar="PATH", help="append each answered exchange to this JSON "
                   "Lines file (default: log.file)")


def serve(args: argparse.Namespace) -> int:
    import importlib.util

    from ..errors import ConfigError, ServeError

    if importlib.util.find_spec("wyoming") is None:
        raise ServeError("assistant serve needs the package 'wyoming'; `pip install "
                         "'assistant[serve]'`", code="missing-package")
    from ..exchange_log import ExchangeLog
    from ..kb.knowledge import load_kb
    from ..serve.engine import Engine
    from ..serve.server import Server, parse_uri, serve_forever
    from ..service.notify import Notifier
    from ..service.reload import Reloader
    from ..vad import segmenter_settings

    for name in ("max_recognitions", "max_connections"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be 1 or more",
                              code="bad-value")
    address = parse_uri(args.uri)
    cfg = config_from_args(args)
    load_kb(cfg.qa_path)  # a broken qa.yaml fails now, in one line, not on a thread
    engine = Engine(cfg, args.max_recognitions, speak=not args.no_tts)
    exchanges = ExchangeLog.from_config(cfg, args.log)
    notifier = Notifier.from_env()
    server = Server(engine, address, segmenter_settings(cfg.vad).max_utterance_s,
                    args.max_connections, on_exchange=exchanges.append if exchanges else None)
    reloader: Reloader | None = None

    def reload() -> None:
        nonlocal reloader
        if not engine.loaded:
            log.warning("SIGHUP while the models load: ignored; send it again once ready")
            return
        if reloader is None:
            reloader = Reloader(engine.answerer, cfg, lambda: config_from_args(args),
                                engine.recognizer.adapt, notifier,
                                [exchanges.reopen] if exchanges else [])
            reloader.start()
        reloader.request()

    try:
        asyncio.run(serve_forever(server, reload, notifier.tick, args.zeroconf or None,
                                  args.zeroconf is not None))
    finally:
        if reloader is not None:
            reloader.close()
        notifier.stopping()
        if exchanges is not None:
            exchanges.close()
    return 0
