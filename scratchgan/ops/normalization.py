"""Normalisation: batch_norm, instance_norm, layer_norm (and the core of adain).

All of them standardise x over a group of elements and then apply an affine map:

    xhat = (x - mean) / sqrt(var + eps)      (var biased)
    y    = weight * xhat + bias

They differ only in the groups. Each works on a 3-D view (A, B, L) of its input: the
statistics are taken over L (instance and layer norm: one group per (a, b)) or over A and L
(batch norm, ``batch=True``: one group per b). ``Norm`` is the fused node for all of them.
Its first-order backward computes gx, gweight and gbias together in closed form, sharing
the two reductions sum(gy) and sum(gy * xhat). When a backward is itself recorded
(``create_graph=True``, e.g. for a gradient penalty) the gradient is built from
differentiable nodes instead: ``Normalize`` (x -> xhat), ``RStd`` (x -> 1/sqrt(var + eps)) and
``NormalizeGrad``, which plays the part of Chainer's BatchNormalizationGrad: its forward is
the input gradient in closed form and its backward is a closed form made of these nodes,
so every order of derivative is available.

On CUDA (and under ``cuda.emulate()``) batch and instance norm run our kernels: the forward
(statistics, normalise and affine), the fused first-order backward, and inside the
differentiable graph ``Normalize`` and ``NormalizeGrad``, whose forwards are the same
normalisation without an affine map. Their statistics then live in ``_KernelStats``. Layer norm
and AdaIN (weights that vary within a channel) keep the array code, which runs on CuPy as is.
"""

import math

from .. import cuda
from ..autograd import Function, is_grad_enabled
from ..backend import array_module
from ..tensor import Tensor
from .arithmetic import sum_to


def _axes(batch):
    return (0, 2) if batch else (2,)


def _group_size(shape, batch):
    return shape[0] * shape[2] if batch else shape[2]


def _work_view(a, channels_last=None):
    """``a`` (A, B, L) as a C-contiguous array: itself, or (A, L, B) for a channels-last layout.

    Returns (view, channels_last). Convolutions hand out channels-last arrays, so both
    layouts are worked on in place; ``channels_last`` forces one (copying if needed).
    """
    xp = array_module(a)
    if channels_last is None:
        if a.flags.c_contiguous:
            return a, False
        channels_last = a.transpose(0, 2, 1).flags.c_contiguous
    w = a.transpose(0, 2, 1) if channels_last else a
    return (w if w.flags.c_contiguous else xp.ascontiguousarray(w)), channels_last


def _like(a, ref):
    """``a`` laid out like ``ref`` (copied only when the layouts differ)."""
    _, cl = _work_view(ref)
    w, _ = _work_view(a, cl)
    return w.transpose(0, 2, 1) if cl else w


def _stat_sum(a, batch):
    """Sum of ``a`` (A, B, L) over each group, as (1, B, 1) with ``batch`` else (A, B, 1)."""
    # einsum and add.reduce rather than a GEMV with ones: BLAS threads stall on a busy machine
    A, B, L = a.shape
    w, cl = _work_view(a)
    if cl and batch:
        return w.reshape(A * L, B).sum(0).reshape(1, B, 1)
    if cl:
        return w.sum(1).reshape(A, B, 1)
    s = array_module(a).einsum("ij->i", w.reshape(A * B, L)).reshape(A, B, 1)
    return s.sum(0, keepdims=True) if batch else s


def _stat_dot(a, b, batch):
    """Sum of ``a * b`` over each group, without a full-size temporary."""
    A, B, L = a.shape
    xp = array_module(a)
    wa, cl = _work_view(a)
    wb, _ = _work_view(b, cl)
    if cl and batch:
        return xp.einsum("ij,ij->j", wa.reshape(A * L, B), wb.reshape(A * L, B)).reshape(1, B, 1)
    if cl:
        return xp.einsum("alb,alb->ab", wa, wb).reshape(A, B, 1)
    a2, b2 = wa.reshape(A * B, L), wb.reshape(A * B, L)
    s = (xp.vecdot(a2, b2) if hasattr(xp, "vecdot") else (a2 * b2).sum(1)).reshape(A, B, 1)
    return s.sum(0, keepdims=True) if batch else s


def _column_dot(a, b):
    """Sum of ``a * b`` over A and B, as (1, 1, L)."""
    A, B, L = a.shape
    wa, _ = _work_view(a, False)
    wb, _ = _work_view(b, False)
    return array_module(a).einsum("ij,ij->j", wa.reshape(A * B, L), wb.reshape(A * B, L)).reshape(1, 1, L)


def _column_sum(a):
    """Sum of ``a`` (A, B, L) over A and B, as (1, 1, L)."""
    A, B, L = a.shape
    w, _ = _work_view(a, False)
    return w.reshape(A * B, L).sum(0).reshape(1, 1, L)


def _reduce_to(a, shape):
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, a.shape)) if n == 1 and m != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


class _Stats:
    """Group statistics of one input x (A, B, L): mean, var, rstd = 1/sqrt(var + eps), and
    either the centred values xc = x - mean or xhat = xc * rstd (whichever forward kept)."""

    def __init__(self, x, batch, eps):
        x = _like(x, x)
        self.batch, self.eps, self.m = batch, eps, _group_size(x.shape, batch)
        self.mean = _stat_sum(x, batch) * (1.0 / self.m)
        self.xc = x - self.mean
        self.var = _stat_dot(self.xc, self.xc, batch) * (1.0 / self.m)
        self.rstd = 1 / array_module(x).sqrt(self.var + eps)
        self._xhat = None

    @property
    def xhat(self):
        if self._xhat is None:
            self._xhat = self.xc * self.rstd
        return self._xhat

    def normalize_in_place(self):
        """Turn xc into xhat (no new array); afterwards only xhat is kept."""
        self.xc *= self.rstd
        self._xhat, self.xc = self.xc, None
        return self._xhat

    def centred(self):
        """(z, c) with z * c = xhat: the kept array and the per-group factor that normalises it."""
        return (self.xc, self.rstd) if self.xc is not None else (self._xhat, 1.0)

    def normalize_grad(self, g):
        return _normalize_grad(g, self.xhat, self)


class _KernelStats(_Stats):
    """Statistics made by the batch or instance norm kernels for x (A, B, L): the kernels' flat
    mean and rstd ((B,) or (A, B)), viewed as (1|A, B, 1); var and xhat computed on demand."""

    def __init__(self, x, batch, eps, mean, rstd, var=None):
        self.x, self.batch, self.eps, self.m = x, batch, eps, _group_size(x.shape, batch)
        self.flat_mean, self.flat_rstd = mean, rstd
        shape = (1,) + x.shape[1:2] + (1,) if batch else x.shape[:2] + (1,)
        self.mean, self.rstd = mean.reshape(shape), rstd.reshape(shape)
        self._var, self.xc, self._xhat = var, None, None

    @property
    def var(self):
        if self._var is None:  # instance norm needs it only for running statistics
            xc = self.x - self.mean
            self._var = _stat_dot(xc, xc, self.batch) * (1.0 / self.m)
        return self._var.reshape(self.mean.shape)

    @property
    def xhat(self):
        if self._xhat is None:
            if self.batch:
                self._xhat = cuda.batch_norm_forward(self.x, self.flat_mean, self.flat_rstd)
            else:  # the kernel recomputes the (deterministic) statistics: it takes none
                self._xhat = cuda.instance_norm_forward(self.x, eps=self.eps)[0]
        return self._xhat

    def normalize_grad(self, g):
        return self.backward(g)[0]

    def backward(self, gy, gamma=None):
        """(gx, ggamma, gbeta) of y = gamma xhat + beta, by the fused backward kernel; gamma (B,) or None."""
        kernel = cuda.batch_norm_backward if self.batch else cuda.instance_norm_backward
        return kernel(self.x, gy, self.flat_mean, self.flat_rstd, gamma)


def _normalize_grad(g, xhat, s):
    """r (g - <g> - xhat <g xhat>) on arrays, in one new array."""
    g = _like(g, xhat)
    gx = xhat * (_stat_dot(g, xhat, s.batch) * (-1.0 / s.m))
    gx += g
    gx -= _stat_sum(g, s.batch) * (1.0 / s.m)
    gx *= s.rstd
    return gx


def _constant_in_groups(w, batch):
    return w.shape[2] == 1 and (w.shape[0] == 1 or not batch)


class Norm(Function):
    """y = weight * xhat + bias on a 3-D view (A, B, L); weight and bias broadcast against it.

    ``kernels``: batch_norm and instance_norm (weight and bias (1, B, 1)) set it, so that on
    CUDA the batch or instance norm kernels do the forward and the first-order backward.
    """

    def __init__(self, batch, eps, kernels=False):
        self.batch, self.eps, self.kernels = batch, eps, kernels

    def forward(self, x, weight=None, bias=None):
        self.kernels = self.kernels and cuda.uses_kernels(x)
        if self.kernels:
            return self._forward_kernel(x, weight, bias)
        s = self.stats = _Stats(x, self.batch, self.eps)
        if weight is None:
            return s.normalize_in_place()
        if _constant_in_groups(weight, self.batch):
            y = s.xc * (s.rstd * weight)  # one pass; xc stays for backward
        else:
            y = s.normalize_in_place() * weight
        y += bias
        return y

    def _forward_kernel(self, x, weight, bias):
        gamma, beta = (None if a is None else a.reshape(-1) for a in (weight, bias))
        if self.batch:
            mean, var, rstd = cuda.batch_norm_stats(x, self.eps)
            self.stats = _KernelStats(x, True, self.eps, mean, rstd, var)
            return cuda.batch_norm_forward(x, mean, rstd, gamma, beta)
        y, mean, rstd = cuda.instance_norm_forward(x, gamma, beta, self.eps)
        self.stats = _KernelStats(x, False, self.eps, mean, rstd)
        return y

    def backward(self, gy):
        if is_grad_enabled():
            return self._backward_graph(gy)
        if self.kernels:
            grads = self._backward_kernel(gy.data)
        else:
            grads = self._backward_fused(gy.data)
        return tuple(None if g is None else Tensor._make(g) for g in grads)

    def _backward_kernel(self, gy):
        w = self.inputs[1].data if len(self.inputs) == 3 else None
        gx, gw, gb = self.stats.backward(gy, None if w is None else w.reshape(-1))
        if w is None:
            return (gx,)
        need = self.needs_input_grad
        return (gx if need[0] else None, gw.reshape(w.shape) if need[1] else None, gb.reshape(w.shape) if need[2] else None)

    def _backward_fused(self, gy):
        s, batch, need = self.stats, self.batch, self.needs_input_grad
        z, c = s.centred()
        gy = _like(gy, z)
        inv_m = 1.0 / s.m
        w = self.inputs[1].data if len(self.inputs) == 3 else None
        gx = gw = gb = None
        if w is None or _constant_in_groups(w, batch):
            # one pair of reductions, sum(gy) and sum(gy xhat), serves all three gradients
            s1, s2 = _stat_sum(gy, batch), _stat_dot(gy, z, batch) * c
            if need[0]:  # gx = k (gy - <gy> - xhat <gy xhat>), k = rstd * weight, in one new array
                gx = z * (-c * s2 * inv_m)
                gx += gy
                gx -= s1 * inv_m
                gx *= s.rstd if w is None else s.rstd * w
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

    def _backward_graph(self, gy):
        x, need = self.inputs[0], self.needs_input_grad
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


class Normalize(Function):
    """xhat = (x - mean) / sqrt(var + eps) per group; statistics already known may be passed in."""

    def __init__(self, batch, eps, stats=None):
        self.batch, self.eps, self.stats = batch, eps, stats

    def forward(self, x):
        if self.stats is None:
            self.stats = _Stats(x, self.batch, self.eps)
        return self.stats.xhat

    def backward(self, gxhat):
        return (NormalizeGrad(self.stats).apply(self.inputs[0], gxhat),)


class RStd(Function):
    """r = 1 / sqrt(var + eps) per group (kept as (1|A, B, 1));  gx = -gr r^2 xhat / M."""

    def __init__(self, stats):
        self.stats = stats

    def forward(self, x):
        return self.stats.rstd

    def backward(self, gr):
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

    def __init__(self, stats):
        self.stats = stats

    def forward(self, x, g):
        return self.stats.normalize_grad(g)

    def backward(self, h):
        x, g = self.inputs
        s = self.stats
        jh = NormalizeGrad(s).apply(x, h)
        ggx = None
        if self.needs_input_grad[0]:
            axes, inv_m = _axes(s.batch), 1.0 / s.m
            xhat, r, gx = Normalize(s.batch, s.eps, s).apply(x), RStd(s).apply(x), self.output
            ggx = ((h * gx).sum(axes, keepdims=True) * xhat + (h * xhat).sum(axes, keepdims=True) * gx) * (r * -inv_m)
            ggx = ggx - jh * (r * (g * xhat).sum(axes, keepdims=True) * inv_m)
        return ggx, (jh if self.needs_input_grad[1] else None)


# ----- the public functions


def _check_param(name, t, shape, input, fn):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{fn}: {name} has shape {tuple(t.shape)}, expected {tuple(shape)} for an input of shape {input.shape}")
    if t.dtype != input.dtype:
        raise TypeError(f"{fn}: {name} has dtype {t.dtype}, input has {input.dtype}; convert one with .to(dtype)")


def _affine_params(weight, bias, shape):
    """(weight, bias) reshaped to ``shape`` for Norm; a missing one of the pair becomes a constant."""
    if weight is None and bias is None:
        return ()
    like = weight if weight is not None else bias
    xp = like.xp
    w = weight if weight is not None else Tensor._make(xp.ones(like.shape, like.dtype))
    b = bias if bias is not None else Tensor._make(xp.zeros(like.shape, like.dtype))
    return w.reshape(shape), b.reshape(shape)


def _apply_norm(x3, batch, eps, params, out_shape, kernels=False):
    node = Norm(batch, eps, kernels)
    y = node.apply(x3, *params)
    return y.reshape(out_shape), node


def _update_running(running, value, momentum):
    """running = (1 - momentum) running + momentum value, in place on the buffer's array."""
    a = running.data
    a *= 1 - momentum
    a += momentum * value.reshape(a.shape).astype(a.dtype, copy=False)


class ChannelAffine(Function):
    """y = x * alpha + beta on a 3-D view (N, C, L), alpha and beta (1, C, 1): normalisation with
    known statistics (evaluation mode) folded into one scale and shift per channel."""

    def forward(self, x, alpha, beta):
        if cuda.uses_kernels(x):  # the batch norm eval kernel with mean 0 and invstd alpha
            zero = self.xp.zeros(alpha.size, x.dtype)
            return cuda.batch_norm_forward(x, zero, alpha.reshape(-1), None, beta.reshape(-1))
        y = x * alpha
        y += beta
        return y

    def backward(self, gy):
        x, alpha, beta = self.inputs
        need = self.needs_input_grad
        if is_grad_enabled():
            return (gy * alpha if need[0] else None, sum_to(gy * x, alpha.shape) if need[1] else None,
                    sum_to(gy, beta.shape) if need[2] else None)
        g = _like(gy.data, x.data)
        grads = (g * alpha.data if need[0] else None, _stat_dot(g, x.data, True) if need[1] else None,
                 _stat_sum(g, True) if need[2] else None)
        return tuple(None if a is None else Tensor._make(a) for a in grads)


def _per_channel_affine(input, mean, var, weight, bias, eps):
    """y = x * alpha + beta with alpha = weight / sqrt(var + eps), beta = bias - mean alpha (given stats)."""
    N, C = input.shape[:2]
    alpha = Tensor._make(1 / input.xp.sqrt(var.data + eps))
    if weight is not None:
        alpha = alpha * weight
    beta = -(Tensor._make(mean.data) * alpha)
    if bias is not None:
        beta = beta + bias
    y = ChannelAffine().apply(input.reshape(N, C, -1), alpha.reshape(1, C, 1), beta.reshape(1, C, 1))
    return y.reshape(input.shape)


def _check_input(input, fn, min_ndim, layout):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < min_ndim:
        raise ValueError(f"{fn}: input must be {layout}, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {input.dtype}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over every axis but the channel axis 1.

    y = weight * (x - mean) / sqrt(var + eps) + bias, per channel c. In training (or with no
    running statistics) mean and var are the biased statistics of the batch, over N and all
    spatial positions, and ``running_mean`` / ``running_var`` are updated in place as PyTorch
    does: running = (1 - momentum) running + momentum stat, with the UNBIASED batch variance
    for running_var. In evaluation the running statistics are used.

    input (N, C), (N, C, L) or (N, C, H, W); running_mean, running_var, weight, bias (C,) or None.
    Returns a tensor shaped like input.

    >>> y = batch_norm(x, rm, rv, w, b, training=True)   # x (32, 64, 8, 8); rm, rv, w, b (64,)
    """
    _check_input(input, "batch_norm", 2, "(N, C) or (N, C, *spatial)")
    N, C = input.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_param(name, t, (C,), input, "batch_norm")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must be given together (or both None)")
    if not training and running_mean is not None:
        return _per_channel_affine(input, running_mean, running_var, weight, bias, eps)
    x3 = input.reshape(N, C, -1)
    M = N * x3.shape[2]
    if M <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape {input.shape}")
    y, node = _apply_norm(x3, True, eps, _affine_params(weight, bias, (1, C, 1)), input.shape, kernels=True)
    if running_mean is not None:
        _update_running(running_mean, node.stats.mean, momentum)
        _update_running(running_var, node.stats.var * (M / (M - 1)), momentum)
    return y


def instance_norm(input, weight=None, bias=None, eps=1e-5, *, running_mean=None, running_var=None,
                  use_input_stats=True, momentum=0.1):
    """Instance normalisation: each (sample, channel) plane standardised over its spatial positions.

    y[n, c] = weight[c] * (x[n, c] - mean[n, c]) / sqrt(var[n, c] + eps) + bias[c]  (biased var).

    input (N, C, *spatial); weight, bias (C,) or None. Keyword-only, as in PyTorch's
    InstanceNorm with track_running_stats: ``running_mean`` / ``running_var`` (C,) are updated
    in place with the batch mean of the per-instance means and unbiased variances when
    ``use_input_stats``; with ``use_input_stats=False`` they replace the instance statistics.
    Returns a tensor shaped like input.
    """
    _check_input(input, "instance_norm", 3, "(N, C, *spatial)")
    N, C = input.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_param(name, t, (C,), input, "instance_norm")
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: running_mean and running_var must be given together (or both None)")
    if not use_input_stats:
        if running_mean is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and running_var")
        return _per_channel_affine(input, running_mean, running_var, weight, bias, eps)
    x3 = input.reshape(N, C, -1)
    L = x3.shape[2]
    if L <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element per channel, got input of shape {input.shape}")
    y, node = _apply_norm(x3, False, eps, _affine_params(weight, bias, (1, C, 1)), input.shape, kernels=True)
    if running_mean is not None:
        _update_running(running_mean, node.stats.mean.mean(0), momentum)
        _update_running(running_var, (node.stats.var * (L / (L - 1))).mean(0), momentum)
    return y


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` axes of each sample.

    y = weight * (x - mean) / sqrt(var + eps) + bias, statistics (biased var) over the last
    len(normalized_shape) axes; weight and bias have shape normalized_shape (elementwise affine).

    input (*, *normalized_shape), e.g. (N, C, H, W) with normalized_shape (C, H, W).
    Returns a tensor shaped like input.
    """
    _check_input(input, "layer_norm", 1, "at least 1-D")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or k > input.ndim or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must match the trailing dimensions of the input, got input of shape {input.shape}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        _check_param(name, t, shape, input, "layer_norm")
    L = math.prod(shape)
    x3 = input.reshape(-1, 1, L)
    y, _ = _apply_norm(x3, False, eps, _affine_params(weight, bias, (1, 1, L)), input.shape)
    return y


__all__ = ["batch_norm", "instance_norm", "layer_norm"]
