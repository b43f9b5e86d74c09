"""Spotting stop phrases ("stop", "cancel", "never mind") in the echo-cancelled microphone
while the assistant speaks: pocketsphinx keyphrase spotting over a list of phrases.

One decoder for the daemon's life: its cepstral mean adapts to the room across answers (a
fresh decoder's mean is the model default, see wake/phrase.py). Each answer starts a new
utterance (``begin``); a detection restarts it, so a phrase fires once. Detections carry the
stream time where the phrase ended, from the decoder's word segment, and its start, so the
rule can compare the phrase's level with the residual echo before it.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from ..audio.types import Audio
from ..errors import InterruptError

_FRAME_MS = 10.0  # pocketsphinx: 100 frames a second
# kws_threshold is a likelihood ratio summed over the phrase's phones, so a longer phrase
# needs a smaller one: ``interrupt.threshold`` is for a phrase of this many phones ("stop",
# S T AA P) and scales as threshold ** (phones / REF_PHONES). Measured on espeak-ng voices
# (7 voices, streaming): "stop" 7/7 at 1e-20..1e-50; "cancel" (6 phones) 2/7 at 1e-20 and 5/7
# at 1e-50; "never mind" (8) 0/7 at 1e-40 and 3/7 at 1e-50.
REF_PHONES = 4
# pocketsphinx waits this many frames after a keyphrase could end for a better-scoring end
# (its default 10: 100 ms later than needed to stop an answer)
KWS_DELAY_FRAMES = 2


def phrase_threshold(phrase: str, threshold: float) -> float:
    """The kws_threshold for ``phrase`` (pocketsphinx's spelling), scaled by its length."""
    from ..asr.pocketsphinx_grammar import cmudict

    known = cmudict()
    phones = sum(len(known[w][0].split()) if w in known else 4 for w in phrase.split())
    return float(threshold ** (phones / REF_PHONES))


@dataclass(frozen=True)
class Spotted:
    phrase: str
    start_ms: float  # stream time where the phrase began
    end_ms: float  # and where it ended


def check_phrases(phrases: tuple[str, ...]) -> list[str]:
    """The phrases as pocketsphinx spells them; InterruptError (one line) when one is empty or
    holds a word it cannot pronounce."""
    from ..asr.pocketsphinx_grammar import missing_words, tokens

    if not phrases:
        raise InterruptError("interrupt.phrases is empty; give at least one, e.g. [stop]",
                             code="no-phrases")
    spelled = [" ".join(tokens(p)) for p in phrases]
    if not all(spelled):
        raise InterruptError(f"interrupt.phrases: {phrases[spelled.index('')]!r} has no words",
                             code="empty-phrase")
    missing = missing_words(phrases)
    if missing:
        raise InterruptError(
            f"interrupt.phrases: pocketsphinx cannot pronounce "
            f"{', '.join(repr(w) for w in missing)} (not in its dictionary); pick common "
            "English words (check with `grep -w WORD` in pocketsphinx's cmudict-en-us.dict)",
            code="unknown-phrase-word")
    return spelled


class StopSpotter:
    def __init__(self, decoder: Any, phrases: list[str]) -> None:
        self._decoder = decoder
        self.phrases = phrases
        self._utt_ms: float | None = None  # stream time of the current utterance's start
        self._fed_ms = 0.0

    @classmethod
    def load(cls, phrases: tuple[str, ...], threshold: float) -> StopSpotter:
        if importlib.util.find_spec("pocketsphinx") is None:
            raise InterruptError("interrupt needs pocketsphinx: pip install pocketsphinx",
                                 code="missing-package")
        spelled = check_phrases(phrases)
        import pocketsphinx

        from ..asr.pocketsphinx_grammar import _model_path

        # pocketsphinx reads a list of keyphrases from a file only ("phrase /threshold/")
        with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as f:
            f.write("".join(f"{p} /{phrase_threshold(p, threshold):g}/\n" for p in spelled))
        try:
            decoder = pocketsphinx.Decoder(
                hmm=str(_model_path("en-us", "en-us")),
                dict=str(_model_path("en-us", "cmudict-en-us.dict")), lm=None, kws=f.name,
                kws_delay=KWS_DELAY_FRAMES, loglevel="FATAL", logfn=os.devnull)
        except (RuntimeError, ValueError) as exc:
            raise InterruptError(f"pocketsphinx could not load its model ({exc}); reinstall "
                                 "it with `pip install --force-reinstall pocketsphinx`",
                                 code="bad-model") from None
        finally:
            os.unlink(f.name)
        return cls(decoder, spelled)

    def begin(self, at_ms: float) -> None:
        """An answer starts playing: a new utterance from stream time ``at_ms``."""
        self._restart(at_ms)
        self._fed_ms = at_ms

    def end(self) -> None:
        if self._utt_ms is not None:
            self._decoder.end_utt()
        self._utt_ms = None

    def _restart(self, at_ms: float) -> None:
        self.end()
        self._decoder.start_utt()
        self._utt_ms = at_ms

    def process(self, audio: Audio) -> list[Spotted]:
        if self._utt_ms is None or abs(audio.timestamp_ms - self._fed_ms) > 50.0:
            self._restart(audio.timestamp_ms)  # a gap in the stream: start afresh
        assert self._utt_ms is not None
        self._decoder.process_raw(audio.pcm, False, False)
        self._fed_ms = audio.end_ms
        hyp = self._decoder.hyp()
        if hyp is None:
            return []
        segs = [s for s in self._decoder.seg() if s.word.strip()]
        phrase = hyp.hypstr.strip()
        if segs:
            start_ms = self._utt_ms + _FRAME_MS * segs[-1].start_frame
            end_ms = self._utt_ms + _FRAME_MS * (segs[-1].end_frame + 1)
        else:
            start_ms = end_ms = self._fed_ms
        self._restart(self._fed_ms)  # fire once
        return [Spotted(phrase, start_ms, min(end_ms, self._fed_ms))]
