"""sum, mean, var, max, min over axis None / int / tuple, with keepdims, against PyTorch."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2**32 - 1)


@st.composite
def shape_and_axis(draw, min_dims=0):
    """A shape and an axis argument for it: None, an int (maybe negative) or a tuple of ints."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, max_side=4))
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
    return shape, tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def torch_dims(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


@pytest.mark.parametrize("name", ["sum", "mean"])
@SETTINGS
@given(arg=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_sum_mean(opcheck, name, arg, keepdims, seed):
    shape, axis = arg
    x = np.random.default_rng(seed).standard_normal(shape)
    dims = torch_dims(axis, len(shape))
    opcheck(
        lambda x: getattr(x, name)(axis, keepdims),
        lambda x: getattr(torch, name)(x, dim=dims, keepdim=keepdims) if dims else x.clone(),
        [x],
    )
    opcheck(
        lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
        lambda x: getattr(torch, name)(x, dim=dims, keepdim=keepdims) if dims else x.clone(),
        [x],
        gradcheck=False,
        float32=False,
    )


@SETTINGS
@given(
    arg=shape_and_axis(min_dims=1),
    keepdims=st.booleans(),
    correction=st.sampled_from([0, 1]),
    seed=seeds,
)
def test_var(opcheck, arg, keepdims, correction, seed):
    shape, axis = arg
    dims = torch_dims(axis, len(shape))
    assume(dims)  # an empty axis tuple means "no axes" here but "all axes" in torch.var
    n = int(np.prod([shape[d] for d in dims]))
    if n - correction <= 0:
        with pytest.raises(ValueError, match="too few"):
            sg.ones(shape).var(axis, keepdims, correction)
        return
    x = np.random.default_rng(seed).standard_normal(shape)
    opcheck(
        lambda x: x.var(axis, keepdims, correction),
        lambda x: torch.var(x, dim=dims, keepdim=keepdims, correction=correction),
        [x],
    )


def test_std_is_sqrt_var(opcheck):
    x = np.random.default_rng(3).standard_normal((3, 4))
    opcheck(lambda x: x.std(1), lambda x: torch.std(x, dim=1), [x])


@pytest.mark.parametrize("name", ["max", "min"])
@SETTINGS
@given(arg=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_max_min_without_ties(opcheck, name, arg, keepdims, seed):
    shape, axis = arg
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    x = (rng.permutation(n) * 0.1).reshape(shape)  # distinct, 0.1 apart: differentiable
    dims = torch_dims(axis, len(shape))
    tfn = torch.amax if name == "max" else torch.amin
    opcheck(
        lambda x: getattr(x, name)(axis, keepdims),
        lambda x: tfn(x, dim=dims, keepdim=keepdims) if dims else x.clone(),
        [x],
    )


@pytest.mark.parametrize("name", ["max", "min"])
@SETTINGS
@given(arg=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_max_min_ties_share_the_gradient_like_torch_amax(opcheck, name, arg, keepdims, seed):
    shape, axis = arg
    x = np.random.default_rng(seed).integers(-1, 2, shape).astype(np.float64)  # many ties
    dims = torch_dims(axis, len(shape))
    tfn = torch.amax if name == "max" else torch.amin
    # not differentiable at ties, so no finite differences: PyTorch is the reference
    opcheck(
        lambda x: getattr(x, name)(axis, keepdims),
        lambda x: tfn(x, dim=dims, keepdim=keepdims) if dims else x.clone(),
        [x],
        gradcheck=False,
    )


def test_reductions_of_a_0d_tensor_give_0d(opcheck):
    for name in ("sum", "mean", "max", "min"):
        y = getattr(sg.tensor(np.float64(2.5), requires_grad=True), name)()
        assert y.shape == () and y.item() == 2.5


@pytest.mark.parametrize("axis", [3, -4, (0, 0), (1, -2)])
def test_bad_axis_raises(axis):
    x = sg.ones(2, 3, 4)
    with pytest.raises(ValueError, match="axis"):
        x.sum(axis)


def test_empty_axis_tuple_reduces_nothing_as_in_numpy():
    x = sg.tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    np.testing.assert_array_equal(x.sum(()).numpy(), x.numpy())
