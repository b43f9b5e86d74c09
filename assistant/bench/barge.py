"""The barge-in scene: interrupting answers in the simulated room (docs/interrupt.md).

A private PulseAudio room (room.py) with interruption on. The assistant's loudspeaker is the
sink ``speaker``, which convolves what it plays with a room's impulse response (``room_ir``:
``delay_ms`` of sound card and air, then a reverberant tail) into the microphone sink ``mic``
(``module-virtual-surround-sink``, PulseAudio's own convolver), so the assistant hears itself
as in a room. One clock runs both sides, as on a device with one sound card; the earlier
``module-loopback`` resampled continually and moved the echo by fractions of a sample, which
no linear echo canceller can follow and no single-card device does. Each trial asks for a long
answer and, ``at_s`` into it, plays something over it:

- ``stop``: "stop" (espeak-ng) ``level_db`` relative to the answer's voice at the microphone;
  it must end the answer. The delay is from the end of the word (found by correlation with
  its clip in a recording of the microphone) to the loudspeaker's last sound (a recording of
  what it played, moved onto the microphone recording's clock);
- ``talk``: an ordinary sentence over the answer, which must not stop it;
- ``none``: the answer alone (its own voice must never stop it).

What stopped an answer is read from the exchange log (``interrupted``).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.files import read_audio, write_wav
from ..audio.types import Audio
from .echo import energy_db
from .room import Room
from .scene import LiveAssistant

RATE_HZ = 16000
STORY_Q = "tell me a story"
STORY_A = ("Once upon a time, in a small village by the sea, there lived an old fisherman "
           "and his grandson. Every morning they rowed out beyond the rocks to cast their nets, "
           "and every evening they came home with a basket of silver fish. One day the boy "
           "found a bottle floating on the waves, with a map rolled up inside it. The map "
           "showed an island that no one in the village had ever heard of, far to the west, "
           "where the sun goes down into the water.")
TALK = ("did you see the game last night", "i think we should go to the shops later",
        "can you pass me the salt please", "my sister is coming over on tuesday",
        "that film was really quite good", "we need to buy more milk and bread",
        "the train was late again this morning", "let us try the new restaurant downtown",
        "i am not sure what time it starts", "the garden looks lovely after the rain")


@dataclass
class Trial:
    kind: str  # "stop", "talk" or "none"
    text: str = ""
    level_db: float = 0.0
    at_s: float = 3.0
    start_s: float = 0.0  # recording time the cue over the answer was started
    question_s: float = 0.0  # recording time the question was played
    interrupted: str | None = None
    answered: bool = False
    delay_s: float | None = None  # stop: end of the word -> the answer's last sound
    notes: list[str] = field(default_factory=list)


def _active_rms(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    loud = x[np.abs(x) > 300]
    return float(np.sqrt((loud ** 2).mean())) if len(loud) else 1.0


def room_ir(delay_ms: float, rt60_s: float = 0.4, direct_to_reverb_db: float = 0.0,
            length_s: float = 0.3, seed: int = 0) -> np.ndarray:
    """A room's impulse response: the direct sound ``delay_ms`` late, then reverberation
    (noise decaying by 60 dB in ``rt60_s``, as loud in all as the direct sound at 0 dB)."""
    rng = np.random.default_rng(seed)
    ir = np.zeros(int((delay_ms / 1000 + length_s) * RATE_HZ), np.float64)
    at = int(delay_ms / 1000 * RATE_HZ)
    ir[at] = 1.0
    gap = int(0.003 * RATE_HZ)  # the first reflection arrives a few ms after the direct sound
    t = np.arange(len(ir) - at - gap) / RATE_HZ
    tail = rng.standard_normal(len(t)) * 10 ** (-3 * t / rt60_s)
    tail *= 10 ** (-direct_to_reverb_db / 20) / np.sqrt(tail @ tail)
    ir[at + gap:] += tail
    return ir


def start_room(folder: Path, delay_ms: float, reverb: bool = True) -> Room:
    """The room: the loudspeaker sink ``speaker`` heard in ``mic`` through ``room_ir``."""
    import soundfile as sf

    ir = room_ir(delay_ms) if reverb else room_ir(delay_ms, direct_to_reverb_db=120.0)
    sf.write(folder / "room_ir.wav", ir.astype(np.float32), RATE_HZ, subtype="FLOAT")
    room = Room.start()
    room.pactl("load-module", "module-virtual-surround-sink", "sink_name=speaker",
               "master=mic", "channels=1", f"hrir={folder / 'room_ir.wav'}")
    return room


def echo_gain(room: Room, folder: Path) -> float:
    """How loud the loudspeaker's sound is at the microphone (the convolver scales the IR)."""
    noise = (np.random.default_rng(1).standard_normal(RATE_HZ) * 3000).astype(np.int16)
    probe = write_wav(folder / "probe.wav", Audio(noise, RATE_HZ))
    rec = room.record(folder / "probe_rec.wav")
    time.sleep(0.3)
    subprocess.run(["paplay", "-d", "speaker", str(probe)], env=room.env, check=True,
                   timeout=30)
    time.sleep(0.5)
    Room.stop_recording(rec)
    heard = read_audio(folder / "probe_rec.wav").samples.astype(np.float64)
    return float(np.sqrt(np.mean(heard[heard != 0] ** 2)) / 3000) if heard.any() else 1.0


def run_barge_scene(folder: Path, trials: Sequence[Trial], delay_ms: float = 40.0,
                    config_extra: str = "", debug: bool = False,
                    server_canceller: bool = False, reverb: bool = True) -> list[Trial]:
    from ..config import TtsConfig
    from ..spoken_set import speak
    from ..tts import load_synthesizer
    from .scene import _piper

    folder.mkdir(parents=True, exist_ok=True)
    qa = folder / "qa.yaml"
    qa.write_text(f'fallback: "Sorry, I do not know."\nentries:\n  - answer: "{STORY_A}"\n'
                  f'    questions: ["{STORY_Q}", "tell me a tale"]\n', encoding="utf-8")
    config = folder / "config.yaml"
    config.write_text(f"qa_file: {qa}\ncache_dir: {folder / 'cache'}\n"
                      "interrupt:\n  enabled: true\n" + config_extra, encoding="utf-8")
    voice = load_synthesizer(TtsConfig(backend="piper"))
    answer_rms = _active_rms(_piper(voice, STORY_A).samples)
    question = write_wav(folder / "question.wav", speak(STORY_Q, "en-us"))
    with start_room(folder, delay_ms, reverb) as room:
        answer_rms *= echo_gain(room, folder)
        room.env["PULSE_SINK"] = "speaker"  # the assistant's loudspeaker; paplay names mic
        if server_canceller:  # PulseAudio's own: a cancelled source and a sink before speaker
            room.pactl("load-module", "module-echo-cancel", "aec_method=webrtc",
                       "source_master=mic.monitor", "sink_master=speaker",
                       "source_name=ec_mic", "sink_name=ec_speaker", "use_master_format=1")
            room.env["PULSE_SINK"], room.env["PULSE_SOURCE"] = "ec_speaker", "ec_mic"
        assistant = LiveAssistant(room, folder, config, ["--debug"] if debug else [])
        try:
            assistant.wait_ready()
            rec_path = folder / "room.wav"
            rec = room.record(rec_path)
            played = subprocess.Popen(  # the loudspeaker itself: when playback really ended
                ["parecord", "-d", "speaker.monitor", "--file-format=wav", f"--rate={RATE_HZ}",
                 "--channels=1", "--format=s16le", "--latency-msec=10",
                 str(folder / "loudspeaker.wav")], env=room.env)
            t0 = time.monotonic()
            time.sleep(1.0)
            for n, trial in enumerate(trials):
                seen = len(assistant.exchanges())
                trial.question_s = time.monotonic() - t0
                room.play(question)
                cue = None
                if trial.kind != "none":
                    clip = speak(trial.text, ("en-us", "en-us+f3", "en+m3", "en-gb-x-rp")[n % 4])
                    gain = answer_rms / _active_rms(clip.samples) * 10 ** (trial.level_db / 20)
                    scaled = np.clip(clip.samples * gain, -32768, 32767).astype(np.int16)
                    cue = write_wav(folder / f"cue_{n:02d}.wav", Audio(scaled, RATE_HZ))
                time.sleep(0.8 + trial.at_s)  # the answer starts ~0.6 s after the question
                if cue is not None:
                    trial.start_s = time.monotonic() - t0
                    room.play(cue)
                deadline = time.monotonic() + 40.0
                while len(assistant.exchanges()) == seen and time.monotonic() < deadline:
                    time.sleep(0.1)
                new = assistant.exchanges()[seen:]
                trial.answered = any(e.get("answer") for e in new)
                trial.interrupted = next((e.get("interrupted") for e in new
                                          if e.get("interrupted")), None)
                time.sleep(1.5)
            time.sleep(1.0)
            Room.stop_recording(rec)
            Room.stop_recording(played)
        finally:
            assistant.close()
    recording = read_audio(rec_path).samples
    loudspeaker = _on_clock_of(recording, read_audio(folder / "loudspeaker.wav").samples,
                               delay_ms)
    for n, trial in enumerate(trials):
        if trial.kind == "stop" and trial.interrupted:
            end_s = trials[n + 1].question_s if n + 1 < len(trials) else len(recording) / RATE_HZ
            trial.delay_s = _stop_delay(recording, loudspeaker[:int(end_s * RATE_HZ)],
                                        read_audio(folder / f"cue_{n:02d}.wav").samples,
                                        trial.start_s)
    return trials


def _on_clock_of(room: np.ndarray, loudspeaker: np.ndarray, delay_ms: float) -> np.ndarray:
    """The loudspeaker's recording moved onto the room recording's clock (each sample where it
    was played: the room hears it ``delay_ms`` later): the two parecords start apart."""
    a, b = room.astype(np.float64)[:60 * RATE_HZ], loudspeaker.astype(np.float64)[:60 * RATE_HZ]
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    lag = int(np.argmax(corr))
    lag = lag - size if lag > size // 2 else lag  # room index = loudspeaker index + lag
    shift = lag - int(delay_ms / 1000 * RATE_HZ)
    out = np.zeros(len(room), np.int16)
    lo, hi = max(shift, 0), min(len(room), len(loudspeaker) + shift)
    if hi > lo:
        out[lo:hi] = loudspeaker[lo - shift:hi - shift]
    return out


def _stop_delay(rec: np.ndarray, played: np.ndarray, clip: np.ndarray,
                start_s: float) -> float | None:
    """End of the word (found in the room recording ``rec`` around ``start_s``) -> the
    loudspeaker's last sound (``played``, on the same clock)."""
    lo = max(0, int((start_s - 1.0) * RATE_HZ))
    hi = min(len(rec), int((start_s + 3.0) * RATE_HZ) + len(clip))
    part = rec[lo:hi].astype(np.float64)
    c = clip.astype(np.float64)
    if len(part) < len(c):
        return None
    corr = np.correlate(part, c, mode="valid")
    at = int(np.argmax(corr))
    hop = RATE_HZ // 100
    loud = [i for i in range(0, len(c) - hop, hop) if energy_db(c[i:i + hop]) > -40]
    if not loud:
        return None
    word_end = lo + at + loud[-1] + hop
    tail = played[word_end:word_end + 3 * RATE_HZ]
    frames = [i for i in range(0, len(tail) - hop, hop) if energy_db(tail[i:i + hop]) > -45]
    last = max(frames) + hop if frames else 0
    return last / RATE_HZ


def summary(trials: Sequence[Trial]) -> list[str]:
    lines = []
    for level in sorted({t.level_db for t in trials if t.kind == "stop"}, reverse=True):
        group = [t for t in trials if t.kind == "stop" and t.level_db == level]
        stopped = [t for t in group if t.interrupted]
        delays = sorted(t.delay_s for t in stopped if t.delay_s is not None)
        med = f"{1000 * float(np.median(delays)):.0f} ms" if delays else "-"
        lines.append(f'"stop" at {level:+.0f} dB: {len(stopped)} of {len(group)} answers '
                     f"stopped; word end -> answer silent, median {med} "
                     f"({', '.join(f'{1000 * d:.0f}' for d in delays)} ms)")
    talk = [t for t in trials if t.kind == "talk"]
    if talk:
        lines.append(f"other talk over an answer: {sum(bool(t.interrupted) for t in talk)} of "
                     f"{len(talk)} answers stopped")
    alone = [t for t in trials if t.kind == "none"]
    if alone:
        lines.append(f"its own voice alone: {sum(bool(t.interrupted) for t in alone)} of "
                     f"{len(alone)} answers stopped")
    unanswered = [t for t in trials if not t.answered]
    if unanswered:
        lines.append(f"questions not answered (scene trouble): {len(unanswered)}")
    return lines


def trial_plan(stops: int, talk: int, alone: int, levels: Sequence[float] = (-6.0, -12.0),
               seed: int = 0) -> list[Trial]:
    rng = np.random.default_rng(seed)
    plan = [Trial("stop", "stop", lv, float(rng.uniform(2.0, 6.0)))
            for lv in levels for _ in range(stops)]
    plan += [Trial("talk", TALK[i % len(TALK)], 0.0, float(rng.uniform(2.0, 6.0)))
             for i in range(talk)]
    plan += [Trial("none") for _ in range(alone)]
    order = rng.permutation(len(plan))
    return [plan[i] for i in order]


