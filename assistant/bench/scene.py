"""The room scene: a scripted day in a room, played into the simulated room (``Room``) while
``assistant run`` listens on the real microphone path and speaks into the same sink.

The scene: questions in several espeak-ng voices, quiet white and brown noise right after
speech, household noise (synthesised, or real clips from a folder), an unrelated conversation
and long read-aloud speech like a TV. Counted from the exchange log and the recording: right
answers, spoken replies to noise (target 0), replies to speech not addressed to it, replies to
its own voice (target 0), and the time from the end of each question to the first sound of its
answer at the sink. ``Cue.wake`` is there for the wake-mode variant (questions with and without
the wake word); the always-listening scene leaves it None.

Used by ``benchmarks/room.py`` and ``tests/test_room.py``; the score is in scene_report.py.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..audio.files import read_audio, write_wav
from ..audio.types import Audio
from .room import Room

if TYPE_CHECKING:
    from ..tts import Synthesizer
    from .scene_report import SceneReport

RATE_HZ = 16000
LOUD_DBFS = -40.0  # a frame this loud is sound (speech, an answer); scene noise is -50
FRAME_S = 0.01

QUESTIONS = (("what is your name", "en-us"), ("what time is it", "en-gb"),
             ("who made you", "en-us+f3"), ("how do you work", "en-gb-scotland"),
             ("what day is it today", "en-us+m3"), ("where do you live", "en-029"))
CONVERSATION = ("i would like to order a large pizza with mushrooms",
                "it looks like it is going to rain tomorrow",
                "did you remember to buy milk on the way home",
                "we should paint the kitchen blue this summer")
TV = ("good evening and welcome to the news. the city council met today to discuss the new "
      "bridge over the river, which has been delayed for two years. engineers say the steel "
      "has arrived and work will begin in the spring. in sport, the home team won their third "
      "match in a row after a late goal in the second half. and now the weather: a cold front "
      "moves in from the west tonight, with rain spreading across the region by the morning.")


@dataclass(frozen=True)
class Cue:
    kind: str  # question | noise | household | conversation | tv
    wav: Path
    text: str = ""
    voice: str = ""
    wake: bool | None = None  # wake mode: the question starts with the wake word
    after_s: float = 4.0  # quiet time after the cue, for an answer to come and end


@dataclass
class CueResult:
    cue: Cue
    start_s: float  # in the recording
    end_s: float
    exchanges: list[dict[str, object]] = field(default_factory=list)
    answer_delay_s: float | None = None  # end of question -> first sound of the answer

    @property
    def spoken(self) -> list[dict[str, object]]:
        return [e for e in self.exchanges if e.get("answer") and not e.get("ignored")]


def _dbfs(x: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0
    return 20 * np.log10(max(rms, 1e-9) / 32768.0)


def noise(kind: str, seconds: float, dbfs: float = -50.0, seed: int = 0) -> Audio:
    """Stationary white or brown noise at ``dbfs`` RMS."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(seconds * RATE_HZ))
    if kind == "brown":
        x = np.cumsum(x)
        x -= np.convolve(x, np.ones(801) / 801, mode="same")  # no drift
    x *= 10 ** (dbfs / 20) * 32768.0 / np.sqrt(np.mean(x ** 2))
    return Audio(np.clip(x, -32768, 32767).astype(np.int16), RATE_HZ)


def household(seconds: float, seed: int = 1) -> Audio:
    """Synthetic kitchen noise: a hum, a tap running and the clatter of dishes (-35 dBFS
    bursts), for tests that cannot ship real recordings."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE_HZ)
    t = np.arange(n) / RATE_HZ
    x = 60 * np.sin(2 * np.pi * 100 * t) + 40 * rng.standard_normal(n)
    for start in rng.uniform(0, seconds - 0.2, int(seconds * 2)):
        i = int(start * RATE_HZ)
        burst = rng.standard_normal(1600) * np.exp(-np.arange(1600) / 300) * 900
        x[i:i + 1600] += burst[: len(x[i:i + 1600])]
    return Audio(np.clip(x, -32768, 32767).astype(np.int16), RATE_HZ)


def build_scene(folder: Path, household_clips: Sequence[Path] = (), tv_repeats: int = 1,
                wake_word: str | None = None,
                conversation: Sequence[str] = CONVERSATION,
                question_voice: str | None = None) -> list[Cue]:
    """Write the scene's WAVs into ``folder``. ``household_clips``: real noise recordings
    (e.g. speech-dev's noise clips); none = synthesised. ``wake_word``: the wake-mode variant
    (every other question starts with it). ``conversation``: the unrelated lines, spoken in
    turn by two voices. ``question_voice`` "piper": every question in the bundled Piper voice
    instead of six espeak-ng voices (microWakeWord misses some words in espeak-ng's voice)."""
    from ..spoken_set import speak

    folder.mkdir(parents=True, exist_ok=True)
    cues: list[Cue] = []

    def add(kind: str, audio: Audio, **kw: object) -> None:
        path = write_wav(folder / f"{len(cues):02d}_{kind}.wav", audio)
        cues.append(Cue(kind, path, **kw))  # type: ignore[arg-type]

    piper = _piper_voice() if question_voice == "piper" else None  # loaded once (~0.7 s)
    for i, (text, voice) in enumerate(QUESTIONS):
        wake = None if wake_word is None else i % 2 == 0
        said = f"{wake_word}, {text}" if wake else text
        if piper is not None:
            voice, audio = "piper", _piper(piper, said)
        else:
            audio = speak(said, voice, 150)
        add("question", audio, text=text, voice=voice, wake=wake)
        if i in (1, 3):  # quiet stationary noise right after speech: what held utterances open
            add("noise", noise("white" if i == 1 else "brown", 4.0, seed=i), text="white"
                if i == 1 else "brown", after_s=3.0)
    clips = [read_audio(p) for p in household_clips] or [household(4.0)]
    for clip in clips:
        add("household", clip, text="household", after_s=3.0)
    voices = ("en-gb", "en-us+f2")
    for i, text in enumerate(conversation):
        voice = voices[i % 2]
        add("conversation", speak(text, voice, 160), text=text, voice=voice, after_s=2.0)
    tv = speak(TV, "en-us+m1", 170)
    for start in range(0, tv_repeats, 12):  # cues of at most ~4.5 min (play has a time limit)
        part = Audio(np.concatenate([tv.samples] * min(12, tv_repeats - start)), RATE_HZ)
        add("tv", part, text="tv", voice="en-us+m1", after_s=3.0)
    return cues


def _piper_voice() -> Synthesizer:
    from ..config import TtsConfig
    from ..tts import load_synthesizer

    return load_synthesizer(TtsConfig(backend="piper"))


def _piper(voice: Synthesizer, text: str) -> Audio:
    from ..audio.types import to_pipeline

    audio = voice.synthesize(text)
    quiet = np.zeros(int(0.3 * audio.rate_hz), np.int16)
    return to_pipeline(np.concatenate([quiet, audio.samples, quiet]), audio.rate_hz)


def _speech_span(audio: Audio) -> tuple[float, float]:
    """First and last loud 10 ms frame of a clip, in seconds."""
    hop = int(FRAME_S * RATE_HZ)
    loud = [i for i in range(0, len(audio.samples) - hop, hop)
            if _dbfs(audio.samples[i:i + hop]) > LOUD_DBFS]
    if not loud:
        return 0.0, audio.duration_s
    return loud[0] / RATE_HZ, (loud[-1] + hop) / RATE_HZ


def _first_sound(rec: np.ndarray, from_s: float, to_s: float) -> float | None:
    hop = int(FRAME_S * RATE_HZ)
    for i in range(int(from_s * RATE_HZ), min(len(rec), int(to_s * RATE_HZ)) - hop, hop):
        if _dbfs(rec[i:i + hop]) > LOUD_DBFS:
            return i / RATE_HZ
    return None


class LiveAssistant:
    """`python -m assistant run` on the room's microphone, speaking into the room."""

    def __init__(self, room: Room, folder: Path, config: Path, args: Sequence[str] = ()) -> None:
        self.log_file = folder / "exchanges.jsonl"
        self.stderr = folder / "assistant.log"
        env = {**room.env, "PYTHONUNBUFFERED": "1"}
        env.pop("NOTIFY_SOCKET", None)
        with open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", "run", "--config", str(config),
                 "--log", str(self.log_file), *args], env=env, stdout=err, stderr=err,
                cwd=folder)

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"assistant run exited ({self.proc.returncode}): "
                                   f"{self.stderr.read_text(errors='replace')[-2000:]}")
            if "ready:" in self.stderr.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"assistant run not ready in {timeout_s:.0f} s")

    def exchanges(self) -> list[dict[str, object]]:
        if not self.log_file.exists():
            return []
        lines = self.log_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def play_scene(room: Room, assistant: LiveAssistant, cues: Sequence[Cue],
               recording: Path) -> list[CueResult]:
    """Play every cue, give the assistant time to finish with it, then score from the log
    and the recording."""
    rec = room.record(recording)
    t0, wall0 = time.monotonic(), time.time()
    time.sleep(1.0)
    results: list[CueResult] = []
    for cue in cues:
        seen = len(assistant.exchanges())
        start = time.monotonic() - t0
        room.play(cue.wav)
        end = time.monotonic() - t0
        quiet_until = time.monotonic() + cue.after_s
        while time.monotonic() < quiet_until or (
                cue.kind == "question" and len(assistant.exchanges()) == seen
                and time.monotonic() < quiet_until + 6):
            time.sleep(0.1)
        if cue.kind == "question" and len(assistant.exchanges()) > seen:
            time.sleep(4.0)  # the answer being spoken
        results.append(CueResult(cue, start, end))
    time.sleep(3.0)
    Room.stop_recording(rec)
    _attribute(results, assistant.exchanges(), wall0)
    _measure_delays(results, read_audio(recording).samples)
    return results


def _attribute(results: list[CueResult], exchanges: list[dict[str, object]],
               wall0: float) -> None:
    """Each exchange belongs to the cue playing when its utterance began (its log time is
    taken when the utterance ended; 0.3 s of slack for the pre-roll and the stream delay)."""
    for ex in exchanges:
        ended = dt.datetime.fromisoformat(str(ex["time"])).timestamp() - wall0
        began = ended - float(ex.get("duration_s") or 0.0) + 0.3  # type: ignore[arg-type]
        owner = [r for r in results if r.start_s <= began] or results[:1]
        owner[-1].exchanges.append(ex)


def _measure_delays(results: list[CueResult], rec: np.ndarray) -> None:
    """Align each question with the recording (its first loud frame near where it was
    played), then find the first loud frame after its end: the answer's first sound."""
    for r in results:
        if r.cue.kind != "question" or not r.spoken:
            continue
        first, last = _speech_span(read_audio(r.cue.wav))
        onset = _first_sound(rec, max(0.0, r.start_s - 0.5), r.end_s + 1.0)
        if onset is None:
            continue
        q_end = onset + (last - first)
        sound = _first_sound(rec, q_end + 0.1, q_end + 15.0)
        r.answer_delay_s = None if sound is None else sound - q_end


def run_room_scene(folder: Path, qa: Path, household_clips: Sequence[Path] = (),
                   config_extra: str = "", tv_repeats: int = 1, wake_word: str | None = None,
                   conversation: Sequence[str] = CONVERSATION,
                   question_voice: str | None = None, asr: str = "auto") -> SceneReport:
    """The whole thing: a private room, the scene, `assistant run` (``asr``: its recognizer;
    auto = the default, the cascade where Whisper is installed) with the bundled MiniLM
    speaking into the room; RoomError when the room cannot be built.
    ``wake_word``: wake mode (every other question starts with the word, the others must go
    unanswered; no follow-up window, so each question stands alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    cues = build_scene(folder / "scene", household_clips, tv_repeats, wake_word, conversation,
                       question_voice)
    config = folder / "config.yaml"
    wake = (f"wake:\n  enabled: true\n  word: {wake_word}\n  follow_up_s: 0\n"
            if wake_word else "")
    config.write_text(f"qa_file: {qa}\ncache_dir: {folder / 'cache'}\n"
                      f"asr:\n  backend: {asr}\n" + wake + config_extra,
                      encoding="utf-8")
    with Room.start() as room:
        assistant = LiveAssistant(room, folder, config)
        try:
            assistant.wait_ready()
            results = play_scene(room, assistant, cues, folder / "room.wav")
        finally:
            assistant.close()
    (folder / "results.json").write_text(json.dumps(
        [{"kind": r.cue.kind, "text": r.cue.text, "voice": r.cue.voice, "start_s": r.start_s,
          "end_s": r.end_s, "answer_delay_s": r.answer_delay_s, "exchanges": r.exchanges}
         for r in results], indent=1), encoding="utf-8")
    from .scene_report import right_questions, score

    return score(results, right_questions(qa))
