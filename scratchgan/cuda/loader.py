"""Kernel loading: where the .cu files live, what each kernel takes, and compiling them.

The kernels are CUDA C in ``kernels/*.cu`` (top of a source checkout; ``scratchgan/kernels/`` in
an installed wheel). This module is the only place that knows that. Each kernel is an
``extern "C" __global__`` entry point per dtype, e.g. ``leaky_relu_forward_f32`` / ``_f64``; its
C signature, parsed here, is what the launcher checks arguments against.

Two compilers take the same text (``kernel_source``: the .cu with common.cuh pasted in):

- NVRTC, through ``cupy.RawModule``, for a GPU: once per process and file, loaded once per device.
- g++, for the emulation: against ``kernels/emu/cuda_emu.h`` into a shared library, cached in the
  temp folder under a hash of the source, header and flags, and loaded once per process.

This module imports only the standard library, NumPy and backend.py; CuPy (or its emulated
stand-in, as backend.cupy_module decides) is imported on first GPU use.
"""

import collections
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from ..backend import cupy_module

# What NVRTC (cupy.RawModule) gets, and what nvcc must accept too (tests/kernels/test_nvcc.py).
GPU_COMPILE_OPTIONS = ("-std=c++17",)
EMULATION_COMPILE_FLAGS = ("-std=c++20", "-O1", "-shared", "-fPIC", "-pthread")

Param = collections.namedtuple("Param", "name dtype pointer const")
Param.__doc__ = "One parameter of a kernel's C signature: a pointer to, or a value of, ``dtype``."
Kernel = collections.namedtuple("Kernel", "path params")
Kernel.__doc__ = "A kernel entry point: the .cu that defines it and its parameters in order."

_C_DTYPES = {"float": np.float32, "double": np.float64, "int": np.int32, "long long": np.int64}
_ENTRY = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)')
_PARAM = re.compile(r"^(const )?(float|double|int|long long) ?(\*)? ?(\w+)$")

_lock = threading.RLock()  # compiled modules and libraries are built once, whichever thread asks
_kernel_table = None
_gpu_modules = {}
_gpu_functions = {}
_emulated_libraries = {}


def kernel_dir():
    """The folder of the .cu files: ``scratchgan/kernels`` (wheel) or ``<repo>/kernels``."""
    package = Path(__file__).resolve().parent.parent
    candidates = (package / "kernels", package.parent / "kernels")
    for folder in candidates:
        if (folder / "common.cuh").is_file():
            return folder
    raise FileNotFoundError(f"CUDA kernel sources not found in {candidates[0]} or {candidates[1]}")


def kernel_files():
    """Paths of every kernels/*.cu, sorted."""
    return sorted(kernel_dir().glob("*.cu"))


def kernel_source(path):
    """The text of a .cu with ``#include "common.cuh"`` pasted in: NVRTC needs no include path."""
    common = (kernel_dir() / "common.cuh").read_text()
    return Path(path).read_text().replace('#include "common.cuh"', common)


def kernel_table():
    """{kernel name: Kernel(path, [Param, ...])}, parsed from the extern "C" signatures once."""
    global _kernel_table
    if _kernel_table is None:  # two threads may both parse; either table is the same
        table = {}
        for path in kernel_files():
            for name, params in parse_kernels(path.read_text(), path.name).items():
                if name in table:
                    files = f"{table[name].path.name} and {path.name}"
                    raise ValueError(f"kernel {name} is defined in both {files}")
                table[name] = Kernel(path, params)
        _kernel_table = table
    return _kernel_table


def parse_kernels(source, where="<source>"):
    """{name: [Param, ...]} of every ``extern "C" __global__`` kernel in CUDA C ``source``."""
    return {
        name: [_parse_param(where, name, p) for p in params.split(",")]
        for name, params in _ENTRY.findall(source)
    }


def _parse_param(where, kernel_name, text):
    match = _PARAM.match(" ".join(text.replace("*", " * ").split()))  # "const float * x"
    if match is None:
        raise TypeError(f"{where}: {kernel_name}: cannot pass parameter {text.strip()!r}")
    const, ctype, star, name = match.groups()
    return Param(name, np.dtype(_C_DTYPES[ctype]), bool(star), bool(const))


def kernel_names():
    """Every kernel entry point, sorted."""
    return sorted(kernel_table())


def gpu_function(name):
    """The ``cupy.RawKernel`` of kernel ``name`` on the current GPU; NVRTC compiles it once.

    Caches are keyed by the CuPy module too, so the emulated stand-in (backend.py) and a real
    CuPy never share a compiled function.
    """
    cupy = cupy_module()
    path = kernel_table()[name].path
    module_key = (cupy.__name__, path)
    key = (cupy.__name__, name, cupy.cuda.runtime.getDevice())
    with _lock:
        if key not in _gpu_functions:
            if module_key not in _gpu_modules:
                _gpu_modules[module_key] = cupy.RawModule(
                    code=kernel_source(path), options=GPU_COMPILE_OPTIONS
                )
            _gpu_functions[key] = _gpu_modules[module_key].get_function(name)
        return _gpu_functions[key]


def emulation_available():
    """True when g++, which builds the emulated kernels, is on PATH."""
    return shutil.which("g++") is not None


def emulated_entry(name):
    """``emu_launch_<name>`` of the g++ build of the kernel's .cu (see kernels/emu/cuda_emu.h)."""
    path = kernel_table()[name].path
    return getattr(_emulated_library(kernel_source(path), path.stem), "emu_launch_" + name)


def emulated_entry_from_source(source, name):
    """``emu_launch_<name>`` of the g++ build of CUDA C ``source`` (a .cu with common.cuh pasted
    in, as NVRTC gets it): what the emulated ``cupy.RawModule`` launches."""
    return getattr(_emulated_library(source, "module"), "emu_launch_" + name)


def _emulated_library(source, stem):
    """The ctypes library of CUDA C ``source`` compiled for the CPU; built once, cached by hash."""
    header = kernel_dir() / "emu" / "cuda_emu.h"
    text = "\0".join((source, header.read_text()) + EMULATION_COMPILE_FLAGS)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    with _lock:
        if key in _emulated_libraries:
            return _emulated_libraries[key]
        if not emulation_available():
            raise RuntimeError("kernel emulation needs g++ on PATH")
        user = os.getuid() if hasattr(os, "getuid") else 0
        cache = Path(tempfile.gettempdir()) / f"scratchgan-emu-{user}"
        cache.mkdir(parents=True, exist_ok=True)
        library = cache / f"{stem}-{key}.so"
        if not library.exists():
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                cu, so = Path(tmp) / f"{stem}.cu", Path(tmp) / library.name
                cu.write_text(source)
                command = [
                    "g++",
                    *EMULATION_COMPILE_FLAGS,
                    "-x",
                    "c++",
                    "-include",
                    str(header),
                    str(cu),
                    "-o",
                    str(so),
                ]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise RuntimeError(f"emulation build of {stem}.cu failed:\n{done.stderr}")
                os.replace(so, library)  # atomic: concurrent test processes never see half a file
        _emulated_libraries[key] = ctypes.CDLL(str(library))
        return _emulated_libraries[key]
