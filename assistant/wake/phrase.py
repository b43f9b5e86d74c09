"""A custom wake phrase with no training: pocketsphinx keyphrase spotting (``wake.phrase``).

The phrase's words must be in pocketsphinx's pronunciation dictionary (CMUdict, shipped
with the package). Audio is decoded as it comes, 16 kHz mono; a detection reports the stream
time where the phrase ended (from the decoder's word segment) and the utterance is restarted
so that one phrase fires once. A gap in the stream (the voice-activity gate closed, see
gate.py) starts a new utterance anchored at the next chunk's own timestamp.

``threshold`` is pocketsphinx's ``kws_threshold``: the likelihood the phrase must reach
against a free phone loop. Larger (1e-20) = stricter, fewer false wakes, more misses; smaller
(1e-40) = wakes more easily, also on similar-sounding words ("hello" for "hey echo").
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from ..audio.types import Audio
from ..errors import WakeError
from . import Detection

_FRAME_MS = 10.0  # pocketsphinx's frame rate: 100 frames a second
_GAP_MS = 50.0  # a jump larger than this in the timestamps: a new utterance
_REFRACTORY_MS = 1000.0  # one phrase, one detection
# The keyphrase segment ends inside the tail of its last phone ("echo|where": OW runs into
# W); cut there, the recognizer hears a stray sound and rejects the question. Measured on
# espeak-ng "hey echo, where do you live" (3 voices x 2 phrasings, pocketsphinx grammar):
# a cut at the segment end lost 5 of 12 questions, +60 ms lost 2, +90 ms 1 but misheard
# another. The question is cut after end + this.
END_MARGIN_MS = 60.0
# Cepstral mean warm-up: a fresh decoder's mean is the model's default, far from a real
# microphone's, and the first phrase it hears scores poorly (espeak-ng's "hey echo" is
# missed at 1e-40). Audio is held back until it holds WARM_MS of sound above
# LOUD_DBFS (speech, not the silence before it), the mean is estimated on that sound with
# WARM_PASSES feature-only passes (pocketsphinx blends each pass into the running mean),
# then all of it is decoded. Only the first speech after start waits (at most WARM_HOLD_MS
# of audio, then the mean is taken on what is held); later utterances adapt it as they end.
WARM_MS = 1000.0
WARM_HOLD_MS = 4000.0
WARM_PASSES = 4
LOUD_DBFS = -50.0


def _loud(audio: Audio) -> bool:
    x = audio.samples.astype(np.float64)
    return bool(len(x)) and 10 * np.log10((x ** 2).mean() / 32768.0 ** 2 + 1e-12) > LOUD_DBFS


def phrase_words(phrase: str) -> list[str]:
    from ..asr.pocketsphinx_grammar import tokens

    return tokens(phrase)


def unknown_words(phrase: str) -> list[str]:
    """Words of ``phrase`` pocketsphinx cannot pronounce (not in its dictionary)."""
    from ..asr.pocketsphinx_grammar import missing_words

    return missing_words([phrase])


class PhraseDetector:
    def __init__(self, decoder: Any, phrase: str, threshold: float) -> None:
        self._decoder = decoder
        self.word = phrase
        self.threshold = threshold
        self._utt_ms: float | None = None  # stream time of the current utterance's start
        self._fed_ms = 0.0  # stream time of the end of the audio fed so far
        self._refractory_until_ms = -1.0
        self._warm: list[Audio] | None = []  # held back until the mean is estimated

    @classmethod
    def load(cls, phrase: str, threshold: float) -> PhraseDetector:
        if importlib.util.find_spec("pocketsphinx") is None:
            raise WakeError("wake.phrase needs pocketsphinx: pip install pocketsphinx",
                            code="missing-package")
        words = phrase_words(phrase)
        if not words:
            raise WakeError(f"wake.phrase {phrase!r} has no words; give a phrase such as "
                            "\"hey echo\", or null to use wake.word", code="empty-phrase")
        missing = unknown_words(phrase)
        if missing:
            raise WakeError(
                f"wake.phrase {phrase!r}: pocketsphinx cannot pronounce "
                f"{', '.join(repr(w) for w in missing)} (not in its dictionary); pick "
                "common English words (check with `grep -w WORD` in pocketsphinx's "
                "cmudict-en-us.dict)", code="unknown-phrase-word")
        if not 0 < threshold <= 1:
            raise WakeError(f"wake.phrase_threshold {threshold!r} must be between 0 and 1 "
                            "(e.g. 1e-30; smaller wakes more easily)", code="bad-threshold")
        import pocketsphinx

        from ..asr.pocketsphinx_grammar import _model_path

        text = " ".join(words)
        try:
            decoder = pocketsphinx.Decoder(
                hmm=str(_model_path("en-us", "en-us")),
                dict=str(_model_path("en-us", "cmudict-en-us.dict")), lm=None,
                keyphrase=text, kws_threshold=threshold, loglevel="FATAL", logfn=os.devnull)
        except (RuntimeError, ValueError) as exc:
            raise WakeError(f"pocketsphinx could not load its model ({exc}); reinstall it with "
                            "`pip install --force-reinstall pocketsphinx`",
                            code="bad-model") from None
        return cls(decoder, text, threshold)

    def reset(self) -> None:
        if self._utt_ms is not None:
            self._decoder.end_utt()
        self._utt_ms = None
        self._refractory_until_ms = -1.0
        if self._warm is not None:
            self._warm = []

    def flush(self) -> list[Detection]:
        """The stream ended: decode what the warm-up still holds (a short file)."""
        if not self._warm:
            return []
        held, self._warm = self._warm, None
        return self._warm_up_held(held)

    def _restart(self, at_ms: float) -> None:
        if self._utt_ms is not None:
            self._decoder.end_utt()
        self._decoder.start_utt()
        self._utt_ms = at_ms

    def process(self, audio: Audio) -> list[Detection]:
        if self._warm is not None:
            return self._warm_up(audio)
        return self._decode(audio)

    def _warm_up(self, audio: Audio) -> list[Detection]:
        assert self._warm is not None
        self._warm.append(audio)
        held_ms = sum(a.duration_s for a in self._warm) * 1000
        loud_ms = sum(a.duration_s for a in self._warm if _loud(a)) * 1000
        if loud_ms < WARM_MS and held_ms < WARM_HOLD_MS:  # a quiet microphone: wait no more
            return []
        held, self._warm = self._warm, None
        return self._warm_up_held(held)

    def _warm_up_held(self, held: list[Audio]) -> list[Detection]:
        pcm = b"".join(a.pcm for a in held if _loud(a)) or b"".join(a.pcm for a in held)
        for _ in range(WARM_PASSES):
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, True, False)  # features only: updates the mean
            self._decoder.end_utt()
        return [d for a in held for d in self._decode(a)]

    def _decode(self, audio: Audio) -> list[Detection]:
        if self._utt_ms is None or abs(audio.timestamp_ms - self._fed_ms) > _GAP_MS:
            self._restart(audio.timestamp_ms)
        self._decoder.process_raw(audio.pcm, False, False)
        self._fed_ms = audio.end_ms
        hyp = self._decoder.hyp()
        if hyp is None:
            return []
        segs = list(self._decoder.seg())
        end_frame = segs[-1].end_frame + 1 if segs else 0
        end_ms = (self._utt_ms + _FRAME_MS * end_frame + END_MARGIN_MS if segs
                  else self._fed_ms)
        self._restart(self._fed_ms)  # fire once: the rest of the phrase is not heard again
        if end_ms < self._refractory_until_ms:
            return []
        self._refractory_until_ms = end_ms + _REFRACTORY_MS
        # pocketsphinx's acoustic score of the phrase, 0-1 (the kws_threshold comparison
        # itself is internal: tune by trying thresholds with `assistant wake --phrase`)
        return [Detection(self.word, end_ms, float(segs[-1].ascore) if segs else 1.0)]
