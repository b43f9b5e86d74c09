"""The ONNX build cache: a build killed half-way is cleaned up, a failed one is one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import AsrError
from assistant.onnx_cache import _sweep_dead_builds, build_cached


class OddError(Exception):
    """Like torch.onnx's UnsupportedOperatorError: cannot be rebuilt from its args."""

    def __init__(self, op: str, version: int) -> None:
        super().__init__(f"\nunsupported operator {op} in opset {version}")


def unexportable(work: Path) -> Path:
    raise OddError("aten::fancy", 17)


def test_an_export_error_from_the_child_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "onnx" / "key" / "model.onnx"
    with pytest.raises(AsrError) as err:
        build_cached(target, tmp_path, {}, 1, unexportable, AsrError, "set asr.runtime: torch")
    message = str(err.value)
    assert err.value.code == "onnx-build" and "\n" not in message
    assert "OddError: unsupported operator aten::fancy in opset 17" in message
    assert message.endswith("set asr.runtime: torch")
    assert not target.exists() and list((tmp_path / "onnx").glob(".build-*")) == []


def test_builds_of_dead_processes_are_swept(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = tmp_path / f".build-{gone.stdout.strip()}-abc"
    mine = tmp_path / f".build-{os.getpid()}-def"
    alive = tmp_path / ".build-1-ghi"  # init: always running
    for folder in (dead, mine, alive):
        (folder / "half.onnx").parent.mkdir()
        (folder / "half.onnx").write_bytes(b"half")
    _sweep_dead_builds(tmp_path)
    assert not dead.exists() and mine.exists() and alive.exists()
