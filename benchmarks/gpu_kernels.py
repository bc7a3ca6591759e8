"""Every CUDA kernel of kernels/*.cu, checked and timed (in the spirit of llm.c's dev/cuda).

For each wrapper of ``scratchgan.cuda`` and each block size: run it on device arrays, compare
with the NumPy path (scratchgan's own CPU ops, or a NumPy formula, in float64), then time it
with CUDA events after warm-up, the L2 cache flushed before every timed call (a write of twice
its size), and report GB/s of compulsory traffic (bytes of the inputs read and outputs
written) against a measured device-to-device copy. GEMM-based ops (conv2d, conv_transpose2d
through the im2col / col2im kernels and cupy.matmul) are reported in TFLOP/s against cuBLAS on
the same GEMM alone (cupy.matmul).

    python benchmarks/gpu_kernels.py [--out DIR] [--blocks 64 128 256] [--size full|small]
                                     [--repeat 20] [--warmup 3] [--emulate]

``--emulate`` runs everything on NumPy arrays through ``scratchgan.cuda.emulate()`` (the CPU
check of this script; timings then mean nothing). Writes gpu-kernels.json and gpu-kernels.md.
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

import gpu_kernel_cases  # noqa: E402

TOL = {"rtol": 2e-4, "atol": 2e-5}


class EventTimer:
    """Median ms of ``fn`` by CUDA events, after ``warmup`` calls, L2 flushed before each call."""

    def __init__(self, cupy):
        self.cp = cupy
        l2 = cupy.cuda.Device().attributes.get("L2CacheSize", 64 << 20)
        self.flush = cupy.empty(2 * l2 // 4, np.float32)

    def __call__(self, fn, warmup, repeat):
        cp = self.cp
        for _ in range(warmup):
            fn()
        times = []
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        for _ in range(repeat):
            self.flush.fill(0)
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(cp.cuda.get_elapsed_time(start, stop))
        return statistics.median(times)


class WallTimer:
    """Median ms by the host clock (emulation); ``clock`` may be a fake for tests."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock

    def __call__(self, fn, warmup, repeat):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeat):
            start = self.clock()
            fn()
            times.append(1000 * (self.clock() - start))
        return statistics.median(times)


@contextlib.contextmanager
def block_size(block):
    """Launch elementwise and per-row kernels with ``block`` threads per block."""
    from scratchgan.cuda.launcher import settings

    saved = settings.block, settings.reduce_block
    settings.block, settings.reduce_block = block, min(block, 256)
    try:
        yield
    finally:
        settings.block, settings.reduce_block = saved


def _numpy(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def check(outputs, expected, name):
    """Max relative error of each output against its float64 reference; raises if off."""
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    worst = 0.0
    for k, (got, want) in enumerate(zip(outputs, expected, strict=True)):
        got = _numpy(got).astype(np.float64)
        np.testing.assert_allclose(got, want, err_msg=f"{name} output {k}", **TOL)
        worst = max(worst, float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) or 1.0)))
    return worst


def copy_bandwidth(xp, timer, nbytes, warmup, repeat):
    """GB/s of a device-to-device copy of ``nbytes`` (read + write counted)."""
    src = xp.ones(nbytes // 4, np.float32)
    dst = xp.empty_like(src)
    ms = timer(lambda: dst.__setitem__(Ellipsis, src), warmup, repeat)
    return round(2 * nbytes / (ms * 1e-3) / 1e9, 1)


def run_kernels(xp, timer, blocks, size, warmup, repeat, copy_gbs, log=print):
    rows = []
    for case in gpu_kernel_cases.kernel_cases(size):
        host = case.inputs()
        expected = case.reference(*host)
        for block in blocks:
            device = [xp.asarray(a.astype(np.float32)) for a in host]  # fresh: adam updates them
            with block_size(block):
                err = check(case.run(*device), expected, case.name)
                ms = timer(lambda: case.run(*device), warmup, repeat)  # noqa: B023 (called here)
            nbytes = int(case.traffic(*device))
            gbs = round(nbytes / (ms * 1e-3) / 1e9, 1)
            rows.append(
                {
                    "kernel": case.name,
                    "shape": case.shape,
                    "block": block,
                    "max_rel_err": err,
                    "ms": round(ms, 4),
                    "bytes": nbytes,
                    "gb_s": gbs,
                    "share_of_copy": round(gbs / copy_gbs, 3),
                }
            )
            log(
                f"{case.name:<26} {case.shape:<24} block {block:>4} {ms:9.4f} ms {gbs:8.1f} GB/s"
                f" ({100 * gbs / copy_gbs:5.1f}% of copy) err {err:.1e}"
            )
    return rows


def run_gemms(xp, timer, size, warmup, repeat, log=print):
    rows = []
    for case in gpu_kernel_cases.gemm_cases(size):
        host = case.inputs()
        device = [xp.asarray(a.astype(np.float32)) for a in host]
        err = check(case.run(*device), case.reference(*host), case.name)
        ms = timer(lambda: case.run(*device), warmup, repeat)  # noqa: B023 (called here)
        gemm = case.gemm(xp)
        blas_ms = timer(gemm, warmup, repeat)
        tflops = round(case.flops / (ms * 1e-3) / 1e12, 2)
        rows.append(
            {
                "op": case.name,
                "shape": case.shape,
                "max_rel_err": err,
                "ms": round(ms, 4),
                "cublas_gemm_ms": round(blas_ms, 4),
                "tflops": tflops,
                "cublas_tflops": round(case.flops / (blas_ms * 1e-3) / 1e12, 2),
                "ratio_to_cublas": round(ms / blas_ms, 3),
            }
        )
        log(
            f"{case.name:<26} {case.shape:<40} {ms:9.4f} ms {tflops:7.2f} TFLOP/s, "
            f"cuBLAS GEMM alone {blas_ms:9.4f} ms"
        )
    return rows


def markdown(result):
    env = result["environment"]
    lines = [
        f"# CUDA kernels ({env['device']})",
        "",
        f"{env['date']}; CuPy {env.get('cupy')}; emulated: {env['emulated']}; "
        f"device-to-device copy {result['copy_gb_s']} GB/s (read + write). Medians of "
        f"{env['repeat']} calls after {env['warmup']} warm-up calls, L2 flushed before each; "
        "errors are max |got - want| / max |want| against the NumPy path in float64.",
        "",
        "| kernel | shape | block | ms | GB/s | % of copy | max rel err |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["kernels"]:
        lines.append(
            f"| {r['kernel']} | {r['shape']} | {r['block']} | {r['ms']:.4f} | "
            f"{r['gb_s']:.1f} | {100 * r['share_of_copy']:.1f} | {r['max_rel_err']:.1e} |"
        )
    lines += [
        "",
        "| GEMM-based op | shape | ms | TFLOP/s | cuBLAS GEMM ms | cuBLAS TFLOP/s | "
        "ratio | max rel err |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["gemms"]:
        lines.append(
            f"| {r['op']} | {r['shape']} | {r['ms']:.4f} | {r['tflops']:.2f} | "
            f"{r['cublas_gemm_ms']:.4f} | {r['cublas_tflops']:.2f} | "
            f"{r['ratio_to_cublas']:.2f} | {r['max_rel_err']:.1e} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--blocks", type=int, nargs="+", default=[64, 128, 256, 512])
    p.add_argument("--size", choices=["full", "small"], default="full")
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--emulate", action="store_true", help="NumPy arrays through cuda.emulate()")
    args = p.parse_args(argv)
    if any(b < 1 or b > 1024 for b in args.blocks):
        p.error("--blocks must lie in 1..1024")
    return args


def main(argv=None, timer=None, log=print):
    import datetime

    from scratchgan import cuda

    args = parse_args(argv)
    if args.emulate:
        xp, timer, context = np, timer or WallTimer(), cuda.emulate(max_grid=8)
        env = {"device": "emulated (NumPy through g++)", "cupy": None}
    else:
        import cupy

        xp, timer, context = cupy, timer or EventTimer(cupy), contextlib.nullcontext()
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        env = {"device": props["name"].decode(), "cupy": cupy.__version__}
    env.update(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        emulated=args.emulate,
        repeat=args.repeat,
        warmup=args.warmup,
        size=args.size,
    )
    with context:
        copy_gbs = copy_bandwidth(
            xp, timer, 1 << (20 if args.size == "small" else 28), args.warmup, args.repeat
        )
        log(f"{env['device']}: device-to-device copy {copy_gbs} GB/s")
        kernels = run_kernels(
            xp, timer, args.blocks, args.size, args.warmup, args.repeat, copy_gbs, log
        )
        gemms = run_gemms(xp, timer, args.size, args.warmup, args.repeat, log)
    result = {"environment": env, "copy_gb_s": copy_gbs, "kernels": kernels, "gemms": gemms}
    os.makedirs(args.out, exist_ok=True)
    paths = [os.path.join(args.out, "gpu-kernels." + ext) for ext in ("json", "md")]
    with open(paths[0], "w") as f:
        json.dump(result, f, indent=1)
    with open(paths[1], "w") as f:
        f.write(markdown(result))
    log(f"wrote {paths[0]} and {paths[1]}")
    return result


if __name__ == "__main__":
    main()
