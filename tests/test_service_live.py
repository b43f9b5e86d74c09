"""The daemon as systemd runs it, on a real audio device: `python -m assistant run` in a
subprocess, reading a PulseAudio source through PortAudio and ALSA's pulse plugin, with
``NOTIFY_SOCKET`` and ``WATCHDOG_USEC`` set as systemd sets them.

The test starts its own PulseAudio server (``assistant.bench.room.Room``: a unix socket in a
temporary folder, nothing shared with a desktop session) with a null sink called ``mic``; its
monitor is the default source, and ``paplay -d mic`` speaks into it. Unloading the null sink is
a microphone being unplugged.
The recognizer is the tiny random wav2vec2 from conftest, so transcripts are noise: the tests
check what does not depend on them (one logged exchange per spoken question, and from which
knowledge base the answer came: with ``threshold: -1`` every non-empty transcript gets the
only entry's answer, and an empty one the fallback; both say "old" or "new").
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.audio.files import write_wav
from assistant.bench.room import Room, RoomError, missing_tools
from tests.conftest import espeak_audio

pytestmark = pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))

STARTUP_S = 240.0  # importing torch and loading two models on a slow CI machine
STEP_S = 60.0


def qa_text(tag: str, questions: list[str]) -> str:
    qs = ", ".join(f'"{q}"' for q in questions)
    return (f'fallback: "{tag} fallback"\nentries:\n  - answer: "{tag} answer"\n'
            f'    questions: [{qs}]\n')


@pytest.fixture(scope="module")
def pulse() -> Iterator[Room]:
    try:
        room = Room.start()
    except RoomError as exc:
        pytest.skip(str(exc))
    with room:
        yield room


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("speech") / "question.wav",
                     espeak_audio("where do you live"))


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("speech") / "long.wav", espeak_audio(
        "tell me everything you know about the city where you live and the people there"))


class LiveDaemon:
    """`python -m assistant run` under a pretend systemd: a notify socket we read from."""

    def __init__(self, folder: Path, pulse: Room, model: Path) -> None:
        self.folder = folder
        self.qa = folder / "qa.yaml"
        self.qa.write_text(qa_text("old", ["where do you live"]), encoding="utf-8")
        self.config = folder / "config.yaml"
        self.config.write_text(
            f"qa_file: qa.yaml\ncache_dir: {folder / 'cache'}\n"
            f"asr:\n  backend: wav2vec2\n  model: {model}\n"
            "matcher:\n  threshold: -1\n  fallback_on: always\n"
            "log:\n  file: exchanges.jsonl\n", encoding="utf-8")
        self.jsonl = folder / "exchanges.jsonl"
        self.messages: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(folder / "notify.sock"))
        self.sock.settimeout(0.2)
        self._reading = True
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        env = {**pulse.env, "NOTIFY_SOCKET": str(folder / "notify.sock"),
               "WATCHDOG_USEC": "2000000", "PYTHONUNBUFFERED": "1"}
        for key in ("LOGS_DIRECTORY", "WATCHDOG_PID"):
            env.pop(key, None)
        self.stderr = folder / "daemon.log"
        with open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", "run", "--config", str(self.config),
                 "--no-speak"], env=env, stdout=err, stderr=err, cwd=folder)

    def _read(self) -> None:
        while self._reading:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
            except OSError:
                return

    def log_text(self) -> str:
        lines = self.stderr.read_text(errors="replace").splitlines()
        return "\n".join(line for line in lines if not line.startswith(("Expression", "ALSA")))

    def wait_for(self, what: str, ok: Callable[[], bool], timeout_s: float = STEP_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ok():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"the daemon exited ({self.proc.returncode}) while waiting for "
                            f"{what}:\n{self.log_text()[-3000:]}")
            time.sleep(0.05)
        pytest.fail(f"no {what} within {timeout_s:.0f} s; notify messages {self.messages}; "
                    f"daemon log:\n{self.log_text()[-3000:]}")

    def sent(self, text: str) -> int:
        return sum(text in m for m in self.messages)

    def exchanges(self) -> list[dict[str, Any]]:
        if not self.jsonl.exists():
            return []
        lines = self.jsonl.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def wait_exchanges(self, n: int) -> list[dict[str, Any]]:
        self.wait_for(f"{n} logged exchange(s)", lambda: len(self.exchanges()) >= n)
        return self.exchanges()

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, float]:
        t0 = time.monotonic()
        self.proc.send_signal(signum)
        code = self.proc.wait(30)
        return code, time.monotonic() - t0

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reading = False
        self._reader.join(2)
        self.sock.close()


@pytest.fixture
def daemon(tmp_path: Path, pulse: Room, tiny_wav2vec2: Path) -> Iterator[LiveDaemon]:
    if pulse.module is None:
        pulse.plug()
    d = LiveDaemon(tmp_path, pulse, tiny_wav2vec2)
    try:
        d.wait_for("READY=1", lambda: d.sent("READY=1") > 0, STARTUP_S)
        yield d
    finally:
        d.close()


def answers(records: list[dict[str, Any]]) -> list[str]:
    return [str(r["answer"]).split()[0] for r in records]  # "old" or "new"


def test_microphone_unplugged_and_back(daemon: LiveDaemon, pulse: Room,
                                       question_wav: Path) -> None:
    assert daemon.messages[0] == "READY=1\nSTATUS=listening"  # ready once audio flowed
    pulse.play(question_wav)
    first = daemon.wait_exchanges(1)
    pulse.unplug()
    daemon.wait_for("STATUS=microphone lost", lambda: daemon.sent("STATUS=microphone lost") > 0)
    lost_at = len(daemon.messages)
    time.sleep(3)  # a few failed reopen attempts
    pulse.plug()
    daemon.wait_for("STATUS=listening after the microphone came back",
                    lambda: "STATUS=listening" in daemon.messages[lost_at:])
    pulse.play(question_wav)
    records = daemon.wait_exchanges(2)
    code, _ = daemon.stop()
    assert code == 0
    assert len(records) == 2 and records[0] == first[0]
    assert answers(records) == ["old", "old"]
    for r in records:
        assert 0.5 < r["duration_s"] < 4 and "asr" in r["latency_ms"] and r["error"] is None
    log = daemon.log_text()
    assert log.count("microphone lost:") == 1, log  # once, however many retries
    assert log.count("microphone back after") == 1, log
    assert daemon.sent("WATCHDOG=1") >= 2
    assert daemon.messages[-1] == "STOPPING=1\nSTATUS=stopping"


def test_sighup_reloads_a_good_qa_yaml_and_keeps_the_old_one_when_broken(
        daemon: LiveDaemon, pulse: Room, question_wav: Path, long_wav: Path) -> None:
    def ask() -> str:
        before = len(daemon.exchanges())
        pulse.play(question_wav)
        return answers(daemon.wait_exchanges(before + 1))[before]

    assert ask() == "old"
    daemon.qa.write_text(qa_text("new", ["where do you live", "who are you"]),
                         encoding="utf-8")
    # reload while someone is speaking: that utterance is still heard and answered
    before, heard = len(daemon.exchanges()), daemon.sent("STATUS=hearing")
    speaking = pulse.play_async(long_wav)
    daemon.wait_for("STATUS=hearing", lambda: daemon.sent("STATUS=hearing") > heard)
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for("the reload", lambda: daemon.sent("STATUS=listening; 2 questions") > 0)
    speaking.wait(60)
    during = answers(daemon.wait_exchanges(before + 1))[before:]
    assert during and set(during) <= {"old", "new"}  # nothing lost: answered from either
    assert ask() == "new"
    daemon.qa.write_text("entries:\n  - answer: [broken\n", encoding="utf-8")
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait_for("the failed reload", lambda: "reload (SIGHUP) failed" in daemon.log_text())
    assert ask() == "new"
    code, _ = daemon.stop()
    assert code == 0 and speaking.returncode == 0
    failed = [line for line in daemon.log_text().splitlines() if "reload (SIGHUP) failed" in line]
    assert len(failed) == 1 and "still answering from" in failed[0]
    assert "qa.yaml" in failed[0] and "2 questions" in failed[0]
    assert daemon.sent("RELOADING=1") == 2


def test_sigterm_mid_utterance_exits_0(daemon: LiveDaemon, pulse: Room,
                                       long_wav: Path) -> None:
    speaking = pulse.play_async(long_wav)
    try:
        daemon.wait_for("STATUS=hearing", lambda: daemon.sent("STATUS=hearing") > 0)
        code, seconds = daemon.stop()
    finally:
        speaking.kill()
        speaking.wait()
    print(f"exit {code} {seconds:.2f} s after SIGTERM")
    assert code == 0
    assert daemon.messages[-1] == "STOPPING=1\nSTATUS=stopping"
    assert "SIGTERM received: stopping" in daemon.log_text()
