"""Acceptance 3, a diagnostic of the sgan study: test accuracy of each run's classifier (1) as the
study scores it, batch norm on its running statistics (inference mode), and (2) with batch norm on
the statistics of each test batch of 100 (dropout still off), which shows how far the running
statistics of a short run hold it back.

    python scripts/gan_results/sgan_bn_check.py runs/i8/sgan/supervised-120steps-seed* \
        runs/i8/sgan/sgan-2500steps-seed* \
        --json runs/i8/sgan-bn-check.json
"""

import argparse
import json

import numpy as np
from threadpoolctl import threadpool_limits

from scratchgan import data as sgdata
from scratchgan import nn, train
from scratchgan.autograd import no_grad

p = argparse.ArgumentParser()
p.add_argument("runs", nargs="+")
p.add_argument("--json", required=True)
args = p.parse_args()
threadpool_limits(1, user_api="blas")
test_x, test_y = sgdata.load("mnist", "test")
out = {}
for run in args.runs:
    model, _ = train.load_run(run)
    inference = model.accuracy(
        test_x, test_y
    )  # first: a train-mode pass below updates the running statistics
    model.D.train(True)
    for layer in model.D:
        if isinstance(layer, nn.Dropout):
            layer.train(False)
    with no_grad():
        logits = [
            model.D(model.to_input(test_x[i : i + 100])).numpy() for i in range(0, len(test_x), 100)
        ]
    batch_stats = float((np.concatenate(logits).argmax(1) == test_y).mean())
    out[run] = {"inference_mode": inference, "batch_statistics_100": batch_stats}
    print(run, out[run], flush=True)
with open(args.json, "w") as f:
    json.dump(out, f, indent=2)
