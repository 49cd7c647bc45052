#!/usr/bin/env bash
# Checks for a CUDA machine: the device tests, then benchmarks/bench_cnn.py on the
# GPU (float32 and bfloat16 autocast, two batch sizes) and on 2 CPU threads of the
# same machine, then the open-set table on the GPU. Writes logs under $OUT.
#
# Offline machines: put wheels of the missing dependencies in .gpuwheels/
# (pip download --python-version X.Y --platform ... ) and they are installed
# into a private folder first.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/skvoice-gpu}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
if ! $PY -c "import skorch, librosa, soxr, soundfile" 2>/dev/null && [ -d .gpuwheels ]; then
    $PY -m pip install -q --no-index --no-deps --target /tmp/skvoice-site .gpuwheels/*.whl
    export PYTHONPATH=/tmp/skvoice-site:$PWD
fi
export PYTHONPATH=${PYTHONPATH:-$PWD}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
$PY -c "import torch, sklearn, skorch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'sklearn', sklearn.__version__)" | tee -a "$OUT/gpu.txt"
timeout 180 $PY -m pytest -p no:cacheprovider -q -rs tests/neural_network/test_training.py 2>&1 \
    | tee "$OUT/tests.txt" | tail -4
for args in "--device cuda" "--device cuda --amp" "--device cuda --batch-size 256" \
            "--device cuda --amp --batch-size 256" "--device cpu"; do
    timeout 150 $PY benchmarks/bench_cnn.py --throughput-only --epochs 10 $args 2>&1 \
        | tee -a "$OUT/throughput.txt" | tail -5
done
timeout 300 $PY benchmarks/bench_cnn.py --device cuda 2>&1 | tee "$OUT/bench_cuda.txt" | tail -9
