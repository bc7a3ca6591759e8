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
    rng = np.random.default_rng(0)
    per_size = {}
    with limit:
        for n in sizes:
            a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
            c = np.empty((n, n), np.float32)
            np.matmul(a, b, out=c)  # warm-up: threads started, pages touched
            best = float("inf")
            for _ in range(repeat):
                start = timer()
                np.matmul(a, b, out=c)
                best = min(best, timer() - start)
            per_size[n] = round(2 * n**3 / max(best, 1e-12) / 1e9, 2)
    return max(per_size.values()), per_size


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
