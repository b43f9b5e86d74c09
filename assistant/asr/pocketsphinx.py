"""CMU PocketSphinx with the US-English model and CMUdict that its PyPI package ships.

With the knowledge base's phrasings the recognizer decodes with a grammar of exactly those
phrasings (fast, and far more accurate than any n-gram model here), then verifies the result:
the grammar path's acoustic score per frame is compared with a free phone loop's over the
same frames. Speech that is no known phrasing fits the loop much better than any phrasing,
and is rejected with an empty transcript, so the matcher gives the fallback answer.
``benchmarks/pocketsphinx_lm.py`` measures this against n-gram models and a bare grammar.
Without phrasings it decodes with the package's general language model.

The grammar and its dictionary (``pocketsphinx_grammar.py``) are built once per set of
phrasings and cached under ``cache_dir/pocketsphinx/<hash>/``.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.types import PIPELINE_RATE_HZ, Audio
from ..errors import AsrError
from . import Transcript
from .pocketsphinx_grammar import (  # noqa: F401  (re-exported for callers and benchmarks)
    GRAMMAR,
    _model_path,
    build_files,
    missing_words,
    prepare,
    tokens,
)
from .pocketsphinx_lm import GENERAL_WORDS, KB_WEIGHT, MIX_FORMAT, build_mixed

log = logging.getLogger(__name__)

ACCEPT_RATIO = -26.0  # grammar minus phone-loop acoustic score per frame (log base 1.0001)
_LOG_BASE = math.log(1.0001)  # pocketsphinx's log base; scores come back as base**score
_PHONES = "phones"
_TRIGRAM = "trigram"
_MIXED = "mixed"
FUZZY_MIN = 0.5  # n-best: the least difflib ratio to a phrasing that is kept
# mixed: the phone-loop check of its LM path; it rejects nearly every paraphrase at -26 and
# nothing more than the matcher does at <= -50 (docs/paraphrases.md), so it is off
MIXED_RATIO = -math.inf
# grammar: exactly the phrasings; trigram: an n-gram model of the phrasings (any word order);
# hybrid: the grammar, and where it rejects, the trigram model with its own check;
# mixed: the phrasings' trigram mixed with a pruned general English model (pocketsphinx_lm.py)
MODES = ("grammar", "trigram", "hybrid", "mixed")
_LM_MODES = {"trigram": _TRIGRAM, "hybrid": _TRIGRAM, "mixed": _MIXED}
_FILLER = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+|\(null\))$")


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

    def __init__(self, cache_dir: Path | None = None, accept_ratio: float = ACCEPT_RATIO,
                 mode: str = "grammar", trigram_ratio: float = ACCEPT_RATIO,
                 general_words: int = GENERAL_WORDS, kb_weight: float = KB_WEIGHT,
                 nbest: int = 1, lm_weight: float | None = None,
                 fuzzy_min: float = FUZZY_MIN, mixed_ratio: float = MIXED_RATIO) -> None:
        if mode not in MODES:
            raise AsrError(f"unknown pocketsphinx mode {mode!r}; valid: {', '.join(MODES)}",
                           code="mode")
        self.cache_dir = cache_dir
        self.accept_ratio = accept_ratio
        self.mode = mode
        self.trigram_ratio = trigram_ratio
        self.general_words, self.kb_weight, self.nbest = general_words, kb_weight, nbest
        self.fuzzy_min, self.mixed_ratio = fuzzy_min, mixed_ratio
        self.lm_weight = lm_weight  # pocketsphinx's lw for the mixed model; None: its 6.5
        self.phrases: tuple[str, ...] = ()
        self._pending: tuple[str, ...] = ()
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
            self._pending = normal
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
        words = self._mixed(folder) if self.mode == _MIXED else folder / "words.dict"
        options = {"lw": self.lm_weight} if self.mode == _MIXED and self.lm_weight else {}
        decoder = self._new_decoder(dict=str(words), lm=None, fsgusefiller=False,
                                    bestpath=False, **options)
        try:
            decoder.add_jsgf_file(GRAMMAR, str(folder / "questions.gram"))
            decoder.add_allphone_file(_PHONES, str(_model_path("en-us", "en-us-phone.lm.bin")))
            if self.mode == _MIXED:
                decoder.add_lm_file(_MIXED, str(words.with_suffix(".lm.bin")))
            elif self.mode != "grammar":
                decoder.add_lm_file(_TRIGRAM, str(self._arpa(folder)))
            decoder.activate_search(GRAMMAR)
        except (RuntimeError, ValueError) as exc:
            raise AsrError(f"pocketsphinx rejected the grammar built in {folder} ({exc}); "
                           "delete that folder and restart", code="grammar") from None
        return decoder

    def _arpa(self, folder: Path) -> Path:
        """A trigram model (ARPA) of the phrasings, next to the grammar."""
        from pocketsphinx.lm import ArpaBoLM  # type: ignore[import-untyped]

        path = folder / "questions.arpa"
        if not path.exists():
            lm = ArpaBoLM(text="\n".join(self.phrases or self._pending), add_start=True)
            lm.compute()
            lm.write_file(str(path))
        return path

    def _mixed(self, folder: Path) -> Path:
        """The mixed model (``.lm.bin``) and its dictionary (``.dict``), next to the grammar;
        the pruned general model is cached once per vocabulary size above it."""
        stem = folder / f"mixed{MIX_FORMAT}-{self.general_words}-{round(self.kb_weight * 100)}"
        if not stem.with_suffix(".lm.bin").exists():
            general_dir = Path(self.cache_dir) if self.cache_dir is not None else folder
            build_mixed(self.phrases or self._pending, stem, general_dir, self.general_words,
                        self.kb_weight)
        return stem.with_suffix(".dict")

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
        if self.mode in ("grammar", _TRIGRAM):
            return self._checked(pcm, self.mode, self.accept_ratio)
        first = self._checked(pcm, "grammar", self.accept_ratio)
        if first.text:
            return first
        if self.mode != _MIXED:
            return self._checked(pcm, _TRIGRAM, self.trigram_ratio)
        heard = self._nbest(pcm) if self.nbest > 1 else self._checked(pcm, _MIXED,
                                                                      self.mixed_ratio)
        if heard.text in self.phrases:  # the grammar weighed this phrasing and rejected it
            return Transcript("", self.name, 0.0, {**heard.extra, "rejected": True})
        return heard

    def _nbest(self, pcm: bytes) -> Transcript:
        """speech-to-phrase's scheme: of the ``nbest`` best hypotheses, the one closest to a
        phrasing (difflib ratio); none closer than ``fuzzy_min``: rejected."""
        self._decode(pcm, _MIXED)
        hyps: list[str] = []
        for k, hyp in enumerate(self._decoder.nbest()):
            if hyp is None or k >= 4 * self.nbest or len(hyps) >= self.nbest:
                break
            text = clean(hyp.hypstr)
            if text and text not in hyps and text not in self.phrases:
                hyps.append(text)
        if not hyps:
            return Transcript("", self.name, 0.0, {"rejected": True, "hypothesis": ""})
        score, text = max((max(difflib.SequenceMatcher(None, h, p).ratio()
                               for p in self.phrases), h) for h in hyps)
        extra = {"fuzzy": score, "hypothesis": text, "hypotheses": hyps, "mode": "nbest",
                 "rejected": score < self.fuzzy_min}
        return Transcript("" if extra["rejected"] else text, self.name, score, extra)

    def _checked(self, pcm: bytes, mode: str, accept_ratio: float) -> Transcript:
        text, _, segs = self._decode(pcm, _LM_MODES.get(mode, GRAMMAR))
        text = clean(text)
        segs = [s for s in segs if s.word != "<s>" and s.word != "</s>"] or segs
        # grammar: a text that is no phrasing means the grammar's end was never reached
        if not text or (mode == "grammar" and text not in self.phrases):
            return Transcript("", self.name, 0.0, {"rejected": True, "hypothesis": text})
        if accept_ratio == -math.inf:  # no check: the matcher's threshold decides
            return Transcript(text, self.name, 0.5, {"hypothesis": text, "rejected": False,
                                                     "mode": mode})
        frames = max(1, max(s.end_frame for s in segs) + 1)
        _, _, loop = self._decode(pcm, _PHONES)
        ratio = (sum(_log(s.ascore) for s in segs) - sum(_log(s.ascore) for s in loop)) / frames
        confidence = 0.5 + 0.5 * math.tanh((ratio - accept_ratio) / 8.0)  # 0.5 at the bar
        extra = {"ratio": ratio, "hypothesis": text, "rejected": ratio < accept_ratio,
                 "mode": mode}
        return Transcript("" if extra["rejected"] else text, self.name, confidence, extra)


def clean(hypothesis: str) -> str:
    """Lower-case words without fillers (``<sil>``, ``[NOISE]``, ``++...++``) or ``(2)``."""
    words = (re.sub(r"\(\d+\)$", "", w) for w in hypothesis.lower().split())
    return " ".join(w for w in words if w and not _FILLER.match(w))
