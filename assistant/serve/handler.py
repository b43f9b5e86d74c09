"""One Wyoming connection. Home Assistant opens one per request; each gets its own handler
and its own utterance, and shares the Engine.

    describe                               -> info (at once, even while models load)
    transcribe, audio-start, audio-chunk*, audio-stop -> transcript
    transcript{text}                       -> handled{answer} | not-handled{fallback}
    synthesize{text}                       -> audio-start, audio-chunk*, audio-stop
    ping                                   -> pong
    anything else                          -> ignored, as the protocol expects of servers

A bad event is logged in one line with the client's address and answered with an ``error``
event; one that leaves the stream unreadable (bad JSON, a length over the limit, a truncated
payload) also closes that connection. Other connections never notice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event, async_write_event

from ..audio.types import Audio
from ..errors import AssistantError, ServeError
from ..pipeline import Exchange
from .audio import Utterance, check_format
from .engine import LANGUAGE, Engine
from .speculate import PauseWatch
from .wire import Limits, read_event

log = logging.getLogger("assistant.serve")

CHUNK_SAMPLES = 1024  # synthesized audio goes out in chunks of this many samples
FRAME_MS = 30  # VAD frames for speculative recognition


@dataclass
class ServedExchange(Exchange):
    """An exchange answered over Wyoming: also who asked."""

    client: str = ""
    device_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "served": "wyoming", "client": self.client,
                "device_id": self.device_id}


def device_of(context: Any) -> str | None:
    """The satellite or device id Home Assistant puts in an event's context, if any."""
    if not isinstance(context, dict):
        return None
    for key in ("satellite_id", "device_id"):
        if isinstance(context.get(key), str):
            return str(context[key])
    return None


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 engine: Engine, max_utterance_s: float, limits: Limits,
                 on_exchange: Callable[[Exchange], None] | None = None) -> None:
        self.reader = reader
        self.writer = writer
        self.engine = engine
        self.max_utterance_s = max_utterance_s
        self.limits = limits
        self.on_exchange = on_exchange
        peer = writer.get_extra_info("peername")
        self.client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "local")
        self.utterance: Utterance | None = None
        self.speculative = engine.cfg.asr.speculative  # as in the daemon
        self._watch: tuple[PauseWatch, Any, Any] | None = None  # pause watch, framer, vad
        self._guess: tuple[asyncio.Task[str], int] | None = None  # recognition, at version
        self.context: Any = None  # from `transcribe`
        self.handlers: dict[str, Callable[[Event], Any]] = {
            "describe": self._describe, "transcribe": self._transcribe,
            "audio-start": self._audio_start, "audio-chunk": self._audio_chunk,
            "audio-stop": self._audio_stop, "transcript": self._transcript,
            "synthesize": self._synthesize, "ping": self._ping,
        }

    async def write(self, event: Event) -> None:
        await async_write_event(event, self.writer)

    async def error(self, exc: AssistantError) -> None:
        from wyoming.error import Error

        log.warning("%s: error[%s:%s]: %s", self.client, exc.stage, exc.code, exc)
        try:
            await self.write(Error(text=str(exc), code=exc.code).event())
        except (ConnectionError, RuntimeError):
            pass  # the client has gone; nothing to tell it

    async def run(self) -> None:
        try:
            while True:
                try:
                    event = await read_event(self.reader, self.limits)
                except ServeError as exc:  # the stream is unreadable from here: close it
                    await self.error(exc)
                    return
                if event is None:
                    return
                handler = self.handlers.get(event.type)
                if handler is None:
                    log.debug("%s: ignored an event of type %r", self.client, event.type)
                    continue
                try:
                    await handler(event)
                except AssistantError as exc:  # this event failed; the connection goes on
                    await self.error(exc)
                except (ConnectionError, asyncio.IncompleteReadError):
                    raise
                except Exception as exc:  # a bug: logged in full, this connection closed
                    log.exception("%s: unexpected failure on a %r event", self.client,
                                  event.type)
                    await self.error(ServeError(f"internal error ({exc!r})", code="internal"))
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if self.utterance is not None:
                log.info("%s: left in the middle of an utterance (%.1f s); dropped",
                         self.client, self.utterance.samples / 16000)
            self.writer.close()

    # --- one handler per event type --------------------------------------------------------
    async def _describe(self, event: Event) -> None:
        await self.write(self.engine.info().event())

    async def _ping(self, event: Event) -> None:
        from wyoming.ping import Ping, Pong

        await self.write(Pong(text=Ping.from_event(event).text).event())

    async def _transcribe(self, event: Event) -> None:
        self.context = event.data.get("context")

    async def _audio_start(self, event: Event) -> None:
        from ..vad import Framer, WebRtcVad

        self.utterance = Utterance(check_format(event.data), self.max_utterance_s)
        self._guess = None
        if self.speculative:
            vad = WebRtcVad(self.engine.cfg.vad.aggressiveness)
            self._watch = (PauseWatch(), Framer(FRAME_MS), vad)

    async def _audio_chunk(self, event: Event) -> None:
        if self.utterance is None:
            raise ServeError("audio-chunk without audio-start; send audio-start first",
                             code="no-audio-start")
        audio = self.utterance.add(check_format(event.data), event.payload or b"")
        if audio is not None and self._watch is not None:
            self._speculate(audio)

    def _speculate(self, audio: Audio) -> None:
        assert self._watch is not None and self.utterance is not None
        watch, framer, vad = self._watch
        for frame in framer.push(audio):
            if watch.push(FRAME_MS, vad.is_speech(frame)) and self.engine.idle:
                task = asyncio.create_task(self.engine.transcribe(self.utterance.audio()))
                task.add_done_callback(_quiet)  # a discarded guess may fail unseen
                self._guess = (task, watch.version)

    async def _audio_stop(self, event: Event) -> None:
        from wyoming.asr import Transcript

        if self.utterance is None:
            raise ServeError("audio-stop without audio-start", code="no-audio-start")
        audio, self.utterance = self.utterance.audio(), None
        guess, self._guess = self._guess, None
        watch, self._watch = self._watch, None
        t0 = time.perf_counter()
        used = guess is not None and watch is not None and guess[1] == watch[0].version
        text = await guess[0] if used and guess is not None else \
            await self.engine.transcribe(audio)
        log.info("%s%s: heard %r in %.1f s of audio (%.0f ms after audio-stop%s)",
                 self.client, _device(self.context), text, audio.duration_s,
                 1000 * (time.perf_counter() - t0), ", speculative" if used else "")
        await self.write(Transcript(text=text, language=LANGUAGE).event())

    async def _transcript(self, event: Event) -> None:
        from wyoming.asr import Transcript
        from wyoming.handle import Handled, NotHandled

        asked = Transcript.from_event(event)
        ex = ServedExchange(Audio.silence(0), transcript=asked.text, client=self.client,
                            device_id=device_of(asked.context))
        t0 = time.perf_counter()
        try:
            ex.reply = await self.engine.reply(asked.text)
        except AssistantError as exc:
            ex.error = f"{exc.stage}: {exc}"
            self._record(ex)
            raise
        ex.timings_ms.update(embed=ex.reply.embed_ms, match=ex.reply.match_ms,
                             total=1000 * (time.perf_counter() - t0))
        self._record(ex)
        reply = (NotHandled if ex.reply.fallback else Handled)(text=ex.answer,
                                                               context=asked.context)
        await self.write(reply.event())

    def _record(self, ex: ServedExchange) -> None:
        log.info("%s%s: %s", self.client, _device({"device_id": ex.device_id}), ex.log_line())
        if self.on_exchange is not None:
            try:
                self.on_exchange(ex)
            except Exception:
                log.exception("exchange hook failed")

    async def _synthesize(self, event: Event) -> None:
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.tts import Synthesize

        text = Synthesize.from_event(event).text
        if not text.strip():
            raise ServeError("synthesize needs some text", code="empty")
        audio = await self.engine.synthesize(text)
        fmt = {"rate": audio.rate_hz, "width": 2, "channels": 1}
        await self.write(AudioStart(**fmt).event())
        pcm = audio.pcm
        step = 2 * CHUNK_SAMPLES
        for i in range(0, len(pcm), step):
            await self.write(AudioChunk(audio=pcm[i:i + step], **fmt).event())
        await self.write(AudioStop().event())


def _quiet(task: asyncio.Task[str]) -> None:
    if not task.cancelled():
        task.exception()


def _device(context: Any) -> str:
    device = device_of(context)
    return f" ({device})" if device else ""
