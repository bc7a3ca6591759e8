"""exp, log, sqrt, abs, clip, where, maximum/minimum and the comparisons, against PyTorch."""

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=15, deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)
seeds = st.integers(0, 2**32 - 1)


def away_from(rng, shape, points=(0.0,), gap=0.05):
    """Normal draws nudged at least ``gap`` away from each of ``points`` (the kinks)."""
    a = rng.standard_normal(shape)
    for p in points:
        a = np.where(np.abs(a - p) < gap, p + np.where(a >= p, gap, -gap), a)
    return a


UNARY = {
    "exp": (lambda x: x.exp(), torch.exp, lambda rng, s: rng.standard_normal(s)),
    "log": (lambda x: x.log(), torch.log, lambda rng, s: rng.uniform(0.2, 3.0, s)),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, lambda rng, s: rng.uniform(0.2, 3.0, s)),
    "abs": (lambda x: x.abs(), torch.abs, lambda rng, s: away_from(rng, s)),
    "F.exp": (F.exp, torch.exp, lambda rng, s: rng.standard_normal(s)),
    "F.log": (F.log, torch.log, lambda rng, s: rng.uniform(0.2, 3.0, s)),
    "F.sqrt": (F.sqrt, torch.sqrt, lambda rng, s: rng.uniform(0.2, 3.0, s)),
    "F.abs": (F.abs, torch.abs, lambda rng, s: away_from(rng, s)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary(opcheck, name, shape, seed):
    op, top, draw = UNARY[name]
    opcheck(op, top, [draw(np.random.default_rng(seed), shape)])


def test_abs_gradient_at_zero_is_zero_like_torch(opcheck):
    opcheck(lambda x: x.abs(), torch.abs, [np.array([-1.0, 0.0, 2.0])], gradcheck=False)


@SETTINGS
@given(
    shape=shapes,
    seed=seeds,
    bounds=st.sampled_from([(-0.5, 0.5), (None, 0.3), (-0.2, None), (0.1, 0.1)]),
)
def test_clip(opcheck, shape, seed, bounds):
    lo, hi = bounds
    points = [b for b in bounds if b is not None]
    x = away_from(np.random.default_rng(seed), shape, points)
    opcheck(lambda x: x.clip(lo, hi), lambda x: x.clamp(lo, hi), [x])
    opcheck(
        lambda x: F.clip(x, min=lo, max=hi),
        lambda x: torch.clamp(x, lo, hi),
        [x],
        gradcheck=False,
        float32=False,
    )


def test_clip_gradient_at_the_bounds_passes_like_torch(opcheck):
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    opcheck(lambda x: x.clip(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), [x], gradcheck=False)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        sg.ones(3).clip()


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), seed=seeds)
def test_where_broadcasts_all_three(opcheck, shapes, seed):
    rng = np.random.default_rng(seed)
    c_shape, a_shape, b_shape = shapes.input_shapes
    cond = rng.random(c_shape) < 0.5
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    opcheck(
        lambda a, b: sg.where(cond, a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
        [a, b],
    )
    opcheck(
        lambda a, b: F.where(sg.tensor(cond), a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
        [a, b],
        gradcheck=False,
        float32=False,
    )


def test_where_with_a_python_number(opcheck):
    cond = np.array([True, False, True])
    opcheck(
        lambda a: sg.where(cond, a, 0.0),
        lambda a: torch.where(torch.tensor(cond), a, 0.0),
        [np.array([1.0, 2.0, 3.0])],
    )


def test_where_needs_a_bool_condition():
    with pytest.raises(TypeError, match="condition must be a bool"):
        sg.where(np.array([1, 0]), sg.ones(2), sg.zeros(2))


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=seeds)
def test_maximum_minimum_without_ties(opcheck, shapes, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    # distinct values spaced by 0.1 (no ties, nothing within the differencing step)
    n = int(np.prod(a_shape)) + int(np.prod(b_shape))
    values = rng.permutation(n) * 0.1 - n * 0.05
    a, b = (
        values[: int(np.prod(a_shape))].reshape(a_shape),
        values[int(np.prod(a_shape)) :].reshape(b_shape),
    )
    opcheck(sg.maximum, torch.maximum, [a, b])
    opcheck(sg.minimum, torch.minimum, [a, b])


def test_maximum_at_ties_gives_the_gradient_to_the_first_argument():
    # documented choice (PyTorch splits it in halves); a reference by hand
    a = sg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = sg.tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    ga, gb = sg.grad(sg.maximum(a, b).sum(), [a, b])
    np.testing.assert_array_equal(ga.numpy(), [1, 0, 1])
    np.testing.assert_array_equal(gb.numpy(), [0, 1, 0])


COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda op: op.__name__)
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=seeds)
def test_comparisons(op, shapes, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    a = rng.integers(-2, 3, a_shape).astype(np.float64)  # small integers: plenty of ties
    b = rng.integers(-2, 3, b_shape).astype(np.float64)
    x = sg.tensor(a, requires_grad=True)
    expected = op(torch.tensor(a), torch.tensor(b)).numpy()
    for other in (sg.tensor(b), b):
        y = op(x, other)
        assert isinstance(y, sg.Tensor) and y.dtype == np.bool_ and not y.requires_grad
        np.testing.assert_array_equal(y.numpy(), expected)
    np.testing.assert_array_equal(op(x, 0.0).numpy(), op(torch.tensor(a), 0.0).numpy())
