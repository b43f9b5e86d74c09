"""Earcons: a short rising tone when the wake word is heard, a falling one for "not
understood". Played on their own thread, so the microphone is never muted for them; with
``run --out DIR`` written as DIR/earcon_NNN_KIND.wav instead. Each is logged (one INFO line)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from ..audio.types import PIPELINE_RATE_HZ, Audio

log = logging.getLogger("assistant.wake")

_NOTES_HZ = {"wake": (880.0, 1320.0), "not understood": (440.0, 330.0)}


def tone(kind: str, note_s: float = 0.09, volume: float = 0.3) -> Audio:
    """Two short notes with soft edges (no clicks)."""
    n = int(note_s * PIPELINE_RATE_HZ)
    t = np.arange(n) / PIPELINE_RATE_HZ
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    notes = [np.sin(2 * np.pi * hz * t) * fade for hz in _NOTES_HZ[kind]]
    return Audio((np.concatenate(notes) * volume * 32767).astype(np.int16))


def player(play: Callable[[Audio], None]) -> Callable[[str], None]:
    """An ``on_earcon`` hook that plays through ``play`` (a sink's) off the listening thread."""
    def on_earcon(kind: str) -> None:
        def run() -> None:
            try:
                play(tone(kind))
            except Exception as exc:  # a lost loudspeaker must not stop the listening
                log.warning("earcon not played: %s", exc)
        threading.Thread(target=run, name="earcon", daemon=True).start()
    return on_earcon


def earcon_hook(sink: object | None) -> Callable[[str], None]:
    """``run``'s ``on_earcon``: one INFO line per earcon, then the tone written as a file by a
    WavDirSink (``--out``: earcon_NNN_KIND.wav, numbered with the answers) or played on any
    other sink, off the listening thread; with no sink (``--no-speak``) the line only."""
    from ..audio.sinks import WavDirSink

    if isinstance(sink, WavDirSink):
        files = sink

        def write(kind: str) -> None:
            log.info("earcon: %s (%s)", kind, files.write(tone(kind), kind).name)
        return write
    play = player(sink.play) if sink is not None else None  # type: ignore[attr-defined]

    def on_earcon(kind: str) -> None:
        log.info("earcon: %s", kind)
        if play is not None:
            play(kind)
    return on_earcon
