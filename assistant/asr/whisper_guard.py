"""Whisper hears words in noise and silence ("Thank you.", ".", counting along to music): the
rules that turn such output into silence. Pure logic on the decoder's own statistics, no audio.

A segment is dropped when
- Whisper itself says there was no speech: ``no_speech_prob`` above ``no_speech`` while the
  text is not confidently decoded (``avg_logprob`` below ``-1``), its own rule;
- the text is unlikely: ``avg_logprob`` below ``min_logprob``;
- the text repeats itself: gzip ``compression_ratio`` above ``max_compression``, or one word
  n-gram occurring ``max_repeats`` times or more (a decoder stuck in a loop);
- it holds no word at all (punctuation only);
- it says one of the phrasings Whisper was prompted with, word for word, with an
  ``avg_logprob`` below ``echo_min_logprob``: prompted "as if just said", Whisper repeats a
  phrasing when it cannot make out the words (German espeak-ng, "sag mir deinen Namen" ->
  "Wir sprechen uns später.", -0.83 to -1.06), while phrasings it heard were decoded at -0.62
  or better (docs/languages.md).
What remains is joined; the reasons for what was dropped go into the transcript's ``extra``.
``benchmarks/whisper_eval.py`` measured the thresholds (docs/paraphrases.md).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_WORDS = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Segment:
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


@dataclass(frozen=True)
class Guard:
    no_speech: float = 0.6
    min_logprob: float = -1.0
    max_compression: float = 2.4
    max_repeats: int = 3
    ngram: int = 2
    echo_min_logprob: float = -0.75

    def why_dropped(self, seg: Segment, prompted: frozenset[str] = frozenset()) -> str | None:
        """Why this segment is not speech; None to keep it. ``prompted``: the phrasings
        Whisper was prompted with, as their words joined by spaces."""
        words = words_of(seg.text)
        if not words:
            return "no words"
        if " ".join(words) in prompted and seg.avg_logprob < self.echo_min_logprob:
            return f"a prompted phrasing repeated, unsure (logprob {seg.avg_logprob:.2f})"
        if seg.no_speech_prob > self.no_speech and seg.avg_logprob < -1.0:
            return f"no speech (p={seg.no_speech_prob:.2f})"
        if seg.avg_logprob < self.min_logprob:
            return f"unlikely (logprob {seg.avg_logprob:.2f})"
        if seg.compression_ratio > self.max_compression:
            return f"repetitive (compression {seg.compression_ratio:.1f})"
        if repeats(words, self.ngram) >= self.max_repeats:
            return "repetitive (a phrase repeated)"
        return None

    def keep(self, segments: list[Segment], prompted: frozenset[str] = frozenset()
             ) -> tuple[list[Segment], list[str]]:
        """The segments kept, and why each other one was dropped."""
        kept, why = [], []
        for seg in segments:
            reason = self.why_dropped(seg, prompted)
            if reason is None:
                kept.append(seg)
            else:
                why.append(f"{seg.text.strip()!r}: {reason}")
        return kept, why


def words_of(text: str) -> list[str]:
    """Lower-case words (digits and apostrophes kept; punctuation and hyphens split)."""
    return [w.strip("'") for w in _WORDS.findall(text.lower().replace("_", " ")) if w.strip("'")]


def repeats(words: list[str], n: int) -> int:
    """How often the most frequent word n-gram occurs (1 when nothing repeats)."""
    if len(words) < n:
        return 1 if words else 0
    grams = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return max(grams.values())
