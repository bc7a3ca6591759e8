"""The memory-bound phases between dcgan64's convolutions on one thread and on several.

LeakyReLU forward and backward, batch norm forward and (fused) backward, and the Adam update of
every G and D parameter, each over all the shapes it meets in one dcgan64 b64 step (activations
channels-last, as the convolutions hand them out). Each phase is timed on scratchgan.threads'
pool with 1 thread and with --threads threads, alternating: medians of --repeat runs after two
warm-ups. The results are bit-identical at any thread count (tests/test_threads_elementwise.py);
this only says how much of the split the machine turns into time. Runs in well under a minute.

    python benchmarks/elementwise_threads.py [--threads 2] [--repeat 7]

Prints a Markdown table under the machine's label. Figures from a loaded machine mean little.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

import numpy as np  # noqa: E402

import machine  # noqa: E402
from harness import median_ms  # noqa: E402
from scratchgan.cli_support import positive_int  # noqa: E402

BATCH = 64
# (channels, size) of the activations that pass a LeakyReLU / ReLU, and of those batch-normed
G_ACTIVATIONS = [(512, 4), (256, 8), (128, 16), (64, 32)]
D_ACTIVATIONS = [(64, 32), (128, 16), (256, 8), (512, 4)]
D_NORMED = D_ACTIVATIONS[1:]  # no batch norm on D's first layer


def _channels_last(rng, c, size):
    a = rng.standard_normal((BATCH, size, size, c)).astype(np.float32)
    return a.transpose(0, 3, 1, 2)


def leaky_relu_phases(rng):
    """(forward, backward) over every activation of a step: ReLU in G, LeakyReLU 0.2 in D."""
    import scratchgan as sg
    import scratchgan.functional as F

    cases = []
    for slope, shapes in ((0.0, G_ACTIVATIONS), (0.2, D_ACTIVATIONS)):
        for c, size in shapes:
            x = sg.Tensor._make(_channels_last(rng, c, size), True)
            gy = sg.Tensor._make(_channels_last(rng, c, size))
            cases.append((x, gy, slope, F.leaky_relu(x, slope)))

    def forward():
        for x, _, slope, _ in cases:
            F.leaky_relu(x, slope)

    def backward():
        for x, gy, _, y in cases:
            sg.grad(y, [x], gy, retain_graph=True)

    return forward, backward


def batch_norm_phases(rng):
    """(forward, fused backward) of training-mode batch norm over every normed activation."""
    import scratchgan as sg
    import scratchgan.functional as F

    cases = []
    for c, size in G_ACTIVATIONS + D_NORMED:
        x = sg.Tensor._make(_channels_last(rng, c, size), True)
        gy = sg.Tensor._make(_channels_last(rng, c, size))
        w, b = sg.ones(c, requires_grad=True), sg.zeros(c, requires_grad=True)
        rm, rv = sg.zeros(c), sg.ones(c)
        cases.append((x, gy, w, b, rm, rv))

    def run(x, w, b, rm, rv):
        return F.batch_norm(x, rm, rv, w, b, training=True)

    graphs = [(run(x, w, b, rm, rv), [x, w, b], gy) for x, gy, w, b, rm, rv in cases]

    def forward():
        for x, _, w, b, rm, rv in cases:
            run(x, w, b, rm, rv)

    def backward():
        for y, inputs, gy in graphs:
            sg.grad(y, inputs, gy, retain_graph=True)

    return forward, backward


def adam_phase(rng):
    """One Adam step (lr 2e-4, betas 0.5, 0.999) of every G and D parameter of dcgan64."""
    from scratchgan import train

    config = train.make_config("dcgan64", batch_size=BATCH)
    model = train.build_model(config)
    import scratchgan as sg

    opts = (model.opt_g, model.opt_d)
    for opt in opts:
        for group in opt.param_groups:
            for p in group["params"]:
                p.grad = sg.Tensor._make(rng.standard_normal(p.shape).astype(p.dtype))

    def step():
        for opt in opts:
            opt.step()

    return step


def on_threads(n, fn):
    """fn run with scratchgan's pool at n threads."""

    from scratchgan import threads

    def run():
        threads.set_num_threads(n)
        fn()

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=positive_int, default=2, help="the thread count beside 1")
    parser.add_argument("--repeat", type=positive_int, default=7, help="timed runs per phase")
    args = parser.parse_args(argv)

    from scratchgan import threads

    rng = np.random.default_rng(0)
    lrelu_fwd, lrelu_bwd = leaky_relu_phases(rng)
    bn_fwd, bn_bwd = batch_norm_phases(rng)
    phases = [
        ("LeakyReLU / ReLU forward", "G 4 + D 4 activations", lrelu_fwd),
        ("LeakyReLU / ReLU backward", "G 4 + D 4 activations", lrelu_bwd),
        ("batch norm forward", "G 4 + D 3 activations", bn_fwd),
        ("batch norm backward (fused)", "G 4 + D 3 activations", bn_bwd),
        ("Adam step", "all G and D parameters", adam_phase(rng)),
    ]
    n = args.threads
    print(
        f"dcgan64 b{BATCH} phases on {machine.label(machine.facts(n))}; "
        f"medians of {args.repeat} runs, 1 and {n} threads alternating, after 2 warm-ups\n"
    )
    print(f"| phase | shapes | 1 thread (ms) | {n} threads (ms) | speed-up |")
    print("|---|---|---:|---:|---:|")
    try:
        for name, shapes, fn in phases:
            one, many = median_ms([on_threads(1, fn), on_threads(n, fn)], args.repeat, warmup=2)
            print(f"| {name} | {shapes} | {one:.2f} | {many:.2f} | {one / many:.2f} |")
    finally:
        threads.set_num_threads(None)


if __name__ == "__main__":
    main()
