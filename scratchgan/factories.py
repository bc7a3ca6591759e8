"""Making tensors: ``tensor`` from data, ``zeros``/``ones``/``full``, random draws, the ``*_like``
forms, and ``as_tensor`` for the operands that meet a Tensor in an op. Each allocates on its
device, inside that device's context (a cuda:N tensor is made on GPU N)."""

import numbers

import numpy as np

from .backend import (
    array_module,
    default_device,
    device_context,
    device_of,
    parse_device,
    parse_dtype,
    to_device,
)
from .random import resolve as _resolve_generator
from .tensor import DEFAULT_DTYPE, Tensor, _shape_args


def tensor(data, requires_grad=False, dtype=None, device=None):
    """A new leaf tensor holding a copy of ``data`` (floats default to float32)."""
    dtype = parse_dtype(dtype)
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        with device_context(data):  # the copy stays on data's own GPU
            array = data.astype(dtype) if dtype is not None else data.copy()
        target = parse_device(device) if device is not None else device_of(array)
    else:
        array = np.asarray(data)
        if dtype is None and array.dtype.kind == "f":
            dtype = DEFAULT_DTYPE
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"tensor: expected numbers, got {type(data).__name__} of dtype {array.dtype}"
            )
        if dtype is not None:
            array = array.astype(dtype)
        target = parse_device(device) if device is not None else default_device()
    array = to_device(array, target)
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(
            f"tensor: only floating-point tensors can require grad, got dtype {array.dtype}"
        )
    return Tensor._make(array, requires_grad=requires_grad)


def _creation_args(shape, dtype, device):
    shape = _shape_args(shape)
    dtype = parse_dtype(dtype) or DEFAULT_DTYPE
    device = parse_device(device) if device is not None else default_device()
    return shape, dtype, device


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _creation_args(shape, dtype, device)
    with device_context(device):
        return Tensor._make(array_module(device).zeros(shape, dtype=dtype), requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _creation_args(shape, dtype, device)
    with device_context(device):
        return Tensor._make(array_module(device).ones(shape, dtype=dtype), requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _creation_args((shape,), dtype, device)
    with device_context(device):
        return Tensor._make(
            array_module(device).full(shape, fill_value, dtype=dtype), requires_grad
        )


def randn(*shape, dtype=None, device=None, generator=None, requires_grad=False):
    """Standard normal draws from ``generator`` (default: the device's default generator)."""
    shape, dtype, device = _creation_args(shape, dtype, device)
    return Tensor._make(_resolve_generator(generator, device).normal(shape, dtype), requires_grad)


def rand(*shape, dtype=None, device=None, generator=None, requires_grad=False):
    """Uniform draws on [0, 1) from ``generator``."""
    shape, dtype, device = _creation_args(shape, dtype, device)
    return Tensor._make(_resolve_generator(generator, device).uniform(shape, dtype), requires_grad)


def randint(low, high, shape, device=None, generator=None):
    shape, _, device = _creation_args((shape,), None, device)
    return Tensor._make(_resolve_generator(generator, device).integers(low, high, shape))


def zeros_like(x, dtype=None):
    with device_context(x._data):
        return Tensor._make(x.xp.zeros(x.shape, dtype=parse_dtype(dtype) or x.dtype))


def ones_like(x, dtype=None):
    with device_context(x._data):
        return Tensor._make(x.xp.ones(x.shape, dtype=parse_dtype(dtype) or x.dtype))


def randn_like(x, generator=None):
    return randn(x.shape, dtype=x.dtype, device=x.device, generator=generator)


def rand_like(x, generator=None):
    return rand(x.shape, dtype=x.dtype, device=x.device, generator=generator)


def as_tensor(value, like):
    """``value`` as a Tensor that can meet ``like`` in an op.

    Python numbers take ``like``'s dtype. Arrays and tensors must already agree with it:
    mixing float32 and float64 raises rather than upcasting silently.
    """
    if isinstance(value, Tensor):
        other = value
    elif isinstance(value, numbers.Number) and not isinstance(value, bool):
        dtype = (
            like.dtype
            if (like.dtype.kind == "f" or isinstance(value, numbers.Integral))
            else DEFAULT_DTYPE
        )
        with device_context(like._data):
            return Tensor._make(like.xp.asarray(value, dtype=dtype))
    elif isinstance(value, np.ndarray) or hasattr(value, "__cuda_array_interface__"):
        other = Tensor._make(value)
    else:
        raise TypeError(f"expected a Tensor, an array or a number, got {type(value).__name__}")
    if other.dtype != like.dtype and (other.dtype.kind == "f" or like.dtype.kind == "f"):
        raise TypeError(
            f"dtype mismatch: {like.dtype} and {other.dtype} meet in one op; scratchgan does not "
            "upcast silently: convert one of them with .to(dtype) first"
        )
    both_host = type(other._data) is np.ndarray and type(like._data) is np.ndarray
    if not both_host and other.device != like.device:
        raise RuntimeError(
            f"device mismatch: {like.device} and {other.device}; move one with .to(device) first"
        )
    return other
