"""Echo cancellers measured in a simulated room (docs/interrupt.md, "Echo cancellers, measured"):
how much of the assistant's own voice each removes at the microphone (ERLE), and how much of
someone saying "stop" over it survives (what the stop-phrase spotter hears).

    python benchmarks/echo_cancel.py [--voice piper|espeak] [--no-server] [--json out.json]

The answers are long Piper answers (espeak-ng with --voice espeak), played back to back with
1.5 s between them. The microphone hears them through ``assistant.bench.echo.room_echo``: a
delay (20 or 80 ms of air and sound card; 40 ms for the talker runs), sox's ``reverb 50`` or
none, 6 dB down. "stop" (espeak-ng) is said over each answer three times, at -6 and -12 dB
relative to the echo at the microphone where it is said.

Cancellers:
- livekit: ``LiveKitCanceller`` in-process (noise suppression on, gain control off, as
  shipped); the variants turn noise suppression off, gain control on, or give the true delay
  as a hint (``set_stream_delay_ms``). The reference is handed over answer by answer when it
  starts, the microphone in 30 ms blocks, as the daemon does. CPU: process time per second of
  microphone audio while it cancels.
- pulse: PulseAudio's ``module-echo-cancel aec_method=webrtc`` in a private server
  (``assistant.bench.room.Room``): its sink's master is a null sink ``spk`` (the loudspeaker),
  its source's master the monitor of a null sink ``air`` (the microphone). The answers are
  played into the canceller's sink and, at the same time, the microphone signal into ``air``;
  the cancelled source and ``air.monitor`` are recorded and aligned on the microphone signal.
  Gain control off, noise suppression and high-pass on, like livekit; extended_filter on (its
  first answer was cancelled by ~4 dB without it). One module for all runs, as a sound server
  keeps it. Real time: ~6 minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.audio.files import write_wav  # noqa: E402
from assistant.audio.types import Audio, to_pipeline  # noqa: E402
from assistant.bench.echo import energy_db, erle_db, kept_db, room_echo  # noqa: E402

ANSWERS = [
    "The library opens at nine in the morning and closes at six in the evening on weekdays. "
    "On Saturdays it opens at ten and closes at four, and on Sundays it stays closed. You can "
    "borrow up to ten books at a time, for three weeks each.",
    "To reset the router, unplug it from the wall and wait for thirty seconds. Then plug it "
    "back in and give it two minutes to start. If the light stays red, call your provider, "
    "and have your account number ready.",
    "Tomorrow will be cloudy in the morning with a chance of light rain around noon. In the "
    "afternoon the sky clears, and the temperature climbs to about eighteen degrees. The wind "
    "stays light, from the south west.",
]
GAP_S = 1.5
GAIN_DB = -6.0
GRID = [(20, None), (20, 50), (80, None), (80, 50)]  # (delay ms, sox reverberance)
TALK = (40, 50)
LEVELS_DB = (-6, -12)
SKIP_S = 1.0  # convergence at the start of the first answer
RATE = 16000
EC_ARGS = ("analog_gain_control=0 digital_gain_control=0 noise_suppression=1 high_pass_filter=1 "
           "extended_filter=1")  # extended_filter: measured better here (docs/interrupt.md)


def synthesize(voice: str) -> list[Audio]:
    if voice == "espeak":
        from assistant.spoken_set import speak

        return [speak(text, "en-us", 170) for text in ANSWERS]
    from assistant.config import TtsConfig
    from assistant.tts import load_synthesizer

    tts = load_synthesizer(TtsConfig(backend="piper"))
    return [tts.synthesize(text) for text in ANSWERS]


def session(answers: list[Audio]) -> tuple[Audio, list[int]]:
    """The answers back to back at 16 kHz, GAP_S apart, and where each starts (samples)."""
    parts, starts, at = [], [], 0
    for audio in answers:
        a = to_pipeline(audio.samples, audio.rate_hz)
        starts.append(at)
        gap = np.zeros(int(GAP_S * RATE), np.int16)
        parts += [a.samples, gap]
        at += len(a.samples) + len(gap)
    return Audio(np.concatenate(parts)), starts


def talkers(echo: Audio, starts: list[int], lengths: list[int], level_db: float) -> list[Audio]:
    """ "stop" at 30%, 55% and 80% of each answer, each alone on a track as long as ``echo``,
    ``level_db`` relative to the echo at the microphone where it is said."""
    from assistant.spoken_set import speak

    stop = speak("stop", "en-us", 160).samples
    loud = np.nonzero(np.abs(stop) > 300)[0]
    stop = stop[loud[0]:loud[-1] + 1].astype(np.float64)
    tracks = []
    for start, n in zip(starts, lengths, strict=True):
        for frac in (0.3, 0.55, 0.8):
            at = start + int(frac * n)
            under = echo.samples[at:at + len(stop)].astype(np.float64)
            gain = np.sqrt(np.mean(under**2) / np.mean(stop**2)) * 10 ** (level_db / 20)
            track = np.zeros(len(echo.samples))
            track[at:at + len(stop)] = stop * gain
            tracks.append(Audio(np.clip(np.round(track), -32768, 32767).astype(np.int16)))
    return tracks


def mixed(*parts: Audio) -> Audio:
    total = np.sum([p.samples.astype(np.int32) for p in parts], axis=0)
    return Audio(np.clip(total, -32768, 32767).astype(np.int16))


def run_livekit(mic: Audio, answers: list[Audio], starts: list[int], **options: object
                ) -> tuple[Audio, float]:
    """The microphone through a LiveKitCanceller as the daemon drives it: each answer handed
    over (at its own rate) when it starts, reset after it, the microphone in 30 ms blocks.
    Returns the output in place and the CPU seconds per second of audio."""
    from assistant.interrupt.canceller import LiveKitCanceller

    canceller = LiveKitCanceller(**options)  # type: ignore[arg-type]
    block, out = 480, []
    events = {s: a for s, a in zip(starts, answers, strict=True)}
    ends = {s + len(to_pipeline(a.samples, a.rate_hz).samples) + RATE: None
            for s, a in zip(starts, answers, strict=True)}
    cpu = time.process_time()
    for i in range(0, len(mic.samples), block):
        for s in [s for s in events if s < i + block]:
            canceller.played(events.pop(s))
        for e in [e for e in ends if e < i + block]:
            ends.pop(e)
            canceller.reset()
        out.append(canceller.process(Audio(mic.samples[i:i + block], RATE, i / 16)).samples)
    cpu = time.process_time() - cpu
    return Audio(np.concatenate(out)), cpu / mic.duration_s


class PulseEc:
    """module-echo-cancel in a private PulseAudio server, wired to two null sinks."""

    def __init__(self, room: object, folder: Path) -> None:
        self.room = room
        self.folder = folder
        pactl = room.pactl  # type: ignore[attr-defined]
        pactl("load-module", "module-null-sink", "sink_name=spk", f"rate={RATE}", "channels=1")
        pactl("load-module", "module-null-sink", "sink_name=air", f"rate={RATE}", "channels=1")
        loaded = pactl("load-module", "module-echo-cancel", "aec_method=webrtc",
                       "source_master=air.monitor", "sink_master=spk", "source_name=ec_mic",
                       "sink_name=ec_spk", f"rate={RATE}", "channels=1",
                       f'aec_args="{EC_ARGS}"', check=False)
        if loaded.returncode != 0:
            tail = room.tail().splitlines()  # type: ignore[attr-defined]
            raise RuntimeError("module-echo-cancel did not load: "
                               + " | ".join(x for x in tail if x.startswith("E:")))

    def run(self, played: Audio, mic: Audio) -> Audio:
        """Play ``played`` into the canceller's sink and ``mic`` into the air at once; the
        cancelled source's recording, aligned with ``mic``."""
        env = self.room.env  # type: ignore[attr-defined]
        ref_wav = write_wav(self.folder / "played.wav", played)
        mic_wav = write_wav(self.folder / "mic.wav", mic)
        rec = {}
        for name, source in (("out", "ec_mic"), ("raw", "air.monitor"), ("spk", "spk.monitor")):
            rec[name] = (self.folder / f"{name}.wav", subprocess.Popen(
                ["parecord", "-d", source, "--file-format=wav", f"--rate={RATE}",
                 "--channels=1", "--format=s16le", "--latency-msec=10",
                 str(self.folder / f"{name}.wav")], env=env))
        time.sleep(1.0)
        speaker = subprocess.Popen(["paplay", "-d", "ec_spk", str(ref_wav)], env=env)
        air = subprocess.Popen(["paplay", "-d", "air", str(mic_wav)], env=env)
        speaker.wait(600)
        air.wait(600)
        time.sleep(1.0)
        for _, proc in rec.values():
            proc.terminate()
            proc.wait(10)
        from assistant.audio.files import read_audio

        raw = read_audio(rec["raw"][0])
        out = read_audio(rec["out"][0])
        at = offset(raw.samples, mic.samples, 0, len(raw.samples))
        spk = read_audio(rec["spk"][0])
        # how much later the microphone stream started than the loudspeaker's, both as the
        # server saw them: added to room_echo's delay (negative: the echo came first)
        self.start_skew_ms = (at - offset(spk.samples, played.samples, 0, len(spk.samples))) / 16
        # the cancelled source runs a few blocks behind the raw one: look near ``at``
        at_out = offset(out.samples, mic.samples, max(0, at - 1600), at + 4800)
        span = out.samples[at_out:at_out + len(mic.samples)]
        return Audio(np.pad(span, (0, len(mic.samples) - len(span))))


def offset(recording: np.ndarray, signal: np.ndarray, lo: int, hi: int) -> int:
    """Where ``signal`` starts in ``recording`` (cross-correlation), searched in [lo, hi)."""
    a = recording.astype(np.float64)
    b = signal.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    hi = min(hi, len(a))
    return lo + int(np.argmax(corr[lo:hi]))


def near_end(tracks: list[Audio], out_mix: Audio, out_alone: Audio) -> dict[str, float]:
    kept = [kept_db(t, out_mix, out_alone) for t in tracks]
    over = []
    for t in tracks:
        idx = np.nonzero(t.samples)[0]
        span = slice(int(idx[0]), int(idx[-1]) + 1)
        added = 10 ** (energy_db(out_mix.samples[span]) / 10) - \
            10 ** (energy_db(out_alone.samples[span]) / 10)
        over.append(10 * np.log10(max(added, 1e-20)) - energy_db(out_alone.samples[span]))
    return {"kept_median_db": round(statistics.median(kept), 1),
            "kept_worst_db": round(min(kept), 1),
            "stop_over_residual_median_db": round(float(statistics.median(over)), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voice", choices=("piper", "espeak"), default="piper")
    ap.add_argument("--no-server", action="store_true", help="measure livekit only")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    answers = synthesize(args.voice)
    played, starts = session(answers)
    lengths = [len(to_pipeline(a.samples, a.rate_hz).samples) for a in answers]
    print(f"{len(answers)} answers ({args.voice}), {played.duration_s:.0f} s in all")
    variants = {"livekit": {}, "livekit no-ns": {"noise_suppression": False},
                "livekit agc": {"auto_gain_control": True}}
    results: dict[str, dict[str, object]] = {v: {} for v in [*variants, "livekit delay-hint"]}
    cpu: list[float] = []
    conditions = [*GRID, TALK]
    mics = {c: room_echo(played, c[0], c[1], GAIN_DB) for c in conditions}
    for (delay, reverb), mic in mics.items():
        key = f"{delay} ms, reverb {reverb or 'none'}"
        for name, options in [*variants.items(), ("livekit delay-hint",
                                                  {"stream_delay_ms": delay})]:
            out, cpu_s = run_livekit(mic, answers, starts, **options)
            results[name][key] = round(erle_db(mic, out, SKIP_S), 1)
            if name == "livekit":
                cpu.append(cpu_s)
    echo = mics[TALK]
    for name, options in variants.items():
        alone, _ = run_livekit(echo, answers, starts, **options)
        for level in LEVELS_DB:
            tracks = talkers(echo, starts, lengths, level)
            out, _ = run_livekit(mixed(echo, *tracks), answers, starts, **options)
            results[name][f"stop at {level} dB"] = near_end(tracks, out, alone)
    results["livekit"]["cpu_ms_per_s"] = round(1000 * statistics.median(cpu), 1)

    if not args.no_server:
        results["pulse webrtc"] = measure_pulse(played, mics, starts, lengths)
    for name, figures in results.items():
        print(f"{name}:")
        for key, value in figures.items():
            print(f"  {key}: {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def measure_pulse(played: Audio, mics: dict[tuple[int, int | None], Audio],
                  starts: list[int], lengths: list[int]) -> dict[str, object]:
    from assistant.bench.room import Room, RoomError

    figures: dict[str, object] = {}
    try:
        room = Room.start(check_portaudio=False)
    except RoomError as exc:
        return {"error": str(exc)}
    with room, tempfile.TemporaryDirectory() as tmp:
        try:
            ec = PulseEc(room, Path(tmp))
        except RuntimeError as exc:
            return {"error": str(exc)}
        for (delay, reverb), mic in mics.items():
            out = ec.run(played, mic)
            figures[f"{delay} ms, reverb {reverb or 'none'}"] = round(
                erle_db(mic, out, SKIP_S), 1)
            if (delay, reverb) == TALK:
                alone = out
        echo = mics[TALK]
        for level in LEVELS_DB:
            tracks = talkers(echo, starts, lengths, level)
            out = ec.run(played, mixed(echo, *tracks))
            figures[f"stop at {level} dB"] = near_end(tracks, out, alone)
    return figures


if __name__ == "__main__":
    main()
