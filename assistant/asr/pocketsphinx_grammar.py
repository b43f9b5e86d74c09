"""The pocketsphinx grammar of a knowledge base: its words, their pronunciations (CMUdict, or a
letter-to-sound guess for words it lacks), the JSGF grammar of the phrasings, and the cache
of both under ``cache_dir/pocketsphinx/<hash>/`` with checksums (a stale or damaged cache is
rebuilt)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from ..errors import AsrError

FORMAT = 1  # bump when the cache layout or the grammar changes
GRAMMAR = "questions"
_FILES = ("words.dict", "questions.gram")
# Letter-to-sound rules for words CMUdict lacks: longest spelling first. A guess, not a
# linguist; it only has to be close enough for a grammar of a few dozen phrasings.
_LTS = {
    "tch": "CH", "igh": "AY", "ough": "AO", "augh": "AO", "eigh": "EY", "ch": "CH", "sh": "SH",
    "th": "TH", "ph": "F", "wh": "W", "ck": "K", "ng": "NG", "qu": "K W", "kn": "N", "wr": "R",
    "gh": "G", "ee": "IY", "ea": "IY", "oo": "UW", "ou": "AW", "ow": "OW", "oi": "OY",
    "oy": "OY", "ai": "EY", "ay": "EY", "au": "AO", "aw": "AO", "ie": "IY", "ei": "EY",
    "ue": "UW", "ew": "UW", "oa": "OW", "er": "ER", "ir": "ER", "ur": "ER", "ar": "AA R",
    "or": "AO R", "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G",
    "h": "HH", "i": "IH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P",
    "q": "K", "r": "R", "s": "S", "t": "T", "u": "AH", "v": "V", "w": "W", "x": "K S", "y": "IY",
    "z": "Z", "'": "",
}
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _model_path(*parts: str) -> Path:
    import pocketsphinx  # type: ignore[import-untyped]

    path = Path(pocketsphinx.get_model_path(), *parts)
    if not path.exists():
        raise AsrError(f"pocketsphinx model file {path} is missing; reinstall it with "
                       "`pip install --force-reinstall pocketsphinx`", code="model-missing")
    return path


def tokens(phrase: str) -> list[str]:
    """Words as the grammar holds them: lower-case ASCII letters, digits and apostrophes."""
    text = unicodedata.normalize("NFKD", phrase.casefold()).encode("ascii", "ignore").decode()
    return [w.strip("'") for w in re.sub(r"[^a-z0-9']+", " ", text).split() if w.strip("'")]


@lru_cache(maxsize=1)
def cmudict() -> dict[str, tuple[str, ...]]:
    """The package's pronunciation dictionary: word -> its pronunciations (ARPAbet)."""
    out: dict[str, list[str]] = {}
    with open(_model_path("en-us", "cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, _, phones = line.strip().partition(" ")
            out.setdefault(re.sub(r"\(\d+\)$", "", word), []).append(phones.strip())
    return {w: tuple(p) for w, p in out.items()}


def missing_words(phrases: Iterable[str]) -> list[str]:
    """Words of ``phrases`` that CMUdict lacks, in order of appearance; their pronunciation is
    guessed (``assistant check`` reports them)."""
    known = cmudict()
    seen: dict[str, None] = {}
    for phrase in phrases:
        for word in tokens(phrase):
            if word not in known:
                seen.setdefault(word)
    return list(seen)


def guess_pronunciation(word: str) -> str:
    """Phones for a word CMUdict lacks: the split into the fewest pieces, each a dictionary
    word of 3+ letters, a digit, or a letter-to-sound spelling (a final ``e`` is silent)."""
    known = cmudict()
    n = len(word)

    def sound(piece: str, end: int) -> str | None:
        if piece.isdigit() and len(piece) == 1:
            return known[_DIGITS[int(piece)]][0]
        if len(piece) >= 3 and piece in known:
            return known[piece][0]
        if piece == "e" and end == n and n > 2:
            return ""
        return _LTS.get(piece)

    best: list[tuple[int, str] | None] = [(0, "")] + [None] * n
    for i in range(n):
        here = best[i]
        if here is None:
            continue
        for j in range(i + 1, n + 1):
            found = sound(word[i:j], j)
            there = best[j]
            if found is not None and (there is None or here[0] + 1 < there[0]):
                best[j] = (here[0] + 1, f"{here[1]} {found}")
    phones = (best[n] or (0, ""))[1].split()
    squeezed = [p for k, p in enumerate(phones) if k == 0 or p != phones[k - 1]]
    return " ".join(squeezed) or "AH"


def build_files(phrases: Sequence[str], folder: Path) -> None:
    """Write the dictionary and the JSGF grammar of ``phrases`` into ``folder``."""
    known = cmudict()
    words = sorted({w for p in phrases for w in p.split()})
    lines = []
    for word in words:
        for k, phones in enumerate(known.get(word) or (guess_pronunciation(word),)):
            lines.append(f"{word if k == 0 else f'{word}({k + 1})'} {phones}")
    (folder / "words.dict").write_text("\n".join(lines) + "\n", encoding="utf-8")
    body = " |\n  ".join(phrases)
    (folder / "questions.gram").write_text(
        f"#JSGF V1.0;\ngrammar {GRAMMAR};\npublic <{GRAMMAR}> =\n  {body};\n",
        encoding="utf-8")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cache_valid(folder: Path, key: str) -> bool:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return (isinstance(meta, dict) and meta.get("format") == FORMAT
                and meta.get("key") == key
                and all(meta["sha256"][f] == _digest(folder / f) for f in _FILES))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def prepare(phrases: Sequence[str], cache_dir: Path) -> Path:
    """The cached folder for ``phrases`` (normalised), built or rebuilt when not valid."""
    key = hashlib.sha256(json.dumps([FORMAT, list(phrases)]).encode()).hexdigest()[:16]
    folder = cache_dir / "pocketsphinx" / key
    if _cache_valid(folder, key):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    try:
        build_files(phrases, tmp)
        meta = {"format": FORMAT, "key": key, "phrases": len(phrases),
                "sha256": {f: _digest(tmp / f) for f in _FILES}}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
