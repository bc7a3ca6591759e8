"""interpolate(mode="nearest") against PyTorch over drawn integer scales; errors for the rest."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional


@settings(max_examples=20, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=4, max_dims=4, max_side=3),
    scale=st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    seed=st.integers(0, 2**31),
)
def test_interpolate_matches_torch(opcheck, shape, scale, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    opcheck(
        lambda a: F.interpolate(a, scale_factor=scale),
        lambda a: tF.interpolate(a, scale_factor=scale),
        [x],
    )


def test_block_sums_are_the_gradient_and_float_scales_work():
    x = sg.tensor(np.arange(6.0).reshape(1, 1, 2, 3), requires_grad=True)
    y = F.interpolate(x, scale_factor=2.0)
    np.testing.assert_array_equal(
        y.numpy()[0, 0], np.kron(np.arange(6.0).reshape(2, 3), np.ones((2, 2)))
    )
    gy = np.arange(24.0).reshape(1, 1, 4, 6)
    (gx,) = sg.grad(y, [x], sg.tensor(gy))
    np.testing.assert_array_equal(gx.numpy()[0, 0], gy[0, 0].reshape(2, 2, 3, 2).sum(axis=(1, 3)))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"scale_factor": 2, "mode": "bilinear"}, r"mode 'bilinear' is not supported"),
        ({"scale_factor": 1.5}, r"scale_factor must be a positive integer.*got 1.5"),
        ({"scale_factor": 0}, r"scale_factor must be a positive integer"),
        ({"scale_factor": (2, 2, 2)}, r"scale_factor must be a positive integer"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.interpolate(sg.zeros(1, 1, 2, 2), **kwargs)


def test_non_4d_input_raises():
    with pytest.raises(ValueError, match=r"input must be 4-D"):
        F.interpolate(sg.zeros(1, 2, 2), scale_factor=2)
