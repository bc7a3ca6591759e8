#!/usr/bin/env bash
# The 16 runs of the PyTorch equivalence study (issue 18, acceptance 1): 4 models x seeds 0, 1 x
# torch and scratchgan, each trained single-threaded, then 10,000 samples scored; then the table in
# docs/RESULTS.md. Resume-safe: a run whose result.json exists is skipped, so rerun after any stop
# (an unfinished run continues from its last checkpoint, at most 250 steps back). See README.md
# here for the plan and timings.
#
#   scripts/equivalence/all.sh                         everything, in order
#   MODELS="dcgan64" scripts/equivalence/all.sh        a subset (two shells may split the models)
#   MODELS=dcgan SEEDS="2 3" scripts/equivalence/all.sh  more seeds of a model, for its spread
#   STEPS=5 SAMPLES=200 RUNS=/tmp/eq RESULTS=/tmp/eq/RESULTS.md scripts/equivalence/all.sh
#                                                      a smoke test of every piece
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
RUNS=${RUNS:-runs/equivalence}
RESULTS=${RESULTS:-docs/RESULTS.md}
SAMPLES=${SAMPLES:-10000}
MODELS=${MODELS:-dcgan wgan-gp lsgan dcgan64}
SEEDS=${SEEDS:-0 1}  # the acceptance compares seeds 0 and 1; more seeds measure the spread
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# steps (trainer steps = D updates) and recipe overrides per model; README.md explains the choice
plan() {
    case $1 in
        dcgan) echo "3436" ;;                                    # 2 epochs of 1,718 batches of 32
        wgan-gp) echo "5154" ;;                                  # 3 epochs: 1,030 G steps
        lsgan) echo "3436" ;;                                    # 2 epochs
        dcgan64) echo "1300 --set width=32 --set batch_size=64" ;;  # ~1.5 epochs of 859 batches
        *) echo "all.sh: unknown model $1 (expected dcgan, wgan-gp, lsgan, dcgan64)" >&2; exit 2 ;;
    esac
}

# the feature classifier is trained once (cached) before any timed run
$PY -c "from scratchgan.metrics import load_classifier; load_classifier('fashion-mnist')" || exit 1

failed=0
for model in $MODELS; do
    read -r steps extra <<<"$(plan "$model")"
    steps=${STEPS:-$steps}
    for seed in $SEEDS; do
        for framework in torch scratchgan; do
            out=$RUNS/$model/$framework-seed$seed
            if [ -f "$out/result.json" ]; then
                echo "done already: $out"
                continue
            fi
            mkdir -p "$out"
            echo "$(date -u +%H:%M:%S) $model $framework seed $seed, $steps steps -> $out"
            # shellcheck disable=SC2086  # $extra is a list of options
            if ! $PY scripts/equivalence/run.py "$model" --seed "$seed" --steps "$steps" \
                --framework "$framework" --samples "$SAMPLES" --out "$out" $extra \
                >>"$out/log.txt" 2>&1; then
                echo "FAILED: $out (see $out/log.txt)"
                failed=$((failed + 1))
            fi
        done
    done
done
$PY scripts/equivalence/report.py --runs "$RUNS" --results "$RESULTS"
exit $((failed > 0))
