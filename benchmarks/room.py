"""The room scene (assistant/bench/scene.py) as a benchmark: prints the figures of docs/room.md.

    .venv/bin/python benchmarks/room.py [--out DIR] [--noise CLIP.wav ...] [--tv-repeats N]
                                        [--long-conversation] [--wake alexa]
                                        [--question-voice espeak|piper] [--asr auto]

--noise takes real household recordings (e.g. /work/shared/datasets/speech-dev's
nonspeech__*.wav); without it the household noise is synthesised. --long-conversation plays
the 30 unrelated lines below instead of the test's 4, so "replies to unrelated speech" is a
rate worth quoting. --wake WORD: wake mode (every other question starts with the word; the
others must go unanswered). --tv-repeats 24 is ~10 minutes of TV for false wakes. Needs PulseAudio
(pulseaudio, pulseaudio-utils, libasound2-plugins).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from assistant.bench.room import RoomError
from assistant.bench.scene import CONVERSATION, run_room_scene

REPO = Path(__file__).resolve().parent.parent
LONG_CONVERSATION = (
    "i would like to order a large pizza with mushrooms",
    "it looks like it is going to rain tomorrow",
    "did you remember to buy milk on the way home",
    "we should paint the kitchen blue this summer",
    "where did i leave my reading glasses",
    "what time does the bakery open on sunday",
    "who is picking the children up from school",
    "my brother is coming to visit next week",
    "can you believe how expensive petrol has become",
    "the dog needs a walk before it gets dark",
    "how was the meeting with your boss",
    "i think the washing machine is broken again",
    "do you want rice or potatoes with dinner",
    "the neighbours are having a party tonight",
    "have you finished reading that book yet",
    "we need to call the plumber about the sink",
    "what did the doctor say about your knee",
    "let us go to the beach if the weather is nice",
    "i forgot to pay the electricity bill",
    "could you turn the heating up a bit",
    "the film starts at half past eight",
    "she said she would be here by seven",
    "you left the lights on in the garage",
    "there is a new cafe opening on the corner",
    "my phone battery is almost empty",
    "who ate the last piece of chocolate cake",
    "we should book the flights before they sell out",
    "the garden looks lovely after the rain",
    "is there any coffee left in the pot",
    "i will see you at the station tomorrow morning",
)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, help="keep the scene, recording and logs here")
    p.add_argument("--qa", type=Path, default=REPO / "qa.yaml")
    p.add_argument("--noise", type=Path, nargs="*", default=[], help="real noise clips")
    p.add_argument("--tv-repeats", type=int, default=1, help="TV speech, ~25 s each")
    p.add_argument("--config-extra", default="", help="YAML appended to the scene's config")
    p.add_argument("--long-conversation", action="store_true",
                   help="30 unrelated lines instead of 4")
    p.add_argument("--wake", metavar="WORD", help="wake mode with this wake word (e.g. alexa)")
    p.add_argument("--asr", default="auto", choices=("auto", "cascade", "whisper",
                                                     "pocketsphinx", "wav2vec2"),
                   help="the recognizer (default: auto, the cascade where Whisper is installed)")
    p.add_argument("--question-voice", choices=("espeak", "piper"), default="espeak",
                   help="six espeak-ng voices (default) or the bundled Piper voice")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="room-scene-"))
    try:
        report = run_room_scene(
            out, args.qa.resolve(), args.noise, args.config_extra, args.tv_repeats, args.wake,
            LONG_CONVERSATION if args.long_conversation else CONVERSATION,
            None if args.question_voice == "espeak" else args.question_voice, args.asr)
    except RoomError as exc:
        print(f"error[bench:room]: {exc}")
        return 2
    print("\n".join(report.lines()))
    print(f"scene, recording (room.wav), results.json and the assistant's log: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
