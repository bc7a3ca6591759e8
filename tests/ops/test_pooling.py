"""max_pool2d and avg_pool2d against PyTorch over drawn windows, gradient checks, ties, errors."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

SETTINGS = settings(max_examples=25, deadline=None)


def pairs(lo, hi):
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def windows(draw, dilation=True):
    k = draw(pairs(1, 3))
    d = draw(pairs(1, 2)) if dilation else (1, 1)
    p = tuple(draw(st.integers(0, k[i] // 2)) for i in range(2))
    size = draw(pairs(1, 6))
    assume(all(size[i] + 2 * p[i] >= d[i] * (k[i] - 1) + 1 for i in range(2)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    stride = draw(st.one_of(st.none(), pairs(1, 3)))
    for i in range(
        2
    ):  # windows made only of padding (possible with dilation) have no maximum to speak of
        s = k[i] if stride is None else stride[i]
        n_out = (size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s + 1
        taps = np.arange(n_out)[:, None] * s - p[i] + d[i] * np.arange(k[i])
        assume(((taps >= 0) & (taps < size[i])).any(axis=1).all())
    return {"kernel_size": k, "stride": stride, "padding": p, "dilation": d}, shape


@SETTINGS
@given(window=windows(), seed=st.integers(0, 2**31))
def test_max_pool2d_matches_torch(opcheck, window, seed):
    kw, shape = window
    x = np.random.default_rng(seed).standard_normal(shape)
    opcheck(lambda a: F.max_pool2d(a, **kw), lambda a: tF.max_pool2d(a, **kw), [x])


@SETTINGS
@given(window=windows(dilation=False), include=st.booleans(), seed=st.integers(0, 2**31))
def test_avg_pool2d_matches_torch(opcheck, window, include, seed):
    kw, shape = window
    del kw["dilation"]
    kw["count_include_pad"] = include
    x = np.random.default_rng(seed).standard_normal(shape)
    opcheck(lambda a: F.avg_pool2d(a, **kw), lambda a: tF.avg_pool2d(a, **kw), [x])


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    x = np.array(
        [[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 3.0, 3.0], [0.0, 0.0, 5.0, 5.0], [0.0, 0.0, 5.0, 5.0]]
    )[None, None]
    for kw in (
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 1, "padding": 1},
        {"kernel_size": 2, "stride": 1},
    ):
        xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        F.max_pool2d(xs, **kw).sum().backward()
        tF.max_pool2d(xt, **kw).sum().backward()
        np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy(), err_msg=str(kw))


def test_max_pool2d_propagates_nan_like_torch():
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 6))
    x[0, 0, 1, 1] = x[1, 2, 0, 0] = x[1, 2, 0, 1] = np.nan
    for kw in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}):
        xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = F.max_pool2d(xs, **kw), tF.max_pool2d(xt, **kw)
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())


def test_float32_stays_float32_at_a_realistic_shape():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 16, 32, 32)).astype(np.float32)
    for op, top in ((F.max_pool2d, tF.max_pool2d), (F.avg_pool2d, tF.avg_pool2d)):
        xs, xt = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = op(xs, 3, 2, 1), top(xt, 3, 2, 1)
        gy = rng.standard_normal(y.shape).astype(np.float32)
        (gx,) = sg.grad(y, [xs], sg.tensor(gy))
        (gxt,) = torch.autograd.grad(yt, [xt], torch.tensor(gy))
        assert y.dtype == gx.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(gx.numpy(), gxt.numpy(), rtol=1e-5, atol=1e-5)


def _t(shape):
    return sg.zeros(*shape, dtype=np.float64)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: F.max_pool2d(_t((2, 4, 4)), 2), r"max_pool2d: input must be 4-D"),
        (lambda: F.avg_pool2d(_t((1, 2, 4)), 2), r"avg_pool2d: input must be 4-D"),
        (
            lambda: F.max_pool2d(_t((1, 1, 4, 4)), 2, padding=2),
            r"padding \(2, 2\) must be at most half",
        ),
        (
            lambda: F.avg_pool2d(_t((1, 1, 4, 4)), 3, padding=2),
            r"padding \(2, 2\) must be at most half",
        ),
        (lambda: F.max_pool2d(_t((1, 1, 2, 2)), 3), r"output would be 0 x 0: input size \(2, 2\)"),
        (lambda: F.max_pool2d(_t((1, 1, 4, 4)), 0), r"kernel_size must be at least 1"),
        (lambda: F.avg_pool2d(_t((1, 1, 4, 4)), 2, stride=0), r"stride must be at least 1"),
        (
            lambda: F.max_pool2d(_t((1, 1, 4, 4)), 2, ceil_mode=True),
            r"ceil_mode=True is not supported",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
