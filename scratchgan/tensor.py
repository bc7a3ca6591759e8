"""Tensor: an array (NumPy or CuPy) plus what autograd needs to know about it.

A Tensor made by an op remembers that op as ``grad_fn``; a leaf made by the user has
``grad_fn=None`` and, if ``requires_grad``, receives ``.grad`` from ``backward``.
All arithmetic goes through ``Function`` subclasses in ``scratchgan.ops``.
"""

import numpy as np

from . import autograd
from .backend import (
    Device,
    array_module,
    device_of,
    parse_device,
    parse_dtype,
)
from .tensor_inplace import InplaceMethods
from .tensor_methods import TensorMethods
from .versions import VersionCounter

DEFAULT_DTYPE = np.dtype(np.float32)


class Tensor(TensorMethods, InplaceMethods):
    """The core; PyTorch-compatible compositions (reductions with dim=, repeat, norm, ...) are
    inherited from ``TensorMethods`` in tensor_methods.py, the in-place methods (``add_``,
    ``x[i] = v`` ...) from ``InplaceMethods`` in tensor_inplace.py."""

    # _version_counter: the in-place version counter, shared with .data, detach() and views (made on
    # first use); _hooks: gradient hooks of a leaf (register_hook), None when there are none
    __slots__ = (
        "_data",
        "grad",
        "requires_grad",
        "grad_fn",
        "_version_counter",
        "_hooks",
        "__weakref__",
    )
    __array_priority__ = 1000  # numpy scalars/arrays on the left defer to our operators

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        t = tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)
        self._data, self.grad, self.requires_grad, self.grad_fn = (
            t._data,
            None,
            t.requires_grad,
            None,
        )
        self._version_counter = self._hooks = None

    @classmethod
    def _make(cls, data, requires_grad=False):
        if isinstance(data, np.generic):  # NumPy on 0-d arrays returns scalars (e.g. sign, x > 0)
            data = np.asarray(data)
        t = object.__new__(cls)
        t._data, t.grad, t.requires_grad, t.grad_fn = data, None, requires_grad, None
        t._version_counter = t._hooks = None
        return t

    def _counter(self):
        """The version counter (made on first use): in-place ops bump it, nodes record it."""
        if self._version_counter is None:
            self._version_counter = VersionCounter()
        return self._version_counter

    @property
    def _version(self):
        """How many in-place changes this tensor's array has seen (PyTorch's ``t._version``)."""
        return 0 if self._version_counter is None else self._version_counter.value

    # ----- the array and facts about it
    @property
    def array(self):
        """The NumPy or CuPy ndarray itself (Chainer's name); what ops work on."""
        return self._data

    @property
    def data(self):
        """A Tensor sharing this array (and its version counter) that records no graph, as in
        PyTorch: ``p.data.clamp_(-c, c)`` or ``p.data[...] = 0`` change ``p`` itself."""
        alias = Tensor._make(self._data)
        alias._version_counter = self._counter()
        return alias

    @data.setter
    def data(self, value):
        """``t.data = x`` (a Tensor or a NumPy/CuPy ndarray) makes ``t`` hold x's array; shape and
        dtype may change, as in PyTorch, the device may not."""
        array = value._data if isinstance(value, Tensor) else value
        if not _is_array(array):
            raise TypeError(
                f"data: expected a Tensor or a numpy or cupy ndarray, got {type(value).__name__}"
            )
        if device_of(array) != self.device:
            raise RuntimeError(
                f"data: cannot assign an array on {device_of(array)} to a tensor on "
                f"{self.device}; move it with .to(device) first"
            )
        if self.requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"data: a tensor that requires grad needs floating-point data, got {array.dtype}"
            )
        self._data = array

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the array itself on the CPU (a CUDA tensor raises, as in torch)."""
        if not isinstance(self._data, np.ndarray):
            raise TypeError(
                f"can't convert a {self.device} tensor to numpy; use .cpu() or "
                ".numpy() (a host copy) first"
            )
        array = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return array.copy() if copy else array

    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def device(self):
        return device_of(self._data)

    @property
    def xp(self):
        return array_module(self._data)

    @property
    def T(self):
        return self.transpose()

    @property
    def is_leaf(self):
        return self.grad_fn is None

    def numel(self):
        return int(self._data.size)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        grad = (
            f", grad_fn={self.grad_fn!r}"
            if self.grad_fn is not None
            else (", requires_grad=True" if self.requires_grad else "")
        )
        dev = "" if self.device == "cpu" else f", device='{self.device}'"
        values = np.array2string(self.numpy(), separator=", ", precision=4, prefix="tensor(")
        return f"tensor({values}, dtype={self.dtype}{dev}{grad})"

    # ----- conversion
    def numpy(self):
        """A host (NumPy) copy of the values."""
        return self._data if isinstance(self._data, np.ndarray) else self._data.get()

    def item(self):
        if self.numel() != 1:
            raise ValueError(
                "item: only one-element tensors can be converted to a number, got shape "
                f"{self.shape}"
            )
        return self._data.reshape(-1)[0].item()

    def tolist(self):
        return self.numpy().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def detach(self):
        """The same values (the same array and version counter), cut from the graph."""
        out = Tensor._make(self._data, requires_grad=False)
        out._version_counter = self._counter()
        return out

    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can stop requiring grad; use .detach()"
            )
        self.requires_grad = requires_grad
        return self

    def to(self, target):
        """``to(device)`` or ``to(dtype)``; differentiable in both cases."""
        from .ops.shape import astype, copy_to

        if isinstance(target, Device) or (
            isinstance(target, str) and target.split(":")[0] in ("cpu", "cuda")
        ):
            return copy_to(self, parse_device(target))
        return astype(self, parse_dtype(target))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    # ----- autograd
    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this tensor (shape {self.shape}) does not require grad and has no graph"
            )
        gy = autograd._check_grad_output(self, gradient, "backward: gradient")
        autograd.run_backward(
            [self], [gy], create_graph=create_graph, retain_graph=retain_graph or create_graph
        )

    # ----- arithmetic (broadcasting like NumPy; dtypes must agree)
    def __add__(self, other):
        return _ops().arithmetic.add(self, other)

    def __radd__(self, other):
        return _ops().arithmetic.add(other, self)

    def __sub__(self, other):
        return _ops().arithmetic.sub(self, other)

    def __rsub__(self, other):
        return _ops().arithmetic.sub(other, self)

    def __mul__(self, other):
        return _ops().arithmetic.mul(self, other)

    def __rmul__(self, other):
        return _ops().arithmetic.mul(other, self)

    def __truediv__(self, other):
        return _ops().arithmetic.div(self, other)

    def __rtruediv__(self, other):
        return _ops().arithmetic.div(other, self)

    def __pow__(self, other):
        return _ops().arithmetic.pow(self, other)

    def __rpow__(self, other):
        return _ops().arithmetic.pow(other, self)

    def __neg__(self):
        return _ops().arithmetic.neg(self)

    def __matmul__(self, other):
        return _ops().matmul.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul.matmul(other, self)

    # ----- comparison (not differentiable; bool tensors)
    def _compare(self, other, op):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._make(op(self._data, other))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    __hash__ = object.__hash__

    # ----- indexing
    def __getitem__(self, index):
        return _ops().shape.getitem(self, index)

    # ----- shape
    def reshape(self, *shape):
        return _ops().shape.reshape(self, _shape_args(shape))

    view = reshape

    def transpose(self, *axes):
        """``transpose()`` reverses the axes; ``transpose(i, j)`` swaps two, as in PyTorch."""
        if len(axes) == 2:
            perm = list(range(self.ndim))
            i, j = (a % self.ndim for a in axes)
            perm[i], perm[j] = perm[j], perm[i]
            return _ops().shape.permute(self, tuple(perm))
        if axes:
            raise ValueError(f"transpose: expected no axes or two axes to swap, got {axes}")
        return _ops().shape.permute(self, tuple(reversed(range(self.ndim))))

    def permute(self, *axes):
        return _ops().shape.permute(self, _shape_args(axes))

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops().shape.flatten(self, start_dim, end_dim)

    # ----- elementwise math
    def exp(self):
        return _ops().elementwise.exp(self)

    def log(self):
        return _ops().elementwise.log(self)

    def sqrt(self):
        return _ops().elementwise.sqrt(self)

    def abs(self):
        return _ops().elementwise.abs(self)

    def clip(self, min=None, max=None):
        return _ops().elementwise.clip(self, min, max)

    clamp = clip

    def sigmoid(self):
        return _ops().activation.sigmoid(self)

    def tanh(self):
        return _ops().activation.tanh(self)

    def relu(self):
        return _ops().activation.relu(self)


def _is_array(value):
    """Whether ``value`` is a NumPy or CuPy ndarray (the array modules a Tensor can hold)."""
    if isinstance(value, np.ndarray):
        return True
    return hasattr(value, "__cuda_array_interface__") and array_module(value) is not np


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


_OPS = None


def _ops():
    # Imported on first use: the ops import Tensor from this module.
    global _OPS
    if _OPS is None:
        from . import ops

        _OPS = ops
    return _OPS


# the factories live in factories.py; ``from scratchgan.tensor import zeros`` keeps working
from .factories import (  # noqa: E402, F401
    as_tensor,
    full,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
