"""assistant download: fetch the configured models into the local Hugging Face cache."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import AssistantError
from .common import add_command, config_from_args

# Only what loading needs: configs, tokenizers, safetensors weights (never pickles or code).
ALLOW = ["*.json", "*.safetensors", "*.txt", "*.model", "1_Pooling/*", "2_Normalize/*"]


def register(sub: Any) -> None:
    p = add_command(sub, "download", "fetch the configured models into the local cache", run,
                description="Download the wav2vec2 speech model (asr.model) and the sentence "
                "model (matcher.model) into the Hugging Face cache (~/.cache/huggingface, or "
                "$HF_HOME), with progress, then convert both for ONNX Runtime (the CPU "
                "default) into cache_dir so the first start is as quick as every other; a Piper "
                "voice named by tts.voice (e.g. en_US-lessac-medium) goes into "
                "cache_dir/piper-voices. Run it once while online; afterwards everything runs "
                "offline. Local folders and the bundled MiniLM package and joe voice need no "
                "download, only the conversion.")
    p.add_argument("--if-reachable", type=float, metavar="SECONDS", help="first ask the model "
                   "hub, waiting at most SECONDS; when it does not answer, say in one line that "
                   "pocketsphinx is used until `assistant download` is run, and exit 0 (the "
                   "set-up script uses this, so it also succeeds offline)")


def fetch(model: str, what: str) -> str:
    from huggingface_hub import snapshot_download

    if Path(model).expanduser().is_dir():
        return f"{what}: {model} is a local folder, nothing to download"
    try:
        path = snapshot_download(repo_id=model, allow_patterns=ALLOW)
    except Exception as exc:  # network, unknown id, offline mode: all one line for the user
        raise AssistantError(f"cannot download {what} {model!r} ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); check the "
                             "model id and the network, and that HF_HUB_OFFLINE is not set",
                             code="download") from None
    return f"{what}: {model} -> {path}"


def hub_reachable(timeout_s: float) -> bool:
    """Whether the Hugging Face hub ($HF_ENDPOINT) answers within ``timeout_s``; offline
    mode (HF_HUB_OFFLINE) counts as unreachable."""
    import os
    import urllib.request

    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0"):
        return False
    url = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/") + "/api/whoami-v2"
    try:
        urllib.request.urlopen(url, timeout=timeout_s)  # noqa: S310 (a fixed https URL)
    except urllib.error.HTTPError:
        return True  # it answered (401 without a token): reachable
    except (OSError, ValueError):
        return False
    return True


def run(args: argparse.Namespace) -> int:
    from ..kb.embed import bundled_model_dir

    cfg = config_from_args(args)
    if args.if_reachable is not None and not hub_reachable(args.if_reachable):
        print("model hub not reachable: the assistant recognizes speech with pocketsphinx "
              "(offline) until you run `assistant download`")
        return 0
    print(fetch(cfg.asr.model, "speech model"))
    bundled = bundled_model_dir(cfg.matcher.model)
    if bundled:
        print(f"sentence model: {cfg.matcher.model} is bundled at {bundled}, nothing to download")
    else:
        print(fetch(cfg.matcher.model, "sentence model"))
    print(fetch_voice(cfg))
    for line in convert(cfg):
        print(line)
    return 0


def fetch_voice(cfg: Any) -> str:
    """The Piper voice named by tts.voice, from the hub's piper voices (rhasspy/piper-voices)."""
    from ..tts import backend_name, voices_dir
    from ..tts.piper_backend import VOICE_NAME, download_voice

    voice = cfg.tts.voice
    if backend_name(cfg.tts) != "piper" or not voice or not VOICE_NAME.match(voice):
        return f"voice: {voice or 'default'} ({backend_name(cfg.tts)}), nothing to download"
    folder = voices_dir(cfg.cache_path)
    if (folder / f"{voice}.onnx").is_file() and (folder / f"{voice}.onnx.json").is_file():
        return f"voice: {voice} is in {folder}, nothing to download"
    return f"voice: {voice} -> {download_voice(voice, folder)}"


def convert(cfg: Any) -> list[str]:
    """Build the cached ONNX models the configured runtimes load (a no-op when cached)."""
    from ..asr.wav2vec2 import weights_on_disk
    from ..kb.embed import load_embedder

    lines = []
    m, a = cfg.matcher, cfg.asr
    if m.runtime == "onnx" and m.device == "cpu":
        from ..kb.embed_onnx import OnnxSentenceEmbedder

        if isinstance(load_embedder(m.model, m.device, m.runtime, cfg.cache_path),
                      OnnxSentenceEmbedder):
            lines.append(f"sentence model: ready for ONNX Runtime (cache: {cfg.cache_path})")
        else:
            lines.append("sentence model: runs on torch (see the log above for why)")
    if a.backend != "pocketsphinx" and a.runtime == "onnx" and a.device == "cpu" and \
            weights_on_disk(a.model):
        from ..asr.wav2vec2_onnx import Wav2Vec2OnnxRecognizer

        Wav2Vec2OnnxRecognizer.load(a, cfg.cache_path)
        lines.append(f"speech model: ready for ONNX Runtime {a.quantize} "
                     f"(cache: {cfg.cache_path})")
    return lines
