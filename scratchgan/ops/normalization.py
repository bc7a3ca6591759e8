"""Normalisation: batch_norm, instance_norm, layer_norm (and the core of adain).

All of them standardise x over a group of elements and then apply an affine map:

    xhat = (x - mean) / sqrt(var + eps)      (var biased)
    y    = weight * xhat + bias

They differ only in the groups. Each works on a 3-D view (A, B, L) of its input: the
statistics are taken over L (instance and layer norm: one group per (a, b)) or over A and L
(batch norm, ``batch=True``: one group per b); ``norm_stats.py`` holds those reductions.
``Norm`` is the fused node for all of them. Its ``backward_fused`` (used when no graph is
recorded) computes gx, gweight and gbias together in closed form, sharing the two reductions
sum(gy) and sum(gy * xhat). Its ``backward`` (used when a backward is itself recorded,
``create_graph=True``, e.g. for a gradient penalty) builds the gradient from differentiable
nodes instead: ``Normalize`` (x -> xhat), ``RStd`` (x -> 1/sqrt(var + eps)) and
``NormalizeGrad``, which plays the part of Chainer's BatchNormalizationGrad: its forward is
the input gradient in closed form and its backward is a closed form made of these nodes,
so every order of derivative is available.

On CUDA (and under ``cuda.emulate()``) batch and instance norm (``ChannelNorm``) run our
kernels: the forward (statistics, normalise and affine), the fused first-order backward, and
inside the differentiable graph ``Normalize`` and ``NormalizeGrad``, whose forwards are the same
normalisation without an affine map. Their statistics then live in ``_KernelStats``. Layer norm
and AdaIN (weights that vary within a channel) keep the array code, which runs on CuPy as is.
"""

import math

from .. import cuda, threads
from ..autograd import Function
from ..tensor import Tensor
from .arithmetic import sum_to
from .norm_stats import (
    _axes,
    _column_dot,
    _column_sum,
    _constant_in_groups,
    _input_grad,
    _KernelStats,
    _like,
    _normalize_grad,
    _reduce_to,
    _scale_shift,
    _stat_dot,
    _stat_sum,
    _Stats,
)


class Norm(Function):
    """y = weight * xhat + bias on a 3-D view (A, B, L); weight and bias broadcast against it.

    Its three ways to the gradient: ``backward_fused`` (gx, gweight and gbias in closed form,
    sharing sum(gy) and sum(gy xhat)), ``backward`` (the same from the differentiable nodes
    below) and, in ``ChannelNorm``, the kernel's fused backward.
    """

    def __init__(self, batch, eps):
        self.batch, self.eps = batch, eps

    def forward(self, x, weight=None, bias=None):
        s = self.stats = _Stats(x, self.batch, self.eps)
        if weight is None:
            return s.normalize_in_place()
        if _constant_in_groups(weight, self.batch):  # one pass; xc stays for backward
            return threads.elementwise(_scale_shift, s.xc, s.rstd * weight, bias)
        return threads.elementwise(_scale_shift, s.normalize_in_place(), weight, bias)

    def backward_fused(self, gy, needs_input_grad):
        s, batch, need = self.stats, self.batch, needs_input_grad
        z, c = s.centred()
        gy = _like(gy, z)
        inv_m = 1.0 / s.m
        w = self.inputs[1].array if len(self.inputs) == 3 else None
        gx = gw = gb = None
        if w is None or _constant_in_groups(w, batch):
            # one pair of reductions, sum(gy) and sum(gy xhat), serves all three gradients
            s1, s2 = _stat_sum(gy, batch), _stat_dot(gy, z, batch) * c
            if need[0]:  # gx = k (gy - <gy> - xhat <gy xhat>), k = rstd * weight, in one new array
                k = s.rstd if w is None else s.rstd * w
                gx = threads.elementwise(_input_grad, z, gy, -c * s2 * inv_m, s1 * inv_m, k)
            if w is not None:
                gw = _reduce_to(s2, w.shape) if need[1] else None
                gb = _reduce_to(s1, w.shape) if need[2] else None
        else:
            xhat = s.xhat
            if need[0]:
                gx = _normalize_grad(gy * w, xhat, s)
            gw = _column_dot(gy, xhat) if need[1] else None
            gb = _column_sum(gy) if need[2] else None
        return (gx, gw, gb)[: len(self.inputs)]

    def backward(self, gy, needs_input_grad):
        x, need = self.inputs[0], needs_input_grad
        gx = gw = gb = None
        g = gy
        if len(self.inputs) == 3:
            w, b = self.inputs[1:]
            if need[1]:
                gw = sum_to(gy * Normalize(self.batch, self.eps, self.stats).apply(x), w.shape)
            if need[2]:
                gb = sum_to(gy, b.shape)
            g = gy * w
        if need[0]:
            gx = NormalizeGrad(self.stats).apply(x, g)
        return (gx, gw, gb)[: len(self.inputs)]


class ChannelNorm(Norm):
    """Batch or instance norm: Norm with weight and bias (1, B, 1) or none, whose forward and
    first-order backward are the batch or instance norm kernels on kernel devices."""

    def forward_kernel(self, x, weight=None, bias=None):
        gamma, beta = (None if a is None else a.reshape(-1) for a in (weight, bias))
        if self.batch:
            mean, var, rstd = cuda.batch_norm_stats(x, self.eps)
            self.stats = _KernelStats(x, True, self.eps, mean, rstd, var)
            return cuda.batch_norm_forward(x, mean, rstd, gamma, beta)
        y, mean, rstd = cuda.instance_norm_forward(x, gamma, beta, self.eps)
        self.stats = _KernelStats(x, False, self.eps, mean, rstd)
        return y

    def backward_fused_kernel(self, gy, needs_input_grad):
        w = self.inputs[1].array if len(self.inputs) == 3 else None
        gx, gw, gb = self.stats.backward(gy, None if w is None else w.reshape(-1))
        if w is None:
            return (gx,)
        need = needs_input_grad
        return (
            gx if need[0] else None,
            gw.reshape(w.shape) if need[1] else None,
            gb.reshape(w.shape) if need[2] else None,
        )


class Normalize(Function):
    """xhat = (x - mean) / sqrt(var + eps) per group; statistics already known may be passed in."""

    def __init__(self, batch, eps, stats=None):
        self.batch, self.eps, self.stats = batch, eps, stats

    def forward(self, x):
        if self.stats is None:
            self.stats = _Stats(x, self.batch, self.eps)
        return self.stats.xhat

    def backward(self, gxhat, needs_input_grad):
        return (NormalizeGrad(self.stats).apply(self.inputs[0], gxhat),)


class RStd(Function):
    """r = 1 / sqrt(var + eps) per group (kept as (1|A, B, 1));  gx = -gr r^2 xhat / M."""

    saves_output = True

    def __init__(self, stats):
        self.stats = stats

    def forward(self, x):
        return self.stats.rstd

    def backward(self, gr, needs_input_grad):
        s, r = self.stats, self.output
        xhat = Normalize(s.batch, s.eps, s).apply(self.inputs[0])
        return (xhat * (gr * r * r * (-1.0 / s.m)),)


class NormalizeGrad(Function):
    """gx = r (g - <g> - xhat <g xhat>): the input gradient of xhat = Normalize(x) for g = dL/dxhat.

    <.> is the mean over a group of M elements, r = 1/sqrt(var + eps). With h the gradient
    arriving at gx, and J = dxhat/dx = r (I - 1/M - xhat xhat^T / M) (symmetric):

        dL/dg = J h = r (h - <h> - xhat <h xhat>)             (this node again, applied to h)
        dL/dx = -(r/M) (S[h gx] xhat + S[h xhat] gx) - r <g xhat> J h

    where S is the sum over the group (the second line follows from dr/dx = -r^2 xhat / M).
    """

    saves_output = True

    def __init__(self, stats):
        self.stats = stats

    def forward(self, x, g):
        return self.stats.normalize_grad(g)

    def backward(self, h, needs_input_grad):
        x, g = self.inputs
        s = self.stats
        jh = NormalizeGrad(s).apply(x, h)
        ggx = None
        if needs_input_grad[0]:
            axes, inv_m = _axes(s.batch), 1.0 / s.m
            xhat, r, gx = Normalize(s.batch, s.eps, s).apply(x), RStd(s).apply(x), self.output
            ggx = (
                (h * gx).sum(axes, keepdims=True) * xhat + (h * xhat).sum(axes, keepdims=True) * gx
            ) * (r * -inv_m)
            ggx = ggx - jh * (r * (g * xhat).sum(axes, keepdims=True) * inv_m)
        return ggx, (jh if needs_input_grad[1] else None)


# ----- the public functions


def _check_param(name, t, shape, input, fn):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != tuple(shape):
        raise ValueError(
            f"{fn}: {name} has shape {tuple(t.shape)}, expected {tuple(shape)} "
            f"for an input of shape {input.shape}"
        )
    if t.dtype != input.dtype:
        raise TypeError(
            f"{fn}: {name} has dtype {t.dtype}, input has {input.dtype}; "
            "convert one with .to(dtype)"
        )


def _check_channel_params(fn, input, running_mean, running_var, weight, bias):
    C = input.shape[1]
    named = (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    )
    for name, t in named:
        _check_param(name, t, (C,), input, fn)
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            f"{fn}: running_mean and running_var must be given together (or both None)"
        )


def _affine_params(weight, bias, shape):
    """(weight, bias) reshaped to ``shape`` for Norm; a missing one of the pair becomes a
    constant."""
    if weight is None and bias is None:
        return ()
    like = weight if weight is not None else bias
    xp = like.xp
    w = weight if weight is not None else Tensor._make(xp.ones(like.shape, like.dtype))
    b = bias if bias is not None else Tensor._make(xp.zeros(like.shape, like.dtype))
    return w.reshape(shape), b.reshape(shape)


def _apply_norm(node, x3, params, out_shape):
    y = node.apply(x3, *params)
    return y.reshape(out_shape), node


def _update_running(running, value, momentum):
    """running = (1 - momentum) running + momentum value, in place on the buffer's array."""
    a = running.array
    a *= 1 - momentum
    a += momentum * value.reshape(a.shape).astype(a.dtype, copy=False)


class ChannelAffine(Function):
    """y = x * alpha + beta on a 3-D view (N, C, L), alpha and beta (1, C, 1): normalisation with
    known statistics (evaluation mode) folded into one scale and shift per channel."""

    def forward(self, x, alpha, beta):
        return threads.elementwise(_scale_shift, x, alpha, beta)

    def forward_kernel(self, x, alpha, beta):  # the batch norm eval kernel, mean 0, invstd alpha
        zero = self.xp.zeros(alpha.size, x.dtype)
        return cuda.batch_norm_forward(x, zero, alpha.reshape(-1), None, beta.reshape(-1))

    def backward(self, gy, needs_input_grad):
        x, alpha, beta = self.inputs
        need = needs_input_grad
        return (
            gy * alpha if need[0] else None,
            sum_to(gy * x, alpha.shape) if need[1] else None,
            sum_to(gy, beta.shape) if need[2] else None,
        )

    def backward_fused(self, gy, needs_input_grad):
        x, alpha = self.inputs[0].array, self.inputs[1].array
        need = needs_input_grad
        g = _like(gy, x)
        return (
            threads.elementwise(self.xp.multiply, g, alpha) if need[0] else None,
            _stat_dot(g, x, True) if need[1] else None,
            _stat_sum(g, True) if need[2] else None,
        )


def _per_channel_affine(input, mean, var, weight, bias, eps):
    """y = x * alpha + beta with alpha = weight / sqrt(var + eps), beta = bias - mean alpha
    (given statistics)."""
    N, C = input.shape[:2]
    alpha = Tensor._make(1 / input.xp.sqrt(var.array + eps))
    if weight is not None:
        alpha = alpha * weight
    beta = -(Tensor._make(mean.array) * alpha)
    if bias is not None:
        beta = beta + bias
    x3 = input.reshape(N, C, -1)
    y = ChannelAffine().apply(x3, alpha.reshape(1, C, 1), beta.reshape(1, C, 1))
    return y.reshape(input.shape)


def _check_input(input, fn, min_ndim, layout):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < min_ndim:
        raise ValueError(f"{fn}: input must be {layout}, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {input.dtype}")


def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    """Batch normalisation over every axis but the channel axis 1.

    y = weight * (x - mean) / sqrt(var + eps) + bias, per channel c. In training (or with no
    running statistics) mean and var are the biased statistics of the batch, over N and all
    spatial positions, and ``running_mean`` / ``running_var`` are updated in place as PyTorch
    does: running = (1 - momentum) running + momentum stat, with the UNBIASED batch variance
    for running_var. In evaluation the running statistics are used.

    Args:
        input: (N, C), (N, C, L) or (N, C, H, W). running_mean, running_var, weight, bias: (C,)
        or None. training, momentum, eps: as in PyTorch.
    Returns:
        A tensor of input's shape.

    Example: batch_norm(x (32, 64, 8, 8), rm, rv, w, b, training=True), rm, rv, w, b (64,), has
    shape (32, 64, 8, 8) and mean 0, variance 1 per channel before w and b.
    """
    _check_input(input, "batch_norm", 2, "(N, C) or (N, C, *spatial)")
    N, C = input.shape[:2]
    _check_channel_params("batch_norm", input, running_mean, running_var, weight, bias)
    if not training and running_mean is not None:
        return _per_channel_affine(input, running_mean, running_var, weight, bias, eps)
    x3 = input.reshape(N, C, -1)
    M = N * x3.shape[2]
    if M <= 1:
        raise ValueError(
            "batch_norm: expected more than 1 value per channel when training, "
            f"got input of shape {input.shape}"
        )
    params = _affine_params(weight, bias, (1, C, 1))
    y, node = _apply_norm(ChannelNorm(True, eps), x3, params, input.shape)
    if running_mean is not None:
        _update_running(running_mean, node.stats.mean, momentum)
        _update_running(running_var, node.stats.var * (M / (M - 1)), momentum)
    return y


def instance_norm(
    input,
    weight=None,
    bias=None,
    eps=1e-5,
    *,
    running_mean=None,
    running_var=None,
    use_input_stats=True,
    momentum=0.1,
):
    """Instance normalisation: each (sample, channel) plane standardised over its spatial positions.

    y[n, c] = weight[c] * (x[n, c] - mean[n, c]) / sqrt(var[n, c] + eps) + bias[c]  (biased var).

    Keyword-only, as in PyTorch's InstanceNorm with track_running_stats: ``running_mean`` /
    ``running_var`` are updated in place with the batch mean of the per-instance means and
    unbiased variances when ``use_input_stats``; with ``use_input_stats=False`` they replace the
    instance statistics.

    Args:
        input: (N, C, *spatial), e.g. (N, C, H, W). weight, bias, running_mean, running_var: (C,)
        or None.
    Returns:
        A tensor of input's shape.

    Example: instance_norm(x (1, 3, 256, 256)) has mean 0 and variance 1 in each of its 3 planes.
    """
    _check_input(input, "instance_norm", 3, "(N, C, *spatial)")
    N, C = input.shape[:2]
    _check_channel_params("instance_norm", input, running_mean, running_var, weight, bias)
    if not use_input_stats:
        if running_mean is None:
            raise ValueError(
                "instance_norm: use_input_stats=False needs running_mean and running_var"
            )
        return _per_channel_affine(input, running_mean, running_var, weight, bias, eps)
    x3 = input.reshape(N, C, -1)
    L = x3.shape[2]
    if L <= 1:
        raise ValueError(
            "instance_norm: expected more than 1 spatial element per channel, "
            f"got input of shape {input.shape}"
        )
    params = _affine_params(weight, bias, (1, C, 1))
    y, node = _apply_norm(ChannelNorm(False, eps), x3, params, input.shape)
    if running_mean is not None:
        _update_running(running_mean, node.stats.mean.mean(0), momentum)
        _update_running(running_var, (node.stats.var * (L / (L - 1))).mean(0), momentum)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` axes of each sample.

    y = weight * (x - mean) / sqrt(var + eps) + bias, statistics (biased var) over the last
    len(normalized_shape) axes; weight and bias have shape normalized_shape (elementwise affine).

    Args:
        input: (*, *normalized_shape), e.g. (N, C, H, W) with normalized_shape (C, H, W).
        weight, bias: normalized_shape, or None.
    Returns:
        A tensor of input's shape.

    Example: layer_norm(x (8, 64, 4, 4), (64, 4, 4)) has mean 0 and variance 1 per sample.
    """
    _check_input(input, "layer_norm", 1, "at least 1-D")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or k > input.ndim or tuple(input.shape[input.ndim - k :]) != shape:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must match the trailing dimensions of the "
            f"input, got input of shape {input.shape}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        _check_param(name, t, shape, input, "layer_norm")
    L = math.prod(shape)
    x3 = input.reshape(-1, 1, L)
    y, _ = _apply_norm(Norm(False, eps), x3, _affine_params(weight, bias, (1, 1, L)), input.shape)
    return y


__all__ = ["batch_norm", "instance_norm", "layer_norm"]
