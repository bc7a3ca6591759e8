"""``RawModule`` and ``RawKernel`` of the stand-in: CUDA C compiled by g++ against the emulation
header (kernels/emu/cuda_emu.h) instead of NVRTC, launched on the arrays' NumPy storage through
the same guarded call as ``cuda.emulate()``.

As on a GPU, a function taken from a module belongs to the device that was current when it was
taken, and every array argument must live on the current device.
"""

from pathlib import Path

import numpy as np

from .. import launcher, loader
from . import _core
from ._runtime import CUDARuntimeError


class RawModule:
    """``RawModule(code=None, *, path=None, options=(), ...)``: compiled on first use."""

    def __init__(
        self,
        code=None,
        *,
        path=None,
        options=(),
        backend="nvrtc",
        translate_cucomplex=False,
        enable_cooperative_groups=False,
        name_expressions=None,
        jitify=None,
    ):
        if (code is None) == (path is None):
            raise TypeError("RawModule: give exactly one of code and path")
        self.code = code if code is not None else Path(path).read_text()
        self.options = tuple(options)
        self._kernels = loader.parse_kernels(self.code)

    def get_function(self, name):
        if name not in self._kernels:
            raise CUDARuntimeError(f"cuModuleGetFunction: named symbol not found: {name}")
        return _Function(self.code, name, self._kernels[name])


class RawKernel:
    """``RawKernel(code, name, options=(), ...)``: one kernel of ``code``."""

    def __init__(
        self,
        code,
        name,
        options=(),
        backend="nvrtc",
        translate_cucomplex=False,
        *,
        enable_cooperative_groups=False,
        jitify=None,
    ):
        self.code, self.name, self.options = code, name, tuple(options)

    def __call__(self, grid, block, args, **kwargs):
        RawModule(code=self.code).get_function(self.name)(grid, block, args, **kwargs)


class _Function:
    def __init__(self, code, name, params):
        self.code, self.name, self.params = code, name, params
        self.device_id = _core.current_device_id()

    def __call__(self, grid, block, args, *, shared_mem=0):
        device = _core.current_device_id()
        if device != self.device_id:
            raise CUDARuntimeError(
                "cudaErrorInvalidResourceHandle: kernel "
                f"{self.name} was loaded on device {self.device_id} but "
                f"launched on device {device}"
            )
        arrays = []
        for arg in args:
            if isinstance(arg, (_core.ndarray, np.ndarray)):
                arrays.append(_core.unwrap(arg, device))
            elif isinstance(arg, np.generic):
                arrays.append(arg)
            else:
                raise TypeError(f"Unsupported type {type(arg)}")
        entry = loader.emulated_entry_from_source(self.code, self.name)
        launcher.run_emulated(
            self.name, entry, self.params, _dim3(grid), _dim3(block), arrays, shared_mem
        )


def _dim3(v):
    v = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    return tuple(int(d) for d in v) + (1,) * (3 - len(v))
