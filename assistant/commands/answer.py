"""assistant answer AUDIO: transcript, matched question, score and answer for a recording."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, build_answerer, build_recognizer, config_from_args, print_json
from .transcribe import load_speech


def register(sub: Any) -> None:
    p = add_command(sub, "answer", "answer the question spoken in an audio file", run, kb=True,
                    asr=True, description="Transcribe an audio file, match it against the "
                    "knowledge base and print transcript, matched question, score and answer.")
    p.add_argument("audio", help="the audio file (WAV, FLAC or OGG)")
    p.add_argument("--json", action="store_true", help="print a JSON object")


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    audio = load_speech(args.audio)
    answerer = build_answerer(cfg)
    transcript = build_recognizer(cfg, answerer.kb.questions).transcribe(audio).text
    reply = answerer.reply(transcript)
    if args.json:
        print_json({"transcript": transcript, **reply.as_dict()})
    else:
        score = "-" if reply.score is None else f"{reply.score:.3f}"
        print(f"transcript: {transcript}\nquestion:   {reply.question}\nscore:      {score}"
              f"\ndecision:   {reply.decision()}"
              f"{' (below threshold: fallback)' if reply.fallback else ''}\n"
              f"answer:     {reply.answer}")
    return 0
