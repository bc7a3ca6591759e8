"""MLP training step (784-150-100-1, batch 128, Adam): scratchgan vs PyTorch on the CPU.

Both are timed in the same process, alternating, and the medians after warm-up are compared.
Usage: python benchmarks/mlp.py [--repeat 50]
"""

import argparse
import statistics
import time

import numpy as np

import scratchgan as sg
import scratchgan.functional as F
from scratchgan import nn, optim


def scratchgan_step(batch, target):
    model = nn.Sequential(
        nn.Linear(784, 150), nn.SELU(), nn.Linear(150, 100), nn.SELU(), nn.Linear(100, 1)
    )
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, t = sg.tensor(batch), sg.tensor(target)

    def step():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), t)
        loss.backward()
        opt.step()

    return step


def torch_step(batch, target):
    import torch

    model = torch.nn.Sequential(
        torch.nn.Linear(784, 150),
        torch.nn.SELU(),
        torch.nn.Linear(150, 100),
        torch.nn.SELU(),
        torch.nn.Linear(100, 1),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, t = torch.from_numpy(batch), torch.from_numpy(target)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), t)
        loss.backward()
        opt.step()

    return step


def median_ms(step, repeat, warmup=5):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeat", type=int, default=50)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    batch = rng.random((128, 784), dtype=np.float32)
    target = (rng.random((128, 1)) > 0.5).astype(np.float32)
    ours = scratchgan_step(batch, target)
    theirs = torch_step(batch, target)
    ms_ours, ms_torch = [], []
    for _ in range(3):  # alternate, so both see the same machine load
        ms_ours.append(median_ms(ours, args.repeat))
        ms_torch.append(median_ms(theirs, args.repeat))
    a, b = statistics.median(ms_ours), statistics.median(ms_torch)
    print("MLP 784-150-100-1, batch 128, forward+backward+Adam (float32, CPU)")
    print(f"scratchgan {a:.3f} ms   torch {b:.3f} ms   ratio {a / b:.2f}x")


if __name__ == "__main__":
    main()
