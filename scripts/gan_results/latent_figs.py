"""Models and features (no acceptance point of its own): latent interpolation (slerp vs lerp) and
latent arithmetic pictures for a trained dcgan run.

    python scripts/gan_results/latent_figs.py runs/i8/dcgan-ns \
        --interp docs/img/gan-interpolation.png --arith docs/img/gan-arithmetic.png \
        --json runs/i8/latent.json
Arithmetic rows: 3 exemplars of a and G(their mean) | of b | of c | G(z_a - z_b + z_c) and 5
neighbours.
"""

import argparse
import json

import numpy as np
from threadpoolctl import threadpool_limits

import scratchgan as sg
from scratchgan import train, viz
from scratchgan.metrics import load_classifier
from scratchgan.models import latent

CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
p = argparse.ArgumentParser()
p.add_argument("run")
p.add_argument("--interp", required=True)
p.add_argument("--arith", required=True)
p.add_argument("--json", required=True)
p.add_argument(
    "--equations", default="9-7+5,4-2+0,3-1+0", help="a-b+c class triples, comma separated"
)
args = p.parse_args()
threadpool_limits(1, user_api="blas")
model, config = train.load_run(args.run)

# slerp rows, then lerp rows between the same end points
g = sg.Generator(11)
rows, steps = 4, 9
a, b = model.noise(rows, g).numpy(), model.noise(rows, g).numpy()
strips, code_norms = [], {}
for path in ("slerp", "lerp"):
    z = latent.interpolate_codes(a, b, steps, path)
    strips.append(model.decode(z.reshape(rows * steps, -1)).reshape(rows, steps, 1, 28, 28))
    code_norms[path] = np.linalg.norm(z, axis=-1).round(3).tolist()  # rows x steps
    print(
        path,
        "code norms, start / middle / end:",
        [(r[0], r[steps // 2], r[-1]) for r in code_norms[path]],
    )
viz.save_interpolation(np.concatenate(strips), args.interp, scale=3)
print(args.interp, f"rows 1-{rows}: slerp, rows {rows + 1}-{2 * rows}: lerp between the same codes")

clf = load_classifier(config["dataset"], train_if_missing=False)
out_rows, report = [], []
blank = np.ones((1, 1, 28, 28), dtype=np.float32)
for eq in args.equations.split(","):
    ca, rest = eq.split("-")
    cb, cc = rest.split("+")
    ca, cb, cc = int(ca), int(cb), int(cc)
    res = latent.arithmetic(
        model, clf.probabilities, ca, cb, cc, sg.Generator(3), k=3, n=4000, results=6
    )
    m = res["means"]
    row = np.concatenate(
        [res["a"], m[:1], blank, res["b"], m[1:2], blank, res["c"], m[2:3], blank, res["result"]]
    )
    out_rows.append(row)
    verdict = res["result_probs"].argmax(1)
    report.append(
        {
            "a": CLASSES[ca],
            "b": CLASSES[cb],
            "c": CLASSES[cc],
            "result_classes": [CLASSES[v] for v in verdict],
            "result_confidence": res["result_probs"].max(1).round(3).tolist(),
        }
    )
    print(f"{CLASSES[ca]} - {CLASSES[cb]} + {CLASSES[cc]} ->", [CLASSES[v] for v in verdict])
viz.save_interpolation(np.stack(out_rows), args.arith, scale=3)
with open(args.json, "w") as f:
    json.dump({"run": args.run, "code_norms": code_norms, "equations": report}, f, indent=2)
print(args.arith)
