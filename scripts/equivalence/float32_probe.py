"""How far scratchgan's float32 training step is from torch's (README: "In float32").

    python scripts/equivalence/float32_probe.py [MODEL] [--steps 3]

The same initial weights and batches as tests/models/test_torch_equivalence.py, with scratchgan's
float32 draws replayed into torch. It prints, for dcgan64 (no dropout), D's forward pass layer by
layer (relative error against torch float64); after each step, how many parameters differ (rtol
1e-4, atol 1e-6) between scratchgan float32, torch float32 and torch float64; and the relative
error of the batch-statistics sum of D's first activation.
"""

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "models"))
import test_torch_equivalence as eq  # noqa: E402

import reference  # noqa: E402
import scratchgan as sg  # noqa: E402
from scratchgan.ops import norm_stats  # noqa: E402
from scratchgan.training.protocol import StepContext  # noqa: E402


def record_draws(generator):
    draws = []
    for kind in ("normal", "uniform"):
        method = getattr(generator, kind)

        def draw(shape, dtype, *args, _method=method, _kind=kind, **kwargs):
            array = _method(shape, dtype, *args, **kwargs)
            draws.append((_kind, array.copy()))
            return array

        setattr(generator, kind, draw)
    return draws


def differing(a, b):
    """(parameters and buffers that differ, of how many, largest difference)."""
    bad = total = 0
    worst = 0.0
    for net in ("G", "D"):
        x = {k: np.asarray(v.numpy(), np.float64) for k, v in getattr(a, net).state_dict().items()}
        for k, v in getattr(b, net).state_dict().items():
            if "num_batches" in k:
                continue
            ok = np.isclose(x[k], v.double().numpy(), rtol=1e-4, atol=1e-6)
            bad, total = bad + int((~ok).sum()), total + ok.size
            worst = max(worst, float(np.abs(x[k] - v.double().numpy()).max()))
    return bad, total, worst


def forward_errors(model, t32, t64, x):
    """D's forward pass on the same weights, layer by layer, against torch float64."""
    print("D's forward pass on the initial weights, relative error against torch float64:")
    model.train(True)
    h64, h32, hs = (
        torch.from_numpy(x),
        torch.from_numpy(x.astype(np.float32)),
        sg.tensor(x.astype(np.float32)),
    )
    for i, (l64, l32, ls) in enumerate(zip(t64.D, t32.D, model.D)):
        h64, h32, hs = l64(h64), l32(h32), ls(hs)
        ref = h64.detach().numpy()
        scale = np.abs(ref).max()

        def err(y, ref=ref, scale=scale):
            return np.abs(np.asarray(y, np.float64) - ref).max() / scale

        print(
            f"  {i:2d} {type(l64).__name__:12s} torch32 {err(h32.detach().numpy()):.1e}  "
            f"scratchgan32 {err(hs.numpy()):.1e}"
        )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", nargs="?", default="dcgan64", choices=reference.MODELS)
    p.add_argument("--steps", type=int, default=3)
    args = p.parse_args()
    config, model = eq.build(args.model)
    init = (eq.state(model.G), eq.state(model.D))
    draws = record_draws(model.generator)
    t32 = reference.TorchGAN(config, reference.Replay(draws), torch.float32)
    t64 = reference.TorchGAN(config, reference.Replay([]), torch.float64)
    for ref in (t32, t64):
        ref.load_state(*init)
    x = model.to_input(eq.blobs(8)).numpy().astype(np.float64)
    if args.model == "dcgan64":  # a D with dropout would draw masks here
        forward_errors(model, t32, t64, x)
    n = config["batch_size"]
    data = eq.blobs(n * args.steps)
    for step in range(args.steps):
        batch = data[step * n : (step + 1) * n]
        start = len(draws)
        model.train_step((batch,), StepContext(step, 0, step, 1000))
        t64.source.draws.extend((k, a.copy()) for k, a in draws[start:])
        t32.train_step(t32.to_input(batch))
        t64.train_step(t64.to_input(batch))
        ours, theirs = differing(model, t32), differing(t64, t32)
        print(f"step {step + 1}: differing (of, max diff) scratchgan32~torch32 {ours}")
        print(f"        torch64~torch32 {theirs}")
    h = model.D[0](sg.tensor(x.astype(np.float32))).array
    a = h.reshape(h.shape[0], h.shape[1], -1)
    exact = a.astype(np.float64).sum(axis=(0, 2))
    pairwise = np.ascontiguousarray(a.transpose(1, 0, 2)).reshape(a.shape[1], -1).sum(1)
    ours = norm_stats._stat_sum(a, True).ravel()
    print(
        f"batch sum over N, H, W of D's first activation (channels-last: "
        f"{a.transpose(0, 2, 1).flags.c_contiguous}), relative error: _stat_sum "
        f"{np.abs(ours - exact).max() / np.abs(exact).max():.1e}, pairwise float32 "
        f"{np.abs(pairwise - exact).max() / np.abs(exact).max():.1e}"
    )


if __name__ == "__main__":
    main()
