"""Can the speaker's pitch tell a finished question from a mid-sentence pause? (issue #15)

Early end of turn (`vad.early_end`) cannot tell "what time is it" from "what time is it ...
in tokyo" by words and silence. The usual turn-yielding cue is a final pitch fall. This asks
whether that cue is there, in *real* human recordings (`../shared/datasets/speech-dev`, or any
folder with the same `transcripts.tsv`): each recording is aligned to its transcript word by
word (pocketsphinx's own acoustic model), then cut after every word. A cut after the last word
is a finished utterance; a cut after any other word is what the daemon would hear if the
speaker paused there (the pitch up to a word does not depend on what comes after the cut, so
it is exactly the prosody of a mid-sentence pause).

The cue: the median pitch of the last 5 voiced frames (10 ms each), in semitones relative to
the median pitch of the whole stretch so far, below a threshold (a fall). Pitch is tracked
with pYIN (librosa), which is not a dependency of the assistant:

    pip install librosa
    python benchmarks/turn_end_pitch.py [--data ../shared/datasets/speech-dev]

It prints, per threshold, how many finished utterances show the fall (the early ends it would
allow) and how many mid-sentence cuts show it too (the early answers it would cause).
Espeak-ng speech is also measured (a question alone vs. the same words followed by an SSML
break and more words), to show how much easier synthesized speech is than people.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
THRESHOLDS_ST = (-1.0, -2.0, -3.0, -4.0)
PAIRS = [("what time is it", "in tokyo"), ("where do you live", "when you are not working"),
         ("who made", "the coffee"), ("what is your name", "in japanese"),
         ("who are you", "talking to"), ("do you need the internet", "for the weather"),
         ("what can you do", "about the noise"), ("how do you work", "with children")]


def final_fall_st(samples: np.ndarray, rate_hz: int = 16000) -> float | None:
    """Pitch at the end of ``samples`` relative to their median pitch, in semitones."""
    import librosa

    y = samples.astype(np.float32) / 32768.0
    f0, voiced, _ = librosa.pyin(y, fmin=60, fmax=400, sr=rate_hz, frame_length=1024,
                                 hop_length=rate_hz // 100)
    ok = voiced & ~np.isnan(f0)
    if ok.sum() < 5:
        return None
    st = 12.0 * np.log2(f0[ok] / np.median(f0[ok]))
    return float(np.median(st[-5:]))


def word_spans(samples: np.ndarray, text: str) -> list[tuple[int, int]] | None:
    """(start, end) 10 ms frame of each word, by forced alignment; None if a word is unknown."""
    from pocketsphinx import Decoder

    dec = Decoder(loglevel="FATAL")
    try:
        dec.set_align_text(text)
    except RuntimeError:
        return None
    dec.start_utt()
    dec.process_raw(samples.astype(np.int16).tobytes(), full_utt=True)
    dec.end_utt()
    return [(s.start_frame, s.end_frame) for s in dec.seg()
            if s.word not in ("<s>", "</s>", "<sil>", "(NULL)")]


def word_ends_frames(samples: np.ndarray, text: str) -> list[int] | None:
    """The end (10 ms frame) of each word, by forced alignment; None if a word is unknown."""
    spans = word_spans(samples, text)
    return None if spans is None else [end for _, end in spans]


def real(folder: Path) -> tuple[list[float | None], list[float | None]]:
    import soundfile as sf

    finals: list[float | None] = []
    cuts: list[float | None] = []
    rows = csv.DictReader((folder / "transcripts.tsv").read_text(encoding="utf-8")
                          .splitlines(), delimiter="\t")
    for row in rows:
        if not row["transcript"]:
            continue
        x, rate = sf.read(folder / row["file"], dtype="int16")
        x = x[:, 0] if x.ndim > 1 else x
        ends = word_ends_frames(x, row["transcript"]) if rate == 16000 else None
        if not ends:
            print(f"  skipped {row['file']} (a word outside the dictionary, or not 16 kHz)")
            continue
        for k, end in enumerate(ends):
            (finals if k == len(ends) - 1 else cuts).append(final_fall_st(x[: (end + 1) * 160]))
    return finals, cuts


def espeak(text: str, wpm: int) -> np.ndarray:
    """espeak-ng with SSML on (``-m``: assistant.spoken_set.speak reads tags aloud), 16 kHz."""
    import soundfile as sf

    from assistant.audio.types import to_pipeline

    out = subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(wpm), "-m", "--stdout", text],
                         capture_output=True, check=True)
    data, rate = sf.read(io.BytesIO(out.stdout), dtype="int16")
    return to_pipeline(data, rate).samples


def before_break(x: np.ndarray) -> np.ndarray:
    """``x`` up to its longest internal silence (where the SSML break is)."""
    loud = np.nonzero([np.abs(x[i:i + 160]).max() > 300 for i in range(0, len(x) - 160, 160)])[0]
    gaps = np.diff(loud)
    return x[: (loud[int(np.argmax(gaps))] + 1) * 160]


def synthetic() -> tuple[list[float | None], list[float | None]]:
    finals, cuts = [], []
    for first, rest in PAIRS:
        for wpm in (160, 120):
            finals.append(final_fall_st(espeak(first, wpm)))
            paused = espeak(f'<speak>{first} <break time="400ms"/> {rest}</speak>', wpm)
            cuts.append(final_fall_st(before_break(paused)))
    return finals, cuts


def report(name: str, finals: list[float | None], cuts: list[float | None]) -> None:
    f = [v for v in finals if v is not None]
    c = [v for v in cuts if v is not None]
    print(f"{name}: {len(f)} finished utterances, {len(c)} mid-sentence cuts (with pitch)")
    for th in THRESHOLDS_ST:
        nf, nc = sum(v < th for v in f), sum(v < th for v in c)
        pf, pc = 100 * nf / max(1, len(f)), 100 * nc / max(1, len(c))
        print(f"  fall below {th:+.0f} st: finished {nf}/{len(f)} ({pf:.0f}%)"
              f"  mid-sentence {nc}/{len(c)} ({pc:.1f}%)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/datasets/speech-dev",
                    help="folder with transcripts.tsv and 16 kHz WAVs of real speech")
    args = ap.parse_args()
    try:
        import librosa  # noqa: F401
    except ImportError:
        print("this benchmark needs librosa (pYIN pitch tracking): pip install librosa")
        return 2
    if not (args.data / "transcripts.tsv").is_file():
        print(f"no transcripts.tsv in {args.data}: pass --data FOLDER")
        return 2
    report("real speech (" + str(args.data) + ")", *real(args.data))
    report("espeak-ng (alone vs. before an SSML break)", *synthetic())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
