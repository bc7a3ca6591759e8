"""benchmarks/blas_concurrency.py: a row per GEMM size with all three variants timed, the halves
computing the same product, and the BLAS's thread count given back."""

import numpy as np
import pytest

import blas_concurrency

threadpoolctl = pytest.importorskip("threadpoolctl")


def test_prints_a_row_per_size_and_restores_the_blas_threads(capsys):
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers[0]
    before = blas.num_threads
    blas_concurrency.main(["--threads", "2", "--repeat", "1"])
    assert blas.num_threads == before
    out = capsys.readouterr().out
    assert "thread(s)" in out.splitlines()[0]  # the machine's label
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| ")][1:]
    assert [int(r[0]) for r in rows] == list(blas_concurrency.ROWS)
    for row in rows:
        assert all(float(cell) > 0 for cell in row[1:])


def test_each_variant_forms_the_whole_product():
    import concurrent.futures

    blas = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers[0]
    before = blas.num_threads
    rng = np.random.default_rng(0)
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            fns, (a, b, out) = blas_concurrency.variants(blas, 2, 64, rng, pool)
            expected = a.astype(np.float64) @ b.astype(np.float64)
            for fn in fns:
                out[...] = np.nan
                fn()
                np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)
    finally:
        blas.set_num_threads(before)
