"""Per-stage timings: VAD per frame, recognition real-time factor, embedding and matching per
query, TTS time to first sample, idle CPU and memory. Numbers, not asserts."""

from __future__ import annotations

import resource
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.sources import FileSource
from ..audio.types import Audio


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def rss_mb() -> float:
    """Resident memory now (Linux), else the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vad_us_per_frame(frames: int = 3000) -> float:
    from ..vad import WebRtcVad

    vad = WebRtcVad(2)
    rng = np.random.default_rng(0)
    frame = Audio((rng.standard_normal(480) * 2000).astype(np.int16))
    t0 = time.perf_counter()
    for _ in range(frames):
        vad.is_speech(frame)
    return 1e6 * (time.perf_counter() - t0) / frames


def asr_rtf(recognizer: Any, clips: list[Audio], repeat: int = 3) -> float:
    """Seconds of compute per second of audio (median over clips)."""
    ratios = []
    for clip in clips:
        ms = median_ms(lambda c=clip: recognizer.transcribe(c), repeat)
        ratios.append(ms / 1000 / clip.duration_s)
    return statistics.median(ratios)


def embed_ms(answerer: Any, repeat: int = 20) -> float:
    return median_ms(lambda: answerer.embedder.embed(["where do you live"]), repeat)


def match_ms(sizes: tuple[int, ...] = (1000, 100_000), dim: int = 384,
             repeat: int = 50) -> dict[str, float]:
    """Matching one query against N entries of 1 phrasing each (random unit vectors)."""
    from ..kb.knowledge import Entry, KnowledgeBase
    from ..kb.matcher import Matcher

    rng = np.random.default_rng(0)
    out = {}
    for n in sizes:
        vecs = rng.standard_normal((n, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        kb = KnowledgeBase(tuple(Entry(f"a{i}", (f"q{i}",)) for i in range(n)))
        matcher = Matcher(kb, vecs, 0.5)
        query = vecs[n // 2] + 0.1 * rng.standard_normal(dim).astype(np.float32)
        out[str(n)] = median_ms(lambda m=matcher, q=query: m.match(q), repeat)
    return out


def tts_first_sample_ms(speech: Any, repeat: int = 5) -> float:
    return median_ms(lambda: speech.synthesize("I live inside this computer, in Kathmandu."),
                     repeat)


LONG_ANSWER = ("I live inside this computer, in Kathmandu. I listen through the microphone "
               "and answer from a list of questions. Nothing leaves this machine.")


def voice_first_sample_ms(backends: tuple[str, ...] = ("piper", "espeak"),
                          repeat: int = 3) -> dict[str, dict[str, float]]:
    """Time to the first sample of an answer, per voice: from the disk cache, and live (the
    first sentence of a three-sentence answer, which plays while the rest renders)."""
    import tempfile
    from pathlib import Path

    from ..config import TtsConfig
    from ..tts import SpeechThread, piper_available, sentences

    out: dict[str, dict[str, float]] = {}
    for backend in backends:
        if backend == "piper" and not piper_available():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            speech = SpeechThread(TtsConfig(backend=backend), Path(tmp))
            try:
                speech.synthesize("ready")
                speech.prerender([LONG_ANSWER])
                speech.wait_idle(120)
                first = sentences(LONG_ANSWER)[0]
                out[backend] = {
                    "cached": median_ms(lambda s=speech: s.synthesize(LONG_ANSWER), repeat),
                    "live": median_ms(lambda s=speech, t=first: s.synthesize(t), repeat)}
            finally:
                speech.close()
    return out


def idle_cpu_percent(seconds: float = 10.0) -> float:
    """CPU time of the listening loop (real VAD + segmenter) over real-time silence, as a
    percent of one core. Measured with thread CPU time so other threads do not count."""
    import tempfile

    from ..audio.files import write_wav
    from ..daemon import Daemon
    from ..pipeline import Pipeline
    from ..vad import PRESETS, WebRtcVad

    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)  # low room noise, not digital zeros
        noise = Audio((rng.standard_normal(int(16000 * seconds)) * 30).astype(np.int16))
        path = write_wav(Path(tmp) / "silence.wav", noise)
        daemon = Daemon(FileSource(path, realtime=True), WebRtcVad(3), PRESETS["default"],
                        Pipeline(_NoRecognizer(), None))  # type: ignore[arg-type]
        result: dict[str, float] = {}

        def loop() -> None:
            c0, t0 = time.thread_time(), time.perf_counter()
            daemon.run(threading.Event())
            result["cpu"] = time.thread_time() - c0
            result["wall"] = time.perf_counter() - t0

        thread = threading.Thread(target=loop)
        thread.start()
        thread.join()
    return 100 * result["cpu"] / result["wall"]


class _NoRecognizer:
    name = "none"

    def adapt(self, phrases: object) -> None:
        pass

    def transcribe(self, audio: Audio) -> Any:
        raise AssertionError("silence must not reach the recognizer")
