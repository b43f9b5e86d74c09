"""assistant transcribe AUDIO and assistant answer AUDIO."""

from __future__ import annotations

import argparse
from typing import Any

from ..audio.files import is_silent, read_audio
from ..errors import AudioError
from .common import add_command, build_recognizer, config_from_args


def register(sub: Any) -> None:
    p = add_command(sub, "transcribe", "print the transcript of an audio file", run, asr=True,
                    description="Print what the recognizer hears in an audio file (WAV, FLAC "
                    "or OGG; any rate, mono or stereo).")
    p.add_argument("audio", help="the audio file")


def load_speech(path: str) -> Any:
    audio = read_audio(path)
    if is_silent(audio):
        raise AudioError(f"{path}: the file is silent (no speech to transcribe); check the "
                         "recording level", code="silent")
    return audio


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    audio = load_speech(args.audio)
    print(build_recognizer(cfg).transcribe(audio).text)
    return 0
