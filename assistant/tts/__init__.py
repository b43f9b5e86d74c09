"""Speech out: one small Protocol, backends chosen by name and imported lazily, and a thread
that owns the synthesizer (the pyttsx3 engine is not thread-safe).

``tts.backend: auto`` picks piper when piper-tts and a voice are installed, else pyttsx3.
The speech thread answers from the on-disk cache of pre-rendered answers (``cache.py``) when
it has the entry, renders the answers of the knowledge base in the background
(``prerender``), and speaks with espeak-ng when the Piper voice fails at run time."""

from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import itertools
import json
import logging
import queue
import re
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..audio.types import Audio
from ..config import TtsConfig
from ..errors import TtsError
from .cache import AnswerCache

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger(__name__)

BACKENDS = ("auto", "piper", "pyttsx3", "espeak")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
LIVE, WARM, BACKGROUND = 0, 1, 2  # job priorities: a question asked now goes first; then
# today's time/date answers while someone speaks (memory only); then pre-rendering to disk
RECENT = 8  # live renders kept in memory (the current time and date answers)


class Synthesizer(Protocol):
    name: str
    cache_key: str

    def synthesize(self, text: str) -> Audio:
        """Speak ``text`` into audio at the engine's own rate. Raises TtsError."""
        ...


def piper_available() -> bool:
    return importlib.util.find_spec("piper") is not None


def backend_name(cfg: TtsConfig) -> str:
    """The backend ``cfg.backend`` means here (``auto`` resolved)."""
    if cfg.backend != "auto":
        return cfg.backend
    from .piper_backend import bundled_voice

    if piper_available() and (cfg.voice is not None or bundled_voice() is not None):
        return "piper"
    return "pyttsx3"


def voices_dir(cache_dir: Path | None) -> Path:
    from ..config import Config

    return (cache_dir or Config().cache_path) / "piper-voices"


def load_synthesizer(cfg: TtsConfig, cache_dir: Path | None = None) -> Synthesizer:
    name = backend_name(cfg)
    if name == "piper":
        if not piper_available():
            raise TtsError("tts.backend piper needs the package 'piper-tts'; `pip install "
                           "'assistant[voice]'` or set tts.backend: auto",
                           code="missing-package")
        from .piper_backend import PiperSynthesizer

        return PiperSynthesizer(cfg, voices_dir(cache_dir))
    if name == "pyttsx3":
        if importlib.util.find_spec("pyttsx3") is None:
            raise TtsError("tts.backend pyttsx3 needs the package 'pyttsx3'; `pip install "
                           "pyttsx3` or set tts.backend: espeak", code="missing-package")
        from .pyttsx3_backend import Pyttsx3Synthesizer

        return _keyed(Pyttsx3Synthesizer(cfg), cfg)
    if name == "espeak":
        if shutil.which("espeak-ng") is None:
            raise TtsError("tts.backend espeak needs the espeak-ng program; `sudo apt install "
                           "espeak-ng`", code="missing-program")
        from .espeak_backend import EspeakSynthesizer

        return _keyed(EspeakSynthesizer(cfg), cfg)
    raise TtsError(f"unknown tts.backend {cfg.backend!r}; choose one of {', '.join(BACKENDS)}",
                   code="unknown-backend")


def _keyed(engine: Synthesizer, cfg: TtsConfig) -> Synthesizer:
    engine.cache_key = json.dumps({"backend": engine.name, "voice": cfg.voice,
                                   "rate": cfg.rate_wpm, "volume": cfg.volume}, sort_keys=True)
    return engine


def _done(fut: cf.Future[Audio] | None, audio: Audio) -> None:
    if fut is not None:
        fut.set_result(audio)


def fallback_config(cfg: TtsConfig) -> TtsConfig:
    """espeak-ng with the same rate and volume (its own default voice)."""
    import dataclasses

    return dataclasses.replace(cfg, backend="espeak", voice=None, speaker_id=None)


class SpeechThread:
    """Runs every synthesis on one thread of its own. ``synthesize`` may be called from any
    thread; the engine is created on first use inside the worker. With a ``cache_dir``,
    rendered answers are kept on disk and a cached answer costs no synthesis."""

    def __init__(self, cfg: TtsConfig, cache_dir: Path | None = None) -> None:
        self.cfg = cfg
        self.cache_dir = cache_dir
        self.cache: AnswerCache | None = None
        self.rendered = 0  # answers rendered into the cache by prerender
        self.fallbacks = 0
        self.synthesized = 0  # renders by the engine (not cache or memory hits)
        self._order = itertools.count()
        self._recent: dict[str, Audio] = {}  # worker thread only: live renders, newest last
        self._jobs: queue.PriorityQueue[tuple[int, int, str | None, cf.Future[Audio] | None]]
        self._jobs = queue.PriorityQueue()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tts", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        engine: Synthesizer | None = None
        broken: TtsError | None = None  # the Piper voice would not load: espeak-ng speaks
        fallback: Synthesizer | None = None
        while True:
            priority, _, text, fut = self._jobs.get()
            if text is None:
                return
            try:
                if fut is not None and not fut.set_running_or_notify_cancel():
                    continue  # a speculative answer that will not be spoken (Pipeline.discard)
                if engine is None and broken is None:
                    try:
                        engine = load_synthesizer(self.cfg, self.cache_dir)
                    except TtsError as exc:
                        if backend_name(self.cfg) != "piper":
                            raise
                        broken = exc
                        log.error("the Piper voice cannot be used (%s); speaking with "
                                  "espeak-ng instead", exc)
                    if engine is not None and self.cache_dir is not None:
                        self.cache = AnswerCache(self.cache_dir / "speech", engine.cache_key)
                if engine is None:
                    if priority != LIVE:
                        continue  # nothing worth rendering ahead without the configured voice
                    fallback = fallback or load_synthesizer(fallback_config(self.cfg))
                    self.fallbacks += 1
                    _done(fut, fallback.synthesize(text))
                    continue
                audio = self.cache.get(text) if self.cache else None
                if audio is None and priority != BACKGROUND:  # pre-rendering writes the disk
                    audio = self._recent.get(text)
                if audio is None:
                    if priority != LIVE and self._has_live():
                        self._jobs.put((priority, next(self._order), text, fut))
                        continue
                    try:
                        audio = engine.synthesize(text)
                        self.synthesized += 1
                    except TtsError as exc:
                        if engine.name != "piper" or exc.code == "empty-text":
                            raise
                        log.error("the Piper voice failed (%s); speaking this answer with "
                                  "espeak-ng instead", exc)
                        fallback = fallback or load_synthesizer(fallback_config(self.cfg))
                        self.fallbacks += 1
                        _done(fut, fallback.synthesize(text))
                        continue
                    if self.cache is not None and priority == BACKGROUND:
                        self.cache.put(text, audio)
                        self.rendered += 1
                    else:
                        self._recent[text] = audio
                        while len(self._recent) > RECENT:
                            del self._recent[next(iter(self._recent))]
                _done(fut, audio)
            except TtsError as exc:
                if fut is not None:
                    fut.set_exception(exc)
                elif priority == BACKGROUND:
                    log.warning("could not render %r ahead of time: %s", text[:40], exc)
            except Exception as exc:  # any engine failure is a TTS error, never a crash
                if fut is not None:
                    fut.set_exception(TtsError(f"speech synthesis failed ({exc})",
                                               code="engine"))
            finally:
                if self._jobs.empty():
                    self._idle.set()

    def _has_live(self) -> bool:
        with self._jobs.mutex:
            return any(job[0] == LIVE for job in self._jobs.queue)

    def submit(self, text: str) -> cf.Future[Audio]:
        """Queue ``text`` ahead of any pre-rendering; the future holds its audio."""
        fut: cf.Future[Audio] = cf.Future()
        if not text.strip():
            fut.set_exception(TtsError("nothing to say: the text is empty", code="empty-text"))
            return fut
        self._idle.clear()
        self._jobs.put((LIVE, next(self._order), text, fut))
        return fut

    def cached(self, text: str) -> bool:
        return self.cache is not None and text in self.cache

    def synthesize(self, text: str, timeout_s: float = 30.0) -> Audio:
        fut = self.submit(text)
        try:
            return fut.result(timeout=timeout_s)
        except cf.TimeoutError:
            raise TtsError(f"speech synthesis took over {timeout_s:.0f} s; check the TTS "
                           "engine (`assistant say hello`)", code="timeout") from None

    def prerender(self, texts: Iterable[str]) -> int:
        """Queue ``texts`` for rendering into the cache in the background (those already
        cached cost one file read). Returns how many were queued."""
        if self.cache_dir is None:
            return 0
        n = 0
        self._idle.clear()
        for text in dict.fromkeys(texts):
            if text.strip():
                self._jobs.put((BACKGROUND, next(self._order), text, None))
                n += 1
        if n == 0 and self._jobs.empty():
            self._idle.set()
        return n

    def warm(self, texts: Iterable[str]) -> None:
        """Render ``texts`` into memory if they are not there yet, after any live job: the
        answers with the time or date, while someone speaks, so the answer is ready when they
        stop. Each text renders once (the time answer at most once a minute)."""
        for text in dict.fromkeys(texts):
            if text.strip():
                self._idle.clear()
                self._jobs.put((WARM, next(self._order), text, None))

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Block until every queued job (pre-rendering included) is done."""
        return self._idle.wait(timeout_s)

    def close(self) -> None:
        self._jobs.put((BACKGROUND + 1, next(self._order), None, None))
        self._thread.join(timeout=2)


def sentences(text: str) -> list[str]:
    """Split an answer where a sentence ends, so the first can play while the rest render."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p] or [text]


def static_answers(kb: object) -> list[str]:
    """The answers of a knowledge base that have no {time}/{date} placeholder, and its
    fallback: the texts worth rendering ahead of time."""
    from ..kb.knowledge import _PLACEHOLDER

    texts = _all_answers(kb)
    texts.append(str(getattr(kb, "fallback", "")))
    texts += [t for _, t in getattr(kb, "fallbacks", ())]
    return [t for t in dict.fromkeys(texts) if t.strip() and not _PLACEHOLDER.search(t)]


def _all_answers(kb: object) -> list[str]:
    """Every answer text, in each language qa.yaml gives it in."""
    return [t for e in getattr(kb, "entries", ())
            for t in dict.fromkeys([e.answer, *(a for _, a in getattr(e, "answers", ()))])]


def dynamic_answers(kb: object) -> list[str]:
    """The answers with a {time}/{date} placeholder, filled in for now."""
    from ..kb.knowledge import _PLACEHOLDER, render_answer

    texts = [(t, lang) for e in getattr(kb, "entries", ())
             for lang, t in (getattr(e, "answers", ()) or ((None, e.answer),))]
    return [render_answer(t, language=lang) for t, lang in texts if _PLACEHOLDER.search(t)]


def speak_once(cfg: Config, text: str) -> None:
    """Synthesize and play on the configured loudspeaker (used by `ask --speak`, `say`)."""
    from ..audio.sinks import SpeakerSink

    speech = SpeechThread(cfg.tts, cfg.cache_path)
    try:
        audio = speech.synthesize(text)
    finally:
        speech.close()
    SpeakerSink(cfg.audio.output_device).play(audio)
