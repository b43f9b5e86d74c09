"""systemd's notification protocol (sd_notify) in a few lines, no dependency.

systemd passes a unix datagram socket in ``$NOTIFY_SOCKET`` (a path, or an abstract name
starting with '@') and, when the unit has ``WatchdogSec=``, the interval in ``$WATCHDOG_USEC``.
The service sends ``READY=1`` once it can do its job, ``STATUS=...`` lines that
``systemctl status`` shows, ``WATCHDOG=1`` more often than the interval, and ``STOPPING=1``.
Outside systemd every call is a cheap no-op.

    start ── models loaded ──► first audio (or microphone lost) ── READY=1
    every chunk of audio, and every second while the microphone is away ── tick()
        └─ WATCHDOG=1 at most every WATCHDOG_USEC / 2
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def socket_address(value: str) -> str | bytes | None:
    """The address to ``sendto`` for a ``$NOTIFY_SOCKET`` value; None when unusable."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()  # abstract namespace
    if value.startswith("/"):
        return value
    return None  # vsock and other forms are not used for services on this machine


def watchdog_interval_s(env: Mapping[str, str], pid: int) -> float | None:
    """The watchdog interval systemd asked for, if it is meant for this process."""
    usec = env.get("WATCHDOG_USEC", "")
    owner = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and owner != str(pid):  # set for another process (e.g. our parent)
        return None
    return int(usec) / 1e6


class Notifier:
    """Sends sd_notify messages; every method is safe to call from any thread and never
    raises. ``Notifier.from_env()`` outside systemd sends nothing."""

    def __init__(self, address: str | bytes | None, watchdog_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.address = address
        self.watchdog_every_s = watchdog_s / 2 if watchdog_s else None
        self.clock = clock
        self.ready_sent = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._last_ping = float("-inf")
        self._failed = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if env is None else env
        address = socket_address(env.get("NOTIFY_SOCKET", ""))
        return cls(address, watchdog_interval_s(env, os.getpid()) if address else None)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; False when not under systemd or failed."""
        if self.address is None:
            return False
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.sendto("\n".join(fields).encode(), self.address)
                return True
            except OSError as exc:
                if not self._failed:  # said once: a broken socket must not flood the log
                    log.warning("cannot notify systemd at %r: %s", self.address, exc)
                    self._failed = True
                return False

    def ready(self, status: str = "listening") -> None:
        if not self.ready_sent:
            self.ready_sent = True
            self.send("READY=1", f"STATUS={status}")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def tick(self) -> None:
        """The listening loop is alive: READY=1 the first time, then the watchdog ping,
        rate-limited here so the loop can call this for every chunk."""
        if self.address is None:
            return
        if not self.ready_sent:
            self.ready()
        if self.watchdog_every_s is None:
            return
        now = self.clock()
        if now - self._last_ping >= self.watchdog_every_s:
            self._last_ping = now
            self.send("WATCHDOG=1")

    def on_state(self, state: object) -> None:
        """Daemon state hook: ``STATUS=listening``, ``STATUS=microphone lost``, ..."""
        if self.address is None:
            return
        text = str(getattr(state, "value", state))
        if not self.ready_sent:
            self.ready(text)  # e.g. started without a microphone: running, and says so
        else:
            self.status(text)

    def reloading(self) -> None:
        self.send("RELOADING=1", "STATUS=reloading the knowledge base")

    def reloaded(self, status: str) -> None:
        self.send("READY=1", f"STATUS={status}")

    def stopping(self) -> None:
        self.send("STOPPING=1", "STATUS=stopping")

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
