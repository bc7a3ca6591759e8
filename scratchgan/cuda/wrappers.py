"""One wrapper per kernel op: shapes, launch geometry and arguments; raw arrays in and out.

Each wrapper makes C-contiguous copies where needed, allocates its outputs with the inputs' array
module (backend.py decides which) on their device (``@_on_input_device``: CuPy allocates on the
current GPU, which need not be the input's), checks the sizes the kernel will trust, and launches
the ``_f32`` or ``_f64`` kernel of its dtype. The autograd ops decide when to call them.
"""

import functools

import numpy as np

from ..backend import array_module, device_context
from ..geometry import conv_output_size, pair
from .launcher import block_per_row, grid_stride, launch


def _on_input_device(wrapper):
    """Run ``wrapper`` in the device context of its first argument (an array)."""

    @functools.wraps(wrapper)
    def in_context(x, *args, **kwargs):
        with device_context(x):
            return wrapper(x, *args, **kwargs)

    return in_context


def _suffix(dtype):
    if dtype == np.float32:
        return "f32"
    if dtype == np.float64:
        return "f64"
    raise TypeError(f"kernels take float32 or float64 arrays, got {dtype}")


def _affine(xp, a, fill, C, dtype):
    """gamma or beta as a contiguous (C,) array; ``fill`` everywhere when it is None."""
    return xp.full((C,), fill, dtype) if a is None else xp.ascontiguousarray(a)


def _expect(op, **named):
    """Raise ValueError unless every name=(array, shape) has that shape: kernels trust sizes."""
    for name, (a, shape) in named.items():
        if a.shape != tuple(shape):
            raise ValueError(f"{op}: {name} has shape {a.shape}, expected {tuple(shape)}")


def _i32(*values):
    return [np.int32(v) for v in values]


def _channels(x):
    """(N, C, HW) of x (N, C, *): HW is the product of the trailing axes."""
    N, C = x.shape[:2]
    return N, C, x.size // max(1, N * C)


# ----------------------------------------------------------------------------- leaky_relu


@_on_input_device
def leaky_relu_forward(x, slope=0.01):
    """y = x if x > 0 else slope * x, elementwise, any shape."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    launch(
        f"leaky_relu_forward_{_suffix(x.dtype)}",
        *grid_stride(x.size),
        [x, y, np.int64(x.size), x.dtype.type(slope)],
    )
    return y


@_on_input_device
def leaky_relu_backward(x, gy, slope=0.01):
    """gx = gy * (1 if x > 0 else slope), elementwise."""
    xp = array_module(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    _expect("leaky_relu_backward", gy=(gy, x.shape))
    gx = xp.empty_like(x)
    launch(
        f"leaky_relu_backward_{_suffix(x.dtype)}",
        *grid_stride(x.size),
        [x, gy, gx, np.int64(x.size), x.dtype.type(slope)],
    )
    return gx


# ----------------------------------------------------------------------------- im2col / col2im


def _conv_geometry(fn, stride, padding, dilation):
    return (
        pair(stride, "stride", fn, 1),
        pair(padding, "padding", fn, 0),
        pair(dilation, "dilation", fn, 1),
    )


@_on_input_device
def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    """Unfold x (N, C, H, W) into col (N, C*kh*kw, Ho*Wo).

    col[n, (c*kh + ky)*kw + kx, oy*Wo + ox] = x[n, c, oy*sy - ph + ky*dy, ox*sx - pw + kx*dx]
    (0 in the padding). conv2d is then W.reshape(Cout, -1) @ col (per group: rows
    g*C/G*kh*kw ... of col belong to group g).
    """
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    (sy, sx), (ph, pw), (dy, dx) = _conv_geometry("im2col", stride, padding, dilation)
    N, C, H, W = x.shape
    Ho, Wo = conv_output_size(H, kh, sy, ph, dy), conv_output_size(W, kw, sx, pw, dx)
    if Ho <= 0 or Wo <= 0:
        raise ValueError(
            f"im2col: input {H}x{W} is too small for kernel {kh}x{kw} (output {Ho}x{Wo})"
        )
    col = xp.empty((N, C * kh * kw, Ho * Wo), x.dtype)
    launch(
        f"im2col_{_suffix(x.dtype)}",
        *grid_stride(col.size),
        [x, col, *_i32(N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo)],
    )
    return col


@_on_input_device
def col2im(col, x_shape, kh, kw, stride=1, padding=0, dilation=1, col_hw=None):
    """Fold col (N, C*kh*kw, Ho*Wo) back onto an (N, C, H, W) array: the adjoint of im2col.

    Every col entry is added to the input pixel im2col read it from (entries from the padding
    are dropped). Serves conv2d's input gradient and conv_transpose2d's forward. ``col_hw`` =
    (Ho, Wo) defaults to the conv output size of x_shape (pass it when output_padding >= stride
    makes them differ).
    """
    xp = array_module(col)
    col = xp.ascontiguousarray(col)
    (sy, sx), (ph, pw), (dy, dx) = _conv_geometry("col2im", stride, padding, dilation)
    N, C, H, W = x_shape
    Ho, Wo = col_hw or (conv_output_size(H, kh, sy, ph, dy), conv_output_size(W, kw, sx, pw, dx))
    if col.shape != (N, C * kh * kw, Ho * Wo):
        raise ValueError(f"col2im: col has shape {col.shape}, expected {(N, C * kh * kw, Ho * Wo)}")
    x = xp.empty((N, C, H, W), col.dtype)
    launch(
        f"col2im_{_suffix(col.dtype)}",
        *grid_stride(x.size),
        [col, x, *_i32(N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo)],
    )
    return x


# ----------------------------------------------------------------------------- batch_norm


@_on_input_device
def batch_norm_stats(x, eps=1e-5):
    """Per-channel statistics of x (N, C, *) -> (mean, biased var, invstd), each (C,).

    invstd = 1 / sqrt(var + eps); the statistics run over every axis but 1.
    """
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    N, C, HW = _channels(x)
    mean, var, invstd = (xp.empty((C,), x.dtype) for _ in range(3))
    launch(
        f"batch_norm_stats_{_suffix(x.dtype)}",
        *block_per_row(C),
        [x, mean, var, invstd, *_i32(N, C, HW), x.dtype.type(eps)],
    )
    return mean, var, invstd


@_on_input_device
def batch_norm_forward(x, mean, invstd, gamma=None, beta=None):
    """y = (x - mean_c) invstd_c gamma_c + beta_c for x (N, C, *).

    Training passes the statistics of batch_norm_stats, evaluation the running ones.
    """
    xp = array_module(x)
    x, mean, invstd = (xp.ascontiguousarray(a) for a in (x, mean, invstd))
    N, C, HW = _channels(x)
    gamma, beta = _affine(xp, gamma, 1, C, x.dtype), _affine(xp, beta, 0, C, x.dtype)
    _expect(
        "batch_norm_forward",
        mean=(mean, (C,)),
        invstd=(invstd, (C,)),
        gamma=(gamma, (C,)),
        beta=(beta, (C,)),
    )
    y = xp.empty_like(x)
    launch(
        f"batch_norm_forward_{_suffix(x.dtype)}",
        *grid_stride(x.size),
        [x, mean, invstd, gamma, beta, y, *_i32(N, C, HW)],
    )
    return y


@_on_input_device
def batch_norm_backward(x, gy, mean, invstd, gamma=None):
    """Fused backward of training-mode batch norm -> (gx, ggamma, gbeta).

    xhat = (x - mean) invstd; gbeta = sum gy; ggamma = sum gy xhat (sums over all axes but 1);
    gx = gamma invstd (gy - gbeta/m - xhat ggamma/m).
    """
    xp = array_module(x)
    x, gy, mean, invstd = (xp.ascontiguousarray(a) for a in (x, gy, mean, invstd))
    N, C, HW = _channels(x)
    gamma = _affine(xp, gamma, 1, C, x.dtype)
    _expect(
        "batch_norm_backward",
        gy=(gy, x.shape),
        mean=(mean, (C,)),
        invstd=(invstd, (C,)),
        gamma=(gamma, (C,)),
    )
    gx, ggamma, gbeta = xp.empty_like(x), xp.empty((C,), x.dtype), xp.empty((C,), x.dtype)
    launch(
        f"batch_norm_backward_{_suffix(x.dtype)}",
        *block_per_row(C),
        [x, gy, mean, invstd, gamma, gx, ggamma, gbeta, *_i32(N, C, HW)],
    )
    return gx, ggamma, gbeta


# ----------------------------------------------------------------------------- instance_norm


@_on_input_device
def instance_norm_forward(x, gamma=None, beta=None, eps=1e-5):
    """Instance norm of x (N, C, *) -> (y, mean, invstd); mean and invstd are (N, C).

    Statistics per (n, c) over the spatial axes (biased variance);
    y = (x - mean) invstd gamma_c + beta_c.
    """
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    N, C, HW = _channels(x)
    gamma, beta = _affine(xp, gamma, 1, C, x.dtype), _affine(xp, beta, 0, C, x.dtype)
    _expect("instance_norm_forward", gamma=(gamma, (C,)), beta=(beta, (C,)))
    y, mean, invstd = xp.empty_like(x), xp.empty((N, C), x.dtype), xp.empty((N, C), x.dtype)
    launch(
        f"instance_norm_forward_{_suffix(x.dtype)}",
        *block_per_row(N * C),
        [x, gamma, beta, y, mean, invstd, *_i32(N * C, C, HW), x.dtype.type(eps)],
    )
    return y, mean, invstd


@_on_input_device
def instance_norm_backward(x, gy, mean, invstd, gamma=None):
    """Backward of instance norm -> (gx, ggamma (C,), gbeta (C,)).

    Per (n, c): xhat = (x - mean) invstd, sb = sum gy, sg = sum gy xhat,
    gx = gamma_c invstd (gy - sb/HW - xhat sg/HW); gbeta_c = sum_n sb, ggamma_c = sum_n sg.
    """
    xp = array_module(x)
    x, gy, mean, invstd = (xp.ascontiguousarray(a) for a in (x, gy, mean, invstd))
    N, C, HW = _channels(x)
    gamma = _affine(xp, gamma, 1, C, x.dtype)
    _expect(
        "instance_norm_backward",
        gy=(gy, x.shape),
        mean=(mean, (N, C)),
        invstd=(invstd, (N, C)),
        gamma=(gamma, (C,)),
    )
    gx = xp.empty_like(x)
    ggamma_part, gbeta_part = xp.empty((N, C), x.dtype), xp.empty((N, C), x.dtype)
    launch(
        f"instance_norm_backward_{_suffix(x.dtype)}",
        *block_per_row(N * C),
        [x, gy, mean, invstd, gamma, gx, ggamma_part, gbeta_part, *_i32(N * C, C, HW)],
    )
    return gx, ggamma_part.sum(axis=0), gbeta_part.sum(axis=0)


# ----------------------------------------------------------------------------- pixel_norm


@_on_input_device
def pixel_norm_forward(x, eps=1e-8):
    """y = x / sqrt(mean_c x^2 + eps) for x (N, C, *): each (n, pixel) normalised over channels."""
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    N, C, HW = _channels(x)
    y = xp.empty_like(x)
    launch(
        f"pixel_norm_forward_{_suffix(x.dtype)}",
        *grid_stride(N * HW),
        [x, y, *_i32(N, C, HW), x.dtype.type(eps)],
    )
    return y


@_on_input_device
def pixel_norm_backward(x, gy, eps=1e-8):
    """gx = r gy - x r^3 (sum_c gy x) / C with r = 1/sqrt(mean_c x^2 + eps), per (n, pixel)."""
    xp = array_module(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    N, C, HW = _channels(x)
    _expect("pixel_norm_backward", gy=(gy, x.shape))
    gx = xp.empty_like(x)
    launch(
        f"pixel_norm_backward_{_suffix(x.dtype)}",
        *grid_stride(N * HW),
        [x, gy, gx, *_i32(N, C, HW), x.dtype.type(eps)],
    )
    return gx


# ----------------------------------------------------------------------------- minibatch_stddev


def _groups(N, group_size):
    """(G, M): G = min(group_size, N) samples per group, M = N / G groups."""
    G = min(group_size, N)
    if N % G:
        raise ValueError(f"minibatch_stddev: batch size {N} is not divisible by group size {G}")
    return G, N // G


@_on_input_device
def minibatch_stddev_forward(x, group_size=4, eps=1e-8):
    """ProGAN minibatch stddev: x (N, C, H, W) -> (N, C+1, H, W).

    G = min(group_size, N) samples per group, M = N / G groups; sample n belongs to group n % M
    (x.reshape(G, M, C, H, W) as in the ProGAN reference). Per group: std over its G samples
    (biased, sqrt(var + eps)) at every (c, h, w), averaged to one value, appended as a channel.
    """
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    N, C, H, W = x.shape
    G, M = _groups(N, group_size)
    sfx = _suffix(x.dtype)
    s = xp.empty((M,), x.dtype)
    launch(
        f"minibatch_stddev_stats_{sfx}",
        *block_per_row(M),
        [x, s, *_i32(G, M, C * H * W), x.dtype.type(eps)],
    )
    y = xp.empty((N, C + 1, H, W), x.dtype)
    launch(f"minibatch_stddev_concat_{sfx}", *grid_stride(y.size), [x, s, y, *_i32(N, C, H * W, M)])
    return y


@_on_input_device
def minibatch_stddev_backward(x, gy, group_size=4, eps=1e-8):
    """Gradient of minibatch_stddev_forward w.r.t. x, for gy (N, C+1, H, W) -> gx (N, C, H, W).

    With gs_m = sum of gy[:, C] over group m: gx = gy[:, :C] + gs_m (x - mu) / (G K std),
    K = C*H*W.
    """
    xp = array_module(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    N, C, H, W = x.shape
    G, M = _groups(N, group_size)
    _expect("minibatch_stddev_backward", gy=(gy, (N, C + 1, H, W)))
    sfx = _suffix(x.dtype)
    gs = xp.empty((M,), x.dtype)
    launch(f"minibatch_stddev_grad_stat_{sfx}", *block_per_row(M), [gy, gs, *_i32(G, M, C, H * W)])
    gx = xp.empty_like(x)
    launch(
        f"minibatch_stddev_backward_{sfx}",
        *grid_stride(M * C * H * W),
        [x, gy, gs, gx, *_i32(G, M, C, H * W), x.dtype.type(eps)],
    )
    return gx


# ----------------------------------------------------------------------------- adam


@_on_input_device
def adam_update(p, g, m, v, lr, b1, b2, eps, step):
    """One fused Adam step, in place on p, m, v (same shape and dtype, C-contiguous); step t >= 1.

    m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
    """
    for name, a in (("p", p), ("m", m), ("v", v)):
        if not a.flags.c_contiguous:
            raise ValueError(f"adam_update updates {name} in place, so it must be C-contiguous")
    g = array_module(g).ascontiguousarray(g)
    _expect("adam_update", g=(g, p.shape), m=(m, p.shape), v=(v, p.shape))
    T = p.dtype.type
    step_size = lr / (1 - b1**step)
    sqrt_bc2 = (1 - b2**step) ** 0.5
    launch(
        f"adam_update_{_suffix(p.dtype)}",
        *grid_stride(p.size),
        [p, g, m, v, np.int64(p.size), T(step_size), T(b1), T(b2), T(eps), T(sqrt_bc2)],
    )
