"""PyTorch's Tensor methods that are compositions of scratchgan's ops; ``Tensor`` inherits them.

Reductions accept both spellings, ``dim``/``keepdim`` (PyTorch) and ``axis``/``keepdims``
(NumPy). Nothing here is a new op: each method calls the ops in ``scratchgan.ops``.
What PyTorch has and scratchgan does not is listed in scratchgan/unsupported.py and named in
the error that ``Tensor.__getattr__`` raises, with the nearest scratchgan equivalent.
"""

import builtins
import math
from collections import namedtuple

import numpy as np

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _ops():
    from . import ops

    return ops


def resolve_axis(name, axis, dim, keepdims=False, keepdim=None):
    """Merge the NumPy (axis, keepdims) and PyTorch (dim, keepdim) spellings into one pair."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{name}: got both axis={axis!r} and dim={dim!r}; pass one")
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keepdims if keepdim is None else keepdim)


class TensorMethods:
    """Mixin of PyTorch-compatible methods; every one is built from ops and other methods."""

    __slots__ = ()

    # ----- reductions
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = resolve_axis("sum", axis, dim, keepdims, keepdim)
        return _ops().reduction.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = resolve_axis("mean", axis, dim, keepdims, keepdim)
        return _ops().reduction.mean(self, axis, keepdims)

    def var(
        self, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None, unbiased=None
    ):
        """Variance; ``unbiased=False`` (PyTorch's older spelling) is ``correction=0``."""
        axis, keepdims = resolve_axis("var", axis, dim, keepdims, keepdim)
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return _ops().reduction.var(self, axis, keepdims, correction)

    def std(
        self, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None, unbiased=None
    ):
        return self.var(
            axis, keepdims, correction, dim=dim, keepdim=keepdim, unbiased=unbiased
        ).sqrt()

    def _extreme(self, mode, axis, keepdims, dim, keepdim):
        if isinstance(axis, TensorMethods):  # torch.max(a, b): elementwise
            return getattr(_ops().elementwise, "maximum" if mode == "max" else "minimum")(
                self, axis
            )
        by_dim = dim is not None
        axis, keepdims = resolve_axis(mode, axis, dim, keepdims, keepdim)
        values = getattr(_ops().reduction, mode)(self, axis, keepdims)
        if not by_dim:
            return values
        # x.max(dim=d) gives (values, indices) as in PyTorch; x.max(d) keeps scratchgan's values.
        arg = self.argmax if mode == "max" else self.argmin
        return ValuesIndices(values, arg(dim=axis, keepdim=keepdims))

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Largest value(s). ``max(dim=d)`` returns (values, indices) like PyTorch; ``max(d)`` and
        ``max(axis=d)`` return the values only (scratchgan's original meaning); ``max(other)`` is
        the elementwise maximum."""
        return self._extreme("max", axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest value(s); ``min(dim=d)`` returns (values, indices), as ``max`` does."""
        return self._extreme("min", axis, keepdims, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return _ops().reduction.max(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return _ops().reduction.min(self, dim, keepdim)

    def _arg_extreme(self, name, axis, dim, keepdim):
        axis, keepdim = resolve_axis(name, axis, dim, False, keepdim)
        found = getattr(self.xp, name)(self._data, axis=axis, keepdims=keepdim)
        return type(self)._make(self.xp.asarray(found, dtype=np.int64))

    def argmax(self, axis=None, *, dim=None, keepdim=False):
        return self._arg_extreme("argmax", axis, dim, keepdim)

    def argmin(self, axis=None, *, dim=None, keepdim=False):
        return self._arg_extreme("argmin", axis, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim=False):
        """Vector p-norm over ``dim`` (all elements if None): (sum |x|^p)^(1/p); p = 'fro' is 2,
        p = inf the largest |x|. The 2-norm's gradient x / ||x|| is 0 where ||x|| = 0 (as in
        PyTorch)."""
        ops = _ops()
        if p == "fro":
            p = 2
        if p == 2:
            squares = (self * self).sum(dim=dim, keepdim=keepdim)
            zero = squares.array == 0
            if not zero.any():
                return squares.sqrt()
            # sqrt's gradient is infinite at 0: take it of 1 there and select 0 instead
            safe = ops.elementwise.where(zero, 1.0, squares)
            return ops.elementwise.where(zero, 0.0, safe.sqrt())
        if p == 1:
            return self.abs().sum(dim=dim, keepdim=keepdim)
        if p == math.inf:
            return self.abs().amax(dim, keepdim)
        return (self.abs() ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)

    # ----- shape
    def dim(self):
        return self.ndim

    ndimension = dim

    def nelement(self):
        return self.numel()

    def view_as(self, other):
        return self.reshape(other.shape)

    reshape_as = view_as

    def expand(self, *shape):
        """Broadcast to ``shape``; -1 keeps that dimension's size (PyTorch's convention)."""
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        lead = len(shape) - self.ndim
        sizes = tuple(
            self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape)
        )
        return _ops().arithmetic.broadcast_to(self, sizes)

    def expand_as(self, other):
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """Tile: dimension i is repeated sizes[i] times (leading sizes add new dimensions)."""
        sizes = (
            tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        )
        if len(sizes) < self.ndim:
            raise ValueError(
                f"repeat: got {len(sizes)} sizes for a tensor with {self.ndim} dimensions"
            )
        shape = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
        # (s0, s1, ..) -> (1, s0, 1, s1, ..) -> broadcast (r0, s0, r1, s1, ..) -> (r0 s0, r1 s1, ..)
        interleaved = tuple(n for s in shape for n in (1, s))
        tiled = tuple(n for r, s in zip(sizes, shape) for n in (r, s))
        x = self.reshape(interleaved).expand(tiled)
        return x.reshape(tuple(r * s for r, s in zip(sizes, shape)))

    def squeeze(self, axis=None, *, dim=None):
        axis, _ = resolve_axis("squeeze", axis, dim)
        return _ops().shape.squeeze(self, axis)

    def unsqueeze(self, axis=None, *, dim=None):
        axis, _ = resolve_axis("unsqueeze", axis, dim)
        return _ops().shape.unsqueeze(self, axis)

    def t(self):
        """Transpose of a matrix (0-D and 1-D tensors are returned as they are)."""
        if self.ndim > 2:
            raise ValueError(
                f"t: expects a tensor with <= 2 dimensions, got shape {self.shape}; use "
                "transpose(i, j)"
            )
        return self.transpose() if self.ndim == 2 else self

    def contiguous(self):
        """The same tensor: scratchgan's ops take arrays of any layout."""
        return self

    def clone(self):
        """A copy that stays in the graph (gradient flows back to ``self``)."""
        return _ops_hooks().clone(self)

    def chunk(self, chunks, dim=0):
        """``chunks`` pieces of ceil(n / chunks) along ``dim`` (the last may be smaller)."""
        n = self.shape[dim]
        size = -(-n // chunks) if n else 1
        return self.split(size, dim)

    def split(self, split_size_or_sections, dim=0):
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of given sizes."""
        dim = dim % self.ndim
        n = self.shape[dim]
        if isinstance(split_size_or_sections, int):
            size = split_size_or_sections
            bounds = [(start, builtins.min(start + size, n)) for start in range(0, n, size)] or [
                (0, 0)
            ]
        else:
            sections = list(split_size_or_sections)
            if builtins.sum(sections) != n:
                raise ValueError(
                    f"split: sizes {sections} do not add up to {n} (dimension {dim} of "
                    f"{self.shape})"
                )
            ends = np.cumsum(sections).tolist()
            bounds = list(zip([0] + ends[:-1], ends))
        lead = (slice(None),) * dim
        return tuple(self[lead + (slice(a, b),)] for a, b in bounds)

    def unbind(self, dim=0):
        return tuple(self.select(dim, i) for i in range(self.shape[dim]))

    def select(self, dim, index):
        return self[(slice(None),) * (dim % self.ndim) + (index,)]

    # ----- math
    def pow(self, exponent):
        return self**exponent

    def square(self):
        return self * self

    def add(self, other, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def neg(self):
        return -self

    def rsqrt(self):
        return 1 / self.sqrt()

    def reciprocal(self):
        return 1 / self

    def matmul(self, other):
        return _ops().matmul.matmul(self, other)

    def mm(self, other):
        """Matrix product of two 2-D tensors."""
        if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise ValueError(
                f"mm: expects two 2-D tensors, got shapes {self.shape} and "
                f"{getattr(other, 'shape', None)}"
            )
        return self.matmul(other)

    def bmm(self, other):
        """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p)."""
        if self.ndim != 3 or getattr(other, "ndim", 0) != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(
                f"bmm: expects (b, n, m) and (b, m, p), got {self.shape} and "
                f"{getattr(other, 'shape', None)}"
            )
        return self.matmul(other)

    def softmax(self, dim):
        return _ops().activation.softmax(self, dim)

    def log_softmax(self, dim):
        return _ops().activation.log_softmax(self, dim)

    def leaky_relu(self, negative_slope=0.01):
        return _ops().activation.leaky_relu(self, negative_slope)

    def clamp(self, min=None, max=None):
        return _ops().elementwise.clip(self, min, max)

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def maximum(self, other):
        return _ops().elementwise.maximum(self, other)

    def minimum(self, other):
        return _ops().elementwise.minimum(self, other)

    # ----- dtypes and devices
    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return type(self)._make(self._data.astype(np.bool_))

    def type(self, dtype=None):
        """``type()``: the legacy type name ('torch.FloatTensor' ...); ``type(t)``: converted to
        ``t``, a dtype
        or a legacy type such as ``sg.FloatTensor``."""
        names = {
            "float32": "FloatTensor",
            "float64": "DoubleTensor",
            "int64": "LongTensor",
            "uint8": "ByteTensor",
        }
        if dtype is None:
            return f"torch.{names.get(str(self.dtype), str(self.dtype))}"
        return self.to(getattr(dtype, "dtype", dtype))

    def type_as(self, other):
        return self.to(other.dtype)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    is_xpu = is_mps = property(lambda self: False, doc="False: scratchgan runs on CPU or CUDA")

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def element_size(self):
        return self.dtype.itemsize

    def register_hook(self, hook):
        """``hook(grad)`` runs when backward computes this tensor's gradient (returns a handle)."""
        return _ops_hooks().register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(self)`` runs once a backward has finished accumulating into this leaf's
        ``.grad`` (returns a handle with ``remove()``), as in PyTorch."""
        from . import grad_hooks

        return grad_hooks.register_post_accumulate_grad_hook(self, hook)

    # ----- Python protocols
    def __abs__(self):
        return self.abs()

    def __round__(self, ndigits=None):
        """Rounded values (half to even, as PyTorch), outside the graph."""
        return type(self)._make(self.xp.round(self._data, ndigits or 0))

    def round(self, decimals=0):
        return self.__round__(decimals)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __format__(self, spec):
        if self.numel() == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __getattr__(self, name):
        # Only reached when ordinary lookup fails.
        from .unsupported import TENSOR_METHODS

        if name in TENSOR_METHODS:
            raise AttributeError(
                f"Tensor.{name} (PyTorch) is not supported by scratchgan: {TENSOR_METHODS[name]}"
            )
        raise AttributeError(
            f"'Tensor' object has no attribute {name!r} (see docs/PYTORCH.md for what maps to "
            "PyTorch)"
        )


def _ops_hooks():
    from .ops import hooks

    return hooks
