"""Can one process run two GEMMs at once? Why scratchgan's pool splits copies, not GEMMs.

Two data-parallel ranks of one thread each train faster than one process on two threads
(docs/DISTRIBUTED.md: 1.5x on dcgan28 b128). Doing the same inside one process would mean
splitting each convolution's GEMM along the batch over scratchgan.threads' pool, each half on a
one-thread BLAS. This measures whether the BLAS lets two threads of one process multiply at the
same time: for the GEMM of a DCGAN convolution (rows = batch x output pixels, K = 1600, 128
columns), alternating, medians of --repeat runs after warm-up:

- whole: one call on a --threads-thread BLAS (what scratchgan does);
- halves: the rows split in two, one half on a pool thread and one on the caller, the BLAS on
  one thread during the call (the split a data-parallel rank would make);
- one: one call on a one-thread BLAS.

If "halves" is no faster than "one", the library serialises concurrent calls and a
batch-split GEMM cannot beat "whole". Needs threadpoolctl.

    python benchmarks/blas_concurrency.py [--threads 2] [--repeat 21]
"""

import argparse
import concurrent.futures
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

import numpy as np  # noqa: E402

import machine  # noqa: E402
from harness import median_ms  # noqa: E402
from scratchgan.cli_support import positive_int  # noqa: E402

ROWS = (1568, 6272, 25088)  # dcgan28's 64->128 conv: batch 32 and 128 x 7 x 7 pixels, and 4x that
K, COLUMNS = 1600, 128


def variants(blas, threads, rows, rng, pool):
    """((whole, halves, one), (a, b, out)): the three ways to form out = a @ b, for a (rows, K)
    and b (K, COLUMNS) float32."""
    a = rng.standard_normal((rows, K), dtype=np.float32)
    b = rng.standard_normal((K, COLUMNS), dtype=np.float32)
    out, half = np.empty((rows, COLUMNS), np.float32), rows // 2

    def whole():
        blas.set_num_threads(threads)
        np.matmul(a, b, out=out)

    def halves():
        blas.set_num_threads(1)
        other = pool.submit(np.matmul, a[half:], b, out=out[half:])
        np.matmul(a[:half], b, out=out[:half])
        other.result()

    def one():
        blas.set_num_threads(1)
        np.matmul(a, b, out=out)

    return (whole, halves, one), (a, b, out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=positive_int, default=2, help="the BLAS threads of 'whole'"
    )
    parser.add_argument("--repeat", type=positive_int, default=21, help="timed runs per variant")
    args = parser.parse_args(argv)
    from threadpoolctl import ThreadpoolController

    found = ThreadpoolController().select(user_api="blas").lib_controllers
    if not found:
        sys.exit("blas_concurrency: threadpoolctl finds no BLAS under NumPy")
    blas, before = found[0], found[0].num_threads
    rng = np.random.default_rng(0)
    where = machine.label(machine.facts(args.threads))
    print(
        f"GEMM rows x {K} @ {K} x {COLUMNS}, float32, on {where}; medians of {args.repeat} "
        "alternating runs (ms)\n"
    )
    print(f"| rows | whole, {args.threads} BLAS threads | halves, 2 x 1 thread | one thread |")
    print("|---:|---:|---:|---:|")
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            for rows in ROWS:
                fns, _ = variants(blas, args.threads, rows, rng, pool)
                whole, halves, one = median_ms(list(fns), args.repeat)
                print(f"| {rows} | {whole:.2f} | {halves:.2f} | {one:.2f} |")
    finally:
        blas.set_num_threads(before)


if __name__ == "__main__":
    main()
