"""One utterance through the stages after endpointing: recognize -> match -> speak.

``hear`` (recognition and matching) and ``respond`` (synthesis and playback) are separate so
that evaluation can stop after matching and the daemon can recognize speculatively. Errors in
one utterance are logged and recorded in its Exchange; they never escape.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .answerer import Answerer, Reply
from .asr import Recognizer
from .audio.sinks import Sink
from .audio.types import Audio, trim_lead
from .errors import AssistantError, TtsError
from .quiet import QuietPolicy
from .tts import SpeechThread, dynamic_answers, sentences

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
    ignored: str | None = None  # why nothing is spoken (QuietPolicy), e.g. "no words"
    heard: Any = None  # the recognizer's Transcript (confidence, extra), when there is one
    end_reason: str | None = None  # how the utterance ended ("early": a complete question)
    speech: list[cf.Future[Audio]] | None = None  # the answer's rendering, once started
    interrupted: str | None = None  # the phrase said over the answer that stopped it

    @property
    def answer(self) -> str | None:
        """What is spoken: None when nothing is (no reply, or the utterance is ignored)."""
        return self.reply.answer if self.reply and not self.ignored else None

    def as_dict(self) -> dict[str, Any]:
        reply = self.reply.as_dict() if self.reply else {}
        return {
            "time": self.time, "duration_s": round(self.audio.duration_s, 3),
            "transcript": self.transcript, "question": reply.get("question"),
            "score": reply.get("score"), "confidence": reply.get("confidence"),
            "threshold": reply.get("threshold"), "answer": self.answer,
            "fallback": reply.get("fallback", True), "top": reply.get("top", []),
            "elsewhere": reply.get("elsewhere"),
            "ignored": self.ignored, "error": self.error, "end": self.end_reason,
            "interrupted": self.interrupted,
            "latency_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }

    def log_line(self) -> str:
        t = " ".join(f"{k}={v:.0f}ms" for k, v in self.timings_ms.items())
        if self.error:
            return f"utterance {self.audio.duration_s:.1f}s: error: {self.error} | {t}"
        if self.ignored:
            return (f"ignored ({self.ignored}): {self.audio.duration_s:.1f}s utterance, heard "
                    f"{self.transcript!r}; nothing said | {t}")
        r = self.reply
        top = ", ".join(f"{c.question!r} {c.score:.2f}" for c in r.match.candidates) if r else ""
        cut = f" (interrupted: {self.interrupted!r})" if self.interrupted else ""
        return (f"heard {self.transcript!r} -> {r.question if r else None!r} "
                f"({(r.score or 0) if r else 0:.2f}{', fallback' if r and r.fallback else ''}"
                f"{'; ' + r.decision() if r else ''}) "
                f"-> {self.answer!r}{cut} | top: {top} | {t}")


class Pipeline:
    def __init__(self, recognizer: Recognizer, answerer: Answerer,
                 speech: SpeechThread | None = None, sink: Sink | None = None,
                 quiet: QuietPolicy | None = None, interrupter: Any = None) -> None:
        self.recognizer = recognizer
        self.interrupter = interrupter  # interrupt.barge.Interrupter: answers can be stopped
        self.quiet = quiet if quiet is not None else QuietPolicy()
        self.answerer = answerer
        self.speech = speech
        self.sink = sink

    def hear(self, audio: Audio) -> Exchange:
        ex = Exchange(audio)
        t0 = time.perf_counter()
        try:
            ex.heard = self.recognizer.transcribe(audio)
            ex.transcript = ex.heard.text
            ex.timings_ms["asr"] = 1000 * (time.perf_counter() - t0)
            language = ex.heard.extra.get("language")  # Whisper's; answers follow it
            ex.reply = self.answerer.reply(ex.transcript, language if isinstance(language, str)
                                           else None)
            ex.timings_ms["embed"] = ex.reply.embed_ms
            ex.timings_ms["match"] = ex.reply.match_ms
            ex.ignored = self.quiet.reason(ex.transcript, ex.reply)
        except AssistantError as exc:
            ex.error = f"{exc.stage}: {exc}"
        except Exception as exc:  # one bad utterance never stops the daemon
            log.exception("unexpected failure on an utterance")
            ex.error = f"internal: {exc!r}"
        return ex

    def prepare(self, ex: Exchange) -> Exchange:
        """Start rendering the answer (if any) on the speech thread, so that it is ready when
        the turn ends; the daemon calls it on a speculative result during the hangover."""
        if ex.answer is None or self.speech is None or self.sink is None or ex.speech:
            return ex
        # A cached answer is one read; a live one is queued sentence by sentence, so the
        # first plays while the speech thread renders the next.
        # Files get the answer whole (a sink without ``streams``).
        parts = ([ex.answer] if self.speech.cached(ex.answer)
                 or not getattr(self.sink, "streams", False) else sentences(ex.answer))
        ex.speech = [self.speech.submit(p) for p in parts]
        return ex

    def warm(self) -> None:
        """Someone started speaking: render the answers with the time or date for now (in
        memory, once a minute at most), so such an answer is ready when they stop."""
        if self.speech is not None and self.sink is not None:
            self.speech.warm(dynamic_answers(self.answerer.kb))

    @staticmethod
    def discard(ex: Exchange | None) -> None:
        """A speculative result that will not be spoken: drop its renderings not yet begun."""
        for fut in (ex.speech or []) if ex is not None else []:
            fut.cancel()

    def respond(self, ex: Exchange) -> None:
        """Speak the exchange's answer (if any) on the sink; TTS errors are recorded."""
        if ex.answer is None or self.speech is None or self.sink is None:
            return
        t0 = time.perf_counter()
        try:
            futures = self.prepare(ex).speech or []

            def rendered() -> Iterator[Audio]:
                for i, fut in enumerate(futures):
                    try:
                        audio = fut.result(timeout=30.0)
                    except cf.TimeoutError:
                        raise TtsError("speech synthesis took over 30 s; check the TTS engine "
                                       "(`assistant say hello`)", code="timeout") from None
                    if i == 0:
                        ex.timings_ms["tts"] = 1000 * (time.perf_counter() - t0)
                        audio = trim_lead(audio)  # the listener hears the first word sooner
                    yield audio

            interrupt = self.interrupter
            if interrupt is None:
                self.sink.play_stream(rendered())
            else:
                interrupt.begin()
                try:
                    self.sink.play_stream(rendered(), interrupt)
                finally:
                    ex.interrupted = interrupt.end()
        except AssistantError as exc:
            ex.error = f"{exc.stage}: {exc}"
        except Exception as exc:
            log.exception("unexpected failure while speaking")
            ex.error = f"internal: {exc!r}"
