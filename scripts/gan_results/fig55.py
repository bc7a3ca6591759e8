"""Acceptance 1 (figure): GANs in Action fig. 5.5 from real training: G's gradient norm against
D(G(z)) early in training, mm vs ns.

Trains dcgan (the book's recipe, same seed, same batches) with --loss mm and --loss ns for STEPS
steps each, logging at every G step the L2 norm of G's parameter gradient and the mean D(G(z));
plots them beside the two generator losses as functions of D(G(z)) (the book's sketch).

    python scripts/gan_results/fig55.py --steps 400 --out docs/img/gan-fig55.png \
        --json runs/i8/fig55.json
    python scripts/gan_results/fig55.py --plot-only --out docs/img/gan-fig55.png \
        --json runs/i8/fig55.json
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from scratchgan import data as sgdata
from scratchgan import train, viz

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=400)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--out", required=True)
p.add_argument("--json", required=True)
p.add_argument(
    "--plot-only", action="store_true", help="redraw from the logs in --json without training"
)
args = p.parse_args()
threadpool_limits(1, user_api="blas")

saved = (
    json.loads(Path(args.json).read_text())
    if args.plot_only
    else {"steps": args.steps, "seed": args.seed, "logs": {}}
)
logs = saved["logs"]
images = None if args.plot_only else train.load_data(train.make_config("dcgan"))[0]
for loss in () if args.plot_only else ("mm", "ns"):
    config = train.make_config("dcgan", loss=loss, seed=args.seed, log_gradients=True)
    config["image_shape"] = [1, 28, 28]
    model = train.build_model(config)
    loader = sgdata.DataLoader(
        (images,), config["batch_size"], shuffle=True, seed=train.derive_seeds(args.seed)["loader"]
    )
    rows, t0 = [], time.perf_counter()
    for step, batch in zip(range(args.steps), loader):
        epoch, epoch_step = divmod(step, len(loader))
        out = model.train_step(batch, train.StepContext(step, epoch, epoch_step, len(loader)))
        rows.append(
            {k: out[k] for k in ("d_gz", "g_grad_norm", "g_loss", "d_loss", "d_real", "d_fake")}
        )
    logs[loss] = rows
    print(loss, f"{time.perf_counter() - t0:.0f} s", rows[-1], flush=True)
bins = np.arange(0.0, 0.75, 0.1)
medians = {}
for loss, rows in logs.items():
    dg = np.array([r["d_gz"] for r in rows])
    gn = np.array([r["g_grad_norm"] for r in rows])
    medians[loss] = []
    for lo in bins:
        in_bin = (dg >= lo) & (dg < lo + 0.1)
        if in_bin.sum() >= 5:  # [bin's lower edge, median gradient norm, G steps in the bin]
            medians[loss].append(
                [round(float(lo), 1), float(np.median(gn[in_bin])), int(in_bin.sum())]
            )
    print(
        loss,
        "median |grad| per D(G(z)) bin [lo, median, count]:",
        [[r[0], round(r[1], 2), r[2]] for r in medians[loss]],
    )
saved["binned_medians"] = medians
with open(args.json, "w") as f:
    json.dump(saved, f)

fig, dpi = viz._figure((1100, 430))
ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
d = np.linspace(1e-3, 1 - 1e-3, 400)
ax1.plot(d, np.log(1 - d), label="mm: log(1 - D(G(z)))  (minimised)")
ax1.plot(d, -np.log(d), label="ns: -log D(G(z))")
ax1.set_xlabel("D(G(z))")
ax1.set_ylabel("generator loss")
ax1.set_title("the two generator losses (GANs in Action fig. 5.5)")
ax1.legend(fontsize=8)
for loss, colour in (("mm", "tab:blue"), ("ns", "tab:orange")):
    dg = np.array([r["d_gz"] for r in logs[loss]])
    gn = np.array([r["g_grad_norm"] for r in logs[loss]])
    ax2.scatter(dg, gn, s=6, alpha=0.35, color=colour, label=f"{loss}: one G step")
    m = np.array(medians[loss])
    ax2.plot(m[:, 0] + 0.05, m[:, 1], "-o", color=colour, lw=2, label=f"{loss}: median per 0.1 bin")
ax2.set_yscale("log")
ax2.set_xlabel("mean D(G(z)) of the batch")
ax2.set_ylabel("|grad of G's loss w.r.t. G's parameters|")
ax2.set_title(f"measured: dcgan on Fashion-MNIST, first {len(logs['mm'])} steps")
ax2.legend(fontsize=8)
fig.tight_layout()
viz._save_figure(fig, args.out, dpi)
print(args.out)
