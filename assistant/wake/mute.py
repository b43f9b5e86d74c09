"""The mute switch: a state file the running daemon watches (``assistant mute on|off``).

A file, not a signal: it needs no process id, survives a daemon restart (muted stays muted),
and works the same under systemd, in a terminal, and for several daemons of one user.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("assistant.mute")


def mute_path(cfg: object) -> Path:
    return cfg.cache_path / "muted"  # type: ignore[attr-defined, no-any-return]


def set_muted(path: Path, on: bool) -> None:
    if on:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("muted by `assistant mute on`\n")
    else:
        path.unlink(missing_ok=True)


class MuteSwitch:
    """``muted()`` looks at the file at most every ``poll_s`` (a stat: microseconds)."""

    def __init__(self, path: Path, poll_s: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.poll_s = poll_s
        self.clock = clock
        self._checked = -1e9
        self._muted = False

    def muted(self) -> bool:
        now = self.clock()
        if now - self._checked >= self.poll_s:
            self._checked = now
            muted = self.path.exists()
            if muted != self._muted:
                log.info("microphone %s (%s)", "muted" if muted else "unmuted", self.path)
            self._muted = muted
        return self._muted
