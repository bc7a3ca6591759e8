"""+ - * / ** and unary minus, with broadcasting between drawn shapes, against PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=15, deadline=None)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
seeds = st.integers(0, 2**32 - 1)


def normal(rng, shape):
    return rng.standard_normal(shape)


def away_from_zero(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


BINARY = {
    "add": (lambda a, b: a + b, normal),
    "sub": (lambda a, b: a - b, normal),
    "mul": (lambda a, b: a * b, normal),
    "div": (lambda a, b: a / b, away_from_zero),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=pairs, seed=seeds)
def test_binary_broadcasting(opcheck, name, shapes, seed):
    op, second = BINARY[name]
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    opcheck(op, op, [normal(rng, a_shape), second(rng, b_shape)])


@SETTINGS
@given(shapes=pairs, seed=seeds)
def test_pow_tensor_tensor(opcheck, shapes, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    opcheck(lambda a, b: a**b, lambda a, b: a**b, [positive(rng, a_shape), normal(rng, b_shape)])


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
    seed=seeds,
    c=st.sampled_from([0, 1, 2, 3, -1, -2, 0.5, 1.5, -0.5, 2.5]),
)
def test_pow_constant(opcheck, shape, seed, c):
    rng = np.random.default_rng(seed)
    base = positive(rng, shape) if c != int(c) or c < 0 else normal(rng, shape)
    opcheck(lambda a: a**c, lambda a: a**c, [base])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), seed=seeds)
def test_neg(opcheck, shape, seed):
    opcheck(lambda a: -a, lambda a: -a, [normal(np.random.default_rng(seed), shape)])


@pytest.mark.parametrize(
    "op",
    [
        lambda a: 2.5 + a,
        lambda a: a + 2,
        lambda a: 1.5 - a,
        lambda a: a - 3,
        lambda a: 0.5 * a,
        lambda a: a * 4,
        lambda a: 2.0 / a,
        lambda a: a / 3.0,
        lambda a: 2.0**a,
        lambda a: a**2.0,
    ],
    ids=[
        "radd",
        "add_int",
        "rsub",
        "sub_int",
        "rmul",
        "mul_int",
        "rdiv",
        "div",
        "rpow",
        "pow_float",
    ],
)
def test_python_scalars_keep_the_dtype(opcheck, op):
    a = away_from_zero(np.random.default_rng(0), (3, 4))
    opcheck(op, op, [a])
    for dtype in (np.float32, np.float64):
        assert op(sg.tensor(a.astype(dtype))).dtype == dtype


def test_numpy_array_on_the_left_defers_to_tensor():
    a = np.arange(6.0).reshape(2, 3)
    x = sg.tensor(np.ones((2, 3)), requires_grad=True)
    y = a * x + a
    assert isinstance(y, sg.Tensor)
    np.testing.assert_array_equal(y.numpy(), 2 * a)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a)


def test_broadcast_to_and_sum_to_are_each_others_backward(opcheck):
    from scratchgan.ops.arithmetic import broadcast_to, sum_to

    a = np.random.default_rng(1).standard_normal((3, 1))
    opcheck(lambda x: broadcast_to(x, (2, 3, 4)), lambda x: x.expand(2, 3, 4), [a])
    b = np.random.default_rng(2).standard_normal((2, 3, 4))
    opcheck(lambda x: sum_to(x, (3, 1)), lambda x: x.sum(0).sum(-1, keepdim=True), [b])


def test_incompatible_shapes_raise():
    with pytest.raises(ValueError):
        sg.tensor(np.ones((2, 3))) + sg.tensor(np.ones((4,)))


def test_dtype_mixing_raises_naming_both():
    with pytest.raises(TypeError, match=r"float32.*float64|float64.*float32"):
        sg.ones(2, dtype="float32") * sg.ones(2, dtype="float64")
