"""The models every connection shares: recognizer, answerer and voice, built from the config
exactly as ``assistant run`` builds them, loaded on a thread of their own so that ``describe``
is answered while they load.

Recognitions run on a pool of ``max_recognitions`` threads behind an asyncio semaphore: a
connection waiting for a slot stops reading its socket, so TCP pushes back on the client
rather than the server buffering without bound.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .. import __version__
from ..audio.types import Audio
from ..config import Config
from ..errors import AssistantError, ServeError

log = logging.getLogger("assistant.serve")

T = TypeVar("T")
LANGUAGE = "en"  # qa.yaml, pocketsphinx's model and the default voices are English


class Engine:
    def __init__(self, cfg: Config, max_recognitions: int = 2, speak: bool = True,
                 build: Callable[[Config, bool], tuple[Any, Any, Any]] | None = None) -> None:
        self.cfg = cfg
        self.max_recognitions = max_recognitions
        self.speak = speak
        self._build = build or _build_models
        self.answerer: Any = None
        self.recognizer: Any = None
        self.speech: Any = None
        self.error: AssistantError | None = None
        self._loaded = threading.Event()
        self._ready: asyncio.Event | None = None
        self._asr_pool = cf.ThreadPoolExecutor(max_recognitions, thread_name_prefix="asr")
        self._tts_pool = cf.ThreadPoolExecutor(2, thread_name_prefix="tts-wait")
        self._slots: asyncio.Semaphore | None = None
        from ..asr import resolve_backend

        self.recognizer_name = resolve_backend(cfg.asr, cfg.cache_path, say=False)  # for info

    # --- loading ---------------------------------------------------------------------------
    def start_loading(self, loop: asyncio.AbstractEventLoop) -> None:
        self._ready = asyncio.Event()
        self._slots = asyncio.Semaphore(self.max_recognitions)
        threading.Thread(target=self._load, args=(loop,), name="load-models",
                         daemon=True).start()

    def _load(self, loop: asyncio.AbstractEventLoop) -> None:
        t0 = time.perf_counter()
        try:
            self.answerer, self.recognizer, self.speech = self._build(self.cfg, self.speak)
            log.info("models loaded in %.1f s: %d questions, recognizer %s",
                     time.perf_counter() - t0, len(self.answerer.kb.questions),
                     self.recognizer.name)
        except AssistantError as exc:
            self.error = exc
        except Exception as exc:  # a model that cannot load: said once, the server stops
            log.exception("loading the models failed")
            self.error = ServeError(f"loading the models failed ({exc})", code="load")
        self._loaded.set()
        assert self._ready is not None
        loop.call_soon_threadsafe(self._ready.set)

    @property
    def loaded(self) -> bool:
        return self._loaded.is_set() and self.error is None

    async def ready(self) -> None:
        assert self._ready is not None, "start_loading() first"
        await self._ready.wait()
        if self.error is not None:
            raise self.error

    # --- the work --------------------------------------------------------------------------
    async def _run(self, pool: cf.Executor, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)

    async def transcribe(self, audio: Audio) -> str:
        await self.ready()
        assert self._slots is not None
        async with self._slots:  # the bounded queue: waiters hold their socket unread
            transcript = await self._run(self._asr_pool, self.recognizer.transcribe, audio)
        return str(transcript.text)

    @property
    def idle(self) -> bool:
        """A recognition slot is free now (speculation only uses spare capacity)."""
        return self.loaded and self._slots is not None and not self._slots.locked()

    async def reply(self, text: str) -> Any:
        await self.ready()
        assert self._slots is not None
        async with self._slots:
            return await self._run(self._asr_pool, self.answerer.reply, text)

    async def synthesize(self, text: str) -> Audio:
        await self.ready()
        if self.speech is None:
            raise ServeError("this server was started with --no-tts", code="no-tts")
        return await self._run(self._tts_pool, self.speech.synthesize, text)

    def close(self) -> None:
        self._asr_pool.shutdown(wait=False, cancel_futures=True)
        self._tts_pool.shutdown(wait=False, cancel_futures=True)
        if self.speech is not None:
            self.speech.close()

    # --- describe --------------------------------------------------------------------------
    def info(self) -> Any:
        """The ``info`` event: known before the models load (names come from the config)."""
        from wyoming.info import (
            AsrModel,
            AsrProgram,
            Attribution,
            HandleModel,
            HandleProgram,
            Info,
            TtsProgram,
            TtsVoice,
        )

        from ..tts import backend_name
        from . import credits

        def by(source: tuple[str, str]) -> Attribution:
            return Attribution(name=source[0], url=source[1])

        who = by(credits.project())
        kb = self.cfg.qa_path.name
        sentences = self.cfg.matcher.model
        info = Info(
            asr=[AsrProgram(
                name="assistant-asr", attribution=who, installed=True, version=__version__,
                description=(f"the pocketsphinx grammar of {kb}, then Whisper "
                             f"{self.cfg.asr.whisper_model} for other words"
                             if self.recognizer_name == "cascade" else
                             f"open-vocabulary recognition (Whisper {self.cfg.asr.whisper_model})"
                             if self.recognizer_name == "whisper" else
                             f"closed-set recognition ({self.recognizer_name}) tuned to {kb}"),
                models=[AsrModel(name=self.recognizer_name, installed=True,
                                 attribution=by(credits.recognizer(self.recognizer_name,
                                                                   self.cfg.asr.model)),
                                 description=self.recognizer_name, version=__version__,
                                 languages=[LANGUAGE])])],
            handle=[HandleProgram(
                name="assistant", attribution=who, installed=True, version=__version__,
                description=f"answers from {kb}",
                models=[HandleModel(name=kb, attribution=by(credits.sentence_model(sentences)),
                                    installed=True, version=__version__, languages=[LANGUAGE],
                                    description=f"questions and answers from {kb}, matched "
                                    f"with {sentences}")])])
        if self.speak:
            voice = self.cfg.tts.voice or "default"
            backend = backend_name(self.cfg.tts)
            info.tts = [TtsProgram(
                name="assistant-tts", attribution=by(credits.tts_program(backend)),
                installed=True, version=__version__,
                description=f"the assistant's voice ({backend})",
                voices=[TtsVoice(name=voice, installed=True,
                                 attribution=by(credits.voice(backend, self.cfg.tts.voice)),
                                 description=f"{backend} {voice}",
                                 version=__version__, languages=[LANGUAGE])])]
        return info


def _build_models(cfg: Config, speak: bool) -> tuple[Any, Any, Any]:
    from ..commands.common import build_answerer, build_recognizer
    from ..tts import SpeechThread

    answerer = build_answerer(cfg)
    recognizer = build_recognizer(cfg, answerer.kb.questions)
    if not speak:
        return answerer, recognizer, None
    speech = SpeechThread(cfg.tts)
    speech.synthesize("ready")  # start the engine now, not on the first request
    return answerer, recognizer, speech
