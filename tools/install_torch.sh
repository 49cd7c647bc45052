#!/bin/sh
# Install PyTorch into the environment of the given Python, choosing the build
# that fits this machine:
#   1. torch already importable: nothing to do;
#   2. TORCH_SPEC set (e.g. "torch==2.5.1" or a wheel path): install exactly that;
#   3. a local CPU wheel reachable by pip without an index (pip's find-links):
#      take it (seconds, no multi-GB download);
#   4. no NVIDIA GPU (no nvidia-smi): the CPU build from PyTorch's CPU index;
#   5. otherwise PyPI's default build (CUDA on Linux).
set -eu
PY=${1:-python3}
if "$PY" -c "import torch" >/dev/null 2>&1; then
    exit 0
fi
if [ -n "${TORCH_SPEC:-}" ]; then
    exec "$PY" -m pip install "$TORCH_SPEC"
fi
LOCAL_TORCH=${LOCAL_TORCH:-torch==2.13.0}
PROBE=$(mktemp -d)
if "$PY" -m pip download --no-index --no-deps -d "$PROBE" "$LOCAL_TORCH" >/dev/null 2>&1; then
    WHEEL=$(ls "$PROBE"/torch-*.whl)
    echo "install_torch: using the local wheel $(basename "$WHEEL")"
    "$PY" -m pip install "$WHEEL"
    rm -rf "$PROBE"
    exit 0
fi
rm -rf "$PROBE"
if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "install_torch: no NVIDIA GPU found, installing the CPU build"
    exec "$PY" -m pip install torch --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple
fi
exec "$PY" -m pip install torch
