#!/usr/bin/env bash
# Train every autoencoder of issue 7 that has no finished run yet, run the unsupervised-pretraining
# experiment, then draw the docs pictures (docs/img/ae-*.png) and rewrite the autoencoders section of
# docs/RESULTS.md from the runs (KID/FID of the VAE samples when scratchgan.metrics has a cached classifier).
#
#   scripts/make_ae_figures.sh            # train what is missing (one at a time), then figures
#   JOBS=2 scripts/make_ae_figures.sh     # two trainings at once (2 CPU cores)
#   FIGURES_ONLY=1 scripts/make_ae_figures.sh
#
# Runs go to runs/ae/<name> (RUNS=dir to change). Each model trains with its registry recipe
# (`scratchgan list`); on 2 shared CPU cores all of them take about 45 minutes (see docs/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/ae}
JOBS=${JOBS:-1}
PY=${PYTHON:-python3}
mkdir -p "$RUNS"

# name | run directory | how to train it
MODELS=(
  "stacked-ae|stacked-ae|scratchgan train stacked-ae"
  "tied-ae|tied-ae|scratchgan train tied-ae"
  "conv-vae|conv-vae|scratchgan train conv-vae"
  "recurrent-ae|recurrent-ae|scratchgan train recurrent-ae"
  "vae|vae|scratchgan train vae"
  "conv-ae|conv-ae|scratchgan train conv-ae"
  "greedy-ae|greedy-ae|scratchgan train greedy-ae"
  "denoising-ae|denoising-ae|scratchgan train denoising-ae"
  "denoising-ae (dropout)|denoising-ae-dropout|$PY scripts/ae_figures.py train denoising-ae noise=dropout --out"
  "sparse-l1-ae|sparse-l1-ae|scratchgan train sparse-l1-ae"
  "sparse-kl-ae|sparse-kl-ae|scratchgan train sparse-kl-ae"
  "linear-ae|linear-ae|scratchgan train linear-ae"
)

train_one() {
  local name=${1%%|*} rest=${1#*|}
  local dir=${rest%%|*} cmd=${rest#*|}
  if [ -f "$RUNS/$dir/summary.json" ]; then
    echo "have $RUNS/$dir"
    return
  fi
  echo "training $name -> $RUNS/$dir (log $RUNS/$dir.log)"
  rm -rf "${RUNS:?}/$dir"
  if [[ $cmd == scratchgan* ]]; then
    $cmd --out "$RUNS/$dir" --quiet > "$RUNS/$dir.log" 2>&1
  else
    $cmd "$RUNS/$dir" > "$RUNS/$dir.log" 2>&1
  fi
}

chain() {  # take the next model nobody has claimed (mkdir is atomic), until none is left
  local entry dir
  for entry in "${MODELS[@]}"; do
    dir=${entry#*|}
    dir=${dir%%|*}
    mkdir "$RUNS/.claim-$dir" 2>/dev/null || continue
    train_one "$entry"
  done
}

if [ -z "${FIGURES_ONLY:-}" ]; then
  rm -rf "$RUNS"/.claim-*
  for ((j = 0; j < JOBS; j++)); do chain & done
  wait
  rm -rf "$RUNS"/.claim-*
  if [ ! -f "$RUNS/pretraining.json" ]; then  # unsupervised pretraining on the stacked-ae run (5 seeds)
    echo "pretraining -> $RUNS/pretraining.json"
    $PY -m scratchgan.models.pretraining "$RUNS/stacked-ae" --out "$RUNS/pretraining.json" > "$RUNS/pretraining.log" 2>&1
  fi
fi
$PY scripts/ae_figures.py figures --runs "$RUNS"
