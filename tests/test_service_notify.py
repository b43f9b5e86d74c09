"""sd_notify over a real unix datagram socket, as systemd reads it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.daemon import State
from assistant.service.notify import Notifier, socket_address, watchdog_interval_s


class Listener:
    def __init__(self, sock: socket.socket, name: str) -> None:
        self.sock = sock
        self.name = name  # the NOTIFY_SOCKET value

    def messages(self) -> list[str]:
        out = []
        self.sock.setblocking(False)
        while True:
            try:
                out.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return out


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Listener]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        path = tmp_path / "notify.sock"
        sock.bind(str(path))
        name = str(path)
    else:
        name = f"@assistant-test-{uuid.uuid4().hex}"
        sock.bind(b"\0" + name[1:].encode())
    yield Listener(sock, name)
    sock.close()


def test_ready_status_watchdog_stopping_reach_the_socket(listener: Listener) -> None:
    now = [0.0]
    env = {"NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "2000000"}
    n = Notifier.from_env(env)
    n.clock = lambda: now[0]
    assert n.enabled and n.watchdog_every_s == 1.0
    n.tick()  # the first audio: ready, and the first watchdog ping
    for _ in range(50):  # many chunks within the same second: no more pings
        n.tick()
    now[0] = 1.5
    n.tick()
    n.on_state(State.NO_MICROPHONE)
    n.stopping()
    n.close()
    assert listener.messages() == ["READY=1\nSTATUS=listening", "WATCHDOG=1", "WATCHDOG=1",
                                   "STATUS=microphone lost", "STOPPING=1\nSTATUS=stopping"]


def test_started_without_a_microphone_is_ready_and_says_so(listener: Listener) -> None:
    n = Notifier.from_env({"NOTIFY_SOCKET": listener.name})
    n.on_state(State.NO_MICROPHONE)
    n.tick()
    assert listener.messages() == ["READY=1\nSTATUS=microphone lost"]  # no watchdog asked


def test_outside_systemd_nothing_is_sent() -> None:
    n = Notifier.from_env({})
    assert not n.enabled
    n.tick()
    n.on_state(State.LISTENING)
    assert n.send("READY=1") is False


def test_watchdog_meant_for_another_process_is_ignored() -> None:
    env = {"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert watchdog_interval_s(env, os.getpid()) is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert watchdog_interval_s(env, os.getpid()) == 4.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "0"}, 1) is None


def test_socket_addresses() -> None:
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("@abc") == b"\0abc"
    assert socket_address("") is None


def test_a_vanished_socket_is_reported_once_and_never_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    n = Notifier(str(tmp_path / "gone.sock"))
    assert n.send("READY=1") is False
    assert n.send("STATUS=x") is False
    assert len([r for r in caplog.records if "cannot notify systemd" in r.getMessage()]) == 1
