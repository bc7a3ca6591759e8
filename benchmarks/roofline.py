"""How close to the machine's GEMM limit each conv layer and each training step runs.

Measures the sgemm peak (float32 matmul sweep, best GFLOP/s) at the thread count in use, then
times every conv2d / conv_transpose2d layer of dcgan (28x28) and dcgan64 forward and
forward+backward, and every training step of train_step.py, scratchgan and PyTorch alternating
in one process (medians after warm-up). FLOPs come from the shapes: a convolution is
2 N Ho Wo Cout (Cin/groups) kh kw multiply-adds forward and three times that forward+backward
(input and weight gradients); a step's FLOPs are counted once by PyTorch's FlopCounterMode on
the same model (matmuls and convolutions, forward and backward). Each row reports GFLOP/s and
share of the peak for both frameworks, and the ratio; beside every figure: CPU model, ISA, BLAS
build and thread count.

    python benchmarks/roofline.py [--threads 1 2] [--only conv|steps] [--filter TEXT]
                                  [--repeat 7] [--warmup 2] [--out benchmarks/results]

writes conv-roofline-{isa}-threads{N}.json/.md/.png per thread count (e.g.
conv-roofline-avx2-threads1.json). About a minute per thread count on a 2-core machine.
"""

import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

from harness import alternate, run_cases  # noqa: E402

RESULTS = os.path.join(HERE, "results")

# (model, kind, n, cin, cout, size, k, stride, padding, output_padding): every conv layer
LAYERS = [
    *(("dcgan28", "conv2d", n, 1, 64, 28, 5, 2, 2, 0) for n in (32, 128)),
    *(("dcgan28", "conv2d", n, 64, 128, 14, 5, 2, 2, 0) for n in (32, 128)),
    *(("dcgan28", "conv_transpose2d", n, 128, 64, 7, 5, 2, 2, 1) for n in (32, 128)),
    *(("dcgan28", "conv_transpose2d", n, 64, 1, 14, 5, 2, 2, 1) for n in (32, 128)),
    ("dcgan64", "conv2d", 64, 1, 64, 64, 4, 2, 1, 0),
    ("dcgan64", "conv2d", 64, 64, 128, 32, 4, 2, 1, 0),
    ("dcgan64", "conv2d", 64, 128, 256, 16, 4, 2, 1, 0),
    ("dcgan64", "conv_transpose2d", 64, 256, 128, 8, 4, 2, 1, 0),
    ("dcgan64", "conv_transpose2d", 64, 128, 64, 16, 4, 2, 1, 0),
    ("dcgan64", "conv_transpose2d", 64, 64, 1, 32, 4, 2, 1, 0),
]
WIDE = 64  # layers with at least this many channels in and out are held to 60% of the peak


def layer_out_size(kind, size, k, s, p, op):
    if kind == "conv2d":
        return (size + 2 * p - k) // s + 1
    return (size - 1) * s - 2 * p + k + op


def layer_flops(kind, n, cin, cout, size, k, s, p, op, direction="forward+backward"):
    """FLOPs (2 per multiply-add) of the layer; the small image is the output of a conv2d and
    the input of a conv_transpose2d. forward+backward adds the input and weight gradients."""
    out = layer_out_size(kind, size, k, s, p, op)
    small = out if kind == "conv2d" else size
    forward = 2 * n * small * small * cin * cout * k * k
    return forward * (3 if direction == "forward+backward" else 1)


def layer_bytes(kind, n, cin, cout, size, k, s, p, op, direction="forward+backward"):
    """Compulsory float32 traffic: input, weight and output once per pass (3 with backward)."""
    out = layer_out_size(kind, size, k, s, p, op)
    once = 4 * (n * cin * size * size + cin * cout * k * k + n * cout * out * out)
    return once * (3 if direction == "forward+backward" else 1)


def layer_gemm_shape(kind, n, cin, cout, size, k, s, p, op):
    """(M, K, N) of the one GEMM of the layer's forward in scratchgan's im2col design: rows are
    the small image's pixels; conv2d gathers (tap, channel) windows, conv_transpose2d forms every
    tap of every output channel before the col2im sum."""
    small = layer_out_size(kind, size, k, s, p, op) if kind == "conv2d" else size
    if kind == "conv2d":
        return n * small * small, cin * k * k, cout
    return n * small * small, cin, cout * k * k


def layer_case(layer):
    import ops

    model, kind, n, cin, cout, size, k, s, p, op = layer
    if kind == "conv2d":
        return ops.conv_case(n, cin, cout, size, k, s, p)
    return ops.conv_transpose_case(n, cin, cout, size, k, s, p, op)


def gflops(flops, ms):
    return round(flops / (ms * 1e-3) / 1e9, 2) if ms else None


def conv_rows(peak, args, log=print):
    import machine

    rows = []
    for layer in LAYERS:
        case = layer_case(layer)
        label = f"{layer[0]} {case.op} {case.shape}"
        if args.filter and args.filter not in label:
            continue
        # what this BLAS reaches on the forward's GEMM alone: the ceiling of an im2col design
        gemm_shape = layer_gemm_shape(*layer[1:])
        gemm_rate = machine.gemm_gflops(*gemm_shape)
        for timed in run_cases([case], repeat=args.repeat, warmup=args.warmup, log=lambda _: None):
            flops = layer_flops(*layer[1:], direction=timed["direction"])
            row = {
                "kind": "layer",
                "name": label,
                "direction": timed["direction"],
                "flops": flops,
                "bytes": layer_bytes(*layer[1:], direction=timed["direction"]),
                "wide": min(layer[3], layer[4]) >= WIDE,
                "gemm_shape": gemm_shape,
                "gemm_gflops": gemm_rate,
            }
            rows.append(_with_rates(row, timed["scratchgan_ms"], timed["torch_ms"], peak))
            log(format_row(rows[-1]))
    return rows


def step_flops(torch_step_fn):
    """FLOPs of one PyTorch training step, counted by FlopCounterMode (matmuls, convolutions)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        torch_step_fn()
    return counter.get_total_flops()


def step_rows(peak, args, log=print):
    import train_step

    rows = []
    for name, model_name, overrides, batch, size, kind in train_step.CASES:
        if args.filter and args.filter not in name:
            continue
        sg_step = train_step.scratchgan_step(model_name, overrides, batch, size, kind)
        torch_step = train_step.torch_step(model_name, overrides, batch, size, kind)
        try:
            flops = step_flops(torch_step)
        except RuntimeError as e:  # FlopCounterMode cannot follow autograd.grad(create_graph)
            log(
                f"{name}: left out, its FLOPs cannot be counted ({str(e)[:60]}...); "
                "benchmarks/train_step.py times it"
            )
            continue
        times = alternate([sg_step, torch_step], args.repeat, args.warmup)
        sg_ms, torch_ms = (1000 * statistics.median(t) for t in times)
        row = {
            "kind": "step",
            "name": name,
            "direction": "train step",
            "flops": flops,
            "bytes": None,
            "wide": False,
        }
        rows.append(_with_rates(row, sg_ms, torch_ms, peak))
        log(format_row(rows[-1]))
    return rows


def _with_rates(row, sg_ms, torch_ms, peak):
    row.update(
        scratchgan_ms=round(sg_ms, 3), torch_ms=round(torch_ms, 3), ratio=round(sg_ms / torch_ms, 3)
    )
    for fw in ("scratchgan", "torch"):
        row[f"{fw}_gflops"] = rate = gflops(row["flops"], row[f"{fw}_ms"])
        row[f"{fw}_share_of_peak"] = round(rate / peak, 3)
    if row["bytes"]:
        row["intensity_flop_per_byte"] = round(row["flops"] / row["bytes"], 1)
    return row


def format_row(r):
    return (
        f"{r['name']:<62.62} {r['direction']:<17} {r['scratchgan_ms']:9.2f} "
        f"{r['torch_ms']:9.2f} {r['ratio']:6.2f} {100 * r['scratchgan_share_of_peak']:6.1f}% "
        f"{100 * r['torch_share_of_peak']:6.1f}%"
    )


def stem(facts):
    suffix = "-convbench" if facts.get("conv_algorithm_benchmark") else ""
    return f"conv-roofline-{facts['isa']}-threads{facts['threads']}{suffix}"


if __name__ == "__main__":
    import roofline_report

    roofline_report.main()
