"""The ``torch.*`` functions at scratchgan's top level: mirrors of Tensor methods and factories.

``sg.mean(x, dim=1)`` is ``x.mean(dim=1)``, and so on for every name in ``MIRRORED``; the
factories follow ``torch``'s signatures (``arange``, ``linspace``, ``eye``, ``full_like``,
``from_numpy``, ``as_tensor`` ...). Floating-point factories default to float32, as in torch.
"""

import builtins
import math

import numpy as np

from .autograd import no_grad
from .backend import array_module, default_device, device_of, parse_device, parse_dtype, to_device
from .ops import shape as _shape
from .tensor import DEFAULT_DTYPE, Tensor, rand, randn
from .tensor import as_tensor as _as_tensor_like
from .tensor import tensor as _tensor

MIRRORED = (
    "sum mean var std max min amax amin argmax argmin norm exp log sqrt rsqrt abs neg square "
    "tanh sigmoid relu clamp clamp_min clamp_max clip pow softmax log_softmax flatten reshape "
    "transpose permute squeeze unsqueeze t mm bmm chunk split unbind select clone numel round"
).split()


def _mirror(name):
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(*args, **kwargs)``: see ``Tensor.{name}``."
    return function


for _name in MIRRORED:
    globals()[_name] = _mirror(_name)


def _axis(name, dim, axis):
    if axis is not None and dim != 0:
        raise TypeError(f"{name}: got both dim={dim!r} and axis={axis!r}; pass one")
    return dim if axis is None else axis


def cat(tensors, dim=0, *, axis=None):
    """Concatenate along ``dim`` (``axis`` accepted too)."""
    return _shape.concat(tensors, _axis("cat", dim, axis))


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    """Stack along a new dimension ``dim``."""
    return _shape.stack(tensors, _axis("stack", dim, axis))


def is_tensor(obj):
    return isinstance(obj, Tensor)


class inference_mode(no_grad):
    """``torch.inference_mode``: here the same as ``no_grad`` (no graph is recorded)."""

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        if self.mode:
            super().__enter__()

    def __exit__(self, *exc):
        if self.mode:
            return super().__exit__(*exc)
        return False


class accelerator:
    """``torch.accelerator``: CUDA when CuPy sees a GPU (scratchgan's only accelerator)."""

    @staticmethod
    def is_available():
        from .backend import is_available

        return is_available()

    @staticmethod
    def current_accelerator():
        return parse_device("cuda") if accelerator.is_available() else None

    @staticmethod
    def device_count():
        from .backend import is_available

        return array_module("cuda").cuda.runtime.getDeviceCount() if is_available() else 0


# ----- factories
def _place(array, device, requires_grad):
    target = parse_device(device) if device is not None else default_device()
    return Tensor._make(to_device(array, target), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values start, start + step, ... below ``end``; int64 if all bounds are ints, else float32."""
    if end is None:
        start, end = 0, start
    dtype = parse_dtype(dtype)
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.dtype(np.int64) if integral else DEFAULT_DTYPE
    n = builtins.max(math.ceil((end - start) / step), 0)
    array = (
        (start + np.arange(n, dtype=np.float64) * step)
        if dtype.kind == "f"
        else np.arange(start, end, step)
    )
    return _place(array.astype(dtype), device, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, computed as torch does: the first half
    as start + i step, the second half as end - (steps - 1 - i) step (so both ends are exact)."""
    dtype = parse_dtype(dtype) or DEFAULT_DTYPE
    i = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    array = np.where(i < steps / 2, start + step * i, end - step * (steps - 1 - i))
    return _place(array.astype(dtype), device, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _place(np.eye(n, m, dtype=parse_dtype(dtype) or DEFAULT_DTYPE), device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False):
    """A new tensor of ``shape``; scratchgan fills it with zeros (torch leaves it uninitialised)."""
    from .tensor import zeros

    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def _like(x, dtype, device):
    dtype = parse_dtype(dtype) or x.dtype
    device = parse_device(device) if device is not None else x.device
    return dtype, device


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return Tensor._make(
        array_module(device).full(input.shape, fill_value, dtype=dtype), requires_grad
    )


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return full_like(input, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return full_like(input, 1, dtype=dtype, device=device, requires_grad=requires_grad)


empty_like = zeros_like


def randn_like(input, *, dtype=None, device=None, generator=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return randn(
        input.shape, dtype=dtype, device=device, generator=generator, requires_grad=requires_grad
    )


def rand_like(input, *, dtype=None, device=None, generator=None, requires_grad=False):
    dtype, device = _like(input, dtype, device)
    return rand(
        input.shape, dtype=dtype, device=device, generator=generator, requires_grad=requires_grad
    )


def from_numpy(array):
    """A tensor that shares ``array``'s memory (and keeps its dtype, float64 included)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't convert an array of dtype {array.dtype}")
    return Tensor._make(array)


def as_tensor(data, dtype=None, device=None):
    """``torch.as_tensor``: ``data`` as a Tensor, sharing memory when it already has the dtype and
    device asked for. (The older ``as_tensor(value, like_tensor)`` form still works.)"""
    if isinstance(dtype, Tensor):
        return _as_tensor_like(data, dtype)
    dtype = parse_dtype(dtype)
    if isinstance(data, Tensor):
        out = data if dtype is None else data.to(dtype)
        return out if device is None else out.to(device)
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        same_dtype = dtype is None or data.dtype == dtype
        same_device = device is None or device_of(data) == parse_device(device)
        if same_dtype and same_device and data.dtype.kind in "biuf":
            return Tensor._make(data)
    return _tensor(data, dtype=dtype, device=device)


# ----- legacy constructors (torch.FloatTensor & co.) and Variable, still common in copied GAN code
class _LegacyTensorType(type):
    """``isinstance(x, sg.FloatTensor)`` is true for CPU tensors of that dtype, as in torch."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"


def _legacy_new(cls, *args):
    """``FloatTensor(2, 3)``: a zero tensor of that shape (torch leaves it uninitialised);
    ``FloatTensor(data)``: ``data`` (a list, array or Tensor) converted to the type's dtype."""
    if all(isinstance(a, (int, np.integer)) for a in args) or (
        len(args) == 1 and isinstance(args[0], tuple)
    ):
        from .tensor import zeros

        return zeros(*args, dtype=cls.dtype, device="cpu")
    if len(args) != 1:
        raise TypeError(f"{cls.__name__}: expected sizes or one array-like, got {args!r}")
    return _tensor(args[0], dtype=cls.dtype, device="cpu")


def _legacy_type(name, dtype):
    return _LegacyTensorType(
        name,
        (),
        {
            "dtype": np.dtype(dtype),
            "__new__": _legacy_new,
            "__doc__": f"torch.{name}: sizes or data -> a {np.dtype(dtype)} tensor",
        },
    )


FloatTensor = _legacy_type("FloatTensor", np.float32)
DoubleTensor = _legacy_type("DoubleTensor", np.float64)
LongTensor = _legacy_type("LongTensor", np.int64)
ByteTensor = _legacy_type("ByteTensor", np.uint8)


def Variable(data, requires_grad=False, volatile=False):
    """``torch.autograd.Variable``: a leaf tensor sharing ``data``'s array (cut from any graph)."""
    data = data if isinstance(data, Tensor) else _tensor(data)
    return Tensor._make(data.array, requires_grad=requires_grad)


__all__ = (
    MIRRORED
    + (
        "FloatTensor DoubleTensor LongTensor ByteTensor Variable cat concat concatenate stack "
        "is_tensor inference_mode accelerator arange linspace eye empty empty_like full_like "
        "zeros_like ones_like randn_like rand_like from_numpy as_tensor"
    ).split()
)
