"""Text in, answer out: the knowledge base, its embeddings and the matcher, held together and
swapped atomically on reload. The daemon, the CLI and any front end share this one object."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .kb.background import Background, cached_sentences
from .kb.decision import DEFAULT_MARGIN_WEIGHT, DEFAULT_MODEL, fit_cached
from .kb.embed import Embedder, cached_embeddings
from .kb.knowledge import KnowledgeBase, render_answer
from .kb.matcher import DEFAULT_SCORING, Match, Matcher
from .kb.normalize import Speller
from .kb.normalize import normalize as normalize_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    query: str
    match: Match
    answer: str
    fallback: bool
    embed_ms: float
    match_ms: float

    @property
    def question(self) -> str | None:
        best = self.match.best
        return best.question if best else None

    @property
    def score(self) -> float | None:
        best = self.match.best
        return best.score if best else None

    @property
    def confidence(self) -> float | None:
        """What the threshold is compared with: the score plus the margin bonus."""
        return self.match.confidence

    @property
    def threshold(self) -> float:
        return self.match.threshold

    def decision(self) -> str:
        """``confidence 0.612 >= threshold 0.550``: why it answered or fell back."""
        if self.confidence is None:
            return f"no candidate, threshold {self.threshold:.3f}"
        op = ">=" if self.confidence >= self.threshold else "<"
        said = f"confidence {self.confidence:.3f} {op} threshold {self.threshold:.3f}"
        if self.match.elsewhere:
            said += (f", but closer to a Home Assistant command ({self.match.elsewhere!r}) "
                     "than to any phrasing")
        return said

    def as_dict(self) -> dict[str, object]:
        return {
            "query": self.query, "question": self.question,
            "score": None if self.score is None else round(self.score, 4),
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "threshold": round(self.threshold, 4),
            "answer": self.answer, "fallback": self.fallback,
            "elsewhere": self.match.elsewhere,
            "top": [{"question": c.question, "score": round(c.score, 4)}
                    for c in self.match.candidates],
        }


class Answerer:
    def __init__(self, kb: KnowledgeBase, embedder: Embedder, threshold: float | str = "auto",
                 cache_dir: Path | None = None, scoring: str = DEFAULT_SCORING,
                 margin_weight: float = DEFAULT_MARGIN_WEIGHT, normalize: bool = True,
                 fit: str = DEFAULT_MODEL, language: str = "en",
                 background: str = "none") -> None:
        self.embedder = embedder
        self.background = background  # "home-assistant": its commands are not ours to answer
        self._backgrounds: dict[str, Background | None] = {}  # per language
        self.language = language  # config.yaml's; qa.yaml's own `language:` comes first
        self.fit = fit
        self.threshold = threshold
        self.cache_dir = cache_dir
        self.scoring = scoring
        self.margin_weight = margin_weight
        self.normalize = normalize
        self._lock = threading.Lock()
        self._state = self._build(kb)

    def _build(self, kb: KnowledgeBase) -> tuple[Matcher, Speller | None]:
        texts = [self.prepare(q, language=lang or self.language)
                 for q, lang in zip(kb.questions, kb.phrasing_languages, strict=True)]
        vecs = cached_embeddings(self.embedder, texts, self.cache_dir)
        speller = Speller(texts) if self.normalize else None
        decision = fit_cached(vecs, np.asarray(kb.question_entry, dtype=np.int64),
                              self.cache_dir, self.threshold, self.scoring, self.margin_weight,
                              self.fit)
        return Matcher(kb, vecs, decision=decision,
                       background=self._background_in(kb.language or self.language)), speller

    def _background_in(self, language: str) -> Background | None:
        """The other assistant's sentences in ``language``, embedded (cached on disk) once per
        language; None when switched off, or with no such sentences."""
        if self.background == "none":
            return None
        if language not in self._backgrounds:
            pairs = cached_sentences(language, self.cache_dir)
            found = None
            if pairs:
                texts = [self.prepare(t, language=language) for _, t in pairs]
                vecs = cached_embeddings(self.embedder, texts, self.cache_dir)
                found = Background(tuple(t for _, t in pairs), tuple(i for i, _ in pairs),
                                   np.asarray(vecs, dtype=np.float32))
            else:
                log.info("no sentences of other assistants in %r: matcher.background is off",
                         language)
            self._backgrounds[language] = found
        return self._backgrounds[language]

    def prepare(self, text: str, speller: Speller | None = None,
                language: str | None = None) -> str:
        """What is embedded: phrasings normalised (number words in ``language``, by default
        the knowledge base's), queries also spelling-corrected against the phrasings' words."""
        if not self.normalize:
            return " ".join(text.split())
        lang = language or self.kb_language
        normal = normalize_text(text) if lang == "en" else normalize_text(text, lang)
        prepared = speller(normal) if speller else normal
        return prepared or text  # normalising may leave nothing (e.g. only punctuation)

    def embed_queries(self, texts: Sequence[str], language: str | None = None) -> np.ndarray:
        """Questions embedded exactly as reply embeds them (normalised, spelling-corrected
        against the current knowledge base): one unit vector per row."""
        speller = self._state[1]
        return self.embedder.embed([self.prepare(t, speller, language) for t in texts])

    @property
    def kb(self) -> KnowledgeBase:
        return self._state[0].kb

    @property
    def kb_language(self) -> str:
        """The knowledge base's language: qa.yaml's `language:`, else config.yaml's."""
        state = getattr(self, "_state", None)
        return (state[0].kb.language if state else None) or self.language

    @property
    def matcher(self) -> Matcher:
        return self._state[0]

    def reload(self, kb: KnowledgeBase) -> None:
        """Embed the new knowledge base, then swap: a question in flight sees old or new,
        never a mix."""
        state = self._build(kb)
        with self._lock:
            self._state = state

    def reply(self, text: str, language: str | None = None) -> Reply:
        """The answer to ``text``; ``language``: the language it was asked in (Whisper's),
        None = the knowledge base's. The answer comes in that language where qa.yaml has it."""
        matcher = self.matcher
        kb = matcher.kb
        query = " ".join(text.split())
        home = self.kb_language
        if not query:
            return Reply(query, Match((), matcher.threshold), kb.fallback_in(language, home),
                         True, 0.0, 0.0)
        t0 = time.perf_counter()
        vec = self.embed_queries([query], language)[0]
        t1 = time.perf_counter()
        match = matcher.match(vec)
        t2 = time.perf_counter()
        best = match.best
        if match.answered and best is not None:
            entry = kb.entries[best.entry]
            text, said_in = entry.answer_in(language, entry.language or home)
            answer, fallback = render_answer(text, language=said_in), False
        else:
            answer, fallback = kb.fallback_in(language, home), True
        return Reply(query, match, answer, fallback, 1000 * (t1 - t0), 1000 * (t2 - t1))

    def match_many(self, texts: Sequence[str], language: str | None = None) -> list[Match]:
        """Match many questions with one embedding call (evaluation); same result as reply."""
        if not texts:
            return []
        return self.matcher.match_many(self.embed_queries(texts, language))
