"""wav2vec2 without torch: `assistant download` installs a ready ONNX export (a local folder
laid out like the hub's Xenova/wav2vec2-base-960h stands in for the hub) where the recognizer
looks, it loads without converting, a wrong export is refused, and without torch or an export
the error says to run `assistant download`. The no-torch virtualenv runs the same in
tests/test_pi_install.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import build_hub_export

from assistant.asr import load_recognizer, resolve_backend
from assistant.asr import wav2vec2_onnx as wo
from assistant.asr.wav2vec2_export import KNOWN, export_id, verify
from assistant.asr.wav2vec2_onnx import Wav2Vec2OnnxRecognizer
from assistant.audio.types import Audio
from assistant.cli import main
from assistant.commands import download
from assistant.config import AsrConfig, Config
from assistant.errors import AsrError

pytest.importorskip("onnxruntime")


def cfg(model: Path, export: Path | str, **kw: object) -> AsrConfig:
    return AsrConfig(backend="wav2vec2", model=str(model), onnx_export=str(export), threads=1,
                     **kw)  # type: ignore[arg-type]


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine as a Pi sees it: no conversion possible (building would fail loudly)."""
    def never(*args: object) -> None:
        raise AssertionError("converted with torch")

    monkeypatch.setattr(wo, "converts_here", lambda: False)
    monkeypatch.setattr(wo, "build_onnx", never)


def noise(seconds: float = 1.5) -> Audio:
    rng = np.random.default_rng(1)
    return Audio((rng.standard_normal(int(16000 * seconds)) * 3000).astype(np.int16))


def test_auto_names_the_community_export_of_the_default_model() -> None:
    assert export_id(AsrConfig()) == KNOWN[AsrConfig().model] == "Xenova/wav2vec2-base-960h"
    assert export_id(AsrConfig(model="/my/model")) is None
    assert export_id(AsrConfig(onnx_export="none")) is None


def test_the_installed_export_loads_without_converting_and_gives_torch_logits(
        tiny_wav2vec2: Path, tiny_wav2vec2_export: Path, tmp_path: Path,
        no_torch: None) -> None:
    from assistant.asr.wav2vec2 import Wav2Vec2Recognizer

    a = cfg(tiny_wav2vec2, tiny_wav2vec2_export, quantize="none")
    with pytest.raises(AsrError) as err:  # before the download: one line, the fix
        load_recognizer(a, cache_dir=tmp_path)
    assert err.value.code == "onnx-missing" and "assistant download" in str(err.value)

    assert download.speech_onnx(a, tmp_path) == f"from the export {tiny_wav2vec2_export}"
    target = wo.onnx_path(tiny_wav2vec2, tmp_path, "none")
    meta = json.loads((target.parent / "meta.json").read_text())
    assert meta["quantize"] == "none" and meta["source"] == str(tiny_wav2vec2.resolve())
    assert json.loads((target.parent / "export.json").read_text())["export"] == \
        str(tiny_wav2vec2_export)
    assert download.speech_onnx(a, tmp_path) == "already in the cache"

    rec = load_recognizer(a, cache_dir=tmp_path)
    assert isinstance(rec, Wav2Vec2OnnxRecognizer)
    ref = load_recognizer(cfg(tiny_wav2vec2, "none", runtime="torch"))
    assert isinstance(ref, Wav2Vec2Recognizer)
    audio = noise()
    np.testing.assert_allclose(rec.logits(audio), ref.logits(audio), atol=1e-4)
    assert rec.transcribe(audio).text == ref.transcribe(audio).text
    assert resolve_backend(AsrConfig(model=str(tiny_wav2vec2), quantize="none",
                                     whisper_model="/no/whisper/model"), tmp_path) == \
        "wav2vec2"  # auto sees the installed model


def test_int8_is_quantized_here_from_the_exports_fp32_graph(
        tiny_wav2vec2: Path, tiny_wav2vec2_export: Path, tmp_path: Path,
        no_torch: None) -> None:
    a = cfg(tiny_wav2vec2, tiny_wav2vec2_export, quantize="int8")
    download.speech_onnx(a, tmp_path)
    target = wo.onnx_path(tiny_wav2vec2, tmp_path, "int8")
    fp32 = tiny_wav2vec2_export / "onnx" / "model.onnx"
    assert target.is_file() and target.stat().st_size < fp32.stat().st_size
    rec = load_recognizer(a, cache_dir=tmp_path)
    full = Wav2Vec2OnnxRecognizer(wo.open_session(fp32, 1, AsrError), {}, 0)
    ours, ref = rec.logits(noise()), full.logits(noise())  # type: ignore[attr-defined]
    assert (ours.argmax(-1) == ref.argmax(-1)).mean() > 0.9
    assert np.abs(ours - ref).max() < 0.15 * (ref.max() - ref.min())


def test_an_export_of_another_model_is_refused_and_nothing_is_installed(
        tiny_wav2vec2: Path, tiny_wav2vec2_export: Path, tmp_path: Path,
        no_torch: None) -> None:
    wrong = shutil.copytree(tiny_wav2vec2_export, tmp_path / "wrong")
    vocab = json.loads((wrong / "vocab.json").read_text())
    (wrong / "vocab.json").write_text(json.dumps({**vocab, "<extra>": len(vocab)}))
    empty = tmp_path / "empty"
    empty.mkdir()
    for export, says in ((wrong, "vocab.json differs"), (empty, "has no onnx/model.onnx")):
        with pytest.raises(AsrError) as err:
            download.speech_onnx(cfg(tiny_wav2vec2, export), tmp_path / "cache")
        assert err.value.code == "onnx-export" and says in str(err.value)
    assert not list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))


def test_without_torch_or_a_known_export_download_says_what_to_do(
        tiny_wav2vec2: Path, tmp_path: Path, no_torch: None) -> None:
    with pytest.raises(AsrError) as err:
        download.speech_onnx(cfg(tiny_wav2vec2, "auto"), tmp_path)
    assert err.value.code == "onnx-missing" and "asr.onnx_export" in str(err.value)


def test_the_daemon_path_without_a_model_is_one_line_and_exit_2(
        tiny_wav2vec2: Path, tmp_path: Path, no_torch: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"asr": {"backend": "wav2vec2", "model": str(tiny_wav2vec2)},
                                      "cache_dir": str(tmp_path / "cache"),
                                      "qa_file": str(Path(__file__).parents[1] / "qa.yaml")}))
    wav = tmp_path / "noise.wav"
    import soundfile

    soundfile.write(wav, noise().samples, 16000, subtype="PCM_16")
    assert main(["transcribe", "--config", str(config), str(wav)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error[asr:onnx-missing]") and "`assistant download`" in err
    assert Config().asr.onnx_export == "auto"


def test_verify_accepts_the_models_export_and_rejects_another(
        tiny_wav2vec2: Path, tiny_wav2vec2_export: Path, tmp_path: Path) -> None:
    diff, same = verify(tiny_wav2vec2, tiny_wav2vec2_export / "onnx" / "model.onnx")
    assert diff < 1e-4 and same == 1.0

    from safetensors.numpy import load_file, save_file

    other = shutil.copytree(tiny_wav2vec2, tmp_path / "other")
    weights = load_file(other / "model.safetensors")
    weights["lm_head.weight"] = (weights["lm_head.weight"] * -1.0).astype(np.float32)
    save_file(weights, other / "model.safetensors", metadata={"format": "pt"})
    export = build_hub_export(other, tmp_path / "other-export")
    config = Config(asr=cfg(tiny_wav2vec2, export))
    with pytest.raises(AsrError) as err:
        download.verify_export(config)
    assert err.value.code == "onnx-verify"
    config = Config(asr=cfg(tiny_wav2vec2, tiny_wav2vec2_export))
    assert download.verify_export(config).endswith("it matches")
