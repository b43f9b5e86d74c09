"""`assistant eval`: spoken questions with known answers through the daemon's own pipeline.

DATASET.tsv has a header and the columns ``audio`` (path relative to the TSV) and ``expected``
(a phrasing from qa.yaml, or empty where no answer should be given), and optionally ``text``
(what was actually said, for the word error rate when it differs from ``expected``).
The metrics are pure functions of the rows, testable without audio.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .kb.knowledge import KnowledgeBase, normalize_key


@dataclass(frozen=True)
class Row:
    audio: Path
    expected: str  # "" = should be rejected
    spoken: str  # reference text for WER ("" = unknown)
    expected_entry: int | None


@dataclass
class Outcome:
    row: Row
    transcript: str = ""
    answered_entry: int | None = None  # None = fallback or no utterance
    question: str | None = None
    score: float | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def category(self) -> str:
        """written (a qa.yaml phrasing said as written), paraphrase (other words, a known
        answer) or unrelated (speech or noise that should get no answer)."""
        if self.row.expected_entry is None:
            return "unrelated"
        same = not self.row.spoken or normalize_key(self.row.spoken) == normalize_key(
            self.row.expected)
        return "written" if same else "paraphrase"

    @property
    def confident_wrong(self) -> bool:
        """Answered, and with another answer than the right one (the worst mistake)."""
        return self.answered_entry is not None and self.answered_entry != \
            self.row.expected_entry

    @property
    def correct(self) -> bool:
        if self.row.expected_entry is None:
            return self.answered_entry is None
        return self.answered_entry == self.row.expected_entry


def read_dataset(path: str | Path, kb: KnowledgeBase) -> list[Row]:
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter="\t")
            header = reader.fieldnames or []
            missing = [c for c in ("audio", "expected") if c not in header]
            if missing:
                raise ConfigError(f"{p}: missing column(s) {', '.join(missing)} in the header "
                                  f"{header!r}; the TSV needs 'audio' and 'expected'",
                                  code="dataset")
            raw = list(reader)
    except FileNotFoundError:
        raise ConfigError(f"{p}: dataset not found", code="dataset") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{p}: cannot read dataset ({exc})", code="dataset") from None
    rows = []
    for n, r in enumerate(raw, start=2):
        expected = (r.get("expected") or "").strip()
        entry = kb.entry_of(expected) if expected else None
        if expected and entry is None:
            raise ConfigError(f"{p}: line {n}: expected question {expected!r} is not in "
                              f"{kb.source}; use one of its phrasings exactly, or leave it "
                              "empty for 'no answer'", code="dataset")
        audio = (r.get("audio") or "").strip()
        if not audio:
            raise ConfigError(f"{p}: line {n}: empty 'audio' path", code="dataset")
        spoken = (r.get("text") or "").strip() if "text" in r else expected
        rows.append(Row(p.parent / audio, expected, spoken, entry))
    if not rows:
        raise ConfigError(f"{p}: the dataset has no rows", code="dataset")
    return rows


def _words(text: str) -> list[str]:
    return normalize_key(text).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    ref, hyp = _words(reference), _words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def summarize(outcomes: list[Outcome], worst: int = 5) -> dict[str, Any]:
    inscope = [o for o in outcomes if o.row.expected_entry is not None]
    outscope = [o for o in outcomes if o.row.expected_entry is None]
    errors = refs = 0
    for o in outcomes:
        if o.row.spoken:
            e, n = word_errors(o.row.spoken, o.transcript)
            errors, refs = errors + e, refs + n
    stages = sorted({k for o in outcomes for k in o.timings_ms})
    latency = {}
    for stage in stages:
        values = [o.timings_ms[stage] for o in outcomes if stage in o.timings_ms]
        latency[stage] = {"median": round(statistics.median(values), 1),
                          "p95": round(float(np.percentile(values, 95)), 1)}
    failed = [o for o in outcomes if not o.correct]
    failed.sort(key=lambda o: -(o.score or 0.0))  # confident mistakes first
    categories = {}
    for name in CATEGORIES:
        sel = [o for o in outcomes if o.category == name]
        if sel:
            categories[name] = {"n": len(sel), "correct": sum(o.correct for o in sel),
                                "accuracy": round(sum(o.correct for o in sel) / len(sel), 4)}
    wrong = sorted((o for o in outcomes if o.confident_wrong), key=lambda o: -(o.score or 0.0))
    asr = [o.timings_ms["asr"] for o in outcomes if "asr" in o.timings_ms]
    return {
        "n": len(outcomes),
        "categories": categories,
        "confident_wrong": [_row(o) for o in wrong],
        "asr_ms_mean": round(float(np.mean(asr)), 1) if asr else None,
        "accuracy": round(sum(o.correct for o in inscope) / len(inscope), 4) if inscope
        else None,
        "rejection": round(sum(o.correct for o in outscope) / len(outscope), 4) if outscope
        else None,
        "wer": round(errors / refs, 4) if refs else None,
        "latency_ms": latency,
        "worst": [_row(o) for o in failed[:worst]],
    }


CATEGORIES = ("written", "paraphrase", "unrelated")


def _row(o: Outcome) -> dict[str, Any]:
    return {"audio": str(o.row.audio), "category": o.category,
            "expected": o.row.expected or None, "spoken": o.row.spoken or None,
            "transcript": o.transcript, "matched": o.question,
            "answered": o.answered_entry is not None,
            "score": None if o.score is None else round(o.score, 3), "error": o.error}
