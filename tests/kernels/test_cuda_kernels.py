"""Every kernel wrapper of scratchgan.cuda against an independent NumPy reference.

The `backend` fixture (conftest.py) runs each test on the emulated kernels and, with a GPU, on the
real ones. Shapes are small and ragged: not multiples of the block size, and larger than the
emulation's grid so that every grid-stride loop wraps. Inputs are non-contiguous views, and a
wrapper that writes to its inputs fails.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scratchgan import cuda
from scratchgan.geometry import conv_output_size

DTYPES = [np.float32, np.float64]
TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-6, "atol": 1e-8}}


def randn(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def run(backend, fn, *arrays, **kwargs):
    """fn on non-contiguous device copies of arrays; checks the inputs survive; outputs as NumPy."""
    views = [backend.asarray(np.stack([a, a], axis=-1))[..., 0] for a in arrays]
    out = fn(*views, **kwargs)
    for a, v in zip(arrays, views, strict=True):
        np.testing.assert_array_equal(backend.asnumpy(v), a, err_msg="wrapper wrote its input")
    if isinstance(out, tuple):
        return tuple(backend.asnumpy(o) for o in out)
    return backend.asnumpy(out)


def numeric_grad(f, x, gy, h=1e-6):
    """d/dx sum(f(x) * gy) by central differences in float64, one element at a time."""
    x = x.astype(np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = np.sum(f(x) * gy)
        x[i] = old - h
        minus = np.sum(f(x) * gy)
        x[i] = old
        g[i] = (plus - minus) / (2 * h)
    return g


GRAD_TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-5, "atol": 1e-7}}


# ----------------------------------------------------------------------------- leaky_relu


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 5, 7), (2, 3, 11, 13)])
def test_leaky_relu(backend, shape, dtype):
    x, gy = randn(shape, dtype, 1), randn(shape, dtype, 2)
    x.flat[0] = 0  # x > 0 is strict: the slope applies at 0
    y = run(backend, cuda.leaky_relu_forward, x, slope=0.2)
    gx = run(backend, cuda.leaky_relu_backward, x, gy, slope=0.2)
    np.testing.assert_allclose(y, np.where(x > 0, x, dtype(0.2) * x), **TOL[dtype])
    np.testing.assert_allclose(gx, np.where(x > 0, gy, dtype(0.2) * gy), **TOL[dtype])
    assert y.dtype == gx.dtype == dtype


# ----------------------------------------------------------------------------- conv


def tap(k, dilation, stride, count):
    """The padded-input positions that kernel tap k reads for outputs 0 .. count-1."""
    return slice(k * dilation, k * dilation + stride * (count - 1) + 1, stride)


def im2col_ref(x, kh, kw, stride, padding, dilation):
    """Slices of the zero-padded input, one per kernel tap."""
    (sy, sx), (ph, pw), (dy, dx) = stride, padding, dilation
    N, C, H, W = x.shape
    Ho, Wo = (H + 2 * ph - dy * (kh - 1) - 1) // sy + 1, (W + 2 * pw - dx * (kw - 1) - 1) // sx + 1
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = np.empty((N, C, kh, kw, Ho, Wo), x.dtype)
    for ky in range(kh):
        for kx in range(kw):
            rows, cols = tap(ky, dy, sy, Ho), tap(kx, dx, sx, Wo)
            col[:, :, ky, kx] = padded[:, :, rows, cols]
    return col.reshape(N, C * kh * kw, Ho * Wo)


def col2im_ref(col, x_shape, kh, kw, stride, padding, dilation):
    """Scatter-add of each tap's slice onto the padded input, then crop: im2col_ref's adjoint."""
    (sy, sx), (ph, pw), (dy, dx) = stride, padding, dilation
    N, C, H, W = x_shape
    Ho, Wo = (H + 2 * ph - dy * (kh - 1) - 1) // sy + 1, (W + 2 * pw - dx * (kw - 1) - 1) // sx + 1
    col = col.reshape(N, C, kh, kw, Ho, Wo)
    padded = np.zeros((N, C, H + 2 * ph, W + 2 * pw), col.dtype)
    for ky in range(kh):
        for kx in range(kw):
            rows, cols = tap(ky, dy, sy, Ho), tap(kx, dx, sx, Wo)
            padded[:, :, rows, cols] += col[:, :, ky, kx]
    return padded[:, :, ph : ph + H, pw : pw + W]


CONV_CASES = [
    # (N, C, H, W), (kh, kw), stride, padding, dilation
    ((2, 3, 5, 7), (3, 3), (1, 1), (1, 1), (1, 1)),
    ((1, 2, 9, 8), (3, 2), (2, 3), (1, 0), (1, 2)),
    ((2, 1, 6, 6), (1, 1), (2, 2), (0, 0), (1, 1)),
    ((1, 3, 7, 5), (2, 3), (1, 2), (2, 1), (2, 1)),
    ((3, 2, 4, 4), (4, 4), (1, 1), (0, 0), (1, 1)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, k, stride, padding, dilation", CONV_CASES)
def test_im2col_col2im(backend, x_shape, k, stride, padding, dilation, dtype):
    x = randn(x_shape, dtype, 3)
    col = run(backend, cuda.im2col, x, *k, stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_array_equal(col, im2col_ref(x, *k, stride, padding, dilation))
    gcol = randn(col.shape, dtype, 4)
    gx = run(
        backend,
        cuda.col2im,
        gcol,
        x_shape=x_shape,
        kh=k[0],
        kw=k[1],
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    expected = col2im_ref(gcol, x_shape, *k, stride, padding, dilation)
    np.testing.assert_allclose(gx, expected, **TOL[dtype])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sy=st.integers(1, 3),
    sx=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
    dy=st.integers(1, 3),
    dx=st.integers(1, 3),
)
def test_im2col_col2im_any_geometry(backend, n, c, h, w, kh, kw, sy, sx, ph, pw, dy, dx):
    geometry = {"stride": (sy, sx), "padding": (ph, pw), "dilation": (dy, dx)}
    assume(conv_output_size(h, kh, sy, ph, dy) > 0 and conv_output_size(w, kw, sx, pw, dx) > 0)
    x = randn((n, c, h, w), np.float64, 5)
    col = run(backend, cuda.im2col, x, kh, kw, **geometry)
    np.testing.assert_array_equal(col, im2col_ref(x, kh, kw, (sy, sx), (ph, pw), (dy, dx)))
    gx = run(backend, cuda.col2im, col, x_shape=x.shape, kh=kh, kw=kw, **geometry)
    expected = col2im_ref(col, x.shape, kh, kw, (sy, sx), (ph, pw), (dy, dx))
    np.testing.assert_allclose(gx, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "groups, stride, padding, dilation", [(1, 1, 1, 1), (2, 2, 1, 1), (3, (1, 2), (0, 2), 2)]
)
def test_conv2d_via_im2col_matches_torch(backend, groups, stride, padding, dilation):
    """The documented layout: conv2d = per-group W @ im2col(x)."""
    torch = pytest.importorskip("torch")
    N, C, H, W, Cout, kh, kw = 2, 6, 7, 6, 12, 3, 2
    x, w = randn((N, C, H, W), np.float64, 6), randn((Cout, C // groups, kh, kw), np.float64, 7)
    col = run(backend, cuda.im2col, x, kh, kw, stride=stride, padding=padding, dilation=dilation)
    L = col.shape[-1]
    y = w.reshape(groups, Cout // groups, -1) @ col.reshape(N, groups, -1, L)
    expected = torch.nn.functional.conv2d(
        torch.tensor(x),
        torch.tensor(w),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    ).numpy()
    np.testing.assert_allclose(y.reshape(expected.shape), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "groups, stride, padding, output_padding, dilation",
    [(1, 1, 0, 0, 1), (2, 2, 1, 1, 1), (3, 3, 1, 2, 2), (1, 1, 1, 1, 2)],
)
def test_conv_transpose2d_via_col2im_matches_torch(
    backend, groups, stride, padding, output_padding, dilation
):
    """The documented layout: conv_transpose2d = col2im(per-group W^T @ x), col_hw = input size."""
    torch = pytest.importorskip("torch")
    N, Cin, Hin, Win, Cout, kh, kw = 2, 6, 4, 5, 6, 3, 2
    x = randn((N, Cin, Hin, Win), np.float64, 8)
    w = randn((Cin, Cout // groups, kh, kw), np.float64, 9)
    expected = torch.nn.functional.conv_transpose2d(
        torch.tensor(x),
        torch.tensor(w),
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
    ).numpy()
    wg = w.reshape(groups, Cin // groups, -1).transpose(0, 2, 1)  # (g, Cout/g*kh*kw, Cin/g)
    col = wg @ x.reshape(N, groups, Cin // groups, Hin * Win)
    col = col.reshape(N, Cout * kh * kw, Hin * Win)
    y = run(
        backend,
        cuda.col2im,
        col,
        x_shape=expected.shape,
        kh=kh,
        kw=kw,
        stride=stride,
        padding=padding,
        dilation=dilation,
        col_hw=(Hin, Win),
    )
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- batch_norm


def batch_norm_ref(x, gamma, beta, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    y = xhat * gamma.reshape(shape) + beta.reshape(shape)
    return y, mean, var


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3, 5, 7), (7, 5), (3, 6, 1, 9), (2, 4, 13)])
def test_batch_norm(backend, shape, dtype):
    eps, C = 1e-5, shape[1]
    x, gy = randn(shape, dtype, 10) * 2 + 0.5, randn(shape, dtype, 11)
    gamma, beta = randn((C,), dtype, 12), randn((C,), dtype, 13)
    x64, g64, b64 = x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64)
    y_ref, mean_ref, var_ref = batch_norm_ref(x64, g64, b64, eps)

    # training mode, as ops/normalization.py runs it: the stats kernel, then the forward kernel
    mean, var, invstd = run(backend, cuda.batch_norm_stats, x, eps=eps)
    np.testing.assert_allclose(mean, mean_ref, **TOL[dtype])
    np.testing.assert_allclose(var, var_ref, **TOL[dtype])
    np.testing.assert_allclose(invstd, 1 / np.sqrt(var_ref + eps), **TOL[dtype])
    y = run(backend, cuda.batch_norm_forward, x, mean, invstd, gamma, beta)
    np.testing.assert_allclose(y, y_ref, **TOL[dtype])

    gx, ggamma, gbeta = run(backend, cuda.batch_norm_backward, x, gy, mean, invstd, gamma)
    expected = (
        numeric_grad(lambda v: batch_norm_ref(v, g64, b64, eps)[0], x64, gy),
        numeric_grad(lambda v: batch_norm_ref(x64, v, b64, eps)[0], g64, gy),
        numeric_grad(lambda v: batch_norm_ref(x64, g64, v, eps)[0], b64, gy),
    )
    for got, want in zip((gx, ggamma, gbeta), expected, strict=True):
        np.testing.assert_allclose(got, want, **GRAD_TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_eval_and_default_affine(backend, dtype):
    x = randn((3, 4, 2, 5), dtype, 14)
    running_mean, running_var = randn((4,), dtype, 15), np.abs(randn((4,), dtype, 16)) + 0.5
    invstd = (1 / np.sqrt(running_var + 1e-5)).astype(dtype)
    y = run(backend, cuda.batch_norm_forward, x, running_mean, invstd)
    expected = (x - running_mean.reshape(1, 4, 1, 1)) * invstd.reshape(1, 4, 1, 1)
    np.testing.assert_allclose(y, expected, **TOL[dtype])


# ----------------------------------------------------------------------------- instance_norm


def instance_norm_ref(x, gamma, beta, eps):
    axes = tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (3, 2, 17), (1, 4, 1, 1), (5, 1, 3, 3)])
def test_instance_norm(backend, shape, dtype):
    eps, C = 1e-5, shape[1]
    x, gy = randn(shape, dtype, 20) * 3 - 1, randn(shape, dtype, 21)
    gamma, beta = randn((C,), dtype, 22), randn((C,), dtype, 23)
    x64, g64, b64 = x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64)

    y, mean, invstd = run(backend, cuda.instance_norm_forward, x, gamma, beta, eps=eps)
    np.testing.assert_allclose(y, instance_norm_ref(x64, g64, b64, eps), **TOL[dtype])
    axes = tuple(range(2, x.ndim))
    np.testing.assert_allclose(mean, x64.mean(axis=axes), **TOL[dtype])
    np.testing.assert_allclose(invstd, 1 / np.sqrt(x64.var(axis=axes) + eps), **TOL[dtype])

    gx, ggamma, gbeta = run(backend, cuda.instance_norm_backward, x, gy, mean, invstd, gamma)
    expected = (
        numeric_grad(lambda v: instance_norm_ref(v, g64, b64, eps), x64, gy),
        numeric_grad(lambda v: instance_norm_ref(x64, v, b64, eps), g64, gy),
        numeric_grad(lambda v: instance_norm_ref(x64, g64, v, eps), b64, gy),
    )
    for got, want in zip((gx, ggamma, gbeta), expected, strict=True):
        np.testing.assert_allclose(got, want, **GRAD_TOL[dtype])


# ----------------------------------------------------------------------------- pixel_norm


def pixel_norm_ref(x, eps):
    return x / np.sqrt(np.mean(x**2, axis=1, keepdims=True) + eps)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 5, 3, 7), (6, 9), (3, 1, 4, 4)])
def test_pixel_norm(backend, shape, dtype):
    eps = 1e-8
    x, gy = randn(shape, dtype, 30), randn(shape, dtype, 31)
    y = run(backend, cuda.pixel_norm_forward, x, eps=eps)
    np.testing.assert_allclose(y, pixel_norm_ref(x.astype(np.float64), eps), **TOL[dtype])
    gx = run(backend, cuda.pixel_norm_backward, x, gy, eps=eps)
    expected = numeric_grad(lambda v: pixel_norm_ref(v, eps), x, gy)
    np.testing.assert_allclose(gx, expected, **GRAD_TOL[dtype])


# ----------------------------------------------------------------------------- minibatch_stddev


def minibatch_stddev_ref(x, group_size, eps):
    """The ProGAN reference: groups are x.reshape(G, -1, C, H, W), sample n in group n % (N/G)."""
    N, C, H, W = x.shape
    G = min(group_size, N)
    y = x.reshape(G, -1, C, H, W)
    std = np.sqrt(np.mean((y - y.mean(axis=0)) ** 2, axis=0) + eps)  # (M, C, H, W)
    s = np.tile(std.mean(axis=(1, 2, 3)), G)  # s[n] = stat of group n % M
    return np.concatenate([x, np.broadcast_to(s.reshape(N, 1, 1, 1), (N, 1, H, W))], axis=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape, group_size",
    [((8, 3, 4, 5), 4), ((6, 2, 3, 3), 3), ((3, 2, 5, 5), 4), ((5, 1, 2, 3), 1), ((4, 2, 3, 2), 2)],
)
def test_minibatch_stddev(backend, shape, group_size, dtype):
    eps = 1e-8
    x = randn(shape, dtype, 40)
    gy = randn((shape[0], shape[1] + 1) + shape[2:], dtype, 41)
    y = run(backend, cuda.minibatch_stddev_forward, x, group_size=group_size, eps=eps)
    expected = minibatch_stddev_ref(x.astype(np.float64), group_size, eps)
    np.testing.assert_allclose(y, expected, **TOL[dtype])
    gx = run(backend, cuda.minibatch_stddev_backward, x, gy, group_size=group_size, eps=eps)
    expected = numeric_grad(lambda v: minibatch_stddev_ref(v, group_size, eps), x, gy)
    np.testing.assert_allclose(gx, expected, **GRAD_TOL[dtype])


def test_minibatch_stddev_rejects_ragged_groups(backend):
    with pytest.raises(ValueError, match="not divisible"):
        cuda.minibatch_stddev_forward(backend.asarray(np.zeros((6, 1, 2, 2))), group_size=4)


# ----------------------------------------------------------------------------- adam


def adam_ref(p, g, m, v, lr, b1, b2, eps, step):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    p = p - lr / (1 - b1**step) * (m / (np.sqrt(v) / np.sqrt(1 - b2**step) + eps))
    return p, m, v


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(37,), (5, 13)])
def test_adam_update(backend, shape, dtype):
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    p = randn(shape, dtype, 50)
    state = [np.zeros(shape, np.float64)] * 2
    ref = p.astype(np.float64)
    zeros = np.zeros(shape, dtype)
    p_dev, m_dev, v_dev = (backend.asarray(a) for a in (p, zeros, zeros))
    for step in range(1, 4):
        g = randn(shape, dtype, 50 + step)
        cuda.adam_update(p_dev, backend.asarray(g), m_dev, v_dev, lr, b1, b2, eps, step)
        ref, *state = adam_ref(ref, g.astype(np.float64), *state, lr, b1, b2, eps, step)
    np.testing.assert_allclose(backend.asnumpy(p_dev), ref, **TOL[dtype])
    np.testing.assert_allclose(backend.asnumpy(m_dev), state[0], **TOL[dtype])
    np.testing.assert_allclose(backend.asnumpy(v_dev), state[1], **TOL[dtype])


def test_adam_update_matches_torch(backend):
    torch = pytest.importorskip("torch")
    p0 = randn((29,), np.float32, 60)
    param = torch.nn.Parameter(torch.tensor(p0))
    opt = torch.optim.Adam([param], lr=3e-3, betas=(0.5, 0.99), eps=1e-8)
    p, m, v = (backend.asarray(a) for a in (p0, np.zeros(29, np.float32), np.zeros(29, np.float32)))
    for step in range(1, 6):
        g = randn((29,), np.float32, 60 + step)
        param.grad = torch.tensor(g)
        opt.step()
        cuda.adam_update(p, backend.asarray(g), m, v, 3e-3, 0.5, 0.99, 1e-8, step)
    np.testing.assert_allclose(backend.asnumpy(p), param.detach().numpy(), rtol=1e-6, atol=1e-7)
