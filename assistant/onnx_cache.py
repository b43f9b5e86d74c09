"""Models converted to ONNX once and kept in the cache, shared by the recognizer and the
sentence model: the cache key, the atomic build, pruning of stale builds, int8 quantization
and the session options every ONNX model here runs with.

Layout: ``cache_dir/<kind>/<key>/{model.onnx, meta.json, ...}``. The key hashes the weights
file's path, size and mtime, the model's config.json and the build options, so a changed model
is rebuilt and an unchanged one is never touched.

The conversion runs in a spawned child process, which re-imports the program's main module:
a script that converts must keep its work under ``if __name__ == "__main__":`` (the
``assistant`` command and the benchmarks do).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import AssistantError

log = logging.getLogger(__name__)


def cache_key(folder: Path, weights: str, options: dict[str, Any],
              files: tuple[str, ...] = ()) -> str:
    """Changes when the weights file (path, size, mtime), the options, or the content of
    config.json or of any of ``files`` (those that exist) change."""
    path = (folder / weights).resolve()
    st = path.stat()
    h = hashlib.sha256(json.dumps({"weights": str(path), "size": st.st_size,
                                   "mtime_ns": st.st_mtime_ns, **options},
                                  sort_keys=True).encode())
    for name in ("config.json", *files):
        if (folder / name).is_file():
            h.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return h.hexdigest()[:20]


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; {} when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def require(packages: tuple[str, ...], what: str, error: type[AssistantError]) -> None:
    """Raise ``error`` (code missing-package) naming the first of ``packages`` not installed."""
    for pkg in packages:
        if importlib.util.find_spec(pkg) is None:
            raise error(f"{what} needs the package '{pkg}' (once, for the conversion); install "
                        "the neural extra (see README)", code="missing-package")


def build_cached(target: Path, source: Path, options: dict[str, Any], recipe: int,
                 build: Callable[[Path], Path], error: type[AssistantError], fix: str) -> None:
    """Run ``build(work_dir) -> file`` and move its result to ``target`` atomically, with every
    other file it left in ``work_dir`` beside it. Entries built before from the same source
    and options (by any recipe), or from a source that has vanished, are pruned. A failure
    raises ``error`` (code ``onnx-build``) ending in ``fix``; no half-built file is left."""
    start = time.monotonic()
    work: Path | None = None
    try:
        target.parent.parent.mkdir(parents=True, exist_ok=True)
        _sweep_dead_builds(target.parent.parent)
        work = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=target.parent.parent))
        built = _in_child(build, work)
        meta = {"source": str(source.resolve()), **options, "recipe": recipe,
                "build_s": round(time.monotonic() - start, 1)}
        (work / "meta.json").write_text(json.dumps(meta))
        if built != work / target.name:
            os.replace(built, work / target.name)
        for extra in work.iterdir():  # everything but the model first, the model last
            if extra.is_file() and extra.name != target.name:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(extra, target.parent / extra.name)
        os.replace(work / target.name, target)
    except AssistantError:
        raise
    except Exception as exc:  # an unexportable model, a full disk, an unwritable cache_dir
        if isinstance(exc, cf.process.BrokenProcessPool):
            exc = RuntimeError("the conversion process died (out of memory?)")
        raise error(f"converting {source} to ONNX failed ({_one_line(exc)}); {fix}",
                    code="onnx-build") from exc
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    _prune(target.parent, str(source.resolve()), options)
    log.info("ONNX model ready in %.0f s: %s", time.monotonic() - start, target)


def _in_child(build: Callable[[Path], Path], work: Path) -> Path:
    """Run the conversion in a fresh interpreter: torch and transformers, which only the
    conversion needs, never load into the daemon (~450 MB it would carry until restarted).
    The child dies with the parent and leaves after its one task."""
    import multiprocessing

    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_die_with_parent, max_tasks_per_child=1) as pool:
        return pool.submit(_run, build, work).result()


def _run(build: Callable[[Path], Path], work: Path) -> Path:
    """In the child: errors that may not survive pickling come back as one RuntimeError."""
    try:
        return build(work)
    except AssistantError:
        raise
    except Exception as exc:
        raise RuntimeError(_one_line(exc)) from None


def _one_line(exc: BaseException) -> str:
    """``TypeName: first non-empty line of the message``."""
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}"


def _die_with_parent() -> None:
    """Linux: the kernel stops the child when the process that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _sweep_dead_builds(root: Path) -> None:
    """Remove ``.build-<pid>-*`` folders whose process is gone (a build killed half-way)."""
    for entry in root.glob(".build-*"):
        pid = entry.name.split("-")[1] if entry.name.count("-") >= 2 else ""
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass  # alive, owned by another user


def _prune(keep: Path, source: str, options: dict[str, Any]) -> None:
    """Drop other entries built from the same source and options, or from a vanished source."""
    for entry in keep.parent.iterdir():
        if entry == keep or not entry.is_dir() or entry.name.startswith(".build-"):
            continue
        try:
            meta = json.loads((entry / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        same = meta.get("source") == source and all(meta.get(k) == v for k, v in options.items())
        if same or not Path(str(meta.get("source"))).exists():
            shutil.rmtree(entry, ignore_errors=True)


def one_thread_on_arm(torch: Any) -> None:
    """In a conversion on aarch64: torch's matrix multiplication with 2 or more threads dies
    with SIGILL on a Raspberry Pi 4 (its wheel's BLAS uses an ARMv8.1 atomic the Pi 4's
    Cortex-A72 lacks); on one thread it works. Elsewhere torch keeps its threads."""
    if platform.machine().lower() in ("aarch64", "arm64"):
        torch.set_num_threads(1)


class _DropFrom(logging.Filter):
    """Drops records logged from files under a package's folder."""

    def __init__(self, package: str) -> None:
        super().__init__()
        self.part = f"{os.sep}{package}{os.sep}"

    def filter(self, record: logging.LogRecord) -> bool:
        return self.part not in record.pathname


def quantize_matmul(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantization of the MatMuls (per channel). Quantizing wav2vec2's
    convolutions too (ConvInteger) made it ~2x *slower* with onnxruntime 1.32 on x86."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = _DropFrom("onnxruntime")  # it logs a line per tensor on the root logger
    logging.getLogger().addFilter(quiet)
    try:
        quantize_dynamic(fp32, out, op_types_to_quantize=["MatMul"], per_channel=True,
                         weight_type=QuantType.QInt8)
    finally:
        logging.getLogger().removeFilter(quiet)


def session_options(threads: int) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or os.cpu_count() or 1
    so.inter_op_num_threads = 1
    # No spin-waiting between runs: it burns a core the VAD loop, TTS and matcher need.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only
    return so


def open_session(path: Path, threads: int, error: type[AssistantError]) -> Any:
    """An ONNX Runtime CPU session of a cached file; a corrupt file says what to delete."""
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), session_options(threads),
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # a truncated or foreign file: say where, and the fix
        raise error(f"cannot open the cached ONNX model {path} ({exc}); delete "
                    f"{path.parent} to rebuild it", code="onnx-cache") from exc


__all__ = ["build_cached", "cache_key", "one_thread_on_arm", "open_session", "quantize_matmul",
           "read_json", "require", "session_options"]
