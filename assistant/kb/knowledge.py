"""qa.yaml: entries of one answer and one or more phrasings of its question.

    fallback: "Sorry, I don't know that yet."     # optional
    entries:
      - answer: "I live in Kathmandu."
        questions: ["Where do you live?", "Which city are you from?",
                    "(where's|where is) your home"]   # a template: see templates.py

Nothing in the file is ever executed: answers are plain text in which only the placeholders
``{time}`` and ``{date}`` are replaced, at answer time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import parse_yaml
from ..errors import ConfigError, KnowledgeError
from .templates import TemplateError, expand, is_template

DEFAULT_FALLBACK = "Sorry, I don't know that yet."
_PLACEHOLDER = re.compile(r"\{(time|date)\}")
PLACEHOLDERS = ("time", "date")
_ANY_PLACEHOLDER = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class Entry:
    answer: str
    questions: tuple[str, ...]  # every phrasing, templates expanded
    templates: tuple[str, ...] = ()  # the templates as written (see templates.py)


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    fallback: str = DEFAULT_FALLBACK
    source: str = "<memory>"

    @property
    def questions(self) -> list[str]:
        """Every phrasing, in file order."""
        return [q for e in self.entries for q in e.questions]

    @property
    def question_entry(self) -> list[int]:
        """For each phrasing in :attr:`questions`, the index of its entry."""
        return [i for i, e in enumerate(self.entries) for _ in e.questions]

    def fingerprint(self) -> str:
        """Content hash of the questions: the cache key for anything derived from them."""
        return hashlib.sha256("\n".join(self.questions).encode("utf-8")).hexdigest()[:16]

    def entry_of(self, question: str) -> int | None:
        """Index of the entry that has this phrasing (case and spacing ignored)."""
        key = normalize_key(question)
        for i, e in enumerate(self.entries):
            if any(normalize_key(q) == key for q in e.questions):
                return i
        return None


def normalize_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.casefold()).split())


def render_answer(answer: str, now: dt.datetime | None = None) -> str:
    """Fill ``{time}`` and ``{date}``; every other character is left as written."""
    now = now or dt.datetime.now()
    values = {"time": f"{now.hour}:{now.minute:02d}",
              "date": f"{now:%A}, {now:%B} {now.day}, {now.year}"}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], answer)


def _fail(source: str, where: str, message: str) -> KnowledgeError:
    return KnowledgeError(f"{source}: {where}: {message}", code="qa")


def _text(value: Any, source: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _check_placeholders(text: str, source: str, where: str) -> str:
    """An answer may only use the known placeholders: anything else would be spoken literally
    ("It is {weather}")."""
    for m in _ANY_PLACEHOLDER.finditer(text):
        if m.group(1) not in PLACEHOLDERS:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise KnowledgeError(f"{source}: {where}: unknown placeholder {m.group(0)!r} in "
                                 f"{text!r}; the known placeholders are {known}",
                                 code="placeholder")
    return text


def parse_kb(data: Any, source: str) -> KnowledgeBase:
    if not isinstance(data, dict):
        raise _fail(source, "top level", "must be a mapping with 'entries:' (and optionally "
                    "'fallback:'); see the README for the format")
    unknown = sorted(set(data) - {"fallback", "entries"})
    if unknown:
        raise _fail(source, f"unknown field '{unknown[0]}'", "valid fields: fallback, entries")
    fallback = _check_placeholders(_text(data.get("fallback", DEFAULT_FALLBACK), source,
                                         "fallback"), source, "fallback")
    raw = data.get("entries")
    if not isinstance(raw, list) or not raw:
        raise _fail(source, "entries", "the knowledge base is empty; add at least one entry "
                    "with 'answer:' and 'questions:'")
    seen: dict[str, str] = {}
    entries = []
    for i, item in enumerate(raw, start=1):
        where = f"entries[{i}]"
        if not isinstance(item, dict):
            raise _fail(source, where, f"must be a mapping with answer and questions, got "
                        f"{item!r}")
        extra = sorted(set(item) - {"answer", "questions"})
        if extra:
            raise _fail(source, f"{where}: unknown field '{extra[0]}'",
                        "valid fields: answer, questions")
        answer = _check_placeholders(_text(item.get("answer"), source, f"{where}.answer"),
                                     source, f"{where}.answer")
        questions = item.get("questions")
        if isinstance(questions, str):
            questions = [questions]
        if not isinstance(questions, list) or not questions:
            raise _fail(source, f"{where}.questions", "needs a list of one or more phrasings")
        texts: list[str] = []
        templates = []
        for j, q in enumerate(questions, start=1):
            written = _text(q, source, f"{where}.questions[{j}]")
            try:
                phrasings = expand(written)
            except TemplateError as exc:
                raise _fail(source, f"{where}.questions[{j}]",
                            f"template {written!r} {exc}") from None
            if is_template(written):
                templates.append(written)
            for text in phrasings:
                key = normalize_key(text)
                if key in seen and seen[key].startswith(f"{where}.") and is_template(written):
                    continue  # a template repeating a phrasing of its own answer
                if key in seen:
                    raise _fail(source, f"{where}.questions[{j}]", f"duplicate question "
                                f"{text!r} (also at {seen[key]}); keep it under one answer only")
                seen[key] = f"{where}.questions[{j}]"
                texts.append(text)
        entries.append(Entry(answer, tuple(texts), tuple(templates)))
    return KnowledgeBase(tuple(entries), fallback, source)


def load_kb(path: str | Path) -> KnowledgeBase:
    """Read and validate qa.yaml. Raises KnowledgeError with the file, field and value."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(f"{p}: knowledge base not found; pass --qa PATH or set qa_file in "
                             "config.yaml", code="missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{p}: cannot read knowledge base ({exc})",
                             code="unreadable") from None
    try:
        data = parse_yaml(text, str(p))
    except ConfigError as exc:
        raise KnowledgeError(exc.message, code="yaml") from None
    return parse_kb(data, str(p))
