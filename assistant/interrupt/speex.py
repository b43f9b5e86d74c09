"""Speex's echo canceller (libspeexdsp's MDF adaptive filter), in-process, through ctypes.

A linear filter learns the room's echo path from what is played and subtracts its estimate:
it removes less echo than WebRTC's AEC3 in a reverberant room, but a voice speaking over the
answer passes unchanged (AEC3's echo suppressor damages it so far that "stop" is heard as "no",
docs/interrupt.md). libspeexdsp is a system library (``apt install libspeexdsp1``; the sound
servers depend on it, so it is nearly always there); nothing to build, no Python package.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np

from ..audio.types import PIPELINE_RATE_HZ
from ..errors import InterruptError
from .canceller import FRAME, TimedCanceller

INSTALL = "sudo apt install libspeexdsp1"
_SET_SAMPLING_RATE = 24  # speex_echo.h: SPEEX_ECHO_SET_SAMPLING_RATE


def _load_library() -> Any:
    path = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(path)
        lib.speex_echo_state_init.restype = ctypes.c_void_p
        lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
        lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 3
        lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    except (OSError, AttributeError) as exc:
        raise InterruptError(f"interrupt.canceller speex needs libspeexdsp ({exc}): {INSTALL}; "
                             "or set interrupt.canceller to livekit, server or none",
                             code="missing-package") from None
    return lib


def available() -> bool:
    """libspeexdsp loads here (``interrupt.canceller: auto`` then picks speex)."""
    try:
        _load_library()
    except InterruptError:
        return False
    return True


class SpeexCanceller(TimedCanceller):
    """libspeexdsp's echo canceller over the shared timeline. ``filter_s``: the longest echo
    it learns (the delay the clocks miss plus the room's reverberation); ``lead_s``: each
    microphone frame is paired with what is heard this much later, a margin against clocks that
    place the reference after its echo, which a filter cannot cancel, until the echo has been
    found; ``align_s``: then the reference is placed this much before its echo (TimedCanceller),
    so the filter spends its length on the room's reverberation."""

    name = "speex"

    def __init__(self, filter_s: float = 0.256, lead_s: float = 0.04, align_s: float = 0.01,
                 tail_s: float = 1.0, max_reference_s: float = 120.0) -> None:
        super().__init__(tail_s, max_reference_s, lead_s, align_s)
        self._lib = _load_library()
        self._state = self._lib.speex_echo_state_init(FRAME, int(filter_s * PIPELINE_RATE_HZ))
        if not self._state:
            raise InterruptError("the speex echo canceller failed to start; reinstall it: "
                                 f"{INSTALL}", code="canceller-start")
        rate = ctypes.c_int(PIPELINE_RATE_HZ)
        self._lib.speex_echo_ctl(self._state, _SET_SAMPLING_RATE, ctypes.byref(rate))
        self._buffer = np.zeros(FRAME, np.int16)

    def _cancel(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        mic, ref = np.ascontiguousarray(mic), np.ascontiguousarray(ref)
        self._lib.speex_echo_cancellation(self._state, mic.ctypes.data, ref.ctypes.data,
                                          self._buffer.ctypes.data)
        return self._buffer.copy()

    def __del__(self) -> None:
        state, self._state = getattr(self, "_state", None), None
        if state:
            self._lib.speex_echo_state_destroy(state)
