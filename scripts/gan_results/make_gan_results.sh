#!/usr/bin/env bash
# Reproduce the measured results of the classic GANs (issue 8; the `gans` section of docs/RESULTS.md), in this
# order. Runs and result JSONs go to runs/i8/, pictures to docs/img/gan-*.png. A step whose output exists is
# skipped (a run counts as trained once it has checkpoints/last.npz). Everything runs with BLAS on one thread
# (the scripts and the CLI set it); wall times on this shared 2-core machine are in docs/RESULTS.md (about
# 5 hours in all: the cgan and the 2-epoch dcgan about an hour each, the inpainting search about 30 minutes).
#
#  1. loss study (acceptance 1): dcgan, 1 epoch (1,718 batches of 32), seed 0, per loss, then the metrics
#       scratchgan train dcgan --loss LOSS --epochs 1 --out runs/i8/loss-LOSS      LOSS = mm ns wgan wgan-gp ls
#       scratchgan eval runs/i8/loss-LOSS                                            -> RUN/metrics.json (10,000 samples)
#       python scripts/gan_results/sample_rows.py docs/img/gan-loss-study.png
#     tricks: scratchgan train dcgan --loss ns --epochs 1 --set TRICK --out runs/i8/trick-NAME, then eval as above,
#       NAME/TRICK = smooth/label_smoothing=0.1, noise/label_noise=0.05, pool/image_pool=50,
#       instance/"instance_noise=0.1 --set instance_noise_steps=1718"
#       python scripts/gan_results/sample_rows.py docs/img/gan-tricks.png runs/i8/loss-ns runs/i8/trick-{smooth,noise,instance,pool}
#  2. fig. 5.5 (acceptance 1): python scripts/gan_results/fig55.py --out docs/img/gan-fig55.png --json runs/i8/fig55.json
#  3. cgan (acceptance 2):
#       scratchgan train cgan --epochs 3 --out runs/i8/cgan
#       python scripts/gan_results/cgan_eval.py runs/i8/cgan --grid docs/img/gan-cgan-grid.png --json runs/i8/cgan.json
#  4. sgan (acceptance 3):
#       python scripts/gan_results/sgan_study.py --out runs/i8/sgan --json runs/i8/sgan.json
#       python scripts/gan_results/sgan_study.py --kinds supervised --baseline-steps 1500 --out runs/i8/sgan --json runs/i8/sgan.json
#       python scripts/gan_results/sgan_bn_check.py runs/i8/sgan/supervised-120steps-seed* runs/i8/sgan/sgan-2500steps-seed* \
#           --json runs/i8/sgan-bn-check.json
#  5. dcgan64 (acceptance 4):
#       pytest tests/models/test_dcgan.py::test_dcgan64_trains_on_a_folder_of_images
#       scratchgan train dcgan64 --set width=32 --batch-size 64 --epochs 2 --out runs/i8/dcgan64-fmnist
#       scratchgan sample runs/i8/dcgan64-fmnist --n 64 --out docs/img/gan-dcgan64-fmnist.png
#       python benchmarks/train_step.py --threads 1 --filter dcgan64      (the step against PyTorch; issue 10's benchmark)
#  6. inpainting (acceptance 5):
#       scratchgan train dcgan --loss ns --epochs 2 --out runs/i8/dcgan-ns
#       python scripts/gan_results/inpaint_eval.py runs/i8/dcgan-ns --json runs/i8/inpaint.json --picture docs/img/gan-inpainting.png
#  7. latent pictures (not an acceptance point):
#       python scripts/gan_results/latent_figs.py runs/i8/dcgan-ns --interp docs/img/gan-interpolation.png \
#           --arith docs/img/gan-arithmetic.png --json runs/i8/latent.json
set -euo pipefail
cd "$(dirname "$0")/../.."
R=runs/i8
S=scripts/gan_results
PY=${PYTHON:-python3}
mkdir -p "$R"
have() { [ -e "$1" ] && echo "have $1"; }

for loss in mm ns wgan wgan-gp ls; do
  have "$R/loss-$loss/checkpoints/last.npz" || scratchgan train dcgan --loss "$loss" --epochs 1 --out "$R/loss-$loss" --quiet
  have "$R/loss-$loss/metrics.json" || scratchgan eval "$R/loss-$loss"
done
have docs/img/gan-loss-study.png || $PY $S/sample_rows.py docs/img/gan-loss-study.png "$R"/loss-{mm,ns,wgan,wgan-gp,ls}
for trick in smooth:label_smoothing=0.1 noise:label_noise=0.05 pool:image_pool=50 \
             instance:instance_noise=0.1,instance_noise_steps=1718; do
  name=${trick%%:*}
  sets=()
  IFS=, read -ra keys <<< "${trick#*:}"
  for key in "${keys[@]}"; do sets+=(--set "$key"); done
  have "$R/trick-$name/checkpoints/last.npz" ||
    scratchgan train dcgan --loss ns --epochs 1 "${sets[@]}" --out "$R/trick-$name" --quiet
  have "$R/trick-$name/metrics.json" || scratchgan eval "$R/trick-$name"
done
have docs/img/gan-tricks.png || $PY $S/sample_rows.py docs/img/gan-tricks.png "$R"/loss-ns "$R"/trick-{smooth,noise,instance,pool}
have "$R/fig55.json" || $PY $S/fig55.py --out docs/img/gan-fig55.png --json "$R/fig55.json"

have "$R/cgan/checkpoints/last.npz" || scratchgan train cgan --epochs 3 --out "$R/cgan" --quiet
have "$R/cgan.json" || $PY $S/cgan_eval.py "$R/cgan" --grid docs/img/gan-cgan-grid.png --json "$R/cgan.json"

$PY $S/sgan_study.py --out "$R/sgan" --json "$R/sgan.json"  # resumes from the rows already in the JSON
$PY $S/sgan_study.py --kinds supervised --baseline-steps 1500 --out "$R/sgan" --json "$R/sgan.json"
have "$R/sgan-bn-check.json" || $PY $S/sgan_bn_check.py "$R"/sgan/supervised-120steps-seed* "$R"/sgan/sgan-2500steps-seed* \
    --json "$R/sgan-bn-check.json"

$PY -m pytest -q tests/models/test_dcgan.py::test_dcgan64_trains_on_a_folder_of_images
have "$R/dcgan64-fmnist/checkpoints/last.npz" ||
  scratchgan train dcgan64 --set width=32 --batch-size 64 --epochs 2 --out "$R/dcgan64-fmnist" --quiet
have docs/img/gan-dcgan64-fmnist.png || scratchgan sample "$R/dcgan64-fmnist" --n 64 --out docs/img/gan-dcgan64-fmnist.png

have "$R/dcgan-ns/checkpoints/last.npz" || scratchgan train dcgan --loss ns --epochs 2 --out "$R/dcgan-ns" --quiet
have "$R/inpaint.json" || $PY $S/inpaint_eval.py "$R/dcgan-ns" --json "$R/inpaint.json" --picture docs/img/gan-inpainting.png

have "$R/latent.json" || $PY $S/latent_figs.py "$R/dcgan-ns" --interp docs/img/gan-interpolation.png \
  --arith docs/img/gan-arithmetic.png --json "$R/latent.json"
