"""What the machine can do: CPU model, ISA, BLAS build, and the measured sgemm peak.

Every benchmark figure is printed beside these facts: a ratio to PyTorch or a GFLOP/s means
little without the CPU, its vector ISA, the BLAS NumPy calls and the thread count.

    sgemm_peak(threads)  the best GFLOP/s of a short float32 matmul sweep (2 n^3 FLOPs each)
    cpu_facts()          {"cpu_model", "isa", "isa_flags", "cores"} from /proc/cpuinfo
    blas_facts()         NumPy's BLAS: threadpoolctl's info and numpy.show_config's build entry
"""

import os
import time

import numpy as np

from scratchgan.machine import (  # noqa: F401 -- the facts live in the package (summary.json)
    ISA_FLAGS,
    blas_facts,
    blas_label,
    cpu_facts,
    describe,
    label,
    parse_cpuinfo,
)

SWEEP = (256, 512, 1024, 2048)


def sgemm_peak(threads=None, sizes=SWEEP, repeat=3, timer=time.perf_counter):
    """(best GFLOP/s, {n: GFLOP/s}) of C = A @ B for float32 n x n matrices, best of ``repeat``.

    ``threads`` limits NumPy's BLAS for the sweep (None: as it is).
    """
    import contextlib

    limit = contextlib.nullcontext()
    if threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(threads, user_api="blas")
    with limit:
        per_size = {n: gemm_gflops(n, n, n, repeat, timer) for n in sizes}
    return max(per_size.values()), per_size


def gemm_gflops(m, k, n, repeat=3, timer=time.perf_counter):
    """GFLOP/s of NumPy's float32 C (m, n) = A (m, k) @ B (k, n), best of ``repeat`` after one
    warm-up call (threads started, pages touched)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), np.float32)
    c = np.empty((m, n), np.float32)
    np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(repeat):
        start = timer()
        np.matmul(a, b, out=c)
        best = min(best, timer() - start)
    return round(2 * m * k * n / max(best, 1e-12) / 1e9, 2)


def facts(threads):
    """Everything that goes beside a figure: CPU, ISA, BLAS, threads, load, date."""
    import datetime

    out = describe(threads)
    out["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    try:
        out["load_average_1_5_15"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        out["load_average_1_5_15"] = None
    try:
        import torch

        out["torch"] = torch.__version__
    except ImportError:
        out["torch"] = None
    return out
