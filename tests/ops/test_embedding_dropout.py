"""embedding (against PyTorch, repeated indices scatter-add) and dropout (statistics, masks)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)


# ----- embedding


@SETTINGS
@given(
    idx_shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
    rows=st.integers(1, 5),
    dim=st.integers(1, 3),
    seed=seeds,
    kind=st.sampled_from(["array", "tensor", "list"]),
)
def test_embedding(opcheck, idx_shape, rows, dim, seed, kind):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, rows, idx_shape)  # few rows: repeats are likely
    given_idx = {"array": idx, "tensor": sg.tensor(idx), "list": idx.tolist()}[kind]
    w = rng.standard_normal((rows, dim))
    opcheck(lambda w: F.embedding(given_idx, w), lambda w: TF.embedding(torch.tensor(idx), w), [w])


def test_embedding_repeated_rows_add_up():
    w = sg.tensor(np.zeros((4, 2)), requires_grad=True)
    idx = np.array([[3, 1, 3], [3, 0, 0]])
    F.embedding(idx, w).sum().backward()
    np.testing.assert_array_equal(
        w.grad.numpy(), [[2, 2], [1, 1], [0, 0], [3, 3]]
    )  # counts by hand


def test_embedding_errors():
    w = sg.zeros(4, 3)
    with pytest.raises(IndexError, match=r"index 4 is out of range for a weight with 4 rows"):
        F.embedding(np.array([0, 4]), w)
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        F.embedding(np.array([[-1]]), w)
    with pytest.raises(TypeError, match="indices must be integers, got dtype float"):
        F.embedding(np.array([0.0, 1.0]), w)
    with pytest.raises(ValueError, match=r"weight must be a 2-D Tensor"):
        F.embedding(np.array([0]), sg.zeros(4))


def test_embedding_of_no_indices():
    y = F.embedding(np.zeros((0, 2), dtype=np.int64), sg.zeros(4, 3))
    assert y.shape == (0, 2, 3)


# ----- dropout


def expected_dropout(x, p, seed):
    """An independent reference from the documented recipe: u ~ U[0, 1) from the same generator,
    keep u >= p."""
    u = np.random.Generator(np.random.PCG64(seed)).random(x.shape, dtype=x.dtype)
    return np.where(u >= p, x / (1 - p), 0).astype(x.dtype)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
    p=st.sampled_from([0.1, 0.5, 0.8]),
    seed=seeds,
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_dropout_forward_and_backward_use_one_mask(shape, p, seed, dtype):
    x_np = (
        np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype(dtype)
    )  # nonzero: y == 0 only where dropped
    x = sg.tensor(x_np, requires_grad=True)
    y = F.dropout(x, p, generator=sg.Generator(seed))
    assert y.dtype == dtype and y.shape == x.shape
    np.testing.assert_allclose(
        y.numpy(), expected_dropout(x_np, p, seed), rtol=1e-6 if dtype == np.float32 else 1e-15
    )
    gy = np.random.default_rng(seed + 1).standard_normal(shape).astype(dtype)
    (gx,) = sg.grad(y, [x], sg.tensor(gy))
    kept = y.numpy() != 0
    np.testing.assert_allclose(gx.numpy(), np.where(kept, gy / dtype(1 - p), 0), rtol=1e-6)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
    p=st.sampled_from([0.2, 0.5]),
    seed=seeds,
)
def test_dropout_gradchecks_with_a_fixed_mask(opcheck, shape, p, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    # a fresh generator with the same seed at each call: the same mask every evaluation
    opcheck.gradchecks(lambda x: F.dropout(x, p, generator=sg.Generator(seed)), [x], [0])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_statistics(p):
    n = 200_000
    y = F.dropout(sg.ones(n), p, generator=sg.Generator(123)).numpy()
    kept = y != 0
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(kept.mean() - (1 - p)) < 5 * sigma  # Bernoulli(1 - p) keep rate
    np.testing.assert_allclose(y[kept], 1 / (1 - p), rtol=1e-6)  # survivors scaled by 1 / (1 - p)
    assert abs(y.mean() - 1) < 5 * sigma / (1 - p)  # so the expectation is unchanged


def test_dropout_p0_eval_and_p1():
    x = sg.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.7, training=False) is x
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.numpy(), np.zeros((2, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_dropout_default_generator_follows_manual_seed():
    x = sg.ones(50)
    sg.manual_seed(7)
    a = F.dropout(x).numpy()
    sg.manual_seed(7)
    b = F.dropout(x).numpy()
    c = F.dropout(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)  # the stream moves on


def test_dropout_masks_differ_between_calls_on_one_generator():
    g = sg.Generator(0)
    assert not np.array_equal(
        F.dropout(sg.ones(100), generator=g).numpy(), F.dropout(sg.ones(100), generator=g).numpy()
    )


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None, True])
def test_dropout_p_must_be_a_probability(p):
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got"):
        F.dropout(sg.ones(3), p)
