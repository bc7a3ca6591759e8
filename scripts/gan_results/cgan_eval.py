"""Acceptance 2: cgan's 10 x 10 grid (row = requested class) and the metrics classifier's agreement
with the requested class on 10,000 generated samples (1,000 per class).

    python scripts/gan_results/cgan_eval.py runs/i8/cgan --grid docs/img/gan-cgan-grid.png \
        --json runs/i8/cgan.json
"""

import argparse
import json

import numpy as np
from threadpoolctl import threadpool_limits

import scratchgan as sg
from scratchgan import train, viz
from scratchgan.metrics import load_classifier

p = argparse.ArgumentParser()
p.add_argument("run")
p.add_argument("--checkpoint", default="last.npz")
p.add_argument("--n", type=int, default=10000)
p.add_argument("--grid", required=True)
p.add_argument("--json", required=True)
args = p.parse_args()
threadpool_limits(1, user_api="blas")
model, config = train.load_run(args.run, checkpoint=args.checkpoint)
clf = load_classifier(config["dataset"], train_if_missing=False)
k = config["num_classes"]

grid = model.sample(k * 10, sg.Generator(1), labels=np.repeat(np.arange(k), 10))
viz.save_image_grid(grid, args.grid, ncol=10, scale=3)

g = sg.Generator(0)
requested = np.repeat(np.arange(k), args.n // k)
predicted = np.concatenate(
    [
        clf.predict(model.sample(500, g, labels=requested[i : i + 500]))
        for i in range(0, len(requested), 500)
    ]
)
agree = float((predicted == requested).mean())
per_class = [float((predicted[requested == c] == c).mean()) for c in range(k)]
confusion = np.zeros((k, k), dtype=int)
np.add.at(confusion, (requested, predicted), 1)
print(f"classifier agrees with the requested class on {agree:.2%} of {len(requested)} samples")
print("per class:", [round(a, 3) for a in per_class])
with open(args.json, "w") as f:
    json.dump(
        {
            "run": args.run,
            "checkpoint": args.checkpoint,
            "n": len(requested),
            "agreement": agree,
            "per_class": per_class,
            "confusion": confusion.tolist(),
            "classifier_test_accuracy": clf.test_accuracy,
        },
        f,
        indent=2,
    )
print(args.grid)
