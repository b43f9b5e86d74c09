"""The wav2vec2 path, with a tiny model saved and loaded exactly like the real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.asr import load_recognizer, resolve_backend, wav2vec2_available
from assistant.asr.wav2vec2 import Wav2Vec2Recognizer, greedy_decode
from assistant.audio.types import Audio
from assistant.config import AsrConfig
from assistant.errors import AsrError


def logits_for(text: str, vocab: dict[str, int], repeat: int = 2) -> np.ndarray:
    """Hand-made CTC logits spelling ``text``: each char held ``repeat`` frames, blanks
    between doubled letters, like a real acoustic model's best path."""
    path: list[int] = [0]
    for prev, ch in zip(" " + text, text, strict=False):
        tok = vocab["|"] if ch == " " else vocab[ch.upper()]
        if ch == prev:
            path.append(0)
        path += [tok] * repeat
    path.append(0)
    logits = np.full((len(path), len(vocab)), -5.0, np.float32)
    logits[np.arange(len(path)), path] = 5.0
    return logits


def test_greedy_decode_merges_repeats_and_drops_blanks() -> None:
    vocab = {0: "<pad>", 1: "|", 2: "H", 3: "E", 4: "L", 5: "O", 6: "<unk>"}
    ids = [0, 2, 2, 3, 0, 4, 4, 0, 4, 5, 1, 1, 6, 0]
    assert greedy_decode(ids, vocab, blank_id=0, word_delimiter="|") == "hello"


def test_tiny_model_loads_through_the_real_path_and_decodes_hand_made_logits(
        tiny_wav2vec2: Path) -> None:
    rec = load_recognizer(AsrConfig(backend="wav2vec2", model=str(tiny_wav2vec2), runtime="torch"))
    assert isinstance(rec, Wav2Vec2Recognizer)
    vocab = rec.processor.tokenizer.get_vocab()
    text = "where do you live"
    assert rec.decode(logits_for(text, vocab)) == text
    assert rec.decode(logits_for("good moon", vocab)) == "good moon"


def test_tiny_model_transcribes_audio_to_lowercase_text(tiny_wav2vec2: Path) -> None:
    rec = load_recognizer(AsrConfig(backend="wav2vec2", model=str(tiny_wav2vec2), runtime="torch"))
    rng = np.random.default_rng(0)
    audio = Audio((rng.standard_normal(16000) * 3000).astype(np.int16))
    out = rec.transcribe(audio)
    assert out.backend == "wav2vec2"
    assert out.text == out.text.lower()
    logits = rec.logits(audio)
    assert logits.shape[1] == len(rec.processor.tokenizer.get_vocab())
    # conv stack (kernel 10 stride 5, kernel 8 stride 4): (16000-10)//5+1=3199, (3199-8)//4+1
    assert logits.shape[0] == 798


def test_missing_model_is_one_line_naming_model_and_fix(tmp_path: Path) -> None:
    with pytest.raises(AsrError) as err:
        load_recognizer(AsrConfig(backend="wav2vec2", model="no-such-user/no-such-model"))
    msg = str(err.value)
    assert "no-such-user/no-such-model" in msg and "assistant download" in msg
    assert "\n" not in msg


def test_folder_without_safetensors_is_refused(tiny_wav2vec2: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "pickled"
    shutil.copytree(tiny_wav2vec2, copy)
    (copy / "model.safetensors").rename(copy / "pytorch_model.bin")
    with pytest.raises(AsrError):
        load_recognizer(AsrConfig(backend="wav2vec2", model=str(copy)))


def test_auto_uses_wav2vec2_only_when_its_weights_are_here(tiny_wav2vec2: Path) -> None:
    no_whisper = "/no/whisper/model"  # auto prefers the Whisper cascade when it is installed
    assert resolve_backend(AsrConfig(backend="auto", model=str(tiny_wav2vec2),
                                     whisper_model=no_whisper)) == "wav2vec2"
    ok, why = wav2vec2_available(AsrConfig(model="facebook/wav2vec2-base-960h-not-here"))
    assert not ok and "not downloaded" in why
    assert resolve_backend(AsrConfig(backend="auto", model="nobody/nothing",
                                     whisper_model=no_whisper)) == "pocketsphinx"
