"""scratchgan.threads: the split covers the batch exactly, the pool follows the BLAS thread
count, and convolutions give bit-identical results on one thread and on several."""

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F
from scratchgan import threads


@pytest.fixture
def pool(monkeypatch):
    monkeypatch.setattr(threads, "MIN_BYTES", 0)
    yield threads
    threads.set_num_threads(None)


@given(n=st.integers(1, 50), parts=st.integers(1, 8))
def test_split_covers_the_batch_in_order(n, parts):
    ranges = threads.split(n, parts)
    assert len(ranges) == min(n, parts)
    assert [i for a, b in ranges for i in range(a, b)] == list(range(n))
    sizes = [b - a for a, b in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_over_batch_runs_the_ranges_at_the_same_time(pool):
    """Three ranges meet at a barrier of three: they cannot have run one after another."""
    pool.set_num_threads(3)
    seen, barrier = [], threading.Barrier(3, timeout=10)

    def work(a, b):
        barrier.wait()
        seen.append((a, b, threading.get_ident()))

    pool.over_batch(work, 7, nbytes=1)
    assert sorted((a, b) for a, b, _ in seen) == [(0, 2), (2, 4), (4, 7)]
    assert threading.get_ident() in {t for *_, t in seen}


def test_errors_in_a_worker_reach_the_caller(pool):
    pool.set_num_threads(2)

    def fail(a, b):
        if a:
            raise RuntimeError("worker failed")

    with pytest.raises(RuntimeError, match="worker failed"):
        pool.over_batch(fail, 4, nbytes=1)


def test_thread_count_follows_blas_unless_fixed():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert threads.get_num_threads() == 1
    threads.set_num_threads(2)
    try:
        assert threads.get_num_threads() == 2
    finally:
        threads.set_num_threads(None)
    with pytest.raises(ValueError, match="positive int"):
        threads.set_num_threads(0)


@pytest.mark.parametrize("transposed", [False, True])
def test_convolutions_are_bit_identical_on_any_thread_count(pool, transposed):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 16, 9, 9)).astype(np.float32)
    W = rng.standard_normal((16, 24, 4, 4)).astype(np.float32)
    gy_shape = (5, 24, 19, 19) if transposed else (5, 24, 4, 4)
    gy = rng.standard_normal(gy_shape).astype(np.float32)
    results = []
    for n in (1, 3):
        pool.set_num_threads(n)
        xs, Ws = sg.tensor(x, requires_grad=True), sg.tensor(W, requires_grad=True)
        if transposed:
            y = F.conv_transpose2d(xs, Ws, stride=2, padding=1, output_padding=1)
        else:
            y = F.conv2d(xs, Ws.transpose(0, 1), stride=2, padding=1)
        results.append([y.numpy(), *(g.numpy() for g in sg.grad(y, [xs, Ws], sg.tensor(gy)))])
    for one, many in zip(*results):
        np.testing.assert_array_equal(one, many)
