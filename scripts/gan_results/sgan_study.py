"""Acceptance 3: sgan on MNIST with 100 labels against the same discriminator trained on the 100
labelled images alone (the book's baseline), mean and spread over seeds; test accuracy on the MNIST
test split.

    python scripts/gan_results/sgan_study.py --seeds 0 1 2 --steps 2500 --out runs/i8/sgan \
        --json runs/i8/sgan.json

Each seed picks its own 100 labelled images (label_seed = seed) from all training images; the sgan
and the baseline of a seed use the same ones. The baseline runs GANs in Action's 30 epochs of batch
32 over the 100 images (4 batches each = 120 steps); `--kinds supervised --baseline-steps 1500` adds
a baseline trained to its plateau. Finished (seed, kind, steps) rows already in --json are kept, so
an interrupted study resumes, and each run is written to OUT/KIND-STEPSsteps-seedSEED.
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from scratchgan import data as sgdata
from scratchgan import train

p = argparse.ArgumentParser()
p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
p.add_argument("--steps", type=int, default=2500, help="sgan steps (batch 32)")
p.add_argument("--baseline-steps", type=int, default=120)
p.add_argument(
    "--kinds",
    nargs="+",
    choices=["supervised", "sgan"],
    default=["supervised", "sgan"],
    help="which models to train (e.g. only the baseline, for a longer --baseline-steps)",
)
p.add_argument("--out", required=True, help="folder for the runs")
p.add_argument("--json", required=True)
args = p.parse_args()
threadpool_limits(1, user_api="blas")
test_x, test_y = sgdata.load("mnist", "test")
results = json.loads(Path(args.json).read_text()) if os.path.exists(args.json) else {"runs": []}
done = {(r["seed"], r["kind"], r["steps"]) for r in results["runs"]}
plan = [("supervised", args.baseline_steps, {"supervised_only": True}), ("sgan", args.steps, {})]
plan = [entry for entry in plan if entry[0] in args.kinds]
for seed in args.seeds:
    for kind, steps, extra in plan:
        if (seed, kind, steps) in done:
            continue
        config = train.make_config(
            "sgan", seed=seed, epochs=10**6, **extra
        )  # valid_size 0: scored on the test split
        run = os.path.join(args.out, f"{kind}-{steps}steps-seed{seed}")
        t0 = time.perf_counter()
        trainer = train.Trainer(config, run, progress=False)
        trainer.fit(max_steps=steps)
        model = trainer.model
        row = {
            "seed": seed,
            "kind": kind,
            "steps": steps,
            "test_accuracy": model.accuracy(test_x, test_y),
            "test_images": len(test_x),
            "labelled": len(model.labeled_x),
            "labelled_per_class": np.bincount(model.labeled_y, minlength=10).tolist(),
            "unlabelled": len(trainer.train_x),
            "seconds": round(time.perf_counter() - t0, 1),
            "run": run,
        }
        print(row, flush=True)
        results["runs"].append(row)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)

summary = results.setdefault("summary", {})  # "KIND STEPS steps" -> accuracy over the seeds
for kind, steps, _ in plan:
    accs = [
        r["test_accuracy"]
        for r in results["runs"]
        if (r["kind"], r["steps"]) == (kind, steps) and r["seed"] in args.seeds
    ]
    summary[f"{kind} {steps} steps"] = {
        "n": len(accs),
        "mean": float(np.mean(accs)),
        "std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
        "min": float(np.min(accs)),
        "max": float(np.max(accs)),
    }
for name, row in summary.items():
    print(f"{name}: {row['mean']:.3f} +- {row['std']:.3f} (n = {row['n']})")
with open(args.json, "w") as f:
    json.dump(results, f, indent=2)
