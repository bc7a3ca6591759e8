"""matmul (1-D, 2-D, batched with broadcasting) and linear, against PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)
sides = st.integers(1, 4)


def normal(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


@st.composite
def matmul_shapes(draw):
    """Two operand shapes that fit: 1-D or 2-D or batched with broadcastable batch axes."""
    n, k, m = draw(sides), draw(sides), draw(sides)
    batch = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3)
    )
    a_batch, b_batch = batch.input_shapes
    a = draw(st.sampled_from([(k,), a_batch + (n, k)]))
    b = draw(st.sampled_from([(k,), b_batch + (k, m)]))
    return a, b


@SETTINGS
@given(arg=matmul_shapes(), seed=seeds)
def test_matmul(opcheck, arg, seed):
    a_shape, b_shape = arg
    a, b = normal(seed, a_shape), normal(seed + 1, b_shape)
    opcheck(lambda a, b: a @ b, torch.matmul, [a, b])
    opcheck(sg.matmul, torch.matmul, [a, b], gradcheck=False, float32=False)
    opcheck(F.matmul, torch.matmul, [a, b], gradcheck=False, float32=False)


def test_matmul_with_an_array_on_either_side(opcheck):
    w = normal(0, (3, 2))
    opcheck(lambda a: a @ w, lambda a: a @ torch.tensor(w), [normal(1, (4, 3))], float32=False)
    opcheck(lambda b: w.T @ b, lambda b: torch.tensor(w.T) @ b, [normal(2, (3, 5))], float32=False)


@pytest.mark.parametrize(
    "a, b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 2, 3), (2, 4, 1)), ((5,), (3, 5))]
)
def test_matmul_shape_mismatch_names_both_shapes(a, b):
    with pytest.raises(
        ValueError, match=rf"matmul: shapes {a!s}.*{b!s}".replace("(", r"\(").replace(")", r"\)")
    ):
        sg.ones(*a) @ sg.ones(*b)


def test_matmul_rejects_0d():
    with pytest.raises(ValueError, match="at least one dimension"):
        sg.matmul(sg.tensor(2.0), sg.ones(2))


@SETTINGS
@given(
    lead=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
    n_in=sides,
    n_out=sides,
    bias=st.booleans(),
    seed=seeds,
)
def test_linear(opcheck, lead, n_in, n_out, bias, seed):
    arrays = [normal(seed, lead + (n_in,)), normal(seed + 1, (n_out, n_in))] + (
        [normal(seed + 2, (n_out,))] if bias else []
    )
    opcheck(F.linear, torch.nn.functional.linear, arrays)


def test_linear_with_some_inputs_fixed(opcheck):
    x, w, b = normal(0, (2, 3, 4)), normal(1, (5, 4)), normal(2, (5,))
    opcheck(F.linear, torch.nn.functional.linear, [x, w, b], wrt=[1])
    opcheck(F.linear, torch.nn.functional.linear, [x, w, b], wrt=[0, 2])


def test_linear_errors():
    x, w = sg.ones(2, 4), sg.ones(3, 4)
    with pytest.raises(ValueError, match=r"input has shape \(2, 5\), expected last dimension 4"):
        F.linear(sg.ones(2, 5), w)
    with pytest.raises(ValueError, match=r"weight must be 2-D"):
        F.linear(x, sg.ones(4))
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\), got \(4,\)"):
        F.linear(x, w, sg.ones(4))
    with pytest.raises(TypeError, match="weight has dtype float64, input has float32"):
        F.linear(x, sg.ones(3, 4, dtype="float64"))
