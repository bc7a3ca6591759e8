"""Acceptance 1 (sample grids): one picture of the loss study, a row of 16 samples (the same codes) per loss,
from the last checkpoint of RUNS/loss-{mm,ns,wgan,wgan-gp,ls}.

    python scripts/gan_results/make_loss_grid.py docs/img/gan-loss-study.png [--runs runs/i8]
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

import scratchgan as sg
from scratchgan import train, viz

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--runs", default="runs/i8")
args = p.parse_args()
threadpool_limits(1, user_api="blas")
rows = []
for loss in ("mm", "ns", "wgan", "wgan-gp", "ls"):
    model, _ = train.load_run(f"{args.runs}/loss-{loss}")
    rows.append(model.sample(16, sg.Generator(0)))
viz.save_interpolation(np.stack(rows), args.out, scale=2)
print(args.out, "rows: mm, ns, wgan, wgan-gp, ls")
