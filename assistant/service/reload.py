"""Reloading the knowledge base without a restart: SIGHUP (``systemctl reload assistant``) or,
with ``run --watch``, a change to config.yaml or qa.yaml.

The signal handler only sets an event. A background thread re-reads config.yaml (its
answer-related settings: ``qa_file``, ``matcher.threshold``, ``matcher.scoring``,
``matcher.margin_weight``) and qa.yaml, embeds the new questions while the daemon goes on
answering from the old ones, then swaps (``Answerer.reload``): a question in flight sees the
old or the new knowledge base, never a mix. A broken file keeps the old one, with one log line
saying why. Other changed settings are named as needing a restart.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import AssistantError
from .notify import Notifier

log = logging.getLogger("assistant.reload")

RELOADABLE = ("qa_file", "matcher.threshold", "matcher.scoring", "matcher.margin_weight")
# Read at each use, not at start-up: a changed value needs nothing more than the swap.
LIVE = ("log.",)


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """{'matcher.threshold': 0.5, ...} for a config (internal fields left out)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.metadata.get("internal"):
            continue
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out.update(flatten(value, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def changed_fields(old: Config, new: Config) -> list[str]:
    a, b = flatten(old), flatten(new)
    changed = [k for k in a if k != "qa_file" and a[k] != b.get(k)]
    return ["qa_file", *changed] if old.qa_path != new.qa_path else changed


def applied(current: Config, new: Config) -> Config:
    """``current`` with the reloadable settings taken from ``new``."""
    matcher = dataclasses.replace(current.matcher, threshold=new.matcher.threshold,
                                  scoring=new.matcher.scoring,
                                  margin_weight=new.matcher.margin_weight)
    return dataclasses.replace(current, qa_file=new.qa_file, matcher=matcher,
                               source=new.source)


class Reloader:
    """Owns the reload thread. ``request()`` may be called from a signal handler."""

    def __init__(self, answerer: Any, current: Config, load_config: Callable[[], Config],
                 adapt: Callable[[list[str]], None] | None = None,
                 notifier: Notifier | None = None,
                 on_request: Sequence[Callable[[], None]] = (),
                 watch_s: float | None = None) -> None:
        self.answerer = answerer
        self.current = current
        self.load_config = load_config
        self.adapt = adapt
        self.notifier = notifier
        self.on_request = list(on_request)  # e.g. reopen the exchange log (logrotate)
        self.watch_s = watch_s
        self.reloads = 0  # successful swaps
        self.failures = 0
        self._wanted = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._stamps = self._mtimes(current)

    def request(self) -> None:
        self._wanted.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reload", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._wanted.set()

    def _loop(self) -> None:
        while not self._closed.is_set():
            asked = self._wanted.wait(self.watch_s)
            if self._closed.is_set():
                return
            if asked:
                self._wanted.clear()
                for hook in self.on_request:
                    try:
                        hook()
                    except Exception:
                        log.exception("reload hook failed")
                self.reload_now("SIGHUP")
            elif self._mtimes(self.current) != self._stamps:
                self.reload_now("a changed file")

    @staticmethod
    def _mtimes(cfg: Config) -> tuple[float | None, ...]:
        paths = [Path(cfg.source)] if cfg.source != "<defaults>" else []
        paths.append(cfg.qa_path)
        stamps: list[float | None] = []
        for p in paths:
            try:
                stamps.append(p.stat().st_mtime_ns)
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def reload_now(self, why: str = "request") -> bool:
        """Re-read the files and swap; False (old knowledge base kept) when one is broken."""
        if self.notifier:
            self.notifier.reloading()
        try:
            return self._reload(why)
        finally:
            if self.notifier:
                self.notifier.reloaded(f"listening; {len(self.answerer.kb.questions)} questions")

    def _reload(self, why: str) -> bool:
        from ..kb.knowledge import load_kb

        old_kb = self.answerer.kb
        keep = f"still answering from {old_kb.source} ({len(old_kb.questions)} questions)"
        try:
            new = self.load_config()
            self._stamps = self._mtimes(new)
            kb = load_kb(new.qa_path)
        except AssistantError as exc:
            self.failures += 1
            self._stamps = self._mtimes(self.current)
            log.error("reload (%s) failed, %s: %s", why, keep, exc)
            return False
        restart = [n for n in changed_fields(self.current, new)
                   if n not in RELOADABLE and not n.startswith(LIVE)]
        if restart:
            log.warning("changed settings that take effect after a restart only: %s",
                        ", ".join(restart))
        before = (self.answerer.threshold, self.answerer.scoring, self.answerer.margin_weight)
        self.answerer.threshold = new.matcher.threshold
        self.answerer.scoring = new.matcher.scoring
        self.answerer.margin_weight = new.matcher.margin_weight
        try:
            self.answerer.reload(kb)  # embeds in this thread, then swaps under a lock
        except Exception as exc:  # an embedding or calibration failure: nothing changed
            (self.answerer.threshold, self.answerer.scoring,
             self.answerer.margin_weight) = before
            self.failures += 1
            log.error("reload (%s) failed, %s: %s", why, keep, exc)
            return False
        self.current = applied(self.current, new)
        self.reloads += 1
        log.info("reloaded (%s): %d questions from %s, threshold %.2f", why,
                 len(kb.questions), kb.source, self.answerer.matcher.threshold)
        if self.adapt is not None:
            try:
                self.adapt(kb.questions)
            except Exception as exc:
                log.error("the recognizer could not adapt to the new questions: %s", exc)
        return True
