#!/usr/bin/env bash
# Everything GPU in one go (under 10 minutes on one GPU): install, the gpu-marked tests, the kernel
# harness, the training-step benchmark against PyTorch + cuDNN, and one data-parallel rank through
# the NCCL communicator (gpu_nccl.py: its collectives, and DDP training equal to no DDP). Needs a CUDA GPU, CuPy and
# PyTorch. Results (JSON + Markdown, and each part's log) go to $1, else $OUT, else
# benchmarks/results/gpu; summary.md / summary.json there say what ran and how each part ended.
#
#   bash benchmarks/gpu_all.sh [OUTDIR]        (run from the repository root)
#
# Each part has its own time limit, so one that hangs cannot eat the others' time.
set -u
cd "$(dirname "$0")/.."
OUTDIR="${1:-${OUT:-benchmarks/results/gpu}}"
PY="${PYTHON:-python}"
mkdir -p "$OUTDIR"
declare -A STATUS

part() {  # part NAME SECONDS COMMAND...: run with a time limit, log, keep the exit status
  local name="$1" limit="$2"
  shift 2
  echo "== $name (limit ${limit}s): $*"
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUTDIR/$name.log" 2>&1
  STATUS[$name]="$? $((SECONDS - start))"
  tail -n 5 "$OUTDIR/$name.log"
}

part install 120 "$PY" -m pip install --no-deps -e .
part gpu-tests 200 "$PY" -m pytest -m gpu -q -p no:cacheprovider tests \
  --junitxml="$OUTDIR/gpu-tests.xml"
part kernels 150 "$PY" benchmarks/gpu_kernels.py --out "$OUTDIR"
part train-step 120 "$PY" benchmarks/gpu_train_step.py --out "$OUTDIR"
part nccl 60 "$PY" benchmarks/gpu_nccl.py --out "$OUTDIR"

ARGS=()
for name in install gpu-tests kernels train-step nccl; do ARGS+=("$name" ${STATUS[$name]}); done
"$PY" benchmarks/gpu_summary.py "$OUTDIR" "${ARGS[@]}"
