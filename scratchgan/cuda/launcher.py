"""Kernel launching: on a GPU through CuPy, or on NumPy arrays through the emulation.

Two backends run the very same wrappers, so testing one tests the grid arithmetic and the
argument passing of the other:

- GPU: arrays are CuPy arrays; each kernel is a ``cupy.RawModule`` function (loader.py).
- Emulation (``with cuda.emulate():``): arrays are NumPy arrays; each .cu is compiled by g++
  against ``kernels/emu/cuda_emu.h`` (one host thread per GPU thread, blocks one at a time)
  and called through ctypes. Every array is handed to the kernel inside a guard zone of 0xFF
  bytes: a write past either end raises, a read past the end sees NaN.

``emulate_device()`` is the third way: arrays are the emulated CuPy stand-in's (backend.py), the
GPU path runs unchanged, and its ``cupy.RawModule`` is the g++ build. It is how CI runs the whole
project with ``device="cuda"``.

``launch`` checks every argument against the kernel's C signature before either backend sees
it, checks that all arrays live on one device and launches in that device's context, and
``launch_counts`` counts launches per kernel name, so a test can prove that a kernel, not
some other array expression, did the work. Which arrays are on which device is backend.py's
decision (``device_of``); ``uses_kernels`` is the one question the ops ask.
"""

import collections
import contextlib
import ctypes
import dataclasses
import os

import numpy as np

from ..backend import device_context, device_of, emulated_cupy
from . import loader


@dataclasses.dataclass
class LaunchSettings:
    """Launch geometry the wrappers read at call time, and whether kernels run emulated.

    ``reduce_block`` must be a power of two <= MAX_BLOCK (256) of kernels/common.cuh.
    ``emulate()`` lowers the sizes, to keep emulation fast and to make grid-stride loops wrap.
    """

    block: int = 256  # threads per block of an elementwise (grid-stride) kernel
    reduce_block: int = 256  # threads per block of a kernel that reduces one row per block
    max_grid: int = 65535  # most blocks per launch; the kernels' stride loops cover the rest
    emulating: bool = False


settings = LaunchSettings()
if os.environ.get("SCRATCHGAN_EMULATE_CUDA") == "1":  # the emulated device for the whole process:
    settings.block, settings.reduce_block, settings.max_grid = 32, 16, 4  # emulate_device()'s
launch_counts = collections.Counter()

_GUARD = 256  # bytes of 0xFF on each side of every array an emulated kernel sees
_C_VALUES = {
    np.dtype(np.float32): ctypes.c_float,
    np.dtype(np.float64): ctypes.c_double,
    np.dtype(np.int32): ctypes.c_int32,
    np.dtype(np.int64): ctypes.c_int64,
}


@contextlib.contextmanager
def emulate(block=None, reduce_block=None, max_grid=None):
    """Run kernels on NumPy arrays through the g++-compiled emulation while inside this block.

    Each GPU thread is a host thread, so emulation wants small launches: ``block``,
    ``reduce_block`` and ``max_grid`` override those of ``settings`` for the duration.
    """
    saved = dataclasses.astuple(settings)
    settings.emulating = True
    settings.block = block or settings.block
    settings.reduce_block = reduce_block or settings.reduce_block
    settings.max_grid = max_grid or settings.max_grid
    try:
        yield
    finally:
        settings.block, settings.reduce_block, settings.max_grid, settings.emulating = saved


@contextlib.contextmanager
def emulate_device(block=32, reduce_block=16, max_grid=4):
    """Run the project with ``device="cuda"`` on the CPU while inside this block.

    backend.py answers with the emulated CuPy stand-in (two emulated GPUs; its ndarray is not a
    NumPy array, so CPU/GPU mix-ups fail as on a GPU), and kernels launch through the GPU path
    into the g++ build. Launch sizes are lowered as in ``emulate()``; yields the stand-in module.
    """
    saved = dataclasses.astuple(settings)
    settings.block, settings.reduce_block, settings.max_grid = block, reduce_block, max_grid
    try:
        with emulated_cupy() as cupy:
            yield cupy
    finally:
        settings.block, settings.reduce_block, settings.max_grid, settings.emulating = saved


def uses_kernels(array):
    """Whether an op on ``array`` runs our kernels: a CUDA array, or a NumPy array inside emulate().

    The ops ask this one question, so emulation exercises exactly the code path a GPU takes.
    """
    return settings.emulating or device_of(array).type == "cuda"


def grid_stride(n):
    """(grid, block) for a grid-stride loop over ``n`` elements: ceil(n / block) blocks, capped."""
    return max(1, min(-(-n // settings.block), settings.max_grid)), settings.block


def block_per_row(rows):
    """(grid, block) for a kernel that gives each of ``rows`` reductions to one block."""
    block = settings.reduce_block
    if block & (block - 1) or not 0 < block <= 256:
        raise ValueError(f"reduce_block must be a power of two <= 256, got {block}")
    return max(1, min(rows, settings.max_grid)), block


def launch(kernel_name, grid, block, args, shared_mem=0):
    """Launch ``kernel_name`` with ``grid`` and ``block`` (int or up to 3 ints) on ``args``.

    ``args`` follow the kernel's C signature exactly: arrays (C-contiguous, of the pointer's
    dtype) for pointers and NumPy scalars of the exact type (np.int32 for int, np.int64 for
    long long, np.float32 / np.float64) for values; anything else raises TypeError before the
    launch.
    """
    table = loader.kernel_table()
    if kernel_name not in table:
        raise KeyError(f"no kernel named {kernel_name!r} in {loader.kernel_dir()}")
    params = table[kernel_name].params
    grid, block = _dim3(grid), _dim3(block)
    _check_args(kernel_name, params, args)
    if settings.emulating:
        _emulated_launch(kernel_name, params, grid, block, args, shared_mem)
    else:
        with device_context(_one_device(kernel_name, params, args)):
            loader.gpu_function(kernel_name)(grid, block, tuple(args), shared_mem=shared_mem)
    launch_counts[kernel_name] += 1


def _one_device(name, params, args):
    """The device all array arguments live on; arrays on two devices raise ValueError."""
    devices = {p.name: device_of(a) for p, a in zip(params, args, strict=True) if p.pointer}
    if len(set(devices.values())) > 1:
        where = ", ".join(f"{arg} on {device}" for arg, device in devices.items())
        raise ValueError(f"kernel {name}: arguments on different devices ({where})")
    return next(iter(devices.values()))


def _dim3(v):
    v = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    return tuple(int(d) for d in v) + (1,) * (3 - len(v))


def _check_args(name, params, args):
    if len(args) != len(params):
        raise TypeError(f"kernel {name} takes {len(params)} arguments, got {len(args)}")
    for param, arg in zip(params, args, strict=True):
        if param.pointer:
            ok = hasattr(arg, "dtype") and hasattr(arg, "flags") and arg.dtype == param.dtype
            if not ok or not arg.flags.c_contiguous:
                raise TypeError(
                    f"kernel {name}: {param.name} must be a C-contiguous {param.dtype} array"
                )
            on_cpu = device_of(arg).type == "cpu"
            if on_cpu and not settings.emulating:
                raise TypeError(
                    f"kernel {name}: {param.name} is a NumPy array; kernels run on "
                    "CuPy arrays (or on NumPy arrays inside cuda.emulate())"
                )
            if settings.emulating and not on_cpu:
                raise TypeError(
                    f"kernel {name}: inside cuda.emulate() {param.name} must be a NumPy array"
                )
        elif not (isinstance(arg, np.generic) and arg.dtype == param.dtype):
            raise TypeError(
                f"kernel {name}: {param.name} must be a numpy {param.dtype} scalar, got {arg!r}"
            )


def _emulated_launch(name, params, grid, block, args, shared_mem):
    """Run the g++ build of kernel ``name`` on guarded copies of the arrays; copy results back."""
    run_emulated(name, loader.emulated_entry(name), params, grid, block, args, shared_mem)


def run_emulated(name, entry, params, grid, block, args, shared_mem=0):
    """Call ``entry`` (an ``emu_launch_<name>``) on NumPy ``args`` following ``params``: each
    array goes in a guard zone, and what the kernel writes is copied back into the array."""
    if shared_mem:
        raise NotImplementedError(
            "the emulation has no dynamic shared memory; use static __shared__ arrays"
        )
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    for i, a in enumerate(arrays):
        if any(np.may_share_memory(a, b) for b in arrays[i + 1 :]):
            raise ValueError(
                f"kernel {name}: emulation copies each array, so arguments must not overlap"
            )
    values, guarded = [], []
    for param, arg in zip(params, args, strict=True):
        if param.pointer:
            buffer = np.full(arg.nbytes + 2 * _GUARD, 0xFF, np.uint8)
            buffer[_GUARD : _GUARD + arg.nbytes] = arg.reshape(-1).view(np.uint8)
            values.append(ctypes.c_void_p(buffer.ctypes.data + _GUARD))
            guarded.append((param, arg, buffer))
        else:
            values.append(_C_VALUES[param.dtype](arg.item()))
    argv = (ctypes.c_void_p * len(values))(*[ctypes.addressof(v) for v in values])
    entry((ctypes.c_uint * 3)(*grid), (ctypes.c_uint * 3)(*block), argv)
    for param, arg, buffer in guarded:
        body = buffer[_GUARD : _GUARD + arg.nbytes]
        if (buffer[:_GUARD] != 0xFF).any() or (buffer[_GUARD + arg.nbytes :] != 0xFF).any():
            raise RuntimeError(f"kernel {name} wrote outside the bounds of {param.name}")
        if not param.const:
            arg.reshape(-1).view(np.uint8)[:] = body
