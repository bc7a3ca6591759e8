"""Op benchmarks on the CPU: scratchgan against PyTorch at the shapes of the seed models.

Each op is timed forward and forward+backward, the two frameworks alternating in one process,
medians after warm-up, float32, PyTorch's default thread count. Results are merged into
benchmarks/results/ops-cpu.json and rewritten as the table benchmarks/results/ops-cpu.md.

    python benchmarks/ops.py [--filter conv] [--repeat 20] [--warmup 3] [--threads N]

``--threads N`` limits both frameworks to N threads (PyTorch's set_num_threads, NumPy's BLAS
through threadpoolctl) and writes ops-cpu-threadsN.json/.md instead: on a shared machine a
one-thread comparison is the steadier one.

To add rows, append ``Case``s to ``CASES`` (see harness.Case). Other op families keep their
cases in their own module next to this one, e.g. benchmarks/ops_norm_cases.py defining
``CASES = [...]``; every module named in ``EXTRA_CASE_MODULES`` that exists is imported and
its ``CASES`` appended.
"""

import argparse
import contextlib
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

from harness import Case, environment, run_cases, write_results

EXTRA_CASE_MODULES = ["ops_norm_cases"]
RESULTS = os.path.join(HERE, "results")


def _sg():
    import scratchgan.functional as F

    return F


def _torch():
    import torch.nn.functional as tF

    return tF


def conv_case(n, cin, cout, size, k, s, p):
    """conv2d with bias, input (n, cin, size, size), weight (cout, cin, k, k)."""
    out = (size + 2 * p - k) // s + 1
    return Case(
        "conv2d",
        f"{n}x{cin}x{size}x{size} -> {cout}x{out}x{out}, k{k} s{s} p{p}",
        [("x", (n, cin, size, size), True), ("W", (cout, cin, k, k), True), ("b", (cout,), True)],
        scratchgan=lambda x, W, b: _sg().conv2d(x, W, b, stride=s, padding=p),
        torch=lambda x, W, b: _torch().conv2d(x, W, b, stride=s, padding=p),
    )


def conv_transpose_case(n, cin, cout, size, k, s, p, op):
    """conv_transpose2d with bias, input (n, cin, size, size), weight (cin, cout, k, k)."""
    out = (size - 1) * s - 2 * p + k + op
    return Case(
        "conv_transpose2d",
        f"{n}x{cin}x{size}x{size} -> {cout}x{out}x{out}, k{k} s{s} p{p} op{op}",
        [("x", (n, cin, size, size), True), ("W", (cin, cout, k, k), True), ("b", (cout,), True)],
        scratchgan=lambda x, W, b: _sg().conv_transpose2d(
            x, W, b, stride=s, padding=p, output_padding=op
        ),
        torch=lambda x, W, b: _torch().conv_transpose2d(
            x, W, b, stride=s, padding=p, output_padding=op
        ),
    )


def pool_case(op, shape, k, s):
    return Case(
        op,
        f"{'x'.join(map(str, shape))}, k{k} s{s}",
        [("x", shape, True)],
        scratchgan=lambda x: getattr(_sg(), op)(x, k, s),
        torch=lambda x: getattr(_torch(), op)(x, k, s),
    )


def upsample_case(shape, scale):
    return Case(
        "interpolate",
        f"{'x'.join(map(str, shape))}, nearest x{scale}",
        [("x", shape, True)],
        scratchgan=lambda x: _sg().interpolate(x, scale_factor=scale, mode="nearest"),
        torch=lambda x: _torch().interpolate(x, scale_factor=scale, mode="nearest"),
    )


CASES = [
    # Fashion-MNIST DCGAN (28x28): discriminator convs and generator transposed convs, k5 s2 p2
    *(conv_case(n, 1, 64, 28, 5, 2, 2) for n in (32, 128)),
    *(conv_case(n, 64, 128, 14, 5, 2, 2) for n in (32, 128)),
    *(conv_transpose_case(n, 128, 64, 7, 5, 2, 2, 1) for n in (32, 128)),
    *(conv_transpose_case(n, 64, 1, 14, 5, 2, 2, 1) for n in (32, 128)),
    # 64x64 DCGAN, batch 64: k4 s2 p1 convs and their mirrors
    conv_case(
        64, 1, 64, 64, 4, 2, 1
    ),  # dcgan64 on Fashion-MNIST: D's first and G's last layer have one channel
    conv_transpose_case(64, 64, 1, 32, 4, 2, 1, 0),
    conv_case(64, 3, 64, 64, 4, 2, 1),
    conv_case(64, 64, 128, 32, 4, 2, 1),
    conv_case(64, 128, 256, 16, 4, 2, 1),
    conv_transpose_case(64, 256, 128, 8, 4, 2, 1, 0),
    conv_transpose_case(64, 128, 64, 16, 4, 2, 1, 0),
    conv_transpose_case(64, 64, 3, 32, 4, 2, 1, 0),
    # pooling and upsampling
    pool_case("max_pool2d", (64, 64, 32, 32), 2, 2),
    pool_case("avg_pool2d", (64, 64, 32, 32), 2, 2),
    pool_case("max_pool2d", (64, 64, 32, 32), 3, 2),
    upsample_case((64, 128, 16, 16), 2),
]


def all_cases():
    cases = list(CASES)
    for name in EXTRA_CASE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        cases.extend(module.CASES)
    return cases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--filter", default=None, help="only cases whose op or shape contains this text"
    )
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed calls per framework (median reported)"
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", default=RESULTS, help="directory for ops-cpu.json and ops-cpu.md")
    parser.add_argument(
        "--threads", type=int, default=None, help="limit both frameworks to this many threads"
    )
    args = parser.parse_args(argv)
    cases = [
        c
        for c in all_cases()
        if args.filter is None or args.filter in c.op or args.filter in c.shape
    ]
    if not cases:
        parser.error(f"no case matches --filter {args.filter!r}")
    limit, name = contextlib.nullcontext(), "ops-cpu"
    if args.threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            parser.error(
                "--threads needs threadpoolctl (pip install threadpoolctl) to limit NumPy's BLAS"
            )
        import torch

        torch.set_num_threads(args.threads)
        limit, name = threadpool_limits(args.threads), f"ops-cpu-threads{args.threads}"
    with limit:
        env = environment()
        env["threads"] = args.threads or "default (both frameworks)"
        print(
            f"load average {env['load_average_1_5_15']}, torch threads {env.get('torch_threads')}"
        )
        print(
            f"{'op':<18} {'shape':<40} {'direction':<17} {'sg ms':>9} {'torch ms':>9} {'ratio':>6}"
        )
        rows = run_cases(cases, repeat=args.repeat, warmup=args.warmup)
    env["load_average_after"] = environment()["load_average_1_5_15"]
    json_path, md_path = (os.path.join(args.out, f"{name}.{ext}") for ext in ("json", "md"))
    write_results(rows, json_path, md_path, env)
    print(f"wrote {md_path}")


if __name__ == "__main__":
    main()
