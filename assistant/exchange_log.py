"""The log of every exchange: one JSON object per utterance, appended to a JSON Lines file.

Each line is :meth:`Exchange.as_dict` (time, duration, transcript, top matches with scores,
answer, fallback, latency per stage), plus ``audio`` when utterances are kept as WAV files.
Lines are flushed one by one (no fsync): a crash loses at most the line being written, and
readers skip a truncated last line. ``assistant log`` reads it; so can ``jq``.

Where it goes (``log.file: null``): ``$LOGS_DIRECTORY`` when systemd runs the service with
``LogsDirectory=``, else ``$XDG_STATE_HOME/assistant`` (``~/.local/state/assistant``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .config import Config

if TYPE_CHECKING:  # `assistant log` must not import the pipeline (and its models)
    from .pipeline import Exchange

log = logging.getLogger(__name__)

FILE_NAME = "exchanges.jsonl"
SYSTEM_LOG_DIR = Path("/var/log/assistant")  # LogsDirectory=assistant of the system unit


def default_log_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("LOGS_DIRECTORY"):
        return Path(env["LOGS_DIRECTORY"].split(":")[0])
    state = env.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state) / "assistant"


def configured_path(cfg: Config) -> Path | None:
    """The file ``assistant run`` appends to; None when ``log.enabled`` is false."""
    if not cfg.log.enabled:
        return None
    if cfg.log.file:
        path = Path(os.path.expanduser(cfg.log.file))
        return path if path.is_absolute() else cfg.base_dir / path
    return default_log_dir() / FILE_NAME


def find_log(cfg: Config) -> Path:
    """The file to read: the configured one, or the newest of the places a user service and
    the system service write to."""
    if cfg.log.file:
        return configured_path(cfg) or Path(cfg.log.file)
    candidates = [default_log_dir() / FILE_NAME, SYSTEM_LOG_DIR / FILE_NAME]
    existing = [p for p in candidates if p.is_file()]
    return max(existing, key=lambda p: p.stat().st_mtime) if existing else candidates[0]


class ExchangeLog:
    """Appends exchanges to ``path``; thread-safe; write errors are logged once and never
    stop the daemon. ``reopen()`` (on SIGHUP) follows a file moved away by logrotate."""

    def __init__(self, path: str | Path, audio_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        self.audio_dir = Path(audio_dir) if audio_dir else None
        self.written = 0
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._failed = False
        self._open()

    @classmethod
    def from_config(cls, cfg: Config, path: str | Path | None = None) -> ExchangeLog | None:
        target = Path(path) if path else configured_path(cfg)
        if target is None:
            return None
        audio_dir: Path | None = None
        if cfg.log.save_audio:
            audio_dir = (Path(os.path.expanduser(cfg.log.audio_dir)) if cfg.log.audio_dir
                         else target.parent / "audio")
            if not audio_dir.is_absolute():
                audio_dir = cfg.base_dir / audio_dir
        return cls(target, audio_dir)

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # 0600: transcripts are personal; O_APPEND: concurrent writers never interleave
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8")
            if os.fstat(fd).st_size > 0 and not _ends_with_newline(self.path):
                self._file.write("\n")  # a line cut by a crash stays alone on its line
                self._file.flush()
            log.info("logging exchanges to %s", self.path)
        except OSError as exc:
            self._file = None
            self._warn(f"cannot open the exchange log {self.path} ({exc}); continuing "
                       "without it (set log.file or log.enabled: false)")

    def _warn(self, message: str) -> None:
        if not self._failed:
            log.warning("%s", message)
            self._failed = True

    def append(self, ex: Exchange) -> None:
        """The daemon's ``on_exchange`` hook."""
        record = ex.as_dict()
        if self.audio_dir is not None:
            record["audio"] = self._save_audio(ex)
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(line)
                self._file.flush()
                self.written += 1
            except (OSError, ValueError) as exc:
                self._warn(f"cannot write the exchange log {self.path} ({exc})")

    def _save_audio(self, ex: Exchange) -> str | None:
        from .audio.files import write_wav
        from .errors import AudioError

        assert self.audio_dir is not None
        name = ex.time.replace(":", "-").replace("+", "p") + ".wav"
        try:
            return str(write_wav(self.audio_dir / name, ex.audio))
        except AudioError as exc:
            self._warn(f"cannot save utterance audio ({exc})")
            return None

    def reopen(self) -> None:
        with self._lock:
            self._close()
            self._open()

    def _close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None

    def close(self) -> None:
        with self._lock:
            self._close()


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


@dataclass
class ReadResult:
    records: list[dict[str, Any]]
    skipped: int  # lines that were not a JSON object (a truncated last line, a bad edit)


def iter_records(path: Path, counter: list[int]) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                counter[0] += 1
                continue
            if isinstance(record, dict):
                yield record
            else:
                counter[0] += 1


def read_exchanges(path: str | Path, last: int | None = None) -> ReadResult:
    """Exchanges in file order (only the ``last`` N when given)."""
    skipped = [0]
    records: deque[dict[str, Any]] = deque(maxlen=last if last and last > 0 else None)
    records.extend(iter_records(Path(path), skipped))
    return ReadResult(list(records), skipped[0])


def shown_time(text: Any) -> str:
    """An exchange's ISO time as the tables show it: ``2025-01-01 10:00:00``."""
    try:
        return dt.datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(text)[:19]


def shown_answer(record: Mapping[str, Any]) -> str:
    """The answer as `assistant log` and the web page show it: one that a stop phrase cut short
    starts with ``[stopped: 'stop']`` (first, so that cutting a long answer cannot hide it);
    lines from before the ``interrupted`` field show the answer alone."""
    answer = str(record.get("answer") or "")
    if record.get("interrupted"):
        answer = f"[stopped: {str(record['interrupted'])!r}] {answer}".rstrip()
    return answer


@dataclass(frozen=True)
class Unanswered:
    transcript: str
    count: int
    last_time: str
    best_question: str | None
    best_score: float | None


def unanswered(records: list[dict[str, Any]]) -> list[Unanswered]:
    """Speech that got no answer, grouped (case and spacing ignored), most frequent first:
    what to add to qa.yaml next. Whether the fallback was spoken or the utterance was kept
    quiet as not meant for the assistant, the words heard are listed (with the cascade,
    Whisper's words for a question the grammar did not know). Noise (no words) and errors
    are left out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        text = " ".join(str(r.get("transcript") or "").split())
        if not text or r.get("error") or _no_words(r) or not r.get("fallback", False):
            continue
        groups.setdefault(text.casefold(), []).append(r)
    out = []
    for items in groups.values():
        last = items[-1]
        top = (last.get("top") or [{}])[0]
        out.append(Unanswered(" ".join(str(last.get("transcript")).split()), len(items),
                              str(last.get("time", "")), top.get("question"), top.get("score")))
    out.sort(key=lambda u: (-u.count, _neg(u.last_time)))
    return out


def _no_words(record: dict[str, Any]) -> bool:
    """Ignored as noise: no words heard (not: words heard but kept quiet)."""
    return str(record.get("ignored") or "").startswith("no words")


def _neg(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)  # newest first among equal counts


@dataclass(frozen=True)
class Tally:
    """What really happened to the logged utterances (``assistant log --unanswered``)."""

    total: int
    answered: int
    unanswered: int  # words heard, no answer good enough: the fallback
    ignored: int  # no words heard (``ignored`` set, or an old log's empty transcript)
    errors: int

    def line(self) -> str:
        return (f"{self.total} exchange(s): {self.answered} answered, {self.unanswered} "
                f"unanswered (words heard, no answer), {self.ignored} ignored (no words heard), "
                f"{self.errors} error(s)")


def tally(records: list[dict[str, Any]]) -> Tally:
    answered = unanswered_n = ignored = errors = 0
    for r in records:
        if r.get("error"):
            errors += 1
        elif _no_words(r) or not str(r.get("transcript") or "").strip():
            ignored += 1
        elif r.get("fallback", False):
            unanswered_n += 1
        else:
            answered += 1
    return Tally(len(records), answered, unanswered_n, ignored, errors)
