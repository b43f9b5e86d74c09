"""Mouth to ear: from the last speech sample of a question to the first sample of its answer,
as heard in the simulated room (``room.py``).

The real daemon (`python -m assistant run`) listens to the room's microphone and speaks into
the same room; the questions are played with ``paplay``; ``parecord`` records everything the
room hears on one clock. The scene is known (questions separated by digital silence), so the
recording is aligned to it by cross-correlation on the first question, and each answer is the
first loud sample in the silence after its question. This includes what ``bench``'s e2e figure
leaves out: the output device open, PulseAudio's and PortAudio's buffers, the chunking.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.files import read_audio, write_wav
from ..audio.types import Audio
from .room import Room, RoomError

log = logging.getLogger("assistant.bench")

LOUD = 600  # int16 amplitude: well above the null sink's digital silence, below speech
READY_S = 120.0


def scene(questions: list[str], gap_s: float, wpm: int = 160) -> tuple[Audio, list[float]]:
    """The questions spoken by espeak-ng with digital silence after each; and the stream time
    (ms) of each question's last speech sample."""
    from ..spoken_set import speak

    parts, ends, at = [np.zeros(8000, np.int16)], [], 8000
    for q in questions:
        speech = speak(q, "en-us", wpm).samples
        loud = np.nonzero(np.abs(speech.astype(np.int32)) > LOUD)[0]
        ends.append(1000.0 * (at + (loud[-1] + 1 if len(loud) else len(speech))) / 16000)
        parts += [speech, np.zeros(int(16000 * gap_s), np.int16)]
        at += len(speech) + int(16000 * gap_s)
    return Audio(np.concatenate(parts)), ends


def align_ms(recording: np.ndarray, played: np.ndarray) -> float:
    """Where ``played`` starts in ``recording`` (ms): onset first, then cross-correlation of
    the first second of speech within +-100 ms."""
    def onset(x: np.ndarray) -> int:
        idx = np.nonzero(np.abs(x.astype(np.int32)) > LOUD)[0]
        return int(idx[0]) if len(idx) else 0

    p0, r0 = onset(played), onset(recording)
    ref = played[p0: p0 + 16000].astype(np.float64)
    lo = max(0, r0 - 1600)
    seg = recording[lo: r0 + 1600 + len(ref)].astype(np.float64)
    if len(seg) < len(ref):
        return 1000.0 * (r0 - p0) / 16000
    corr = np.correlate(seg, ref, mode="valid")
    return 1000.0 * (lo + int(np.argmax(corr)) - p0) / 16000


def answer_onsets_ms(recording: np.ndarray, offset_ms: float, ends_ms: list[float],
                     window_ms: float) -> list[float | None]:
    """For each question end (scene time), the delay to the first loud sample after it, or
    None when the room stayed silent for ``window_ms``."""
    out: list[float | None] = []
    for end in ends_ms:
        start = int(16 * (end + offset_ms)) + 16 * 20  # 20 ms past the end: no speech tail
        seg = np.abs(recording[start: start + int(16 * window_ms)].astype(np.int32))
        idx = np.nonzero(seg > LOUD)[0]
        out.append(20.0 + idx[0] / 16.0 if len(idx) else None)
    return out


def _config(folder: Path, qa: Path, cache: Path, early_end: bool,
            after_s: float | None = None, vad_backend: str = "webrtcvad",
            asr: str = "pocketsphinx", turn_model: tuple[float, float] | None = None) -> Path:
    path = folder / (f"config-{'early' if early_end else 'plain'}-{after_s}-{vad_backend}-"
                     f"{asr}-{turn_model}.yaml")
    after = "" if after_s is None else f"  early_end_after_s: {after_s}\n"
    if turn_model is not None:
        after += (f"  turn_model: true\n  turn_model_pause_s: {turn_model[0]}\n"
                  f"  turn_model_threshold: {turn_model[1]}\n")
    path.write_text(f"qa_file: {qa}\ncache_dir: {cache}\nasr:\n  backend: {asr}\n"
                    f"vad:\n  backend: {vad_backend}\n  early_end: {str(early_end).lower()}\n"
                    f"{after}log:\n"
                    "  enabled: false\n", encoding="utf-8")
    return path


def run_preset(room: Room, folder: Path, config: Path, preset: str, wav: Path,
               ends_ms: list[float], gap_s: float) -> dict[str, Any]:
    err = folder / f"daemon-{preset}-{config.stem}.log"
    rec_path = folder / f"room-{preset}-{config.stem}.wav"
    with open(err, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "run", "--config",
                                 str(config), "--preset", preset], env=room.env, stdout=out,
                                stderr=out)
    try:
        deadline = time.monotonic() + READY_S
        while "microphone open" not in err.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the daemon did not start: {err.read_text()[-800:]}")
            time.sleep(0.1)
        time.sleep(0.5)
        recorder = room.record(rec_path)
        time.sleep(0.3)
        room.play(wav)
        time.sleep(min(gap_s, 2.0))
        Room.stop_recording(recorder)
    finally:
        proc.terminate()
        proc.wait(30)
    recording = read_audio(rec_path).samples
    played = read_audio(wav).samples
    offset = align_ms(recording, played)
    delays = answer_onsets_ms(recording, offset, ends_ms, 1000 * gap_s - 500)
    got = [d for d in delays if d is not None]
    text = err.read_text(errors="replace")
    early = text.count("early end yes") + text.count("turn model: turn complete")
    return {"median": round(statistics.median(got), 1) if got else None,
            "p95": round(float(np.percentile(got, 95)), 1) if got else None,
            "n": len(got), "questions": len(ends_ms), "delays_ms": [
                None if d is None else round(d, 1) for d in delays], "early_ends": early}


def measure(qa: Path, cache: Path, questions: list[str], presets: list[str],
            gap_s: float = 7.0, early_after_s: tuple[float, ...] = (),
            silero: bool = False, cascade: bool = False,
            paraphrases: list[str] | None = None,
            turn_model: tuple[float, float] | None = None) -> dict[str, Any]:
    """``mouth_to_ear_ms`` per preset, plus ``default_early_end`` (vad.early_end_after_s as
    configured by default) and ``default_early_end_after_<s>`` for each of ``early_after_s``;
    with ``silero``, ``default_silero`` and ``default_silero_early_end`` (vad.backend silero);
    with ``cascade``, ``default_cascade`` (the same questions, asr.backend cascade) and, given
    ``paraphrases`` (questions in other words than qa.yaml's), ``default_cascade_paraphrase``;
    with ``turn_model`` (pause_s, threshold), ``default_turn_model`` (vad.turn_model); or
    ``{"skipped": why}``. The other rows use the pocketsphinx grammar alone."""
    try:
        room = Room.start()
    except RoomError as exc:
        return {"skipped": str(exc)}
    with room, tempfile.TemporaryDirectory(prefix="m2e-") as tmp:
        folder = Path(tmp)
        scenes = {"written": scene(questions, gap_s)}
        if cascade and paraphrases:
            scenes["paraphrase"] = scene(paraphrases, gap_s)
        wavs = {k: write_wav(folder / f"scene-{k}.wav", a) for k, (a, _) in scenes.items()}
        out: dict[str, Any] = {"recognizer": "pocketsphinx", "gap_s": gap_s}
        runs: list[tuple[str, str, bool, float | None, str, str, str]] = [
            (p, p, False, None, "webrtcvad", "pocketsphinx", "written") for p in presets]
        runs += [("default_early_end", "default", True, None, "webrtcvad", "pocketsphinx",
                  "written")]
        runs += [(f"default_early_end_after_{a}", "default", True, a, "webrtcvad",
                  "pocketsphinx", "written") for a in early_after_s]
        if silero:
            runs += [("default_silero", "default", False, None, "silero", "pocketsphinx",
                      "written"),
                     ("default_silero_early_end", "default", True, None, "silero",
                      "pocketsphinx", "written")]
        if cascade:
            runs += [(f"default_cascade{'' if k == 'written' else '_' + k}", "default", False,
                      None, "webrtcvad", "cascade", k) for k in scenes]
        if turn_model is not None:
            runs += [("default_turn_model", "default", False, None, "webrtcvad",
                      "pocketsphinx", "written")]
        for name, preset, early, after, vad, asr, kind in runs:
            log.info("mouth to ear in the room: %s...", name)
            turn = turn_model if name == "default_turn_model" else None
            try:
                out[name] = run_preset(room, folder,
                                       _config(folder, qa, cache, early, after, vad, asr, turn),
                                       preset, wavs[kind], scenes[kind][1], gap_s)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                out[name] = {"error": str(exc)}
        return out


__all__ = ["align_ms", "answer_onsets_ms", "measure", "scene"]
