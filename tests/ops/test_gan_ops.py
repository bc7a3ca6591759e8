"""pixel_norm, minibatch_stddev, adain against few-line PyTorch references (PyTorch has none of
them): forward, first- and second-order gradients, gradchecks, fused path, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchgan as sg
import scratchgan.functional as F

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2**32 - 1)
F64 = dict(rtol=1e-7, atol=1e-12)


def torch_pixel_norm(x, eps=1e-8):
    return x / torch.sqrt((x * x).mean(1, keepdim=True) + eps)


def torch_minibatch_stddev(x, group_size=4, eps=1e-8):
    n, c, h, w = x.shape
    g = min(group_size, n)
    y = x.reshape(g, n // g, c, h, w)
    std = torch.sqrt(((y - y.mean(0, keepdim=True)) ** 2).mean(0) + eps)
    s = (
        std.mean((1, 2, 3))
        .reshape(1, n // g, 1, 1, 1)
        .expand(g, n // g, 1, h, w)
        .reshape(n, 1, h, w)
    )
    return torch.cat([x, s], 1)


def torch_adain(x, scale, bias, eps=1e-5):
    dims = tuple(range(2, x.ndim))
    xhat = (x - x.mean(dims, keepdim=True)) / torch.sqrt(
        x.var(dims, unbiased=False, keepdim=True) + eps
    )
    view = scale.shape + (1,) * len(dims)
    return scale.reshape(view) * xhat + bias.reshape(view)


def plain_backward_matches_torch(fn, torch_fn, arrays):
    """The first-order path that runs without create_graph (fused where the op has one)."""
    xs = [sg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(*xs), torch_fn(*ts)
    gy = np.random.default_rng(11).standard_normal(y.shape)
    y.backward(sg.tensor(gy))
    ty.backward(torch.tensor(gy))
    for i, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(
            x.grad.numpy(), t.grad.numpy(), **F64, err_msg=f"gradient of input {i}"
        )


# ----- pixel_norm


@SETTINGS
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 5),
    spatial=st.lists(st.integers(1, 4), max_size=2),
    eps=st.sampled_from([1e-8, 1e-2]),
    seed=seeds,
)
def test_pixel_norm_matches_torch(opcheck, n, c, spatial, eps, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, *spatial))
    opcheck(lambda x: F.pixel_norm(x, eps), lambda x: torch_pixel_norm(x, eps), [x])
    plain_backward_matches_torch(
        lambda x: F.pixel_norm(x, eps), lambda x: torch_pixel_norm(x, eps), [x]
    )


def test_pixel_norm_gives_unit_mean_square_over_channels():
    y = F.pixel_norm(sg.tensor(np.random.default_rng(0).standard_normal((2, 7, 3, 3)) * 5), eps=0.0)
    np.testing.assert_allclose((y.numpy() ** 2).mean(1), np.ones((2, 3, 3)), rtol=1e-12)


# ----- minibatch_stddev


@SETTINGS
@given(
    groups=st.integers(1, 3),
    group_size=st.integers(1, 5),
    c=st.integers(1, 3),
    h=st.integers(1, 3),
    w=st.integers(1, 3),
    seed=seeds,
)
def test_minibatch_stddev_matches_torch(opcheck, groups, group_size, c, h, w, seed):
    n = groups * group_size
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    for gs in (group_size, group_size + 2):  # the second exceeds N when groups == 1: G = min(gs, N)
        if n % min(gs, n):
            continue
        opcheck(
            lambda x, gs=gs: F.minibatch_stddev(x, gs),
            lambda x, gs=gs: torch_minibatch_stddev(x, gs),
            [x],
        )


def test_minibatch_stddev_groups_samples_n_mod_n_over_g():
    """N = 4, G = 2: groups are samples {0, 2} and {1, 3} (x.reshape(G, N // G, ...))."""
    x = np.zeros((4, 1, 1, 2))
    x[0], x[2] = 1.0, 3.0  # std 1 in the group {0, 2}
    x[1], x[3] = 5.0, 5.0  # std 0 in the group {1, 3}
    y = F.minibatch_stddev(sg.tensor(x), group_size=2, eps=0.0).numpy()
    assert y.shape == (4, 2, 1, 2)
    np.testing.assert_array_equal(y[:, :1], x)
    np.testing.assert_allclose(y[:, 1, 0, 0], [1.0, 0.0, 1.0, 0.0])


def test_minibatch_stddev_numpy_reference():
    x = np.random.default_rng(1).standard_normal((6, 3, 2, 2))
    G = 3
    y = x.reshape(G, 2, 3, 2, 2)
    expected = np.sqrt(y.var(0) + 1e-8).mean((1, 2, 3))[np.arange(6) % 2]
    out = F.minibatch_stddev(sg.tensor(x), group_size=G).numpy()
    np.testing.assert_allclose(
        out[:, 3], np.broadcast_to(expected[:, None, None], (6, 2, 2)), rtol=1e-12
    )


# ----- adain


@SETTINGS
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 4),
    w=st.integers(2, 4),
    eps=st.sampled_from([1e-5, 1e-2]),
    seed=seeds,
)
def test_adain_matches_torch(opcheck, n, c, h, w, eps, seed):
    rng = np.random.default_rng(seed)
    arrays = [
        rng.standard_normal((n, c, h, w)),
        rng.standard_normal((n, c)),
        rng.standard_normal((n, c)),
    ]
    opcheck(
        lambda x, s, b: F.adain(x, s, b, eps), lambda x, s, b: torch_adain(x, s, b, eps), arrays
    )
    plain_backward_matches_torch(
        lambda x, s, b: F.adain(x, s, b, eps), lambda x, s, b: torch_adain(x, s, b, eps), arrays
    )


def test_adain_equals_instance_norm_with_per_sample_affine():
    rng = np.random.default_rng(2)
    x, s, b = (
        rng.standard_normal((2, 3, 4, 4)),
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 3)),
    )
    expected = (
        torch.nn.functional.instance_norm(torch.tensor(x)).numpy() * s[:, :, None, None]
        + b[:, :, None, None]
    )
    np.testing.assert_allclose(
        F.adain(sg.tensor(x), sg.tensor(s), sg.tensor(b)).numpy(), expected, **F64
    )


# ----- errors


def test_gan_op_errors():
    with pytest.raises(ValueError, match=r"pixel_norm: input must be \(N, C\)"):
        F.pixel_norm(sg.randn(5))
    with pytest.raises(
        ValueError, match=r"minibatch_stddev: input must be 4-D \(N, C, H, W\), got shape \(6, 3\)"
    ):
        F.minibatch_stddev(sg.randn(6, 3))
    with pytest.raises(
        ValueError, match=r"N=6 is not divisible by the group size min\(group_size=4, N\)=4"
    ):
        F.minibatch_stddev(sg.randn(6, 3, 2, 2), group_size=4)
    with pytest.raises(ValueError, match="group_size must be a positive int"):
        F.minibatch_stddev(sg.randn(4, 3, 2, 2), group_size=0)
    x = sg.randn(2, 3, 4, 4)
    with pytest.raises(
        ValueError, match=r"adain: style_scale has shape \(2, 4\), expected \(N, C\) = \(2, 3\)"
    ):
        F.adain(x, sg.randn(2, 4), sg.randn(2, 3))
    with pytest.raises(
        ValueError, match=r"adain: style_bias has shape \(3,\), expected \(N, C\) = \(2, 3\)"
    ):
        F.adain(x, sg.randn(2, 3), sg.randn(3))
    with pytest.raises(ValueError, match=r"adain: input must be \(N, C, H, W\)"):
        F.adain(sg.randn(2, 3), sg.randn(2, 3), sg.randn(2, 3))
    with pytest.raises(TypeError, match="adain: style_bias has dtype float64, input has float32"):
        F.adain(x, sg.randn(2, 3), sg.tensor(np.zeros((2, 3))))
