"""A CuPy stand-in for machines without a GPU: the CuPy API scratchgan calls, on the CPU.

``scratchgan.cuda.emulate_device()`` (or $SCRATCHGAN_EMULATE_CUDA=1) makes backend.py answer
with this module wherever it would import ``cupy``, so the project runs with ``device="cuda"``
unchanged and CI exercises the GPU code path:

- ``ndarray`` wraps a NumPy array and is not one (_core.py): implicit conversion to NumPy raises
  TypeError, ops given NumPy arrays raise TypeError, ``.get()`` copies out, ``asarray`` copies in.
- Two emulated GPUs (``cuda.Device(0)``, ``cuda.Device(1)``): an op runs on the current device
  and refuses arrays of another, as CuPy does without peer access.
- ``RawModule`` compiles CUDA C with g++ against kernels/emu/cuda_emu.h (_raw.py), so our kernels
  launch through the same wrappers and launcher a GPU uses.
- ``random``: Generator / XORWOW / default_rng, with no ``permutation`` and no state access.

Every function here has CuPy 14's signature (tests/cuda_emulated/test_cupy_signatures.py checks
them against the real package where it imports). Names CuPy has that are not here simply
raise AttributeError: add them (with CuPy's signature) when the package needs them.
"""

import itertools
import sys
import types

import numpy as np

from . import cuda, random
from ._core import UFUNCS, current_device_id, ndarray, run, unwrap, wrap
from ._raw import RawKernel, RawModule

globals().update(UFUNCS)
# CuPy re-exports NumPy's scalar types and constants
bool_, float16, float32, float64 = np.bool_, np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
integer = np.integer
inf, nan, pi = np.inf, np.nan, np.pi
globals()["dtype"] = np.dtype  # cupy.dtype; set this way because dtype is every function's argument

__all__ = ["RawKernel", "RawModule", "cuda", "ndarray", "random"]  # and the functions below


# ----------------------------------------------------------------------------- making arrays


def empty(shape, dtype=float, order="C"):
    return wrap(np.empty(shape, dtype, order))


def zeros(shape, dtype=float, order="C"):
    return wrap(np.zeros(shape, dtype, order))


def ones(shape, dtype=float, order="C"):
    return wrap(np.ones(shape, dtype, order))


def full(shape, fill_value, dtype=None, order="C"):
    return wrap(np.full(shape, unwrap(fill_value), dtype, order))


# The *_like functions read only the shape and dtype, so (as in CuPy) the prototype may live on
# any device; the new array is made on the current one.


def empty_like(prototype, dtype=None, order="K", subok=None, shape=None):
    return wrap(np.empty_like(_host(prototype), dtype, order, shape=shape))


def zeros_like(a, dtype=None, order="K", subok=None, shape=None):
    return wrap(np.zeros_like(_host(a), dtype, order, shape=shape))


def ones_like(a, dtype=None, order="K", subok=None, shape=None):
    return wrap(np.ones_like(_host(a), dtype, order, shape=shape))


def full_like(a, fill_value, dtype=None, order="K", subok=None, shape=None):
    return wrap(np.full_like(_host(a), unwrap(fill_value), dtype, order, shape=shape))


def arange(start, stop=None, step=1, dtype=None):
    return wrap(np.arange(start, stop, step, dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    return run(np.linspace, start, stop, num, endpoint, retstep, dtype, axis)


def eye(N, M=None, k=0, dtype=float, order="C"):
    return wrap(np.eye(N, M, k, dtype, order))


def indices(dimensions, dtype=int):
    """CuPy's has no ``sparse``: an open grid is ``arange(n).reshape(...)`` per axis."""
    return wrap(np.indices(dimensions, dtype))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """A new array on the current device, from a NumPy array, a stand-in one (any device),
    or nested sequences and scalars."""
    return wrap(np.array(_host(obj), dtype, copy=True, order=order, ndmin=ndmin))


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """``a`` itself when it is on the current device with ``dtype``; else a copy there."""
    if isinstance(a, ndarray) and a._device_id == current_device_id() and not copy:
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    return wrap(np.array(_host(a), dtype, copy=True, order=order or "K"))


def ascontiguousarray(a, dtype=None):
    if not isinstance(a, ndarray):
        raise TypeError(
            f"Argument 'a' has incorrect type (expected cupy.ndarray, got {type(a).__name__})"
        )
    if a.flags.c_contiguous and (dtype is None or np.dtype(dtype) == a.dtype):
        return a
    return run(np.ascontiguousarray, a, dtype)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    return a.get(order=order, out=out) if isinstance(a, ndarray) else np.asarray(a, order=order)


def _host(value):
    """NumPy data of a stand-in array from any device (a device-to-device or -host copy)."""
    if isinstance(value, ndarray):
        return value._array
    if isinstance(value, (list, tuple)):
        return type(value)(_host(v) for v in value)
    return value


# ----------------------------------------------------------------------------- array functions


def where(condition, x=None, y=None):
    return run(np.where, condition) if x is None and y is None else run(np.where, condition, x, y)


def clip(a, a_min, a_max, out=None):
    return run(np.clip, a, a_min, a_max, out=out)


def einsum(*operands, **kwargs):
    return run(np.einsum, *operands, **kwargs)


def matmul(
    *args,
    axes=None,
    axis=None,
    keepdims=False,
    casting="same_kind",
    dtype=None,
    signature=None,
    order="K",
    out=None,
):
    options = {"axes": axes, "axis": axis} if axes is not None or axis is not None else {}
    return run(np.matmul, *args, out=out, casting=casting, dtype=dtype, order=order, **options)


def dot(a, b, out=None):
    return run(np.dot, a, b, out=out)


def tensordot(a, b, axes=2):
    return run(np.tensordot, a, b, axes)


def outer(a, b, out=None):
    return run(np.outer, a, b, out=out)


def concatenate(tup, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return run(np.concatenate, tup, axis, out=out, dtype=dtype, casting=casting)


def stack(tup, axis=0, out=None, *, dtype=None, casting="same_kind"):
    return run(np.stack, tup, axis, out=out, dtype=dtype, casting=casting)


def split(ary, indices_or_sections, axis=0):
    return [
        ary[tuple([slice(None)] * (axis % ary.ndim) + [s])]
        for s in _sections(ary.shape[axis], indices_or_sections)
    ]


def _sections(n, indices_or_sections):
    if isinstance(indices_or_sections, int):
        cuts = list(range(0, n, n // indices_or_sections))[1:indices_or_sections]
    else:
        cuts = list(indices_or_sections)
    bounds = [0, *cuts, n]
    return [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]


def broadcast_to(array, shape):
    return array._view(np.broadcast_to(array._array, shape))


def reshape(a, newshape, order="C", *, copy=None):
    return a.reshape(newshape, order=order, copy=copy)


def transpose(a, axes=None):
    return a.transpose(axes)


def swapaxes(a, axis1, axis2):
    return a.swapaxes(axis1, axis2)


def moveaxis(a, source, destination):
    return a._view(np.moveaxis(a._array, source, destination))


def expand_dims(a, axis):
    return a._view(np.expand_dims(a._array, axis))


def squeeze(a, axis=None):
    return a.squeeze(axis)


def ravel(a, order="C"):
    return a.ravel(order)


def sum(a, axis=None, dtype=None, out=None, keepdims=False):  # CuPy's name
    return run(np.sum, a, axis=axis, dtype=dtype, out=out, keepdims=keepdims)


def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    return run(np.mean, a, axis=axis, dtype=dtype, out=out, keepdims=keepdims)


def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    return run(np.prod, a, axis=axis, dtype=dtype, out=out, keepdims=keepdims)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return run(np.var, a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return run(np.std, a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)


def cumsum(a, axis=None, dtype=None, out=None):
    return run(np.cumsum, a, axis=axis, dtype=dtype, out=out)


def amax(a, axis=None, out=None, keepdims=False):
    return run(np.max, a, axis=axis, out=out, keepdims=keepdims)


def amin(a, axis=None, out=None, keepdims=False):
    return run(np.min, a, axis=axis, out=out, keepdims=keepdims)


max, min = amax, amin  # CuPy's names


def any(a, axis=None, out=None, keepdims=False):  # CuPy's name
    return run(np.any, a, axis=axis, out=out, keepdims=keepdims)


def all(a, axis=None, out=None, keepdims=False):  # CuPy's name
    return run(np.all, a, axis=axis, out=out, keepdims=keepdims)


def argmax(a, axis=None, dtype=None, out=None, keepdims=False):
    return a.argmax(axis=axis, out=out, dtype=dtype, keepdims=keepdims)


def argmin(a, axis=None, dtype=None, out=None, keepdims=False):
    return a.argmin(axis=axis, out=out, dtype=dtype, keepdims=keepdims)


def sort(a, axis=-1, kind=None):
    return run(np.sort, a, axis)


def take(a, indices, axis=None, out=None):
    return run(np.take, a, indices, axis=axis, out=out)


def nonzero(a):
    return run(np.nonzero, a)


def flatnonzero(a):
    return run(np.flatnonzero, a)


def count_nonzero(a, axis=None):
    return run(np.count_nonzero, a, axis)


def round(a, decimals=0, out=None):  # CuPy's name
    return run(np.round, a, decimals, out)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return run(np.isclose, a, b, rtol, atol, equal_nan)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return run(np.allclose, a, b, rtol, atol, equal_nan)


def array_equal(a1, a2, equal_nan=False):
    return run(np.array_equal, a1, a2, equal_nan)


def tile(A, reps):
    return run(np.tile, A, reps)


def pad(array, pad_width, mode="constant", **kwargs):
    return run(np.pad, array, pad_width, mode, **kwargs)


def copyto(dst, src, casting="same_kind", where=None):
    device = current_device_id()
    np.copyto(
        unwrap(dst, device),
        unwrap(src, device),
        casting,
        True if where is None else unwrap(where, device),
    )


def isscalar(element):
    return np.isscalar(element)


def ndim(a):
    return a.ndim


def shape(a):
    return a.shape


def result_type(*arrays_and_dtypes):
    return np.result_type(*(a.dtype if isinstance(a, ndarray) else a for a in arrays_and_dtypes))


def can_cast(from_, to, casting="safe"):
    return np.can_cast(from_.dtype if isinstance(from_, ndarray) else from_, to, casting)


def _as_strided(x, shape=None, strides=None):
    """A view of ``x`` with the given shape and byte strides (no bounds checks, as in CuPy)."""
    return x._view(np.lib.stride_tricks.as_strided(x._array, shape, strides, writeable=True))


lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))


def get_array_module(*args):
    """This module when any argument is a stand-in array, else numpy."""
    for a in args:
        if isinstance(a, ndarray):
            return sys.modules[__name__]
    return np
