"""Reductions: sum, mean, var, max, min over an axis (int, tuple or None)."""

import builtins

from ..autograd import Function
from ..tensor import Tensor
from .arithmetic import broadcast_to


def normalize_axis(axis, ndim, name="axis"):
    """None | int | tuple -> sorted tuple of non-negative axes, validated."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(
                f"{name}: axis {a} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(a % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {axis}")
    return tuple(sorted(out))


def _keepdims_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    saves_inputs = ()

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy, needs_input_grad):
        shape = self.input_shapes[0]
        if not self.keepdims:
            gy = gy.reshape(_keepdims_shape(shape, self.axes))
        return (broadcast_to(gy, shape),)

    def backward_fused(self, gy, needs_input_grad):
        shape = self.input_shapes[0]
        if not self.keepdims:
            gy = gy.reshape(_keepdims_shape(shape, self.axes))
        return (gy if gy.shape == shape else self.xp.broadcast_to(gy, shape),)


class Extreme(Function):
    """max or min; the gradient is shared equally among tied extreme entries (like torch.amax)."""

    saves_output = True

    def __init__(self, axes, keepdims, mode):
        self.axes, self.keepdims, self.mode = axes, keepdims, mode

    def forward(self, x):
        reduce = x.max if self.mode == "max" else x.min
        return reduce(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy, needs_input_grad):
        x = self.inputs[0]
        shape = _keepdims_shape(x.shape, self.axes)
        y = self._output_data.reshape(shape)
        mask = (x.array == y).astype(x.dtype)
        mask /= mask.sum(axis=self.axes, keepdims=True)
        return (broadcast_to(gy.reshape(shape), x.shape) * Tensor._make(mask),)


def sum(x, axis=None, keepdims=False):
    return Sum(normalize_axis(axis, x.ndim), keepdims).apply(x)


def _count(x, axes):
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def mean(x, axis=None, keepdims=False):
    axes = normalize_axis(axis, x.ndim)
    return sum(x, axes, keepdims) * (1.0 / _count(x, axes))


def var(x, axis=None, keepdims=False, correction=1):
    """Variance with Bessel's ``correction`` (1: unbiased, PyTorch's default; 0: biased)."""
    axes = normalize_axis(axis, x.ndim)
    n = _count(x, axes)
    if n - correction <= 0:
        raise ValueError(
            f"var: {n} elements along axis {axis} are too few for correction={correction}"
        )
    centered = x - mean(x, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) * (1.0 / (n - correction))


def max(x, axis=None, keepdims=False):
    return Extreme(normalize_axis(axis, x.ndim), keepdims, "max").apply(x)


def min(x, axis=None, keepdims=False):
    return Extreme(normalize_axis(axis, x.ndim), keepdims, "min").apply(x)
