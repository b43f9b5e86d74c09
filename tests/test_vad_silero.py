"""vad.backend: silero, the real silero-vad ONNX model through ONNX Runtime, without torch."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from assistant.audio.types import Audio
from assistant.config import VadConfig
from assistant.vad import Framer, build_detector
from tests.conftest import espeak_audio

needs_silero = pytest.mark.skipif(
    importlib.util.find_spec("silero_vad") is None,
    reason="pip install --no-deps silero-vad (ships the ONNX model)")


def speech_frames(vad: object, audio: Audio) -> int:
    return sum(vad.is_speech(f) for f in Framer(30).push(audio))  # type: ignore[attr-defined]


@needs_silero
def test_silero_hears_speech_and_not_steady_noise() -> None:
    vad = build_detector(VadConfig(backend="silero", noise_gate_db=0))
    speech = espeak_audio("what is your name and who made you")
    assert speech_frames(vad, speech) > 0.4 * speech.duration_s / 0.03
    rng = np.random.default_rng(0)
    hiss = Audio((rng.standard_normal(16000 * 4) * 32768 * 10 ** (-40 / 20)).astype(np.int16))
    assert speech_frames(vad, hiss) == 0


@needs_silero
def test_silero_backend_loads_without_importing_torch() -> None:
    code = ("import sys; from assistant.config import VadConfig; "
            "from assistant.vad import build_detector; "
            "build_detector(VadConfig(backend='silero')); "
            "print('torch' in sys.modules, 'silero_vad' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == ["False", "False"]


def test_without_the_wheel_the_error_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from assistant.errors import VadError
    from assistant.vad import silero

    def absent(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "files", absent)
    with pytest.raises(VadError, match="pip install --no-deps silero-vad") as err:
        silero.model_path()
    assert err.value.code == "missing-package"
