#!/usr/bin/env bash
# The full-length runs of issue 18: every GAN and VAE with its `--recipe full`
# (each preset's comment in scratchgan/models/ says what it changes, why, and its time estimate),
# then `scratchgan eval RUN --n 10000` (FID, KID, IS, precision/recall, coverage on 10,000 samples;
# cyclegan, which has no prior to sample, gets its translation report on the 2 x 1,000 test images:
# `python -m scratchgan.models.cyclegan RUN --out RUN`, writing RUN/translation.json).
#
#   scripts/full_recipes.sh                  # every run, two at a time (JOBS=2), BLAS on 1 thread
#   scripts/full_recipes.sh progan wgan      # only these (names below)
#   JOBS=1 scripts/full_recipes.sh           # one at a time
#   PYTHON=.venv/bin/python scripts/full_recipes.sh
#
# Runs go to runs/full/NAME (RUNS=dir to change), logs to runs/full/NAME.log. Each is resumable:
# run the script again after an interruption and a run with a checkpoint continues exactly
# (`--resume`; the presets checkpoint every few minutes); a run with metrics.json (cyclegan:
# translation.json) is done and skipped. To train a finished run longer, resume it with a larger --epochs by hand (the only
# option --resume lets change): scratchgan train MODEL --recipe full --out runs/full/NAME --resume
# --epochs N.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/full}
JOBS=${JOBS:-2}
PY=${PYTHON:-python}
SG=${SCRATCHGAN:-$PY -m scratchgan.cli}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# name | train arguments (the model, its --loss where it has several)
RECIPES=(
  "gan|gan"
  "dcgan-ns|dcgan --loss ns"
  "dcgan-mm|dcgan --loss mm"
  "lsgan|dcgan --loss ls"
  "wgan|dcgan --loss wgan"
  "wgan-gp|dcgan --loss wgan-gp"
  "dcgan64|dcgan64"
  "cgan|cgan"
  "sgan|sgan"
  "progan|progan"
  "stylegan|stylegan"
  "cyclegan|cyclegan"
  "vae|vae"
  "conv-vae|conv-vae"
)

run_one() {
  local name=${1%%|*} args=${1#*|}
  local out=$RUNS/$name done=metrics.json
  local evaluate=($SG eval "$out" --n 10000)
  if [ "$name" = cyclegan ]; then
    done=translation.json
    evaluate=("$PY" -m scratchgan.models.cyclegan "$out" --out "$out")
  fi
  if [ -f "$out/$done" ]; then
    echo "done already: $out"
    return
  fi
  local resume=()
  [ -f "$out/checkpoints/last.npz" ] && resume=(--resume)
  echo "$(date -u +%H:%M:%S) train $name: $SG train $args --recipe full --out $out ${resume[*]}"
  # shellcheck disable=SC2086  # $args and $SG are word lists
  $SG train $args --recipe full --out "$out" "${resume[@]}" --quiet >> "$out.log" 2>&1
  echo "$(date -u +%H:%M:%S) eval $name"
  "${evaluate[@]}" >> "$out.log" 2>&1
  echo "$(date -u +%H:%M:%S) finished $name: $out/$done"
}

mkdir -p "$RUNS"
if [ "${1:-}" = "--one" ]; then
  run_one "$2"
  exit
fi
wanted=("$@")
selected=()
for entry in "${RECIPES[@]}"; do
  name=${entry%%|*}
  if [ ${#wanted[@]} -eq 0 ] || [[ " ${wanted[*]} " == *" $name "* ]]; then
    selected+=("$entry")
  fi
done
if [ ${#selected[@]} -eq 0 ]; then
  echo "no such run: $*; the names: $(printf '%s ' "${RECIPES[@]%%|*}")" >&2
  exit 2
fi
printf '%s\0' "${selected[@]}" | xargs -0 -n 1 -P "$JOBS" "$0" --one
