"""Text normalisation applied alike to stored phrasings and to queries before embedding.

Speech recognisers write "WHAT IS THE TIME" and "twenty five dollars" where a person typing
the knowledge base wrote "What's the time?" and "$25". Normalising both sides to lower case,
expanded contractions, numbers as words and no punctuation makes the two meet.
Pure string functions; ``normalize("What's $25?") == "what is twenty five dollars"``.

:class:`Speller` then mends misheard or mistyped query words against the knowledge base's own
vocabulary ("waht is the tiem" -> "what is the time"): sentence models split an unknown word
into unrelated pieces, so one wrong letter can cost more than a missing word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth",
            "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_CURRENCY = {"$": "dollars", "€": "euros", "£": "pounds"}

# 's is expanded only after words where it cannot be a possessive ("today's date" stays).
_IS_WORDS = ("what where who how when why it that there here he she")
_CONTRACTIONS = [
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\blet's\b"), "let us"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"\b(" + "|".join(_IS_WORDS.split()) + r")'s\b"), r"\1 is"),
    (re.compile(r"\b(\w+)'re\b"), r"\1 are"),
    (re.compile(r"\b(\w+)'ve\b"), r"\1 have"),
    (re.compile(r"\b(\w+)'ll\b"), r"\1 will"),
    (re.compile(r"\b(i|you|he|she|we|they|it|that|there)'d\b"), r"\1 would"),
]
_MONEY = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d+)?)")
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:st|nd|rd|th)?")
_PUNCT = re.compile(r"[^\w\s']|_")


def number_words(n: int) -> str:
    """0 <= n < 10**12 in words, without "and": 1024 -> "one thousand twenty four"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for size, name in _SCALES:
        if n >= size:
            head, rest = divmod(n, size)
            return f"{number_words(head)} {name}" + ("" if rest == 0 else
                                                      " " + number_words(rest))
    raise AssertionError("unreachable")


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _spell(match: re.Match[str]) -> str:
    text = match.group(0)
    ordinal = text[-2:] in ("st", "nd", "rd", "th")
    digits = text[:-2] if ordinal else text
    whole, _, frac = digits.replace(",", "").partition(".")
    if len(whole) > 12:
        return text
    words = number_words(int(whole))
    if ordinal and not frac:
        return f" {_ordinal(words)} "
    if frac:
        words += " point " + " ".join(_ONES[int(d)] for d in frac)
    return f" {words} "


def normalize(text: str, language: str = "en") -> str:
    """Lower case, contractions expanded, numbers and currency as words, punctuation out.
    Other languages than English: lower case, numbers as words (num2words, where it covers
    the language; digits stay otherwise), punctuation out."""
    if language != "en":
        return _normalize_other(text, language)
    text = text.casefold().replace("\u2019", "'").replace("`", "'")
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    text = _MONEY.sub(lambda m: f"{m.group(2)} {_CURRENCY[m.group(1)]}", text)
    text = text.replace("%", " percent ")
    text = _NUMBER.sub(_spell, text)
    text = _PUNCT.sub(" ", text)
    words = [w.strip("'") for w in text.split()]
    return " ".join(w for w in words if w)


_DIGITS = re.compile(r"\d+")


def _normalize_other(text: str, language: str) -> str:
    text = text.casefold().replace("\u2019", "'").replace("`", "'")
    if any(c.isdigit() for c in text):
        text = _DIGITS.sub(lambda m: f" {_words_in(int(m.group(0)), language)} ", text)
    text = _PUNCT.sub(" ", text)
    words = [w.strip("'") for w in text.split()]
    return " ".join(w for w in words if w)


def _words_in(n: int, language: str) -> str:
    """``n`` in words in ``language`` by num2words (imported on the first number: English
    never loads it); the digits when it is not installed or does not cover the language."""
    try:
        from num2words import num2words
    except ImportError:
        return str(n)
    try:
        return str(num2words(n, lang=language))
    except (NotImplementedError, OverflowError, ValueError):
        return str(n)


def _deletes(word: str, depth: int) -> set[str]:
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
    substitutions and swaps of neighbouring letters each cost 1."""
    before: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], before[j - 2] + 1)
        before, prev = prev, cur
    return prev[-1]


class Speller:
    """Replaces each query word that the knowledge base never uses by its closest word that
    it does: at most 1 edit for words of 4 to 7 letters, 2 from 8 letters; shorter words and
    words with no close match stay as they are; ties go to the more frequent word. Built
    from normalised phrasings, applied to normalised queries."""

    MIN_LETTERS = 4

    def __init__(self, texts: Iterable[str]) -> None:
        self.freq = Counter(w for t in texts for w in t.split())
        self._index: dict[str, set[str]] = {}
        for word in self.freq:
            for d in _deletes(word, 2):
                self._index.setdefault(d, set()).add(word)

    def correct_word(self, word: str) -> str:
        if word in self.freq or len(word) < self.MIN_LETTERS or not word.isalpha():
            return word
        limit = 1 if len(word) < 8 else 2
        found = {c for d in _deletes(word, limit) for c in self._index.get(d, ())}
        ranked = sorted((edit_distance(word, c), -self.freq[c], c) for c in found)
        return ranked[0][2] if ranked and ranked[0][0] <= limit else word

    def __call__(self, text: str) -> str:
        return " ".join(self.correct_word(w) for w in text.split())
