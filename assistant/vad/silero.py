"""silero-vad as the frame classifier, through ONNX Runtime: no torch in the daemon.

The silero-vad wheel ships ``silero_vad.onnx`` (2.3 MB) but ``import silero_vad`` imports
torch, so the file is found through the installed distribution's file list
(``importlib.metadata``) without importing the package: ``pip install --no-deps silero-vad``.
The model takes 512-sample windows (32 ms at 16 kHz) with 64 samples of context and a
recurrent state; our frames (10-30 ms) are buffered into windows, and each frame is judged by
the latest window's speech probability.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np

from ..audio.types import Audio
from ..errors import VadError

WINDOW = 512
CONTEXT = 64
RATE_HZ = 16000


def model_path() -> Path:
    """The ONNX file inside the installed silero-vad wheel, found without importing it."""
    try:
        files = importlib.metadata.files("silero-vad") or []
    except importlib.metadata.PackageNotFoundError:
        raise VadError("vad.backend silero needs the silero-vad wheel: "
                       "pip install --no-deps silero-vad (its ONNX model; torch is not "
                       "needed), or set vad.backend: webrtcvad", code="missing-package") from None
    for f in files:
        if f.name == "silero_vad.onnx":
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    raise VadError("the installed silero-vad wheel has no silero_vad.onnx; reinstall it "
                   "(pip install --force-reinstall --no-deps silero-vad)", code="missing-model")


class SileroVad:
    """Speech probability per 32 ms window; ``is_speech`` is that probability >= threshold.
    About 0.1 ms of CPU per window (one thread)."""

    def __init__(self, threshold: float = 0.5, path: Path | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path or model_path()), opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise VadError(f"cannot load the silero VAD model ({exc})", code="model") from exc
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)
        self.probability = 0.0

    def is_speech(self, frame: Audio) -> bool:
        if frame.rate_hz != RATE_HZ:
            raise VadError(f"silero VAD needs {RATE_HZ} Hz frames, got {frame.rate_hz} Hz",
                           code="frame")
        self._pending = np.concatenate([self._pending, frame.samples / np.float32(32768.0)])
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            x = np.concatenate([self._context, window])[None, :].astype(np.float32)
            out, self._state = self._session.run(
                None, {"input": x, "state": self._state, "sr": np.array(RATE_HZ, np.int64)})
            self._context = window[-CONTEXT:]
            self.probability = float(out[0][0])
        return self.probability >= self.threshold
