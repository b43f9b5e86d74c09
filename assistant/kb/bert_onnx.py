"""A BERT encoder written straight to ONNX from its safetensors weights: no torch.

A Raspberry Pi has no torch (the aarch64 wheel is the CUDA build, and its BLAS dies on a Pi 4),
and the bundled all-MiniLM-L6-v2 ships only ``model.safetensors``. So the graph torch's exporter
would trace is written here by hand with the ``onnx`` package's helper API: embeddings (word +
position + token type, LayerNorm), then per layer self-attention with the padding mask, a
residual LayerNorm, the GELU feed-forward and another residual LayerNorm. The output is the
last hidden state, as ``transformers.BertModel(...)[0]`` gives it; pooling and normalization
stay in numpy (embed_onnx.pool). Measured against the torch export: docs/raspberry-pi.md.

Only what this graph reproduces is accepted (``bert_config``); any other model returns None and
keeps the torch exporter.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17  # LayerNormalization is a core operator from 17 on
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def bert_config(folder: Path) -> dict[str, Any] | None:
    """config.json when it is a plain BERT this module writes exactly (absolute positions,
    exact GELU); None for anything else (RoBERTa, MPNet, relative positions, ...)."""
    try:
        conf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(conf, dict) or conf.get("model_type") != "bert":
        return None
    if conf.get("hidden_act", "gelu") != "gelu" or \
            conf.get("position_embedding_type", "absolute") != "absolute":
        return None
    if int(conf.get("hidden_size", 0)) % max(int(conf.get("num_attention_heads", 1)), 1):
        return None
    return conf


def load_weights(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as float32 numpy arrays, without any ``bert.`` prefix
    (BertForMaskedLM and friends save the encoder under it)."""
    from safetensors.numpy import load_file

    out = {}
    for name, value in load_file(str(path)).items():
        name = name.removeprefix("bert.")
        out[name] = value.astype(np.float32) if value.dtype.kind == "f" else value
    return out


class _Graph:
    """Nodes and initializers under construction, with unique names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, **attrs: Any) -> str:
        from onnx import helper

        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def linear(self, x: str, w: dict[str, np.ndarray], name: str) -> str:
        """x @ W.T + b, the weight stored transposed once so the graph is one MatMul + Add."""
        weight = self.const(f"{name}.weight_t", w[f"{name}.weight"].T)
        return self.op("Add", self.op("MatMul", x, weight), self.const(f"{name}.bias",
                                                                       w[f"{name}.bias"]))

    def layer_norm(self, x: str, w: dict[str, np.ndarray], name: str, eps: float) -> str:
        return self.op("LayerNormalization", x, self.const(f"{name}.weight", w[f"{name}.weight"]),
                       self.const(f"{name}.bias", w[f"{name}.bias"]), axis=-1, epsilon=eps)


def build_model(conf: dict[str, Any], w: dict[str, np.ndarray]) -> Any:
    """The onnx ModelProto: inputs (batch, tokens) int64, output ``hidden`` (batch, tokens,
    hidden_size) float32."""
    from onnx import TensorProto, helper

    g = _Graph()
    hidden, heads = int(conf["hidden_size"]), int(conf["num_attention_heads"])
    head_dim, eps = hidden // heads, float(conf.get("layer_norm_eps", 1e-12))
    i64 = np.int64

    # embeddings: word + absolute position + token type, then LayerNorm
    words = g.op("Gather", g.const("word_embeddings", w["embeddings.word_embeddings.weight"]),
                 "input_ids", axis=0)
    # the first n_tokens rows of the position table (a Slice: Gather(Range) trips an ORT fusion)
    zero, one = g.const("zero_1d", np.array([0], i64)), g.const("one_1d", np.array([1], i64))
    n_tokens = g.op("Slice", g.op("Shape", "input_ids"), one, g.const("two_1d", np.array([2], i64)))
    pos = g.op("Slice", g.const("position_embeddings", w["embeddings.position_embeddings.weight"]),
               zero, n_tokens, zero)
    types = g.op("Gather", g.const("token_type_embeddings",
                                   w["embeddings.token_type_embeddings.weight"]),
                 "token_type_ids", axis=0)
    x = g.layer_norm(g.op("Add", g.op("Add", words, pos), types), w, "embeddings.LayerNorm", eps)

    # padding mask: 0 where attended, the most negative float32 where padded, (batch,1,1,tokens)
    keep = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    padded = g.op("Sub", g.const("one_f", np.array(1.0, np.float32)), keep)
    bias = g.op("Mul", padded, g.const("min_f", np.array(np.finfo(np.float32).min, np.float32)))
    bias = g.op("Unsqueeze", bias, g.const("axes_12", np.array([1, 2], i64)))

    split = g.const("split_heads", np.array([0, 0, heads, head_dim], i64))
    merge = g.const("merge_heads", np.array([0, 0, hidden], i64))
    scale = g.const("scale", np.array(1.0 / math.sqrt(head_dim), np.float32))
    half = g.const("half", np.array(0.5, np.float32))
    sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), np.float32))
    for i in range(int(conf["num_hidden_layers"])):
        p = f"encoder.layer.{i}"

        def heads_of(name: str, perm: list[int], x: str = x, p: str = p) -> str:
            return g.op("Transpose", g.op("Reshape", g.linear(x, w, f"{p}.attention.self.{name}"),
                                          split), perm=perm)

        q = heads_of("query", [0, 2, 1, 3])
        k = heads_of("key", [0, 2, 3, 1])  # already transposed for q @ k
        v = heads_of("value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        attended = g.linear(context, w, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", attended, x), w, f"{p}.attention.output.LayerNorm", eps)
        inner = g.linear(x, w, f"{p}.intermediate.dense")  # exact GELU: x/2 (1 + erf(x/sqrt 2))
        gelu = g.op("Mul", g.op("Mul", inner, half),
                    g.op("Add", g.op("Erf", g.op("Div", inner, sqrt2)), "one_f"))
        x = g.layer_norm(g.op("Add", g.linear(gelu, w, f"{p}.output.dense"), x), w,
                         f"{p}.output.LayerNorm", eps)
    g.nodes.append(helper.make_node("Identity", [x], ["hidden"]))

    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes, "bert_encoder",
        [helper.make_tensor_value_info(n, TensorProto.INT64, dims) for n in INPUTS],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [*dims, hidden])],
        initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="assistant.kb.bert_onnx")
    model.ir_version = 8  # what onnxruntime >= 1.14 reads
    return model


def write_onnx(folder: Path, weights: str, out: Path) -> Path:
    """Write ``folder``'s BERT encoder to ``out``; ValueError when it is not one."""
    import onnx

    conf = bert_config(folder)
    if conf is None:
        raise ValueError(f"{folder} is not a plain BERT model")
    w = load_weights(folder / weights)
    missing = [n for n in ("embeddings.word_embeddings.weight",
                           "encoder.layer.0.attention.self.query.weight") if n not in w]
    if missing:
        raise ValueError(f"{folder / weights} has no tensor {missing[0]!r}")
    model = build_model(conf, w)
    onnx.checker.check_model(model)
    onnx.save_model(model, str(out))
    return out


__all__ = ["INPUTS", "bert_config", "build_model", "load_weights", "write_onnx"]
