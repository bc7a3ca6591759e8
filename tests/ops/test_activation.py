"""relu, leaky_relu, selu, elu, sigmoid, tanh, softplus, softmax, log_softmax against PyTorch."""

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
shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)


def away_from_zero(seed, shape, scale=2.0):
    """Normal draws (times ``scale``) at least 0.01 from the kink at 0."""
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    return np.where(np.abs(a) < 0.01, np.copysign(0.01, a), a)


SMOOTH = {
    "relu": (F.relu, TF.relu),
    "selu": (F.selu, TF.selu),
    "elu": (F.elu, TF.elu),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "softplus": (F.softplus, TF.softplus),
    "Tensor.sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "Tensor.tanh": (lambda x: x.tanh(), torch.tanh),
    "Tensor.relu": (lambda x: x.relu(), torch.relu),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_activation(opcheck, name, shape, seed):
    fn, tfn = SMOOTH[name]
    opcheck(fn, tfn, [away_from_zero(seed, shape)])


@SETTINGS
@given(shape=shapes, seed=seeds, slope=st.sampled_from([0.01, 0.2, 0.0, 1.0, -0.5, 3.0]))
def test_leaky_relu(opcheck, shape, seed, slope):
    x = away_from_zero(seed, shape)
    opcheck(lambda x: F.leaky_relu(x, slope), lambda x: TF.leaky_relu(x, slope), [x])
    opcheck(F.leaky_relu, TF.leaky_relu, [x], gradcheck=False, float32=False)  # default slope 0.01


@SETTINGS
@given(shape=shapes, seed=seeds, alpha=st.sampled_from([1.0, 0.5, 2.0, 0.1]))
def test_elu_alpha(opcheck, shape, seed, alpha):
    opcheck(lambda x: F.elu(x, alpha), lambda x: TF.elu(x, alpha), [away_from_zero(seed, shape)])


@pytest.mark.parametrize("name", ["relu", "elu", "selu"])
def test_gradient_at_zero_follows_torch(opcheck, name):
    fn, tfn = SMOOTH[name]
    # first derivatives only: second derivatives at a kink are a convention
    x = np.array([-1.0, 0.0, 1.0])
    opcheck(fn, tfn, [x], gradcheck=False, double=False)
    opcheck(
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: TF.leaky_relu(x, 0.2),
        [x],
        gradcheck=False,
        double=False,
    )


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "elu", "selu"])
def test_saturated_inputs_are_finite_and_equal_torch(opcheck, name):
    fn, tfn = SMOOTH[name]
    x = np.array([-800.0, -100.0, -30.0, 30.0, 100.0, 800.0])
    opcheck(fn, tfn, [x], gradcheck=False, float32=False)
    y = fn(sg.tensor(x.astype(np.float32)))
    assert np.all(np.isfinite(y.numpy()))


@st.composite
def shape_and_dim(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(arg=shape_and_dim(), seed=seeds, shift=st.sampled_from([0.0, 500.0, -500.0]))
def test_softmax(opcheck, name, arg, seed, shift):
    shape, dim = arg
    fn, tfn = getattr(F, name), getattr(TF, name)
    x = (
        np.random.default_rng(seed).standard_normal(shape) * 2 + shift
    )  # a large shift must not overflow
    opcheck(lambda x: fn(x, dim), lambda x: tfn(x, dim), [x], gradcheck=shift == 0)
    opcheck(
        lambda x: fn(x, dim=dim), lambda x: tfn(x, dim=dim), [x], gradcheck=False, float32=False
    )


def test_softmax_rows_sum_to_one():
    y = F.softmax(sg.randn(4, 7, generator=sg.Generator(0)), 1)
    np.testing.assert_allclose(y.numpy().sum(1), 1, rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dim_out_of_range(name):
    with pytest.raises(ValueError, match="dim 2 is out of range"):
        getattr(F, name)(sg.ones(2, 3), 2)
