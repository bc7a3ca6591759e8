"""Shape ops: reshape, permute, squeeze/unsqueeze/flatten, indexing, concat/stack, casts.

Indexing's backward scatters the gradient back with an add (repeated indices add up);
that scatter's backward is indexing again, so both are differentiable to any order.
"""

import math

import numpy as np

from ..autograd import Function
from ..backend import to_device
from ..tensor import Tensor
from .reduction import normalize_axis


class Reshape(Function):
    saves_inputs = ()

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy, needs_input_grad):
        return (gy.reshape(self.input_shapes[0]),)


class Permute(Function):
    saves_inputs = ()

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy, needs_input_grad):
        return (permute(gy, tuple(np.argsort(self.axes))),)


class GetItem(Function):
    saves_inputs = ()

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy, needs_input_grad):
        return (index_add(gy, self.index, self.input_shapes[0]),)


class IndexAdd(Function):
    """y = zeros(shape); y[index] += x, with repeated indices adding up."""

    saves_inputs = ()

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, x):
        y = self.xp.zeros(self.shape, dtype=x.dtype)
        if _is_basic(self.index):
            y[self.index] = x
        else:
            self.xp.add.at(y, self.index, x)
        return y

    def backward(self, gy, needs_input_grad):
        return (getitem(gy, self.index),)


class Concat(Function):
    saves_inputs = ()

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return self.xp.concatenate(xs, axis=self.axis)

    def backward(self, gy, needs_input_grad):
        grads, start = [], 0
        for shape, need in zip(self.input_shapes, needs_input_grad):
            stop = start + shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(getitem(gy, index) if need else None)
            start = stop
        return tuple(grads)


class AsType(Function):
    saves_inputs = ()

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.input_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy, needs_input_grad):
        return (astype(gy, self.input_dtype),)


class CopyTo(Function):
    def __init__(self, device):
        self.device = device

    def forward(self, x):
        return to_device(x, self.device)

    def backward(self, gy, needs_input_grad):
        return (copy_to(gy, self.inputs[0].device),)


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer)) for i in items)


def _unwrap_index(index):
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, list):
        return np.asarray(index)
    return index


def reshape(x, shape):
    """The same values in another shape, as torch.reshape (row-major order; one -1 is inferred).

    Args:
        x: any shape. shape: a tuple of ints whose product is x's number of elements.
    Returns:
        A tensor of ``shape`` (x itself if the shape is unchanged).

    Example: reshape(x (8, 1, 28, 28), (8, -1)) has shape (8, 784).
    """
    shape = tuple(shape)
    if -1 in shape:
        known = math.prod([n for n in shape if n != -1])
        if shape.count(-1) > 1 or known == 0 or x.numel() % known:
            raise ValueError(f"reshape: cannot reshape {x.shape} ({x.numel()} elements) to {shape}")
        shape = tuple(x.numel() // known if n == -1 else n for n in shape)
    if math.prod(shape) != x.numel():
        raise ValueError(f"reshape: cannot reshape {x.shape} ({x.numel()} elements) to {shape}")
    if shape == x.shape:
        return x
    return Reshape(shape).apply(x)


def permute(x, axes):
    axes = tuple(a % x.ndim for a in axes) if x.ndim else ()
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(
            f"permute: axes {axes} are not a permutation of the {x.ndim} dimensions of {x.shape}"
        )
    if axes == tuple(range(x.ndim)):
        return x
    return Permute(axes).apply(x)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1 :])


def squeeze(x, axis=None):
    if axis is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    axes = normalize_axis(axis, x.ndim, "squeeze")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1)))


def unsqueeze(x, axis):
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(
            f"unsqueeze: axis {axis} is out of range for a tensor with {x.ndim} dimensions"
        )
    axis = axis % (x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def getitem(x, index):
    """``x[index]`` with NumPy semantics (ints, slices, None, ..., int or bool arrays)."""
    return GetItem(_unwrap_index(index)).apply(x)


def index_add(x, index, shape):
    """A zero tensor of ``shape`` with ``x`` added at ``index``."""
    return IndexAdd(_unwrap_index(index), tuple(shape)).apply(x)


def concat(tensors, axis=0):
    """Join tensors along an existing axis, as torch.cat; the gradient is split back by slices.

    Args:
        tensors: a sequence of tensors of one dtype and equal shapes except along ``axis``.
        axis: the axis to join along.
    Returns:
        A tensor whose ``axis`` has the sum of their lengths.

    Example: concat([x (8, 3, 4, 4), y (8, 1, 4, 4)], 1) has shape (8, 4, 4, 4).
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat: expected at least one tensor, got none")
    first = tensors[0]
    axis = normalize_axis(axis, first.ndim, "concat")[0]

    def others(shape):  # the shape without the joined axis
        return shape[:axis] + shape[axis + 1 :]

    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or others(t.shape) != others(first.shape):
            raise ValueError(
                f"concat: tensors[{i}] has shape {t.shape}, which does not match "
                f"{first.shape} except along axis {axis}"
            )
        if t.dtype != first.dtype:
            raise TypeError(
                f"concat: tensors[{i}] has dtype {t.dtype}, tensors[0] has {first.dtype}"
            )
    return Concat(axis).apply(*tensors)


cat = concat  # PyTorch's name


def stack(tensors, axis=0):
    """Join tensors of one shape along a new axis, as torch.stack.

    Args:
        tensors: a sequence of tensors of equal shape S. axis: where the new axis goes.
    Returns:
        A tensor of shape S with len(tensors) inserted at ``axis``.

    Example: stack([x (3, 4), y (3, 4)], 0) has shape (2, 3, 4).
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected at least one tensor, got none")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: tensors[{i}] has shape {t.shape}, tensors[0] has {tensors[0].shape}"
            )
    return concat([unsqueeze(t, axis) for t in tensors], axis)


def astype(x, dtype):
    if x.dtype == dtype:
        return x
    return AsType(dtype).apply(x)


def copy_to(x, device):
    if x.device == device:
        return x
    return CopyTo(device).apply(x)
