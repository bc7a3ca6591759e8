"""Sample grids of the loss study (acceptance 1) and of the tricks: one row of 16 samples per run,
drawn from the same codes, from each run's last checkpoint (default: the five loss-study runs).

    python scripts/gan_results/sample_rows.py docs/img/gan-loss-study.png
    python scripts/gan_results/sample_rows.py docs/img/gan-tricks.png runs/i8/loss-ns \
        runs/i8/trick-smooth runs/i8/trick-noise runs/i8/trick-instance runs/i8/trick-pool
"""

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

import scratchgan as sg
from scratchgan import train, viz

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument(
    "runs",
    nargs="*",
    default=[f"runs/i8/loss-{loss}" for loss in ("mm", "ns", "wgan", "wgan-gp", "ls")],
)
args = p.parse_args()
threadpool_limits(1, user_api="blas")
rows = [train.load_run(run)[0].sample(16, sg.Generator(0)) for run in args.runs]
viz.save_interpolation(np.stack(rows), args.out, scale=2)
print(args.out, "rows:", ", ".join(args.runs))
