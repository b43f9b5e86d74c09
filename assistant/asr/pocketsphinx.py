"""CMU PocketSphinx with the US-English model and CMUdict that its PyPI package ships.

With the knowledge base's phrasings the recognizer decodes with a grammar of exactly those
phrasings (fast, and far more accurate than any n-gram model here), then verifies the result:
the grammar path's acoustic score per frame is compared with a free phone loop's over the
same frames. Speech that is no known phrasing fits the loop much better than any phrasing,
and is rejected with an empty transcript, so the matcher gives the fallback answer.
``benchmarks/pocketsphinx_lm.py`` measures this against n-gram models and a bare grammar.
Without phrasings it decodes with the package's general language model.

The grammar and its dictionary are built once per set of phrasings and cached under
``cache_dir/pocketsphinx/<hash>/`` with checksums; a stale or damaged cache is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.types import PIPELINE_RATE_HZ, Audio
from ..errors import AsrError
from . import Transcript

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the cache layout or the grammar changes
ACCEPT_RATIO = -26.0  # grammar minus phone-loop acoustic score per frame (log base 1.0001)
_LOG_BASE = math.log(1.0001)  # pocketsphinx's log base; scores come back as base**score
_GRAMMAR = "questions"
_PHONES = "phones"
_FILES = ("words.dict", "questions.gram")
_FILLER = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+|\(null\))$")
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
        f"#JSGF V1.0;\ngrammar {_GRAMMAR};\npublic <{_GRAMMAR}> =\n  {body};\n",
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


def trim_silence(samples: np.ndarray, margin_frames: int = 2, drop_db: float = 40.0,
                 frame: int = 160) -> np.ndarray:
    """Cut leading and trailing quiet 10 ms frames (more than ``drop_db`` below the loudest,
    and within 6 dB of the floor), keeping ``margin_frames`` on each side. Without this the
    first and last words of the grammar path absorb the silence and score poorly."""
    n = len(samples) // frame
    if n < 3:
        return samples
    x = samples[: n * frame].astype(np.float64).reshape(n, frame)
    energy = 10 * np.log10((x**2).mean(axis=1) + 1.0)
    threshold = max(float(energy.max()) - drop_db, float(np.percentile(energy, 10)) + 6.0)
    loud = np.nonzero(energy > threshold)[0]
    if not len(loud):
        return samples
    start, end = max(0, loud[0] - margin_frames), min(n, loud[-1] + 1 + margin_frames)
    return samples[start * frame: end * frame]


def _log(score: float) -> float:
    return math.log(score) / _LOG_BASE if score > 0 else -1e9


class PocketsphinxRecognizer:
    name = "pocketsphinx"

    def __init__(self, cache_dir: Path | None = None, accept_ratio: float = ACCEPT_RATIO) -> None:
        self.cache_dir = cache_dir
        self.accept_ratio = accept_ratio
        self.phrases: tuple[str, ...] = ()
        self._decoder: Any = None
        self._lock = threading.Lock()

    missing_words = staticmethod(missing_words)

    def _new_decoder(self, **kwargs: Any) -> Any:
        import pocketsphinx

        try:
            return pocketsphinx.Decoder(hmm=str(_model_path("en-us", "en-us")),
                                        loglevel="FATAL", logfn=os.devnull, **kwargs)
        except (RuntimeError, ValueError) as exc:
            raise AsrError(f"pocketsphinx could not load its model ({exc}); reinstall it with "
                           "`pip install --force-reinstall pocketsphinx`",
                           code="model-invalid") from None

    def adapt(self, phrases: Sequence[str]) -> None:
        """Decode with a grammar of exactly these phrasings (normalised, duplicates dropped);
        no phrasings: the general language model."""
        normal = tuple(dict.fromkeys(" ".join(tokens(p)) for p in phrases if tokens(p)))
        with self._lock:
            if normal == self.phrases and (self._decoder is not None or not normal):
                return
            decoder = self._build(normal) if normal else None
            self.phrases, self._decoder = normal, decoder

    def _build(self, phrases: tuple[str, ...]) -> Any:
        if self.cache_dir is not None:
            try:
                folder = prepare(phrases, Path(self.cache_dir))
                try:
                    return self._load(folder)
                except AsrError:  # checksums fine yet pocketsphinx refuses it: rebuild once
                    shutil.rmtree(folder, ignore_errors=True)
                    return self._load(prepare(phrases, Path(self.cache_dir)))
            except OSError as exc:
                log.warning("pocketsphinx: cannot use the cache in %s (%s); building the "
                            "grammar in a temporary folder", self.cache_dir, exc)
        try:
            with tempfile.TemporaryDirectory(prefix="pocketsphinx-") as tmp:
                build_files(phrases, Path(tmp))
                return self._load(Path(tmp))
        except OSError as exc:
            raise AsrError(f"cannot write the pocketsphinx grammar ({exc}); check the free "
                           "space in the temporary folder", code="cache") from None

    def _load(self, folder: Path) -> Any:
        decoder = self._new_decoder(dict=str(folder / "words.dict"), lm=None,
                                    fsgusefiller=False, bestpath=False)
        try:
            decoder.add_jsgf_file(_GRAMMAR, str(folder / "questions.gram"))
            decoder.add_allphone_file(_PHONES, str(_model_path("en-us", "en-us-phone.lm.bin")))
            decoder.activate_search(_GRAMMAR)
        except (RuntimeError, ValueError) as exc:
            raise AsrError(f"pocketsphinx rejected the grammar built in {folder} ({exc}); "
                           "delete that folder and restart", code="grammar") from None
        return decoder

    def transcribe(self, audio: Audio) -> Transcript:
        if audio.rate_hz != PIPELINE_RATE_HZ:
            raise AsrError(f"pocketsphinx needs {PIPELINE_RATE_HZ} Hz audio, got {audio.rate_hz}"
                           " Hz; convert it with assistant.audio.types.to_pipeline",
                           code="format")
        samples = trim_silence(audio.samples)
        if len(samples) < PIPELINE_RATE_HZ // 10:
            return Transcript("", self.name, None)
        try:
            with self._lock:
                if self._decoder is None:
                    self._decoder = self._new_decoder()
                if not self.phrases:
                    return self._general(samples.tobytes())
                return self._verified(samples.tobytes())
        except (RuntimeError, ValueError) as exc:
            raise AsrError(f"pocketsphinx failed to decode {audio.duration_s:.1f} s of audio "
                           f"({exc}); check the audio device or file", code="decode") from None

    def _decode(self, pcm: bytes, search: str | None = None) -> tuple[str, float, list[Any]]:
        d = self._decoder
        if search is not None:
            d.activate_search(search)
        with warnings.catch_warnings():  # "deprecated and unnecessary", yet without it the
            warnings.simplefilter("ignore", DeprecationWarning)  # noise estimate carries over
            d.start_stream()  # from one utterance to the next and results drift
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        if hyp is None:
            return "", 0.0, []
        return hyp.hypstr, hyp.prob, list(d.seg() or [])

    def _general(self, pcm: bytes) -> Transcript:
        text, prob, _ = self._decode(pcm)
        return Transcript(clean(text), self.name, prob if text else None)

    def _verified(self, pcm: bytes) -> Transcript:
        text, _, segs = self._decode(pcm, _GRAMMAR)
        text = clean(text)
        if text not in self.phrases:  # the grammar's end was never reached: no phrasing
            return Transcript("", self.name, 0.0, {"rejected": True, "hypothesis": text})
        frames = max(1, max(s.end_frame for s in segs) + 1)
        _, _, loop = self._decode(pcm, _PHONES)
        ratio = (sum(_log(s.ascore) for s in segs) - sum(_log(s.ascore) for s in loop)) / frames
        confidence = 0.5 + 0.5 * math.tanh((ratio - self.accept_ratio) / 8.0)  # 0.5 at the bar
        extra = {"ratio": ratio, "hypothesis": text, "rejected": ratio < self.accept_ratio}
        return Transcript("" if extra["rejected"] else text, self.name, confidence, extra)


def clean(hypothesis: str) -> str:
    """Lower-case words without fillers (``<sil>``, ``[NOISE]``, ``++...++``) or ``(2)``."""
    words = (re.sub(r"\(\d+\)$", "", w) for w in hypothesis.lower().split())
    return " ".join(w for w in words if w and not _FILLER.match(w))
