"""`assistant web`: the page served on a free local port, driven three ways: its handlers
directly, through gradio_client (the page's own API), and through a real headless Chromium
(typing, uploading a WAV, recording from a fake microphone that plays a WAV). The pipeline is
the real one: the repository's qa.yaml, the bundled sentence model, pocketsphinx, espeak-ng."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.asr import Transcript
from assistant.audio.files import is_silent, write_wav
from assistant.audio.types import Audio
from assistant.commands.common import build_answerer, build_recognizer
from assistant.config import load_config, with_overrides
from assistant.exchange_log import ExchangeLog
from assistant.pipeline import Pipeline
from assistant.tts import SpeechThread
from tests.conftest import FixedRecognizer, espeak_audio, join_with_silence
from tests.test_exchange_log import exchange

pytest.importorskip("gradio", reason="the web extra is not installed: pip install .[web]")
from assistant.web.app import WakeCheck, WebAssistant, build_app, launch  # noqa: E402
from assistant.web.map_plot import Mapper  # noqa: E402

# gradio's own queue code trips pandas deprecation warnings that say nothing about this app
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
BROWSER_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
KATHMANDU = "I live inside this computer, in Kathmandu."
ECHO = "I am Echo, a voice assistant that runs entirely on this machine."


class Ears:
    """The real recognizer, remembering what it was handed (to check the microphone path)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.heard: list[Audio] = []

    def adapt(self, phrases: Any) -> None:
        self.inner.adapt(phrases)

    def transcribe(self, audio: Audio) -> Transcript:
        self.heard.append(audio)
        return self.inner.transcribe(audio)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    cfg = load_config(None)  # the built-in defaults: what a fresh checkout runs with
    cfg = dataclasses.replace(cfg, qa_file=str(REPO / "qa.yaml"),
                              cache_dir=str(tmp_path_factory.mktemp("cache")))
    cfg = with_overrides(cfg, asr={"backend": "pocketsphinx"})
    answerer = build_answerer(cfg)
    return Pipeline(Ears(build_recognizer(cfg, answerer.kb.questions)), answerer)


@pytest.fixture(scope="module")
def speech() -> Iterator[SpeechThread]:
    thread = SpeechThread(load_config(None).tts)
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ "where do you live" spoken by espeak-ng, with silence around it (also the fake mic)."""
    audio = join_with_silence([espeak_audio("where do you live")], gap_s=1.5, lead_s=1.0)
    return write_wav(tmp_path_factory.mktemp("speech") / "where_do_you_live.wav", audio)


OLD_LINE = ('{"time": "2025-01-01T09:59:00.000+00:00", "transcript": "where do you live", '
            '"question": "Where do you live?", "score": 0.9, "answer": "I live in Kathmandu.", '
            '"fallback": false, "latency_ms": {"asr": 40.0}}\n')  # before `interrupted` existed


def write_daemon_log(path: Path, pipeline: Pipeline, cut_line: bool = False) -> Path:
    """What `assistant run` would have logged: an old line, (a line cut by a crash,) then an
    answer stopped by "stop" and one heard to the end, written by the daemon's ExchangeLog."""
    path.write_text(OLD_LINE + ('{"time": "2025-01-01T09:59:30' if cut_line else ""),
                    encoding="utf-8")
    log = ExchangeLog(path)
    stopped = exchange(pipeline.answerer, "what is your name", "2025-01-01T10:00:00.000+00:00")
    stopped.interrupted = "stop"
    log.append(stopped)
    log.append(exchange(pipeline.answerer, "where do you live", "2025-01-01T10:01:00.000+00:00"))
    log.close()
    return path


@pytest.fixture(scope="module")
def server(pipeline: Pipeline, speech: SpeechThread,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    daemon_log = write_daemon_log(tmp_path_factory.mktemp("state") / "exchanges.jsonl", pipeline)
    app = build_app(pipeline, speech, exchanges=daemon_log)
    with socket.socket() as s:  # a free port, released just before the server takes it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = launch(app, "127.0.0.1", port, block=False)
    yield url
    app.close()


def test_handlers_answer_a_typed_question(pipeline: Pipeline, speech: SpeechThread) -> None:
    web = WebAssistant(pipeline, speech, Mapper(pipeline.answerer))
    shown = web.ask_text("  which town do you live in? ")
    assert shown.transcript == "which town do you live in?"
    assert (shown.question, shown.answer) == ("Where do you live?", KATHMANDU)
    assert shown.score.startswith(f"{pipeline.answerer.reply(shown.transcript).score:.2f}: "
                                  "answered")
    assert [row[0] for row in shown.alternatives][0] == "Where do you live?"
    assert len(shown.alternatives) == 3
    assert shown.speech is not None
    rate, samples = shown.speech
    assert samples.dtype == np.int16 and len(samples) / rate > 1.0  # a spoken sentence
    assert shown.map_image is not None and shown.map_image.shape == (700, 1200, 3)
    assert shown.status == ""
    # a home command that shares a word with a question: the fallback, and why
    timer = web.ask_text("set a timer for ten minutes")
    assert timer.answer == pipeline.answerer.kb.fallback
    assert "fallback answer" in timer.score and ">= threshold" in timer.score
    assert "closer to a Home Assistant command: '" in timer.score


def test_handlers_explain_what_is_missing(pipeline: Pipeline, tmp_path: Path) -> None:
    web = WebAssistant(pipeline)
    assert web.ask_text("   ").status == "Type a question first."
    assert web.ask_audio(None).status == "Record or upload audio first."
    junk = tmp_path / "notes.wav"
    junk.write_text("not audio")
    shown = web.ask_audio(str(junk))
    assert shown.status.startswith("**Cannot use this recording:**") and "notes.wav" in shown.status
    assert shown.answer == ""
    off_topic = web.ask_text("what is the capital of peru")
    assert off_topic.answer == "Sorry, I don't know that yet." and "fallback" in off_topic.score


def test_handlers_show_the_wake_word_and_check_recordings_for_it(
        pipeline: Pipeline, tmp_path: Path) -> None:
    """The page does not run the daemon: it says whether `assistant run` waits for a wake word
    (which one), and checks a recording for it with the daemon's detector, gate and VAD."""
    assert "Wake word: off" in WebAssistant(pipeline).wake_note()
    cfg = with_overrides(load_config(None), wake={"enabled": True, "phrase": "hey echo"})
    web = WebAssistant(pipeline, wake=WakeCheck(cfg))
    assert 'the phrase "hey echo" (pocketsphinx keyphrase spotting' in web.wake_note()
    assert "say 'hey echo' to ask" in web.wake_note()  # how to talk to it, as run's ready line
    woken = write_wav(tmp_path / "woken.wav", join_with_silence(
        [espeak_audio("hey echo, where do you live")], gap_s=1.0, lead_s=1.0))
    shown = web.ask_audio(str(woken))
    assert shown.answer == KATHMANDU, shown.status
    assert shown.status.startswith("Wake word hey echo heard at 1.")
    ears = pipeline.recognizer
    assert ears.heard[-1].timestamp_ms > 1000  # only the question after it was recognized
    plain = write_wav(tmp_path / "plain.wav", join_with_silence(
        [espeak_audio("where do you live")], gap_s=1.0))
    shown = web.ask_audio(str(plain))
    assert shown.answer == KATHMANDU
    assert shown.status.startswith("No wake word (hey echo) heard: in the room the assistant "
                                   "would stay silent")


def test_recent_exchanges_mark_the_stopped_answer_newest_first(
        pipeline: Pipeline, tmp_path: Path) -> None:
    """The panel shows the daemon's log as `assistant log` does: the answer "stop" cut short
    starts with the marker, the old line without the field and the whole answer do not."""
    path = write_daemon_log(tmp_path / "exchanges.jsonl", pipeline, cut_line=True)
    rows, note = WebAssistant(pipeline, exchanges=path).recent()
    assert rows == [["2025-01-01 10:01:00", "where do you live", KATHMANDU],
                    ["2025-01-01 10:00:00", "what is your name", f"[stopped: 'stop'] {ECHO}"],
                    ["2025-01-01 09:59:00", "where do you live", "I live in Kathmandu."]]
    assert note == (f"Skipped 1 unreadable line(s) in `{path}` (a line cut by a crash is "
                    "expected).")
    assert WebAssistant(pipeline, exchanges=path).recent(n=1)[0] == rows[:1]


def test_recent_exchanges_without_a_log_say_where_it_will_be(
        pipeline: Pipeline, tmp_path: Path) -> None:
    missing = tmp_path / "state" / "exchanges.jsonl"
    assert WebAssistant(pipeline, exchanges=missing).recent() == (
        [], f"No exchanges yet: `assistant run` writes them to `{missing}`.")
    missing.parent.mkdir()
    missing.write_text("", encoding="utf-8")  # created by `assistant run`, nothing heard yet
    assert WebAssistant(pipeline, exchanges=missing).recent() == (
        [], f"No exchanges yet in `{missing}`.")


def test_client_asks_by_text_and_by_audio(server: str, question_wav: Path,
                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gradio_client = pytest.importorskip("gradio_client")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")  # the client reads only this
    client = gradio_client.Client(server, verbose=False, analytics_enabled=False,
                                  download_files=str(tmp_path))
    typed = client.predict("tell me your name", api_name="/ask_text")
    transcript, question, score, alternatives, answer, spoken, kb_map, status = typed
    assert (transcript, answer, status) == ("tell me your name", ECHO, "")
    assert question in ("What is your name?", "Who are you?", "What should I call you?")
    assert len(alternatives["data"]) == 3 and "answered" in score
    assert Path(spoken).stat().st_size > 10_000 and Path(kb_map).suffix == ".png"
    heard = client.predict(gradio_client.handle_file(str(question_wav)), api_name="/ask_audio")
    assert "where do you live" in heard[0]
    assert heard[4] == KATHMANDU
    table, note = client.predict(api_name="/recent_exchanges")
    assert [row[2] for row in table["data"]] == [KATHMANDU, f"[stopped: 'stop'] {ECHO}",
                                                  "I live in Kathmandu."]
    assert note.startswith("The last 3 exchange(s), newest first, from `")


@pytest.fixture(scope="module")
def browser(question_wav: Path) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed: pip install .[test]")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM}: `apt-get install chromium` (CI: .ci/setup.sh "
                    "--test); gradio_client covers the same calls")
    flags = [*BROWSER_FLAGS, "--use-fake-ui-for-media-stream",
             "--use-fake-device-for-media-stream",
             f"--use-file-for-fake-audio-capture={question_wav}"]
    with sync_api.sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=flags, headless=True)
        except sync_api.Error as exc:
            pytest.skip(f"chromium cannot start here ({str(exc).splitlines()[0]}); "
                        "gradio_client covers the same calls")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  permissions=["microphone"])
    page = context.new_page()
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    page.goto(server)
    yield page
    context.close()
    local = server.split("/")[2]
    assert hosts <= {local}, f"the page reached beyond this machine: {sorted(hosts - {local})}"


def value_of(page: Any, elem_id: str) -> str:
    return str(page.locator(f"#{elem_id} textarea, #{elem_id} input").first.input_value())


def wait_for_answer(page: Any, answer: str) -> None:
    page.wait_for_function(
        "a => document.querySelector('#answer textarea, #answer input')?.value === a",
        arg=answer, timeout=30_000)


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(500)  # let the map image paint
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_browser_typed_question_shows_answer_alternatives_and_map(page: Any) -> None:
    page.locator("#question-text textarea, #question-text input").first.fill(
        "which town do you live in?")
    page.locator("#ask-button").click()
    wait_for_answer(page, KATHMANDU)
    assert value_of(page, "matched-question") == "Where do you live?"
    assert "answered" in value_of(page, "score")
    table = page.locator("#alternatives").inner_text()
    assert "Where do you live?" in table and KATHMANDU in table
    page.wait_for_selector("#answer-audio audio, #answer-audio [data-testid='waveform-Spoken "
                           "answer']", state="attached")
    page.wait_for_selector("#kb-map img", state="visible")
    screenshot(page, "web.png")


def test_browser_recent_exchanges_panel_opens_and_refreshes(page: Any) -> None:
    panel = page.locator("#recent")
    assert not page.locator("#recent-table").is_visible()  # closed by default
    panel.get_by_text("Recent exchanges (assistant run)").click()
    page.locator("#refresh").click()
    page.wait_for_function("t => document.querySelector('#recent-table')?.innerText.includes(t)",
                           arg=f"[stopped: 'stop'] {ECHO}", timeout=30_000)
    assert "newest first" in page.locator("#recent-note").inner_text()
    screenshot(page, "web-recent.png")


def test_browser_uploaded_wav_is_transcribed_and_answered(page: Any, question_wav: Path) -> None:
    page.locator("#audio-in input[type=file]").set_input_files(str(question_wav))
    wait_for_answer(page, KATHMANDU)
    assert "where do you live" in value_of(page, "transcript")
    assert value_of(page, "matched-question") == "Where do you live?"
    screenshot(page, "web-upload.png")


def test_browser_microphone_recording_reaches_the_recognizer(
        page: Any, pipeline: Pipeline) -> None:
    ears: Ears = pipeline.recognizer  # type: ignore[assignment]
    before = len(ears.heard)
    page.locator("#audio-in button[aria-label='Record audio']").click()
    page.locator("#audio-in button.record-button").click()
    page.wait_for_timeout(4500)  # the fake microphone plays the 4-second question on a loop
    page.locator("#audio-in button.stop-button").click()
    page.wait_for_function(
        "() => document.querySelector('#transcript textarea, #transcript input')?.value",
        timeout=30_000)
    assert len(ears.heard) == before + 1
    recorded = ears.heard[-1]
    assert recorded.duration_s > 2.0 and not is_silent(recorded)
    wait_for_answer(page, KATHMANDU)
    assert "where do you live" in value_of(page, "transcript")
    assert page.locator("#status").inner_text().strip() == ""


def test_non_local_host_warns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                              caplog: pytest.LogCaptureFixture) -> None:
    from assistant.cli import main
    from assistant.commands import web as web_command

    launched: list[tuple[str, int]] = []
    monkeypatch.setattr("assistant.web.app.launch",
                        lambda app, host, port, block=True: launched.append((host, port))
                        or os.kill(os.getpid(), signal.SIGTERM) or "")  # served, then stopped
    monkeypatch.setattr(web_command, "build_recognizer",
                        lambda cfg, phrases=None: FixedRecognizer())  # no model
    config = tmp_path / "config.yaml"
    config.write_text(f"qa_file: {REPO / 'qa.yaml'}\ncache_dir: {tmp_path / 'cache'}\n")
    assert main(["web", "--config", str(config), "--host", "0.0.0.0",
                 "--port", "7999", "--no-speak", "--no-map"]) == 0
    assert launched == [("0.0.0.0", 7999)]
    assert any("anyone who can reach this address" in r.getMessage() for r in caplog.records)
    assert main(["web", "--port", "70000"]) == 2
