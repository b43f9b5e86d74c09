"""A randomly initialised model of the exact wav2vec2-base architecture: same layers, same
FLOPs, so the same timings as the trained weights, with no download."""

from __future__ import annotations

import json
from pathlib import Path

VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVK'XJQZ"]


def random_wav2vec2_base(folder: Path) -> Path:
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForCTC,
        Wav2Vec2Processor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "model.safetensors").is_file():
        return folder
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(VOCAB)}))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000,
                                         padding_value=0.0, do_normalize=True,
                                         return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    torch.manual_seed(0)
    config = Wav2Vec2Config(vocab_size=len(VOCAB), pad_token_id=0)  # base: 12 layers, 768
    Wav2Vec2ForCTC(config).save_pretrained(folder, safe_serialization=True)
    return folder
