"""Interrupting an answer (``interrupt.enabled``): the microphone stays open while the
assistant speaks, through an echo canceller, and a stop phrase ends the answer.

    loudspeaker samples --played--> canceller (canceller.py) <--microphone-- room
                                        | the room without the assistant's own voice
                                        v
                     stop-phrase spotter (spotter.py) + the wake word detector
                                        | detections
                                        v
                     StopRule (rule.py, pure): settled? louder than the residual echo?
                                        | yes
                                        v
                     Interrupter (barge.py): sets ``stopped``; the sink cuts the answer

The daemon only wires it: it hands microphone chunks to ``Interrupter.hear`` while speaking;
the pipeline hands the Interrupter to the sink, which feeds the canceller what it plays and
stops writing once ``stopped`` is set.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..audio.types import Audio
    from ..config import Config
    from .barge import Interrupter

log = logging.getLogger("assistant.interrupt")


def canceller_name(choice: str) -> str:
    """``interrupt.canceller`` resolved: auto = speex where libspeexdsp is installed (it
    stopped 9 of 10 answers live where livekit stopped none: docs/interrupt.md), else livekit
    when installed, else none."""
    if choice != "auto":
        return choice
    from .speex import available

    if available():
        return "speex"
    return "livekit" if importlib.util.find_spec("livekit") is not None else "none"


def whisper_check(recognizer: Any) -> Callable[[Audio], str] | None:
    """Whisper's words for a short clip, from the recognizer (whisper, or the cascade's
    second stage), for the second opinion on a spotted phrase; None without Whisper."""
    for r in (recognizer, getattr(recognizer, "second", None)):
        if getattr(r, "name", None) == "whisper" and hasattr(r, "raw"):
            return lambda audio: " ".join(s.text for s in r.raw(audio)[0])
    return None


def build_interrupter(cfg: Config, recognizer: Any = None) -> Interrupter | None:
    """The Interrupter for ``cfg.interrupt``, or None: off, or no echo canceller (then the
    assistant is deaf while it speaks, said once here). A stop phrase the spotter cannot
    pronounce raises InterruptError (one line). ``recognizer``: its Whisper, if it has one,
    checks each spotted phrase."""
    icfg = cfg.interrupt
    if not icfg.enabled:
        return None
    from ..errors import InterruptError
    from .barge import Interrupter
    from .rule import StopRule
    from .spotter import StopSpotter

    spotter = StopSpotter.load(icfg.phrases, icfg.threshold)
    name = canceller_name(icfg.canceller)
    if name == "none":
        log.warning("interrupt: no echo canceller (interrupt.canceller: %s%s): deaf while "
                    "speaking, as without interruption", icfg.canceller,
                    "; pip install 'assistant[interrupt]' for livekit"
                    if icfg.canceller == "auto" else "")
        return None
    from .canceller import load_canceller

    try:
        canceller = load_canceller(name)
    except InterruptError as exc:
        log.error("interrupt: %s; deaf while speaking instead", exc)
        return None
    wake = None
    if cfg.wake.enabled and icfg.wake_word:
        from ..wake import build_detector

        wake = build_detector(cfg.wake)
    verify = whisper_check(recognizer)
    if verify is None:
        log.warning("interrupt: no Whisper to check a spotted stop phrase (asr.backend "
                    "cascade or whisper): keyphrase spotting alone also stops on ordinary "
                    "talk now and then (docs/interrupt.md)")
    from ..vad.webrtc import WebRtcVad

    log.info("interrupt: say %s over an answer to stop it (echo canceller: %s)",
             " / ".join(repr(p) for p in icfg.phrases) + (" or the wake word" if wake else ""),
             name)
    return Interrupter(canceller, spotter, StopRule(), wake, WebRtcVad(3), verify)
