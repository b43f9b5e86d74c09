"""assistant say TEXT: speak with the configured voice, or write a WAV with --out."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, config_from_args


def register(sub: Any) -> None:
    p = add_command(sub, "say", "speak text with the configured voice", run,
                    description="Speak text with the configured TTS voice on the loudspeaker, "
                    "or write it to a WAV file with --out.")
    p.add_argument("text", help="what to say, in quotes")
    p.add_argument("--out", metavar="FILE.wav", help="write a WAV file instead of playing")


def run(args: argparse.Namespace) -> int:
    from ..audio.files import write_wav
    from ..audio.sinks import SpeakerSink
    from ..tts import SpeechThread

    if not args.text.strip():
        from ..errors import ConfigError

        raise ConfigError("nothing to say: the text is empty; e.g. `assistant say \"hello\"`",
                          code="empty-text")
    cfg = config_from_args(args)
    speech = SpeechThread(cfg.tts, cfg.cache_path)
    try:
        audio = speech.synthesize(args.text)
    finally:
        speech.close()
    if args.out:
        print(write_wav(args.out, audio))
    else:
        SpeakerSink(cfg.audio.output_device).play(audio)
    return 0
