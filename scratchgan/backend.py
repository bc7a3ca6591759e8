"""Devices and array modules: the one place that decides between NumPy and CuPy.

It also says whether CUDA is usable (``is_available``, ``require_cuda``; scratchgan.cuda
re-exports both) and which CuPy answers (``cupy_module``): the real one, or, inside
``scratchgan.cuda.emulate_device()`` or with ``SCRATCHGAN_EMULATE_CUDA=1``, the emulated stand-in
scratchgan/cuda/emulated_cupy (two emulated GPUs whose kernels run on the CPU), which it imports
by name on first use; at import time it imports nothing from the package.

A tensor's device follows from its array: a ``numpy.ndarray`` lives on ``'cpu'``, a
``cupy.ndarray`` on ``'cuda:N'``. Ops are written once against ``xp`` (the array module of
their inputs), so the only question anyone asks is ``array_module(array)``.
"""

import contextlib
import importlib
import os

import numpy as np

_EMULATED_CUPY = "scratchgan.cuda.emulated_cupy"
_emulation = {"depth": 0}  # how many emulate_device() blocks are open

_DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "uint8": np.uint8,
    "bool": np.bool_,
}


class Device:
    """A device: ``Device('cpu')`` or ``Device('cuda', index)``. Compares equal to its string."""

    __slots__ = ("index", "type")

    def __init__(self, type, index=None):
        self.type = type
        self.index = index

    def __str__(self):
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self):
        return f"device('{self}')"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = parse_device(other, check=False)
            except ValueError:
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = Device("cpu")


def parse_device(spec, check=True):
    """'cpu' | 'cuda' | 'cuda:N' | Device -> Device. With ``check``, a CUDA device must exist."""
    if isinstance(spec, Device):
        device = spec
    elif isinstance(spec, str):
        name, _, index = spec.strip().partition(":")
        if name == "cpu" and not index:
            device = CPU
        elif name == "cuda" and (not index or index.isdigit()):
            device = Device("cuda", int(index) if index else 0)
        else:
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
    else:
        raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {spec!r}")
    if check and device.type == "cuda":
        require_cuda(device.index)
    return device


def emulating_device():
    """True inside ``cuda.emulate_device()`` or when $SCRATCHGAN_EMULATE_CUDA is 1."""
    return _emulation["depth"] > 0 or os.environ.get("SCRATCHGAN_EMULATE_CUDA") == "1"


@contextlib.contextmanager
def emulated_cupy():
    """Let ``cupy_module`` answer with the emulated stand-in inside this block (nestable)."""
    _emulation["depth"] += 1
    try:
        yield importlib.import_module(_EMULATED_CUPY)
    finally:
        _emulation["depth"] -= 1


def cupy_module():
    """The CuPy module: the emulated stand-in while ``emulating_device()``, else ``import cupy``
    (ImportError when CuPy is not installed)."""
    if emulating_device():
        return importlib.import_module(_EMULATED_CUPY)
    import cupy

    return cupy


def is_available():
    """True when CuPy imports and sees at least one GPU."""
    try:
        cupy = cupy_module()
    except ImportError:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except (RuntimeError, OSError):  # CUDARuntimeError is a RuntimeError; OSError: no driver
        return False


def require_cuda(index=None):
    """Raise RuntimeError naming what is missing (CuPy, a GPU, or GPU number ``index``)."""
    try:
        cupy = cupy_module()
    except ImportError:
        raise RuntimeError(
            "CUDA was requested but CuPy is not installed: pip install the CuPy wheel of your "
            "CUDA major version, scratchgan[gpu-cuda12] or scratchgan[gpu-cuda13] "
            "(see docs/DEVICES.md)"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except (RuntimeError, OSError) as error:
        raise RuntimeError(f"CUDA was requested but no GPU is usable: {error}") from None
    if count == 0:
        raise RuntimeError("CUDA was requested but no GPU is present")
    if index is not None and not 0 <= index < count:
        raise RuntimeError(f"CUDA device {index} was requested but only {count} GPU(s) are present")


def default_device():
    """The device named by $SCRATCHGAN_DEVICE, else 'cpu'."""
    return parse_device(os.environ.get("SCRATCHGAN_DEVICE", "cpu"))


def device_of(array):
    """The Device an array lives on: 'cpu' for NumPy (arrays and scalars), else CuPy's 'cuda:N'."""
    if isinstance(array, (np.ndarray, np.generic)):
        return CPU
    return Device("cuda", array.device.id)


def array_module(x):
    """numpy or cupy (real or emulated), for an array, a Device or a device string."""
    if isinstance(x, (str, Device)):
        return np if parse_device(x).type == "cpu" else cupy_module()
    if isinstance(x, np.ndarray) or np.isscalar(x):
        return np
    if type(x).__module__.startswith(_EMULATED_CUPY):
        return importlib.import_module(_EMULATED_CUPY)
    import cupy

    return cupy


def device_context(device):
    """The context ops on ``device`` (a Device, a string, or an array's) must run in: CuPy's
    ``cuda.Device(index)`` for CUDA (kernels run on the current GPU), nothing for the CPU."""
    if (
        isinstance(device, (np.ndarray, np.generic))
        or device is CPU
        or (isinstance(device, str) and device == "cpu")
    ):
        return contextlib.nullcontext()  # the common case, answered without parsing
    if not isinstance(device, (str, Device)):
        device = device_of(device)
    device = parse_device(device, check=False)
    if device.type == "cpu":
        return contextlib.nullcontext()
    return cupy_module().cuda.Device(device.index)


def to_device(array, device):
    """Copy ``array`` to ``device`` (a no-op when it is already there)."""
    device = parse_device(device)
    if device_of(array) == device:
        return array
    if device.type == "cpu":
        return array.get()
    cupy = cupy_module()
    with cupy.cuda.Device(device.index):
        return cupy.asarray(array)


def parse_dtype(dtype):
    """None | numpy dtype | 'float32' ... -> numpy dtype (or None)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ValueError(f"dtype: expected one of {sorted(_DTYPES)}, got {dtype!r}")
        return np.dtype(_DTYPES[dtype])
    return np.dtype(dtype)
