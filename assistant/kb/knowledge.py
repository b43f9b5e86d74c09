"""qa.yaml: entries of one answer and one or more phrasings of its question.

    fallback: "Sorry, I don't know that yet."     # optional
    entries:
      - answer: "I live in Kathmandu."
        questions: ["Where do you live?", "Which city are you from?",
                    "(where's|where is) your home"]   # a template: see templates.py

In other languages (docs/languages.md), ``language: es`` at the top names the knowledge base's
language (else config.yaml's ``language``), an entry may have its own ``language:``, and an
answer (and the fallback) may come in several, the question's language spoken where given:

      - answer: {en: "I live in Kathmandu.", es: "Vivo en Katmandú."}
        questions: ["Where do you live?", "¿Dónde vives?"]

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
    answer: str  # in the entry's (else the knowledge base's) language, else the first given
    questions: tuple[str, ...]  # every phrasing, templates expanded
    templates: tuple[str, ...] = ()  # the templates as written (see templates.py)
    answers: tuple[tuple[str, str], ...] = ()  # (language, answer) when given per language
    language: str | None = None  # the language of its phrasings; None = the knowledge base's

    def answer_in(self, *languages: str | None) -> tuple[str, str | None]:
        """The answer in the first of ``languages`` it is given in, else :attr:`answer` (in
        the last of ``languages``), with the language it is in."""
        given = dict(self.answers)
        found = next((lang for lang in languages if lang in given), None)
        return (given[found], found) if found else (self.answer, languages[-1])


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    fallback: str = DEFAULT_FALLBACK
    source: str = "<memory>"
    language: str | None = None  # qa.yaml's own `language:`; None = config.yaml's
    fallbacks: tuple[tuple[str, str], ...] = ()  # (language, text) when given per language
    fallback_given: bool = True  # False: DEFAULT_FALLBACK, English, stood in for none

    def fallback_in(self, *languages: str | None) -> str:
        """The fallback in the first of ``languages`` it has (qa.yaml's, or the built-in one
        of that language where qa.yaml gives none), else :attr:`fallback`."""
        from ..language import FALLBACK

        given = dict(self.fallbacks)
        for lang in languages:
            if lang in given:
                return given[lang]
            if not self.fallback_given and lang in FALLBACK:
                return FALLBACK[lang]
        return self.fallback

    @property
    def phrasing_languages(self) -> list[str | None]:
        """For each phrasing in :attr:`questions`, its entry's language (None: the base's)."""
        return [e.language or self.language for e in self.entries for _ in e.questions]

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


# {date} in the languages whose knowledge bases were measured (docs/languages.md); others
# get the day as digits (day.month.year), which every voice reads.
_DATES = {
    "es": ("lunes martes miércoles jueves viernes sábado domingo",
           "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
           "diciembre", "{weekday}, {day} de {month} de {year}"),
    "de": ("Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag",
           "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
           "{weekday}, {day}. {month} {year}"),
    "fr": ("lundi mardi mercredi jeudi vendredi samedi dimanche",
           "janvier février mars avril mai juin juillet août septembre octobre novembre "
           "décembre", "{weekday} {day} {month} {year}"),
}


def _date(now: dt.datetime, language: str | None) -> str:
    if language in (None, "en"):
        return f"{now:%A}, {now:%B} {now.day}, {now.year}"
    if language not in _DATES:
        return f"{now.day}.{now.month}.{now.year}"
    days, months, pattern = _DATES[language]
    return pattern.format(weekday=days.split()[now.weekday()], day=now.day,
                          month=months.split()[now.month - 1], year=now.year)


def render_answer(answer: str, now: dt.datetime | None = None,
                  language: str | None = None) -> str:
    """Fill ``{time}`` and ``{date}`` (the date in ``language``: English when None); every
    other character is left as written."""
    now = now or dt.datetime.now()
    values = {"time": f"{now.hour}:{now.minute:02d}", "date": _date(now, language)}
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


def _language(value: Any, source: str, where: str) -> str:
    from ..language import WHISPER

    if not isinstance(value, str) or value not in WHISPER:
        raise _fail(source, where, f"unknown language code {value!r}; use a code such as en, "
                    "es, de, fr (docs/languages.md)")
    return value


def _texts(value: Any, source: str, where: str,
           language: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An answer or fallback: plain text, or ``{en: ..., es: ...}``. Returns the text in
    ``language`` (else the first given) and the (language, text) pairs (empty for plain)."""
    if not isinstance(value, dict):
        return _check_placeholders(_text(value, source, where), source, where), ()
    if not value:
        raise _fail(source, where, "needs at least one language: {en: ..., es: ...}")
    pairs = tuple((_language(k, source, f"{where} language"),
                   _check_placeholders(_text(v, source, f"{where}.{k}"), source,
                                       f"{where}.{k}")) for k, v in value.items())
    return dict(pairs).get(language or "", pairs[0][1]), pairs


def parse_kb(data: Any, source: str) -> KnowledgeBase:
    if not isinstance(data, dict):
        raise _fail(source, "top level", "must be a mapping with 'entries:' (and optionally "
                    "'fallback:', 'language:'); see the README for the format")
    unknown = sorted(set(data) - {"fallback", "entries", "language"})
    if unknown:
        raise _fail(source, f"unknown field '{unknown[0]}'",
                    "valid fields: fallback, entries, language")
    kb_language = (_language(data["language"], source, "language") if "language" in data
                   else None)
    fallback, fallbacks = _texts(data.get("fallback", DEFAULT_FALLBACK), source, "fallback",
                                 kb_language)
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
        extra = sorted(set(item) - {"answer", "questions", "language"})
        if extra:
            raise _fail(source, f"{where}: unknown field '{extra[0]}'",
                        "valid fields: answer, questions, language")
        language = (_language(item["language"], source, f"{where}.language")
                    if "language" in item else None)
        answer, answers = _texts(item.get("answer"), source, f"{where}.answer",
                                 language or kb_language)
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
        entries.append(Entry(answer, tuple(texts), tuple(templates), answers, language))
    return KnowledgeBase(tuple(entries), fallback, source, kb_language, fallbacks,
                         fallback_given="fallback" in data)


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
