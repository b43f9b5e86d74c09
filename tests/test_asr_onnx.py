"""The ONNX Runtime path of wav2vec2: same words as torch, cached once, no torch at run time."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.asr import load_recognizer
from assistant.asr import wav2vec2_onnx as wo
from assistant.asr.wav2vec2 import Wav2Vec2Recognizer
from assistant.asr.wav2vec2_onnx import Wav2Vec2OnnxRecognizer, read_vocab, reads_normalized
from assistant.audio.types import Audio
from assistant.config import AsrConfig
from assistant.errors import AsrError

pytest.importorskip("onnxruntime")


def cfg(model: Path, **kw: object) -> AsrConfig:
    return AsrConfig(backend="wav2vec2", model=str(model), threads=1, **kw)  # type: ignore[arg-type]


def inputs() -> list[Audio]:
    """Noise of a few lengths and loudnesses, and a chirp: different frame counts and levels."""
    rng = np.random.default_rng(0)
    t = np.arange(24000) / 16000
    chirp = (8000 * np.sin(2 * np.pi * (200 + 400 * t) * t)).astype(np.int16)
    return [Audio((rng.standard_normal(n) * scale).astype(np.int16))
            for n, scale in ((4000, 500), (16000, 3000), (37000, 12000))] + [Audio(chirp)]


def spelled(text: str, vocab: dict[int, str], repeat: int = 2) -> np.ndarray:
    """CTC logits whose best path spells ``text`` (blanks between doubled letters)."""
    ids = {t: i for i, t in vocab.items()}
    path = [0]
    for prev, ch in zip(" " + text, text, strict=False):
        if ch == prev:
            path.append(0)
        path += [ids["|" if ch == " " else ch.upper()]] * repeat
    logits = np.full((len(path) + 1, len(vocab)), -5.0, np.float32)
    logits[np.arange(len(path)), path] = 5.0
    logits[-1, 0] = 5.0
    return logits


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def torch_rec(tiny_wav2vec2: Path) -> Wav2Vec2Recognizer:
    rec = load_recognizer(cfg(tiny_wav2vec2, runtime="torch"))
    assert isinstance(rec, Wav2Vec2Recognizer)
    return rec


def test_onnx_is_the_cpu_default_and_reads_the_tokenizer_without_transformers(
        tiny_wav2vec2: Path, cache: Path, torch_rec: Wav2Vec2Recognizer) -> None:
    assert (AsrConfig().runtime, AsrConfig().quantize) == ("onnx", "int8")
    rec = load_recognizer(cfg(tiny_wav2vec2), cache_dir=cache)
    assert isinstance(rec, Wav2Vec2OnnxRecognizer)
    assert (rec.vocab, rec.blank_id, rec.word_delimiter) == \
        (torch_rec.vocab, torch_rec.blank_id, torch_rec.word_delimiter)
    for text in ("where do you live", "good moon", "it's all"):
        assert rec.decode(spelled(text, rec.vocab)) == text


def test_numpy_features_equal_the_feature_extractor(torch_rec: Wav2Vec2Recognizer) -> None:
    rec = Wav2Vec2OnnxRecognizer(None, {}, 0)
    for audio in inputs():
        ours = rec.features(audio)
        theirs = torch_rec.processor(audio.as_float(), sampling_rate=16000,
                                     return_tensors="np").input_values
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_fp32_onnx_gives_torch_logits_and_text(tiny_wav2vec2: Path, cache: Path,
                                               torch_rec: Wav2Vec2Recognizer) -> None:
    rec = load_recognizer(cfg(tiny_wav2vec2, quantize="none"), cache_dir=cache)
    assert isinstance(rec, Wav2Vec2OnnxRecognizer)
    for audio in inputs():
        ours, ref = rec.logits(audio), torch_rec.logits(audio)
        assert ours.shape == ref.shape  # the time axis is dynamic
        np.testing.assert_allclose(ours, ref, atol=1e-4)
        assert rec.transcribe(audio).text == torch_rec.transcribe(audio).text


def test_int8_onnx_picks_the_same_tokens_wherever_torch_is_sure(
        tiny_wav2vec2: Path, cache: Path, torch_rec: Wav2Vec2Recognizer) -> None:
    """Random weights give near-ties that any rounding flips; where torch's best token leads
    by a clear margin, int8 must agree, and overall nearly every frame agrees."""
    rec = load_recognizer(cfg(tiny_wav2vec2, quantize="int8"), cache_dir=cache)
    assert isinstance(rec, Wav2Vec2OnnxRecognizer)
    for audio in inputs():
        ours, ref = rec.logits(audio), torch_rec.logits(audio)
        top2 = np.sort(ref, axis=-1)[:, -2:]
        sure = top2[:, 1] - top2[:, 0] > 0.1 * (ref.max() - ref.min())
        same = ours.argmax(-1) == ref.argmax(-1)
        assert sure.any() and same[sure].all()
        assert same.mean() > 0.9
        # int8 kernels differ by CPU (VNNI or not): 0.1006 of the range seen on an EPYC here
        assert np.abs(ours - ref).max() < 0.15 * (ref.max() - ref.min())


def test_cache_is_reused_then_rebuilt_when_the_weights_change(
        tiny_wav2vec2: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    model = shutil.copytree(tiny_wav2vec2, tmp_path / "model")
    builds: list[Path] = []
    real_build = wo.build_onnx

    def counting(folder: Path, target: Path, quantize: str) -> None:
        builds.append(target)
        real_build(folder, target, quantize)

    monkeypatch.setattr(wo, "build_onnx", counting)
    caplog.set_level(logging.INFO, logger="assistant.asr.wav2vec2_onnx")
    audio = inputs()[1]
    first = load_recognizer(cfg(model), cache_dir=tmp_path / "cache")
    assert len(builds) == 1 and "converting wav2vec2 to ONNX int8 (once" in caplog.text
    built = builds[0].stat().st_mtime_ns
    before = first.logits(audio)  # type: ignore[attr-defined]

    again = load_recognizer(cfg(model), cache_dir=tmp_path / "cache")
    assert len(builds) == 1 and builds[0].stat().st_mtime_ns == built
    np.testing.assert_array_equal(again.logits(audio), before)  # type: ignore[attr-defined]

    from safetensors.numpy import load_file, save_file

    weights = load_file(model / "model.safetensors")
    head = "lm_head.weight"
    weights[head] = (weights[head] * -1.0).astype(weights[head].dtype)
    save_file(weights, model / "model.safetensors", metadata={"format": "pt"})
    changed = load_recognizer(cfg(model), cache_dir=tmp_path / "cache")
    assert len(builds) == 2 and builds[1] != builds[0]
    assert not builds[0].exists()  # the stale entry of the same model is pruned
    assert not np.allclose(changed.logits(audio), before)  # type: ignore[attr-defined]


def test_cached_model_loads_without_importing_torch(tiny_wav2vec2: Path, cache: Path) -> None:
    rec = load_recognizer(cfg(tiny_wav2vec2), cache_dir=cache)  # built here, with torch
    audio = inputs()[2]
    script = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from assistant.asr import load_recognizer\n"
        "from assistant.audio.types import Audio\n"
        "from assistant.config import AsrConfig\n"
        f"cfg = AsrConfig(backend='wav2vec2', model={str(tiny_wav2vec2)!r}, threads=1)\n"
        f"rec = load_recognizer(cfg, cache_dir=Path({str(cache)!r}))\n"
        "samples = np.frombuffer(sys.stdin.buffer.read(), np.int16)\n"
        "print(rec.transcribe(Audio(samples)).text)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'transformers' not in sys.modules, 'transformers was imported'\n")
    out = subprocess.run([sys.executable, "-c", script], input=audio.pcm, capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
                         timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip() == rec.transcribe(audio).text


def test_a_corrupt_cached_file_says_what_to_delete(tiny_wav2vec2: Path, tmp_path: Path) -> None:
    path = wo.onnx_path(tiny_wav2vec2, tmp_path, "int8")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an onnx model")
    with pytest.raises(AsrError) as err:
        load_recognizer(cfg(tiny_wav2vec2), cache_dir=tmp_path)
    assert err.value.code == "onnx-cache" and str(path.parent) in str(err.value)


def test_cuda_keeps_the_torch_runtime(tiny_wav2vec2: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(AsrError) as err:  # only the torch path knows about CUDA
        load_recognizer(cfg(tiny_wav2vec2, device="cuda"), cache_dir=tmp_path)
    assert err.value.code == "no-cuda"
    assert not (tmp_path / "onnx").exists()


def test_older_tokenizer_files_are_read(tmp_path: Path) -> None:
    """transformers 4 layout: preprocessor_config.json and special_tokens_map.json, tokens as
    dicts; a pad token that is not id 0."""
    (tmp_path / "vocab.json").write_text(json.dumps({"|": 0, "A": 1, "[PAD]": 2, "<unk>": 3}))
    (tmp_path / "special_tokens_map.json").write_text(
        json.dumps({"pad_token": {"content": "[PAD]"}}))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"word_delimiter_token": "|"}))
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"do_normalize": False}))
    vocab, blank, delimiter = read_vocab(tmp_path)
    assert vocab == {0: "|", 1: "A", 2: "[PAD]", 3: "<unk>"} and blank == 2 and delimiter == "|"
    assert not reads_normalized(tmp_path)


def test_an_unwritable_cache_is_one_line_not_a_traceback(
        tiny_wav2vec2: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    with pytest.raises(AsrError) as err:
        load_recognizer(cfg(tiny_wav2vec2), cache_dir=blocked)
    assert err.value.code == "onnx-build" and "asr.runtime: torch" in str(err.value)
    assert "\n" not in str(err.value)
