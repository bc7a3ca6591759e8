"""Acceptance 5: GAN inpainting (Yeh et al.) on the first 100 Fashion-MNIST test images with a
central square hole, against mean-fill and nearest-neighbour baselines; L1 and MSE inside the hole;
a picture of masked / inpainted / original rows.

    python scripts/gan_results/inpaint_eval.py runs/i8/dcgan-ns --json runs/i8/inpaint.json \
        --picture docs/img/gan-inpainting.png

GAN variants: the best of --restarts optimised codes (Yeh et al.), and the mean of G over the
--average best codes, pasted into the hole ("copy") or Poisson-blended. Picture rows (first 10
images): masked (hole grey), then one row per method in the printed order, then the original.
"""

import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_limits

import scratchgan as sg
from scratchgan import data as sgdata
from scratchgan import train, viz
from scratchgan.models import inpaint as ip

p = argparse.ArgumentParser()
p.add_argument("run")
p.add_argument("--n", type=int, default=100)
p.add_argument("--hole", type=int, default=14, help="side of the central square hole")
p.add_argument("--iterations", type=int, default=300)
p.add_argument("--restarts", type=int, default=16)
p.add_argument("--average", type=int, default=8)
p.add_argument("--lr", type=float, default=0.03)
p.add_argument("--perceptual", type=float, default=0.003)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--json", required=True)
p.add_argument("--picture", required=True)
args = p.parse_args()
threadpool_limits(1, user_api="blas")

model, config = train.load_run(args.run)
train_x, _, _, _ = train.load_data(config)
test_x, _ = sgdata.load(config["dataset"], "test")
x = test_x[: args.n]
mask = ip.center_mask(28, 28, args.hole)

t0 = time.perf_counter()
filled, codes = ip.inpaint(
    model,
    x,
    mask,
    sg.Generator(args.seed),
    iterations=args.iterations,
    lr=args.lr,
    perceptual_weight=args.perceptual,
    restarts=args.restarts,
    average=args.average,
    return_codes=True,
)
gan_time = time.perf_counter() - t0
known = sgdata.to_float(x)
best = np.where(
    mask, known, model.decode(codes[:, 0])
)  # the single best code of each image (Yeh et al.)
source = (
    model.decode(codes.reshape(-1, codes.shape[-1]))
    .reshape((len(x), args.average, *known.shape[1:]))
    .mean(1)
)
poisson = np.clip(ip.poisson_blend(known, source, mask), 0, 1).astype(np.float32)
results = {
    "mean-fill": ip.mean_fill(train_x, x, mask),
    "nearest-neighbour": ip.nearest_neighbour_fill(train_x, x, mask),
    f"GAN, best of {args.restarts} codes": best,
    f"GAN, mean of best {args.average} (copy)": filled,
    f"GAN, mean of best {args.average} (Poisson)": poisson,
}
errors = {name: ip.masked_error(out, x, mask) for name, out in results.items()}
for name, e in errors.items():
    print(f"{name:22s} L1 {e['l1']:.4f}  MSE {e['mse']:.4f}")
summary = {
    "run": args.run,
    "n": args.n,
    "mask": "center",
    "hole": args.hole,
    "iterations": args.iterations,
    "restarts": args.restarts,
    "average": args.average,
    "lr": args.lr,
    "perceptual_weight": args.perceptual,
    "weighting": "uniform",
    "gan_seconds": round(gan_time, 1),
    "errors": errors,
}
with open(args.json, "w") as f:
    json.dump(summary, f, indent=2)

k = 10
rows = [known[:k] * mask + 0.5 * ~mask, *(out[:k] for out in results.values()), known[:k]]
viz.save_interpolation(np.stack(rows), args.picture, scale=3)
print(args.picture, "rows: masked (hole grey),", ", ".join(results), ", original")
