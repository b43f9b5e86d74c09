"""The web page: a Gradio app over the daemon's own objects.

Typed questions go to ``Answerer.reply``, recordings and uploads to ``Pipeline.hear`` (the
same recognizer, knowledge base and matcher as `assistant run`), answers are spoken by the same
synthesizer. :class:`WebAssistant` holds the page's handlers and knows nothing of Gradio (its
tests call it directly); :func:`build_app` lays out the page; :func:`launch` serves it with
sharing, analytics and version checks off, so the page never reaches the internet. Under
the answers, a closed panel lists the last exchanges of `assistant run` from its exchange log
(the page's own questions are not logged there).

Imported only by `assistant web` (gradio is an optional extra).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gradio as gr
import numpy as np

from ..audio.files import read_audio
from ..audio.types import Audio
from ..errors import AssistantError
from ..exchange_log import read_exchanges, shown_answer, shown_time
from ..pipeline import Pipeline
from .map_plot import Mapper, render_rgb

log = logging.getLogger("assistant.web")

TITLE = "Ask the assistant"
INTRO = ("Type a question, record one with the microphone, or upload a recording (WAV, FLAC "
         "or OGG). Everything runs on this machine: the same recognizer, knowledge base and "
         "voice as `assistant run`.")
HEADERS = ["question", "score", "answer"]
MAX_UPLOAD = "25mb"
RECENT = 20  # exchanges in the "Recent exchanges" panel
RECENT_HEADERS = ["when", "heard", "answer"]


class Speech(Protocol):
    """What speaks the answers: a Synthesizer or the daemon's SpeechThread."""

    def synthesize(self, text: str) -> Audio: ...


@dataclass(frozen=True)
class Shown:
    """What the page shows after one question, in the order of :data:`OUTPUTS`."""

    transcript: str = ""
    question: str = ""
    score: str = ""
    alternatives: tuple[tuple[str, float, str], ...] = ()
    answer: str = ""
    speech: tuple[int, np.ndarray] | None = None
    map_image: np.ndarray | None = None
    status: str = ""

    def values(self) -> tuple[Any, ...]:
        return (self.transcript, self.question, self.score,
                [list(row) for row in self.alternatives], self.answer, self.speech,
                self.map_image, self.status)


class WakeCheck:
    """With ``wake.enabled``: the page says which wake word `assistant run` waits for, and
    checks recordings for it with the daemon's own detector, gate and VAD. The question is the
    audio after the wake word (as in the room); a recording without it is still answered
    here, with a note that the assistant would stay silent in the room."""

    def __init__(self, cfg: Any) -> None:
        from ..vad import build_detector as build_vad
        from ..wake import build_detector

        self.wake = cfg.wake
        self.detector = build_detector(cfg.wake)
        self.vad = build_vad(cfg.vad)
        self.frame_ms = cfg.vad.frame_ms

    def describe(self) -> str:
        from ..wake import how_to_ask

        w = self.wake
        what = (f'the phrase "{self.detector.word}" (pocketsphinx keyphrase spotting, '
                f"threshold {w.phrase_threshold:g})" if w.phrase is not None
                else f"{self.detector.word} (microWakeWord)")
        return (f"**Wake word: on**, {how_to_ask(self.detector.word)}: {what}. `assistant "
                f"run` answers only after it (then follow-ups for {w.follow_up_s:g} s); "
                "recordings here are checked for it.")

    def check(self, audio: Audio) -> tuple[Audio, str]:
        """The audio to recognize and a note for the page."""
        from ..audio.types import PIPELINE_RATE_HZ, to_pipeline
        from ..wake.gate import detect_in
        from ..wake.machine import WakeMachine

        if audio.rate_hz != PIPELINE_RATE_HZ:
            audio = to_pipeline(audio.samples, audio.rate_hz)
        found = detect_in(audio, self.detector, self.vad, self.frame_ms, self.wake.gate)
        if not found:
            return audio, (f"No wake word ({self.detector.word}) heard: in the room the "
                           "assistant would stay silent. Answered here anyway.")
        cut_ms = found[0].time_ms
        note = f"Wake word {found[0].word} heard at {cut_ms / 1000:.2f} s."
        if audio.end_ms - cut_ms < WakeMachine.MIN_QUESTION_MS:
            return audio, note + " Nothing after it: ask the question after the wake word."
        skip = int(round((cut_ms - audio.timestamp_ms) * audio.rate_hz / 1000))
        return Audio(audio.samples[skip:], audio.rate_hz, cut_ms), \
            note + " The question after it was answered."


class WebAssistant:
    """The handlers behind the page. ``speech`` None: no spoken answer; ``mapper`` None: no
    map (both optional so that a broken TTS engine never hides the answer); ``wake`` None:
    the wake word is off; ``exchanges``: the exchange log `assistant run` writes (the file
    `assistant log` reads)."""

    def __init__(self, pipeline: Pipeline, speech: Speech | None = None,
                 mapper: Mapper | None = None, wake: WakeCheck | None = None,
                 exchanges: Path | None = None) -> None:
        self.pipeline = pipeline
        self.speech = speech
        self.mapper = mapper
        self.wake = wake
        self.exchanges = exchanges

    def wake_note(self) -> str:
        return self.wake.describe() if self.wake is not None else (
            "Wake word: off (`wake.enabled: false`): `assistant run` answers every question.")

    def ask_text(self, text: str | None) -> Shown:
        text = " ".join((text or "").split())
        if not text:
            return Shown(map_image=self.map_image(None), status="Type a question first.")
        reply = self.pipeline.answerer.reply(text)
        log.info("typed %r -> %r (%.2f) -> %r", text, reply.question, reply.score or 0.0,
                 reply.answer)
        return self._show(text, reply, "")

    def ask_audio(self, path: str | None) -> Shown:
        if not path:
            return Shown(map_image=self.map_image(None), status="Record or upload audio first.")
        try:
            audio = read_audio(path)
        except AssistantError as exc:
            return Shown(status=f"**Cannot use this recording:** {exc}")
        heard = ""
        if self.wake is not None:
            audio, heard = self.wake.check(audio)
        ex = self.pipeline.hear(audio)
        log.info("%s", ex.log_line())
        if ex.error or ex.reply is None:
            return Shown(transcript=ex.transcript, map_image=self.map_image(None),
                         status=" ".join(filter(None, (heard,
                                                       f"**Could not answer:** {ex.error}"))))
        status = "" if ex.transcript else "Nothing was recognized in this recording."
        return self._show(ex.transcript, ex.reply, " ".join(filter(None, (heard, status))))

    def _show(self, transcript: str, reply: Any, status: str) -> Shown:
        match, kb = reply.match, self.pipeline.answerer.kb
        if match.best is None:
            score = "-"
        else:
            verdict = "answered" if not reply.fallback else "fallback answer"
            op = ">=" if (match.confidence or 0.0) >= match.threshold else "<"
            elsewhere = (f"; closer to a Home Assistant command: {match.elsewhere!r}"
                         if match.elsewhere else "")
            score = (f"{match.best.score:.2f}: {verdict} (confidence {match.confidence:.2f} "
                     f"{op} threshold {match.threshold:.2f}{elsewhere})")
        alternatives = tuple((c.question, round(c.score, 3), kb.entries[c.entry].answer)
                             for c in match.candidates)
        speech, notes = None, [status] if status else []
        if self.speech is not None:
            try:
                audio = self.speech.synthesize(reply.answer)
                speech = (audio.rate_hz, audio.samples)
            except AssistantError as exc:
                notes.append(f"**No spoken answer:** {exc}")
        return Shown(transcript, reply.question or "", score, alternatives, reply.answer,
                     speech, self.map_image(transcript), "\n\n".join(notes))

    def recent(self, n: int = RECENT) -> tuple[list[list[str]], str]:
        """The last ``n`` exchanges of `assistant run`, newest first, as rows of
        :data:`RECENT_HEADERS` (an answer a stop phrase cut short marked as `assistant log`
        marks it), and one line for the page: where they come from, or why there are none."""
        path = self.exchanges
        try:
            if path is None or not path.is_file():
                where = f" to `{path}`" if path is not None else ""
                return [], f"No exchanges yet: `assistant run` writes them{where}."
            result = read_exchanges(path, last=n)
        except OSError as exc:  # the system service's log is readable by its user only
            return [], f"**Cannot read** `{path}`: {exc.strerror or exc}."
        rows = [[shown_time(r.get("time", "")), str(r.get("transcript") or ""),
                 f"error: {r['error']}" if r.get("error") else shown_answer(r)]
                for r in reversed(result.records)]
        if result.skipped:
            note = (f"Skipped {result.skipped} unreadable line(s) in `{path}` (a line cut by "
                    "a crash is expected).")
        else:
            note = (f"The last {len(rows)} exchange(s), newest first, from `{path}`." if rows
                    else f"No exchanges yet in `{path}`.")
        return rows, note

    def map_image(self, query: str | None) -> np.ndarray | None:
        if self.mapper is None:
            return None
        try:
            return render_rgb(self.mapper.map(query))
        except Exception:  # the map is an extra: never lose an answer over it
            log.exception("could not draw the knowledge-base map")
            return None


def build_app(pipeline: Pipeline, speech: Speech | None = None, show_map: bool = True,
              title: str = TITLE, wake: WakeCheck | None = None,
              exchanges: Path | None = None) -> gr.Blocks:
    """The page. Every question runs through ``pipeline`` one at a time (like the daemon's
    single worker): the recognizer and TTS engine are not shared between threads. The
    "Recent exchanges" panel only with ``exchanges`` (the log `assistant run` writes)."""
    web = WebAssistant(pipeline, speech, Mapper(pipeline.answerer) if show_map else None, wake,
                       exchanges)
    n_questions = len(pipeline.answerer.kb.questions)
    # delete_cache: recordings and uploads are removed an hour after they arrive
    with gr.Blocks(title=title, analytics_enabled=False, delete_cache=(600, 3600)) as app:
        gr.Markdown(f"# {title}\n{INTRO} The knowledge base has {n_questions} questions.")
        gr.Markdown(web.wake_note(), elem_id="wake")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                text = gr.Textbox(label="Type a question", placeholder="Where do you live?",
                                  elem_id="question-text")
                ask = gr.Button("Ask", variant="primary", elem_id="ask-button")
                recording = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                     label="…or speak: upload a recording or use the microphone",
                                     elem_id="audio-in")
                status = gr.Markdown(elem_id="status")
            with gr.Column(scale=1):
                transcript = gr.Textbox(label="Heard", interactive=False, elem_id="transcript")
                question = gr.Textbox(label="Matched question", interactive=False,
                                      elem_id="matched-question")
                score = gr.Textbox(label="Score", interactive=False, elem_id="score")
                answer = gr.Textbox(label="Answer", interactive=False, elem_id="answer")
                spoken = gr.Audio(label="Spoken answer", type="numpy", interactive=False,
                                  autoplay=True, elem_id="answer-audio")
        alternatives = gr.Dataframe(headers=HEADERS, label="Top 3 candidates", wrap=True,
                                    interactive=False, elem_id="alternatives")
        kb_map = gr.Image(value=web.map_image(None), type="numpy", format="png",
                          interactive=False, elem_id="kb-map",
                          label="Map of the knowledge base: one dot per question, one colour "
                          "per answer; the asked question in red, lines to its nearest")
        outputs = [transcript, question, score, alternatives, answer, spoken, kb_map, status]

        def on_text(value: str | None) -> tuple[Any, ...]:
            return web.ask_text(value).values()

        def on_audio(path: str | None) -> tuple[Any, ...]:
            return web.ask_audio(path).values()

        common: dict[str, Any] = {"outputs": outputs, "concurrency_limit": 1,
                                  "concurrency_id": "pipeline"}
        gr.on([ask.click, text.submit], on_text, inputs=text, api_name="ask_text", **common)
        gr.on([recording.upload, recording.stop_recording], on_audio, inputs=recording,
              api_name="ask_audio", **common)
        if exchanges is not None:  # read when the page opens and on Refresh
            with gr.Accordion("Recent exchanges (assistant run)", open=False, elem_id="recent"):
                recent_note = gr.Markdown(elem_id="recent-note")
                recent = gr.Dataframe(headers=RECENT_HEADERS, wrap=True, interactive=False,
                                      elem_id="recent-table")
                refresh = gr.Button("Refresh", size="sm", elem_id="refresh")
            gr.on([app.load, refresh.click], web.recent, outputs=[recent, recent_note],
                  api_name="recent_exchanges")
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860,
           block: bool = True) -> str:
    """Serve the page; returns its local URL. ``block=False`` returns at once (tests)."""
    try:
        _, local_url, _ = app.launch(server_name=host, server_port=port, share=False,
                                     inbrowser=False, prevent_thread_lock=not block,
                                     max_file_size=MAX_UPLOAD, ssr_mode=False,
                                     enable_monitoring=False, quiet=True)
    except OSError as exc:
        from . import WebError

        raise WebError(f"cannot serve on {host}:{port} ({exc}); choose another --port or "
                       "--host", code="bind") from None
    return str(local_url)
