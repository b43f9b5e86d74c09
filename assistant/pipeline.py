"""One utterance through the stages after endpointing: recognize -> match -> speak.

``hear`` (recognition and matching) and ``respond`` (synthesis and playback) are separate so
that evaluation can stop after matching and the daemon can recognize speculatively. Errors in
one utterance are logged and recorded in its Exchange; they never escape.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from .answerer import Answerer, Reply
from .asr import Recognizer
from .audio.sinks import Sink
from .audio.types import Audio
from .errors import AssistantError
from .tts import SpeechThread

log = logging.getLogger("assistant.exchange")


@dataclass
class Exchange:
    """Everything about one utterance: what was heard, matched, answered, and how long each
    stage took (milliseconds)."""

    audio: Audio
    time: str = field(default_factory=lambda: dt.datetime.now().astimezone().isoformat(
        timespec="milliseconds"))
    transcript: str = ""
    reply: Reply | None = None
    error: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    speech_end_ms: float | None = None  # stream time the speaker stopped (daemon only)

    @property
    def answer(self) -> str | None:
        return self.reply.answer if self.reply else None

    def as_dict(self) -> dict[str, Any]:
        reply = self.reply.as_dict() if self.reply else {}
        return {
            "time": self.time, "duration_s": round(self.audio.duration_s, 3),
            "transcript": self.transcript, "question": reply.get("question"),
            "score": reply.get("score"), "confidence": reply.get("confidence"),
            "threshold": reply.get("threshold"), "answer": reply.get("answer"),
            "fallback": reply.get("fallback", True), "top": reply.get("top", []),
            "error": self.error,
            "latency_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }

    def log_line(self) -> str:
        t = " ".join(f"{k}={v:.0f}ms" for k, v in self.timings_ms.items())
        if self.error:
            return f"utterance {self.audio.duration_s:.1f}s: error: {self.error} | {t}"
        r = self.reply
        top = ", ".join(f"{c.question!r} {c.score:.2f}" for c in r.match.candidates) if r else ""
        return (f"heard {self.transcript!r} -> {r.question if r else None!r} "
                f"({(r.score or 0) if r else 0:.2f}{', fallback' if r and r.fallback else ''}"
                f"{'; ' + r.decision() if r else ''}) "
                f"-> {self.answer!r} | top: {top} | {t}")


class Pipeline:
    def __init__(self, recognizer: Recognizer, answerer: Answerer,
                 speech: SpeechThread | None = None, sink: Sink | None = None) -> None:
        self.recognizer = recognizer
        self.answerer = answerer
        self.speech = speech
        self.sink = sink

    def hear(self, audio: Audio) -> Exchange:
        ex = Exchange(audio)
        t0 = time.perf_counter()
        try:
            ex.transcript = self.recognizer.transcribe(audio).text
            ex.timings_ms["asr"] = 1000 * (time.perf_counter() - t0)
            ex.reply = self.answerer.reply(ex.transcript)
            ex.timings_ms["embed"] = ex.reply.embed_ms
            ex.timings_ms["match"] = ex.reply.match_ms
        except AssistantError as exc:
            ex.error = f"{exc.stage}: {exc}"
        except Exception as exc:  # one bad utterance never stops the daemon
            log.exception("unexpected failure on an utterance")
            ex.error = f"internal: {exc!r}"
        return ex

    def respond(self, ex: Exchange) -> None:
        """Speak the exchange's answer (if any) on the sink; TTS errors are recorded."""
        if ex.answer is None or self.speech is None or self.sink is None:
            return
        t0 = time.perf_counter()
        try:
            audio = self.speech.synthesize(ex.answer)
            ex.timings_ms["tts"] = 1000 * (time.perf_counter() - t0)
            self.sink.play(audio)
        except AssistantError as exc:
            ex.error = f"{exc.stage}: {exc}"
        except Exception as exc:
            log.exception("unexpected failure while speaking")
            ex.error = f"internal: {exc!r}"
