"""Reports of roofline.py: JSON, a Markdown table and a PNG chart, and the command line."""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

import machine  # noqa: E402
import roofline  # noqa: E402


def markdown(result):
    f, peak = result["facts"], result["sgemm_peak_gflops"]
    lines = [
        f"# Conv layers and training steps against the GEMM limit ({f['threads']} thread(s))",
        "",
        f"{machine.label(f)}; torch {f.get('torch')}; measured {f['date']}, load average "
        f"{f.get('load_average_1_5_15')} before, {result.get('load_average_after')} after.",
        f"sgemm peak (float32 matmul sweep {result['sgemm_sweep_gflops']}): **{peak} GFLOP/s**.",
        "Medians of alternating runs after warm-up; GFLOP/s from the shapes (steps: PyTorch's "
        "FlopCounterMode); share = GFLOP/s / sgemm peak; ratio = scratchgan / PyTorch time. "
        "GEMM at the layer's shape: NumPy's BLAS alone on the (M, K, N) matmul of the layer's "
        "forward in scratchgan's im2col design, the ceiling of that design with this BLAS.",
        "",
        "| what | direction | GFLOP | scratchgan ms | torch ms | ratio | scratchgan GFLOP/s "
        "(share) | torch GFLOP/s (share) | GEMM at the layer's shape (M, K, N): GFLOP/s (share) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        mark = " (wide)" if r.get("wide") else ""
        gemm = "-"
        if r.get("gemm_gflops"):
            shape = ", ".join(map(str, r["gemm_shape"]))
            gemm = f"({shape}): {r['gemm_gflops']:.1f} ({100 * r['gemm_gflops'] / peak:.0f}%)"
        lines.append(
            f"| {r['name']}{mark} | {r['direction']} | {r['flops'] / 1e9:.2f} | "
            f"{r['scratchgan_ms']:.2f} | {r['torch_ms']:.2f} | {r['ratio']:.2f} | "
            f"{r['scratchgan_gflops']:.1f} ({100 * r['scratchgan_share_of_peak']:.0f}%) | "
            f"{r['torch_gflops']:.1f} ({100 * r['torch_share_of_peak']:.0f}%) | {gemm} |"
        )
    checks = acceptance(result["rows"])
    lines += [
        "",
        f"Every row at most 1.0x PyTorch: {checks['all_at_most_torch']}; wide layers "
        f"(>= {roofline.WIDE} channels in and out) forward+backward at >= 60% of the peak: "
        f"{checks['wide_at_60_percent']}.",
    ]
    return "\n".join(lines) + "\n"


def acceptance(rows):
    timed = [r for r in rows if r["direction"] != "forward"]
    wide = [r for r in timed if r.get("wide")]
    return {
        "all_at_most_torch": all(r["ratio"] <= 1.0 for r in timed),
        "wide_at_60_percent": all(r["scratchgan_share_of_peak"] >= 0.6 for r in wide),
    }


def chart(result, path):
    """Left: roofline (GFLOP/s against FLOP per byte, the sgemm peak as the roof). Right: share
    of the peak per layer and step, both frameworks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peak, rows = result["sgemm_peak_gflops"], result["rows"]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(15, 0.32 * len(rows) + 3), gridspec_kw={"width_ratios": [1, 1.4]}
    )
    layers = [r for r in rows if r.get("intensity_flop_per_byte")]
    for fw, marker in (("scratchgan", "o"), ("torch", "x")):
        left.scatter(
            [r["intensity_flop_per_byte"] for r in layers],
            [r[f"{fw}_gflops"] for r in layers],
            marker=marker,
            label=fw,
        )
    left.axhline(peak, color="k", linestyle="--", label=f"sgemm peak {peak:.0f} GFLOP/s")
    left.axhline(0.6 * peak, color="grey", linestyle=":", label="60% of peak")
    if layers:
        left.set_xscale("log")
    left.set_xlabel("FLOP per byte of compulsory traffic")
    left.set_ylabel("GFLOP/s")
    left.legend(fontsize=8)
    short = {"forward": "fwd", "forward+backward": "fwd+bwd", "train step": "step"}
    names = [f"{r['name'][:48]} [{short.get(r['direction'], r['direction'])}]" for r in rows]
    ys = range(len(rows))
    right.barh(
        [y - 0.2 for y in ys],
        [100 * r["scratchgan_share_of_peak"] for r in rows],
        height=0.4,
        label="scratchgan",
    )
    right.barh(
        [y + 0.2 for y in ys],
        [100 * r["torch_share_of_peak"] for r in rows],
        height=0.4,
        label="torch",
    )
    right.set_yticks(list(ys), names, fontsize=7)
    right.invert_yaxis()
    right.axvline(60, color="grey", linestyle=":")
    right.set_xlabel("% of sgemm peak")
    right.legend(fontsize=8)
    fig.suptitle(machine.label(result["facts"]), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(result, out_dir):
    """JSON + Markdown (+ PNG when matplotlib is there); returns the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, roofline.stem(result["facts"]))
    with open(base + ".json", "w") as f:
        json.dump(result, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(markdown(result))
    paths = [base + ".json", base + ".md"]
    try:
        chart(result, base + ".png")
        paths.append(base + ".png")
    except ImportError:
        pass
    return paths


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=roofline.__doc__.split("\n\n")[0])
    p.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="thread counts to measure, one report each (default 1 2)",
    )
    p.add_argument("--only", choices=["conv", "steps"], default=None)
    p.add_argument("--filter", default="", help="only layers / steps whose name contains this")
    p.add_argument("--repeat", type=int, default=7, help="timed calls per framework (median)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(machine.SWEEP),
        help="matrix sizes of the sgemm sweep",
    )
    p.add_argument("--out", default=roofline.RESULTS)
    p.add_argument(
        "--conv-benchmark",
        action="store_true",
        help="let scratchgan time its conv algorithms per shape (conv_select); the "
        "report names then end in -convbench",
    )
    args = p.parse_args(argv)
    if any(t < 1 for t in args.threads):
        p.error("--threads must be positive")
    return args


def measure(threads, args, log=print):
    import torch
    from threadpoolctl import threadpool_limits

    from scratchgan import threads as pool
    from scratchgan.ops.conv_select import algorithms

    torch.set_num_threads(threads)
    algorithms.benchmark = args.conv_benchmark
    with threadpool_limits(threads):
        facts = machine.facts(threads)
        facts["scratchgan_pool_threads"] = pool.get_num_threads()
        facts["conv_algorithm_benchmark"] = args.conv_benchmark
        peak, sweep = machine.sgemm_peak(None, sizes=args.sizes)
        log(
            f"{machine.label(facts)}: sgemm peak {peak} GFLOP/s {sweep}; load "
            f"{facts['load_average_1_5_15']}"
        )
        rows = []
        if args.only in (None, "conv"):
            rows += roofline.conv_rows(peak, args, log)
        if args.only in (None, "steps"):
            rows += roofline.step_rows(peak, args, log)
        facts["conv_algorithms_chosen"] = {
            " ".join(map(str, k[:4])): v for k, v in algorithms.chosen.items()
        }
    algorithms.benchmark = False
    after = machine.facts(threads)["load_average_1_5_15"]
    return {
        "facts": facts,
        "sgemm_peak_gflops": peak,
        "sgemm_sweep_gflops": sweep,
        "rows": rows,
        "load_average_after": after,
    }


def main(argv=None, log=print):
    args = parse_args(argv)
    written = []
    for threads in args.threads:
        written += write(measure(threads, args, log), args.out)
    for path in written:
        log(f"wrote {path}")
    return written


if __name__ == "__main__":
    main()
