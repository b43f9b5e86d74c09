"""A ready ONNX export of the wav2vec2 model, for machines without torch (a Raspberry Pi).

`assistant download` fetches the export named by ``asr.onnx_export`` (a hub id or a local
folder laid out like one: ``onnx/model.onnx`` beside the tokenizer's JSON files) and installs
it exactly where a conversion here would have put it (``wav2vec2_onnx.onnx_path``: the key of
the model's own weights), through the same atomic ``build_cached``; the recognizer then loads
it unchanged, without torch.

Only the fp32 graph is taken. ``asr.quantize: int8`` is made here from it with the recipe of
a local conversion (``onnx_cache.quantize_matmul``), so the downloaded model behaves like the
converted one; the export's own quantized files use another recipe (Transformers.js's),
unmeasured here. Before installing, the export is checked against the model it stands for:
the same vocab.json, ``input_values`` in, ``logits`` of the vocabulary's width out. Where
torch is installed, ``verify`` compares its logits with the torch model's
(``assistant download --verify``).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from ..audio.types import Audio
from ..config import AsrConfig
from ..errors import AsrError
from ..onnx_cache import build_cached, open_session, quantize_matmul, read_json
from .wav2vec2_onnx import INPUT, OUTPUT, RECIPE, Wav2Vec2OnnxRecognizer, reads_normalized

log = logging.getLogger(__name__)

EXPORT_FILE = "onnx/model.onnx"
ALLOW = [EXPORT_FILE, "*.json"]  # the fp32 graph and the tokenizer/config files, nothing else
# Community exports checked to exist, with this layout (Transformers.js conversions).
KNOWN = {"facebook/wav2vec2-base-960h": "Xenova/wav2vec2-base-960h"}
VERIFY_TOLERANCE = 1e-3  # max |logit difference| as a share of torch's logit range


def export_id(cfg: AsrConfig) -> str | None:
    """The export ``asr.onnx_export`` names for ``asr.model``; None when there is none."""
    if cfg.onnx_export == "none":
        return None
    if cfg.onnx_export == "auto":
        return KNOWN.get(cfg.model)
    return cfg.onnx_export


def install_export(export: Path, folder: Path, target: Path, quantize: str, name: str) -> None:
    """Check ``export`` (a folder holding onnx/model.onnx) against the model in ``folder`` and
    install it as ``target`` (int8-quantized here when ``quantize`` asks), atomically."""
    log.info("installing the ONNX export %s (%s)...", name, quantize)
    build_cached(target, folder, {"quantize": quantize}, RECIPE,
                 functools.partial(_install, export, folder, quantize, name), AsrError,
                 "check asr.onnx_export, or install torch to convert the model here")


def _install(export: Path, folder: Path, quantize: str, name: str, work: Path) -> Path:
    """In build_cached's child process: check, then link (or copy) or quantize."""
    graph = check_export(export, folder, name)
    (work / "export.json").write_text(json.dumps({"export": name, "file": str(graph)}))
    if quantize == "int8":
        quantize_matmul(graph, work / "int8.onnx")
        return work / "int8.onnx"
    try:  # the hub cache's blob: a hard link costs no disk; another file system: a copy
        os.link(graph, work / "fp32.onnx")
    except OSError:
        shutil.copyfile(graph, work / "fp32.onnx")
    return work / "fp32.onnx"


def check_export(export: Path, folder: Path, name: str) -> Path:
    """The export's fp32 graph (resolved), once it is shown to fit the model in ``folder``."""
    graph = export / EXPORT_FILE
    if not graph.is_file():
        raise AsrError(f"the ONNX export {name} has no {EXPORT_FILE}; set asr.onnx_export to "
                       f"a hub id or folder with {EXPORT_FILE}", code="onnx-export")
    theirs, ours = read_json(export / "vocab.json"), read_json(folder / "vocab.json")
    if theirs and theirs != ours:
        raise AsrError(f"the ONNX export {name} is not of {folder}: their vocab.json differs; "
                       "set asr.onnx_export to an export of asr.model", code="onnx-export")
    session = open_session(graph, 1, AsrError)
    inputs = [i.name for i in session.get_inputs()]
    outputs = {o.name: o.shape for o in session.get_outputs()}
    width = outputs.get(OUTPUT, [None])[-1]
    if inputs != [INPUT] or OUTPUT not in outputs or (isinstance(width, int) and ours
                                                       and width != len(ours)):
        raise AsrError(f"the ONNX export {name} does not fit: it takes {inputs} and gives "
                       f"{outputs}; expected {INPUT!r} in and {OUTPUT!r} of {len(ours)} "
                       "tokens out", code="onnx-export")
    return graph.resolve()


def signals() -> list[Audio]:
    """What verification listens to: seeded noise and a chirp (no speech needed)."""
    rng = np.random.default_rng(0)
    t = np.arange(48000) / 16000
    chirp = (8000 * np.sin(2 * np.pi * (200 + 400 * t) * t)).astype(np.int16)
    return [Audio((rng.standard_normal(16000) * 3000).astype(np.int16)), Audio(chirp)]


def verify(folder: Path, graph: Path) -> tuple[float, float]:
    """(max |logit difference| as a share of the logit range, share of frames with the same
    best token) of the ONNX ``graph`` against the torch model in ``folder``. Needs torch."""
    import torch
    from transformers import Wav2Vec2ForCTC

    model = Wav2Vec2ForCTC.from_pretrained(str(folder), use_safetensors=True,
                                           trust_remote_code=False, local_files_only=True)
    model.eval()
    onnx = Wav2Vec2OnnxRecognizer(open_session(graph, 0, AsrError), {}, 0,
                                  normalize=reads_normalized(folder))
    worst, same, frames = 0.0, 0, 0
    for audio in signals():
        ours = onnx.logits(audio)
        with torch.inference_mode():
            ref = model(torch.from_numpy(onnx.features(audio))).logits[0].numpy()
        if ours.shape != ref.shape:
            return float("inf"), 0.0
        worst = max(worst, float(np.abs(ours - ref).max() / (ref.max() - ref.min())))
        same += int((ours.argmax(-1) == ref.argmax(-1)).sum())
        frames += len(ref)
    return worst, same / frames


__all__ = ["ALLOW", "EXPORT_FILE", "KNOWN", "check_export", "export_id", "install_export",
           "verify"]
