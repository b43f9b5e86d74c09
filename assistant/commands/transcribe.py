"""assistant transcribe AUDIO and assistant answer AUDIO."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..audio.files import is_silent, read_audio
from ..config import with_overrides
from ..errors import AudioError
from .common import add_command, build_recognizer, config_from_args

SILENT_DBFS = -55.0  # quieter than this over the whole file: nothing to transcribe
DESCRIPTION = """\
Print what the recognizer hears in an audio file (WAV, FLAC or OGG; any rate, mono or stereo).
The recognizer and the mode it used are said on stderr; stdout is the transcript alone.

Modes:
  knowledge base  (default with pocketsphinx and the cascade) decode as `assistant run` and
                  `answer` hear: the pocketsphinx grammar gives the closest phrasing of
                  qa.yaml or nothing; the cascade then asks Whisper about what the grammar
                  rejected or was unsure of, and prints Whisper's own text (with its
                  punctuation) when its words are the ones used.
  dictation       (--dictation; always with whisper and wav2vec2, which need no grammar) free
                  speech, any words: the cascade uses Whisper alone. pocketsphinx's free
                  dictation is poor ("What is your name?" can come out as "the"): it shows what
                  the raw model hears, not what `run` hears.
"""


def register(sub: Any) -> None:
    p = add_command(sub, "transcribe", "print the transcript of an audio file", run, kb=True,
                    asr=True, description=DESCRIPTION)
    p.add_argument("audio", help="the audio file")
    p.add_argument("--dictation", action="store_true", help="free dictation: do not use the "
                   "knowledge base's phrasings (see the modes above)")


def load_speech(path: str) -> Any:
    from pathlib import Path

    from ..audio.files import file_level_dbfs

    if Path(path).is_file() and file_level_dbfs(path) < SILENT_DBFS:  # before loading it
        raise AudioError(f"{path}: the file is silent (no speech to transcribe); check the "
                         "recording level", code="silent")
    audio = read_audio(path)
    if is_silent(audio, SILENT_DBFS):
        raise AudioError(f"{path}: the file is silent (no speech to transcribe); check the "
                         "recording level", code="silent")
    return audio


def run(args: argparse.Namespace) -> int:
    from ..asr import resolve_backend

    cfg = config_from_args(args)
    audio = load_speech(args.audio)
    backend = resolve_backend(cfg.asr, cfg.cache_path)
    if args.dictation and backend == "cascade":
        cfg = with_overrides(cfg, asr={"backend": "whisper"})
    grammar = backend in ("pocketsphinx", "cascade") and not args.dictation
    phrases = None
    if grammar:
        from ..kb.knowledge import load_kb

        phrases = load_kb(cfg.qa_path).questions
    recognizer = build_recognizer(cfg, phrases)
    mode = (f"knowledge base ({len(phrases or [])} phrasings of {cfg.qa_path})" if grammar
            else "dictation")
    print(f"recognizer: {recognizer.name}, mode: {mode}", file=sys.stderr)
    heard = recognizer.transcribe(audio)
    print(heard.extra.get("said", heard.text) if heard.backend == "whisper" else heard.text)
    return 0
