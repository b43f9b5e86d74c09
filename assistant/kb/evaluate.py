"""Scoring a matcher on labelled questions: the test-file reader and the pure metrics.

A test file is tab-separated with a header naming the columns ``text`` and ``expected``:
``expected`` is any phrasing of the right entry, exactly as written in qa.yaml (case and
punctuation aside), or empty when the question is out of scope and the fallback is right.

Metrics, as fractions:

* ``top1``: in-scope questions whose best entry is the right one, threshold ignored;
* ``accuracy``: in-scope questions answered (confidence >= threshold) with the right entry;
* ``rejection``: out-of-scope questions given the fallback;
* the *balanced* threshold: the one that maximises min(accuracy, rejection) on this data;
* ``confident_wrong``: questions answered (confidence >= threshold) with a wrong entry, or
  answered at all when the fallback was right: what a user hears as a confident mistake.

:func:`needed_threshold` says, for one wrong reply, which threshold would have made it right.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, KnowledgeError
from .knowledge import KnowledgeBase
from .matcher import Match
from .scores import answered_right, best_threshold


@dataclass(frozen=True)
class Case:
    text: str
    expected: int | None  # entry index; None = out of scope
    line: int


@dataclass(frozen=True)
class Metrics:
    n: int
    n_in_scope: int
    n_out_of_scope: int
    top1: float | None
    accuracy: float | None
    rejection: float | None
    threshold: float  # the one accuracy and rejection were measured at
    balanced_threshold: float | None
    balanced_accuracy: float | None
    balanced_rejection: float | None
    confident_wrong: int = 0  # answered, but the fallback or another entry was right

    def as_dict(self) -> dict[str, object]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def read_cases(path: str | Path, kb: KnowledgeBase) -> list[Case]:
    """Read a test file; errors name the file, the line and the bad value."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except FileNotFoundError:
        raise ConfigError(f"{p}: test file not found", code="missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read test file ({exc})", code="unreadable") from None
    if not rows:
        raise ConfigError(f"{p}: empty; the first line must name the columns 'text' and "
                          "'expected', separated by a tab", code="eval-data")
    header = [h.strip().casefold() for h in rows[0]]
    missing = [c for c in ("text", "expected") if c not in header]
    if missing:
        raise ConfigError(f"{p}: line 1: no column '{missing[0]}' in the header {rows[0]!r}; "
                          "it must name 'text' and 'expected', separated by a tab",
                          code="eval-data")
    col_text, col_exp = header.index("text"), header.index("expected")
    cases = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if col_text >= len(row):
            raise ConfigError(f"{p}: line {line}: no 'text' column in {row!r} (columns are "
                              "separated by a tab)", code="eval-data")
        text = row[col_text].strip()
        expected = row[col_exp].strip() if col_exp < len(row) else ""
        if not text:
            raise ConfigError(f"{p}: line {line}: empty text", code="eval-data")
        entry = kb.entry_of(expected) if expected else None
        if expected and entry is None:
            raise KnowledgeError(f"{p}: line {line}: expected {expected!r} is not a question "
                                 f"in {kb.source}", code="eval-data")
        cases.append(Case(text, entry, line))
    if not cases:
        raise ConfigError(f"{p}: no questions after the header", code="eval-data")
    return cases


def accuracy_at_rejection(correct: np.ndarray, in_conf: np.ndarray, out_conf: np.ndarray,
                          rejection: float) -> tuple[float, float]:
    """(accuracy, threshold) at the lowest threshold that rejects at least ``rejection`` of
    the out-of-scope questions: the issue's "right answers at 85% rejection"."""
    out = np.sort(out_conf.astype(np.float64))
    k = int(np.ceil(rejection * len(out) - 1e-9))
    t = float(out[k - 1]) + 1e-6 if k > 0 else -np.inf
    return float(answered_right(correct, in_conf, np.array([t]))[0]), t


def evaluate(matches: Sequence[Match], expected: Sequence[int | None]) -> Metrics:
    """Metrics of one Match per question against the expected entries (None: out of scope)."""
    if len(matches) != len(expected):
        raise ValueError("one expected entry per match is required")
    threshold = matches[0].threshold if matches else 0.0
    conf = np.array([m.confidence if m.confidence is not None else -np.inf for m in matches])
    best = np.array([m.best.entry if m.best else -1 for m in matches])
    answered = np.array([m.answered for m in matches], dtype=bool)
    inside = np.array([e is not None for e in expected], dtype=bool)
    exp = np.array([-2 if e is None else e for e in expected])
    right = best == exp
    n_in, n_out = int(inside.sum()), int((~inside).sum())
    top1 = float(right[inside].mean()) if n_in else None
    accuracy = float((right & answered)[inside].mean()) if n_in else None
    rejection = float((~answered)[~inside].mean()) if n_out else None
    balanced: tuple[float | None, ...] = (None, None, None)
    if n_in and n_out:
        balanced = best_threshold(right[inside], conf[inside], conf[~inside])
    wrong = int(np.sum(answered & ~right))
    return Metrics(len(matches), n_in, n_out, top1, accuracy, rejection, float(threshold),
                   *balanced, confident_wrong=wrong)


def needed_threshold(match: Match, expected: int | None) -> tuple[str, float] | None:
    """For a reply that was wrong, the threshold that would have made it right, as
    ``(">", t)`` (a threshold above ``t`` gives the fallback instead of a wrong answer) or
    ``("<=", t)`` (a threshold of ``t`` or lower answers the right entry, which was given the
    fallback); None when no threshold helps (the best entry is wrong and the fallback was not
    right either, or a Home Assistant command was closer: ``match.elsewhere``) or the reply
    was right."""
    conf, best = match.confidence, match.best
    if conf is None or best is None or match.elsewhere:
        return None
    got = best.entry if match.answered else None
    if got == expected:
        return None
    if match.answered and expected is None:
        return (">", conf)
    if not match.answered and best.entry == expected:
        return ("<=", conf)
    return None
