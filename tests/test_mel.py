"""Whisper log-mel features computed in numpy (assistant/audio/mel.py): the right shape, energy
in the right band, and the same numbers as faster-whisper's own extractor where installed."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.audio.mel import log_mel, mel_filters


def tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_one_frame_per_10_ms_and_a_tone_lands_in_its_own_band() -> None:
    feats = log_mel(tone(1000.0))
    assert feats.shape == (80, 100) and feats.dtype == np.float32
    # the loudest band holds 1 kHz: its filter is the one that weighs 1 kHz the most
    bins_hz = np.linspace(0, 8000, 201)
    expected = int(np.argmax(mel_filters()[:, int(np.argmin(abs(bins_hz - 1000)))]))
    assert int(np.argmax(feats[:, 50])) == expected
    # a higher tone lands in a higher band
    assert int(np.argmax(log_mel(tone(3000.0))[:, 50])) > expected


def test_silence_is_the_floor_and_nothing_is_nan() -> None:
    feats = log_mel(np.zeros(8000, np.float32))
    assert np.isfinite(feats).all() and np.ptp(feats) == 0


def test_too_short_or_stereo_input_is_refused() -> None:
    with pytest.raises(ValueError, match="one channel"):
        log_mel(np.zeros(100, np.float32))
    with pytest.raises(ValueError, match="one channel"):
        log_mel(np.zeros((2, 16000), np.float32))


def test_the_same_features_as_faster_whisper() -> None:
    fw = pytest.importorskip("faster_whisper.feature_extractor",
                             reason="pip install faster-whisper to compare")
    rng = np.random.default_rng(1)
    x = np.concatenate([np.zeros(4000), tone(440.0, 0.5) + 0.05 * rng.standard_normal(8000),
                        tone(2500.0, 0.7)]).astype(np.float32)
    theirs = fw.FeatureExtractor(feature_size=80)(x, padding=0)
    mine = log_mel(x)
    assert mine.shape == theirs.shape
    assert float(np.abs(mine - theirs).max()) < 2e-3
