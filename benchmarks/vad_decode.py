"""Does the noise-floor gate change what is recognized? For each real recording in a speech-dev
folder, the utterances the default endpointing finds with webrtcvad alone and with the gate in
front of it (as the daemon runs), each decoded with pocketsphinx's general language model.
Prints the recordings whose text differs, then how many are the same.

    python benchmarks/vad_decode.py [--dev ../shared/datasets/speech-dev]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vad_noise import segment  # noqa: E402  (this folder is on sys.path)

from assistant.audio.files import read_audio  # noqa: E402
from assistant.audio.types import Audio  # noqa: E402
from assistant.vad import NoiseFloorGate, WebRtcVad  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev", type=Path, default=REPO.parent / "shared/datasets/speech-dev")
    args = ap.parse_args()
    if not (args.dev / "transcripts.tsv").is_file():
        print(f"no transcripts.tsv in {args.dev}: pass --dev FOLDER")
        return 2
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL")

    def text(audio: Audio) -> str:
        decoder.start_utt()
        decoder.process_raw(audio.samples.tobytes(), full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp else ""

    same = n = 0
    pad = np.zeros(8000, np.int16)
    rows = (args.dev / "transcripts.tsv").read_text(encoding="utf-8").splitlines()
    for row in csv.DictReader(rows, delimiter="\t"):
        if not row["transcript"]:
            continue
        audio = Audio(np.concatenate([pad, read_audio(args.dev / row["file"]).samples, pad,
                                      pad]))
        alone = " | ".join(text(u) for u in segment(audio, WebRtcVad(3)))
        gated = " | ".join(text(u) for u in segment(audio, NoiseFloorGate(WebRtcVad(3))))
        n += 1
        same += alone == gated
        if alone != gated:
            print(f"{row['file']}\n  said:      {row['transcript']}\n  webrtcvad: {alone}\n"
                  f"  gated:     {gated}")
    print(f"{n} recordings: the same text with and without the gate for {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
