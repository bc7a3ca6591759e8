"""The stand-in's ndarray: a NumPy array that lives on an emulated GPU and behaves like CuPy's.

It wraps, and is not, a ``numpy.ndarray``, so every CPU/GPU mix-up fails as it does on a GPU:
``np.asarray(x)`` raises TypeError (CuPy refuses implicit conversion; ``x.get()`` is the way
out), an op given a NumPy array raises TypeError, and NumPy functions given only stand-in
arrays dispatch here (``__array_ufunc__`` / ``__array_function__``, as CuPy's do).

Devices: each array remembers the emulated GPU it was made on. As on a GPU without peer access,
an op (a kernel) runs on the *current* device (``cuda.Device(i)``) and refuses arrays that live
on another one with CuPy's ValueError; views (reshape, transpose, basic slicing) keep their
array's device and need no kernel, so they work anywhere; ``get``, ``copy`` and ``asarray`` copy
across devices. The current device is per host thread, as in CUDA.
"""

import sys

import numpy as np

from ._devices import Device, current_device_id


def _peer_error(array_device, current):
    return ValueError(
        f"The device where the array resides ({array_device}) is different from "
        f"the current device ({current}). Peer access is unavailable between "
        "these devices."
    )


def unwrap(value, device=None, allow_numpy=False):
    """The NumPy storage behind ``value`` (recursing into lists and tuples) for a kernel on
    ``device`` (default: the current one). A stand-in array on another device raises ValueError
    and a NumPy array raises TypeError (unless ``allow_numpy``), as CuPy's kernels do."""
    if device is None:
        device = current_device_id()
    if isinstance(value, ndarray):
        if value._device_id != device:
            raise _peer_error(value._device_id, device)
        return value._array
    if isinstance(value, np.ndarray) and not allow_numpy:
        raise TypeError(f"Unsupported type {type(value)}")
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v, device, allow_numpy) for v in value)
    return value


def wrap(value, device=None):
    """A NumPy result as stand-in arrays on ``device`` (scalars become 0-d arrays, as in CuPy)."""
    if device is None:
        device = current_device_id()
    if isinstance(value, (np.ndarray, np.generic)):
        return ndarray._wrap(np.asarray(value), device)
    if isinstance(value, tuple):
        return tuple(wrap(v, device) for v in value)
    return value


def run(numpy_function, *args, **kwargs):
    """``numpy_function`` on the current device: unwrap the arguments, wrap the result.

    ``out=`` (a stand-in array, or a one-tuple of one) is written in place and returned.
    """
    device = current_device_id()
    out = kwargs.get("out")
    if isinstance(out, tuple):
        out = kwargs["out"] = out[0] if len(out) == 1 else out
    kwargs = {key: unwrap(value, device) for key, value in kwargs.items()}
    result = numpy_function(*unwrap(args, device), **kwargs)
    return out if isinstance(out, ndarray) else wrap(result, device)


class ufunc:
    """A CuPy ufunc over the NumPy one: ``__call__``, ``at``, ``reduce``, ``nin``, ``nout``."""

    def __init__(self, numpy_ufunc):
        self._ufunc = numpy_ufunc
        self.__name__ = "cupy_" + numpy_ufunc.__name__
        self.nin, self.nout, self.nargs = numpy_ufunc.nin, numpy_ufunc.nout, numpy_ufunc.nargs

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"

    def __call__(self, *args, **kwargs):
        return run(self._ufunc, *args, **kwargs)

    def at(self, a, indices, b=None):
        """In place: a[indices] (op)= b, unbuffered (repeated indices all count)."""
        device = current_device_id()
        args = (unwrap(a, device), unwrap(indices, device))
        self._ufunc.at(*args, *(() if b is None else (unwrap(b, device),)))

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        return run(self._ufunc.reduce, array, axis=axis, dtype=dtype, out=out, keepdims=keepdims)


# the NumPy ufuncs that CuPy also has, by name
UFUNC_NAMES = """
    add subtract multiply divide true_divide floor_divide power remainder negative positive absolute
    abs sign exp expm1 log log1p log2 log10 sqrt square reciprocal tanh sinh cosh sin cos tan arctan
    arctan2 floor ceil rint maximum minimum fmax fmin isnan isinf isfinite greater greater_equal
    less less_equal equal not_equal logical_and logical_or logical_not logical_xor bitwise_and
    bitwise_or bitwise_xor invert left_shift right_shift signbit copysign hypot
""".split()
UFUNCS = {name: ufunc(getattr(np, name)) for name in UFUNC_NAMES}
_BY_NUMPY_NAME = {u._ufunc.__name__: u for u in UFUNCS.values()}


def _binary(name, reflected=False):
    def method(self, other):
        return UFUNCS[name](other, self) if reflected else UFUNCS[name](self, other)

    return method


def _inplace(name):
    def method(self, other):
        UFUNCS[name](self, other, out=self)
        return self

    return method


def _unary(name):
    return lambda self: UFUNCS[name](self)


def _reduction(name):
    def method(self, axis=None, dtype=None, out=None, keepdims=False):
        return run(getattr(np, name), self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    method.__name__ = name
    return method


def _extremum(name):
    def method(self, axis=None, out=None, keepdims=False):
        return run(getattr(np, name), self, axis=axis, out=out, keepdims=keepdims)

    method.__name__ = name
    return method


def _arg_extremum(name):
    def method(self, axis=None, out=None, dtype=None, keepdims=False):
        result = run(getattr(np, name), self, axis=axis, out=out, keepdims=keepdims)
        return result if dtype is None else result.astype(dtype, copy=False)

    method.__name__ = name
    return method


def _is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (ndarray, np.ndarray, list)) for i in items)


class ndarray:
    """``ndarray(shape, dtype=float, memptr=None, strides=None, order='C')`` on the current
    emulated GPU (memptr and strides are not emulated)."""

    __slots__ = ("__weakref__", "_array", "_device_id")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("the emulated ndarray takes no memptr or strides")
        self._array = np.empty(shape, dtype, order=order)
        self._device_id = current_device_id()

    @classmethod
    def _wrap(cls, array, device_id):
        self = cls.__new__(cls)
        self._array, self._device_id = array, device_id
        return self

    def _view(self, array):
        return ndarray._wrap(array, self._device_id)

    # ---- what CuPy refuses, and the way out
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly."
        )

    def __array_ufunc__(self, numpy_ufunc, method, *inputs, **kwargs):
        mine = _BY_NUMPY_NAME.get(numpy_ufunc.__name__)
        if mine is None or method not in ("__call__", "at", "reduce"):
            return NotImplemented
        return getattr(mine, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        module = sys.modules[__package__]  # the stand-in's functions, by NumPy's name
        mine = getattr(module, func.__name__, None) if func.__module__ == "numpy" else None
        if mine is None or not callable(mine):
            return NotImplemented
        return mine(*args, **kwargs)

    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy (from any device), or a copy into ``out``."""
        if out is not None:
            np.copyto(out, self._array)
            return out
        return np.array(self._array, order=order, copy=True)

    def set(self, arr, stream=None):
        """Copy the NumPy array ``arr`` (same shape and dtype) into this array."""
        if not isinstance(arr, np.ndarray) or arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError("set: expected a numpy.ndarray of the same shape and dtype")
        self._array[...] = arr

    # ---- attributes
    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    itemsize = property(lambda self: self._array.itemsize)
    nbytes = property(lambda self: self._array.nbytes)
    strides = property(lambda self: self._array.strides)
    flags = property(lambda self: self._array.flags)
    T = property(lambda self: self._view(self._array.T))
    base = property(lambda self: None if self._array.base is None else self)

    @property
    def device(self):
        return Device(self._device_id)

    @property
    def __cuda_array_interface__(self):
        contiguous = self._array.flags.c_contiguous
        return {
            "shape": self.shape,
            "typestr": self.dtype.str,
            "descr": self.dtype.descr,
            "data": (self._array.__array_interface__["data"][0], False),
            "version": 3,
            "strides": None if contiguous else self.strides,
        }

    # ---- views: no kernel, so no device check
    def reshape(self, *shape, order="C", copy=None):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return self._view(self._array.reshape(shape, order=order, copy=copy))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return self._view(self._array.transpose(*axes))

    def swapaxes(self, axis1, axis2):
        return self._view(self._array.swapaxes(axis1, axis2))

    def squeeze(self, axis=None):
        return self._view(self._array.squeeze(axis))

    def view(self, dtype=None, type=None):
        return self._view(self._array.view() if dtype is None else self._array.view(dtype))

    def ravel(self, order="C"):
        return run(np.ravel, self, order=order)

    def __getitem__(self, index):
        if _is_advanced(index):  # a gather kernel, on the current device
            device = current_device_id()
            return wrap(unwrap(self, device)[unwrap(index, device, allow_numpy=True)], device)
        return self._view(np.asarray(self._array[unwrap(index, self._device_id)]))

    def __setitem__(self, index, value):
        device = current_device_id()
        unwrap(self, device)
        self._array[unwrap(index, device, True)] = unwrap(value, device, allow_numpy=True)

    # ---- kernels: on the current device
    def copy(self, order="C"):
        """A copy on the current device (CuPy copies across devices here)."""
        return wrap(np.array(self._array, order=order, copy=True))

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        return run(lambda a: a.astype(dtype, order=order, casting=casting or "unsafe"), self)

    def flatten(self, order="C"):
        return run(lambda a: a.flatten(order), self)

    def fill(self, value):
        unwrap(self)[...] = value

    def item(self):
        return self._array.item()

    def tolist(self):
        return self._array.tolist()

    def clip(self, min=None, max=None, out=None):
        return run(np.clip, self, min, max, out=out)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return run(np.var, self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return run(np.std, self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return run(np.cumsum, self, axis=axis, dtype=dtype, out=out)

    def repeat(self, repeats, axis=None):
        return run(np.repeat, self, repeats, axis=axis)

    def take(self, indices, axis=None, out=None):
        return run(np.take, self, indices, axis=axis, out=out)

    def dot(self, b, out=None):
        return run(np.dot, self, b, out=out)

    def nonzero(self):
        return run(np.nonzero, self)

    sum, mean = _reduction("sum"), _reduction("mean")

    def prod(self, axis=None, dtype=None, out=None, keepdims=None):
        return run(np.prod, self, axis=axis, dtype=dtype, out=out, keepdims=bool(keepdims))

    max, min, all, any = _extremum("max"), _extremum("min"), _extremum("all"), _extremum("any")
    argmax, argmin = _arg_extremum("argmax"), _arg_extremum("argmin")

    # ---- Python protocol
    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"array({np.array2string(self._array, separator=', ')}, device={self._device_id})"

    def __str__(self):
        return str(self._array)

    def __bool__(self):
        return bool(self._array)

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __complex__(self):
        return complex(self._array)

    def __index__(self):
        return self._array.__index__()

    __hash__ = None

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

    __neg__, __pos__, __abs__ = _unary("negative"), _unary("positive"), _unary("absolute")
    __invert__ = _unary("invert")


_OPERATORS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "true_divide",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "pow": "power",
    "and": "bitwise_and",
    "or": "bitwise_or",
    "xor": "bitwise_xor",
    "lshift": "left_shift",
    "rshift": "right_shift",
}
for _op, _name in _OPERATORS.items():
    setattr(ndarray, f"__{_op}__", _binary(_name))
    setattr(ndarray, f"__r{_op}__", _binary(_name, reflected=True))
    setattr(ndarray, f"__i{_op}__", _inplace(_name))
for _op, _name in (
    ("lt", "less"),
    ("le", "less_equal"),
    ("gt", "greater"),
    ("ge", "greater_equal"),
    ("eq", "equal"),
    ("ne", "not_equal"),
):
    setattr(ndarray, f"__{_op}__", _binary(_name))


def _matmul(a, b):
    return run(np.matmul, a, b)
