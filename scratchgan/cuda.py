"""scratchgan's CUDA kernels: where they live, how they launch, and one wrapper per op.

The kernels are CUDA C in ``kernels/*.cu`` (top of a source checkout; ``scratchgan/kernels/`` in
an installed wheel). This module is the only place that knows that. Each kernel is an
``extern "C" __global__`` entry point per dtype, e.g. ``leaky_relu_forward_f32`` / ``_f64``.

Two backends run the very same wrappers, so testing one tests the grid arithmetic and the
argument passing of the other:

- GPU: arrays are CuPy arrays; each .cu is compiled once per process by ``cupy.RawModule``.
- Emulation (``with cuda.emulate():``): arrays are NumPy arrays; each .cu is compiled by g++
  against ``kernels/emu/cuda_emu.h`` (one host thread per GPU thread, blocks one at a time)
  and called through ctypes. Every array is handed to the kernel inside a guard zone of 0xFF
  bytes: a write past either end raises, a read past the end sees NaN.

The wrappers take and return raw arrays (C-contiguous copies are made where needed); the
autograd ops decide when to call them. ``launch_counts`` counts launches per kernel name, so a
test can prove that a kernel, not some other array expression, did the work.

This module imports only the standard library and NumPy; CuPy is imported on first GPU use.
"""

import collections
import contextlib
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

# Launch geometry, read by the wrappers at call time (emulate() can lower them, to keep emulation
# fast and to make grid-stride loops wrap). REDUCE_BLOCK must be a power of two <= MAX_BLOCK (256)
# of kernels/common.cuh.
BLOCK = 256
REDUCE_BLOCK = 256
MAX_GRID = 65535

launch_counts = collections.Counter()

_lock = threading.RLock()
_emulating = False
_EMU_FLAGS = ("-std=c++20", "-O1", "-shared", "-fPIC", "-pthread")


# ----------------------------------------------------------------------------- availability


def is_available():
    """True when CuPy imports and sees at least one GPU."""
    try:
        import cupy
    except ImportError:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except (RuntimeError, OSError):  # CUDARuntimeError is a RuntimeError; OSError: no driver library
        return False


def require_cuda(index=None):
    """Raise RuntimeError naming what is missing (CuPy, a GPU, or GPU number ``index``)."""
    try:
        import cupy
    except ImportError:
        raise RuntimeError(
            "CUDA was requested but CuPy is not installed: pip install scratchgan[gpu] "
            "(or the CuPy wheel matching your CUDA, e.g. pip install cupy-cuda12x)"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except (RuntimeError, OSError) as error:
        raise RuntimeError(f"CUDA was requested but no GPU is usable: {error}") from None
    if count == 0:
        raise RuntimeError("CUDA was requested but no GPU is present")
    if index is not None and not 0 <= index < count:
        raise RuntimeError(f"CUDA device {index} was requested but only {count} GPU(s) are present")


# ----------------------------------------------------------------------------- kernel sources


def kernel_dir():
    """The folder holding the .cu files: ``scratchgan/kernels`` (wheel) or ``<repo>/kernels`` (checkout)."""
    package = Path(__file__).resolve().parent
    for folder in (package / "kernels", package.parent / "kernels"):
        if (folder / "common.cuh").is_file():
            return folder
    raise FileNotFoundError(f"CUDA kernel sources not found in {package / 'kernels'} or {package.parent / 'kernels'}")


def kernel_files():
    """Paths of every kernels/*.cu."""
    return sorted(kernel_dir().glob("*.cu"))


def _source(path):
    """The text of a .cu with ``#include "common.cuh"`` pasted in (NVRTC then needs no include path)."""
    common = (kernel_dir() / "common.cuh").read_text()
    return Path(path).read_text().replace('#include "common.cuh"', common)


_Param = collections.namedtuple("_Param", "name dtype pointer const")
_C_DTYPES = {"float": np.float32, "double": np.float64, "int": np.int32, "long long": np.int64}
_ENTRY = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)')
_PARAM = re.compile(r"^(const )?(float|double|int|long long) ?(\*)? ?(\w+)$")
_table = None


def _kernel_table():
    """{kernel name: (path of its .cu, [_Param, ...])}, parsed from the extern "C" signatures."""
    global _table
    if _table is None:
        table = {}
        for path in kernel_files():
            for name, params in _ENTRY.findall(path.read_text()):
                parsed = []
                for text in params.split(","):
                    match = _PARAM.match(" ".join(text.replace("*", " * ").split()))  # "const float * x"
                    if match is None:
                        raise TypeError(f"{path.name}: {name}: cannot pass parameter {text.strip()!r}")
                    const, ctype, star, pname = match.groups()
                    parsed.append(_Param(pname, np.dtype(_C_DTYPES[ctype]), bool(star), bool(const)))
                if name in table:
                    raise ValueError(f"kernel {name} is defined in both {table[name][0].name} and {path.name}")
                table[name] = (path, parsed)
        _table = table
    return _table


def kernel_names():
    """Every kernel entry point, sorted."""
    return sorted(_kernel_table())


# ----------------------------------------------------------------------------- launching


@contextlib.contextmanager
def emulate(block=None, reduce_block=None, max_grid=None):
    """Run kernels on NumPy arrays through the g++-compiled emulation while inside this block.

    Each GPU thread is a host thread, so emulation wants small launches: ``block``, ``reduce_block``
    and ``max_grid`` override BLOCK, REDUCE_BLOCK and MAX_GRID for the duration.
    """
    global _emulating, BLOCK, REDUCE_BLOCK, MAX_GRID
    saved = _emulating, BLOCK, REDUCE_BLOCK, MAX_GRID
    _emulating = True
    BLOCK, REDUCE_BLOCK, MAX_GRID = block or BLOCK, reduce_block or REDUCE_BLOCK, max_grid or MAX_GRID
    try:
        yield
    finally:
        _emulating, BLOCK, REDUCE_BLOCK, MAX_GRID = saved


def uses_kernels(array):
    """Whether an op on ``array`` runs our kernels: a CuPy array, or a NumPy array inside emulate().

    The ops ask this one question, so emulation exercises exactly the code path a GPU takes.
    """
    return _emulating or not isinstance(array, np.ndarray)


def emulation_available():
    """True when g++, which builds the emulated kernels, is on PATH."""
    return shutil.which("g++") is not None


def launch(kernel_name, grid, block, args, shared_mem=0):
    """Launch ``kernel_name`` with ``grid`` and ``block`` (int or up to 3 ints) on ``args``.

    ``args`` follow the kernel's C signature exactly: arrays (C-contiguous, of the pointer's dtype)
    for pointers and NumPy scalars of the exact type (np.int32 for int, np.int64 for long long,
    np.float32 / np.float64) for values; anything else raises TypeError before the launch.
    """
    table = _kernel_table()
    if kernel_name not in table:
        raise KeyError(f"no kernel named {kernel_name!r} in {kernel_dir()}")
    path, params = table[kernel_name]
    grid, block = _dim3(grid), _dim3(block)
    _check_args(kernel_name, params, args)
    if _emulating:
        _emu_launch(kernel_name, path, params, grid, block, args, shared_mem)
    else:
        _gpu_launch(kernel_name, path, grid, block, args, shared_mem)
    launch_counts[kernel_name] += 1


def _dim3(v):
    v = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    return tuple(int(d) for d in v) + (1,) * (3 - len(v))


def _check_args(name, params, args):
    if len(args) != len(params):
        raise TypeError(f"kernel {name} takes {len(params)} arguments, got {len(args)}")
    for param, arg in zip(params, args):
        if param.pointer:
            ok = hasattr(arg, "dtype") and hasattr(arg, "flags") and arg.dtype == param.dtype
            if not ok or not arg.flags.c_contiguous:
                raise TypeError(f"kernel {name}: {param.name} must be a C-contiguous {param.dtype} array")
            if isinstance(arg, np.ndarray) and not _emulating:
                raise TypeError(f"kernel {name}: {param.name} is a NumPy array; kernels run on CuPy arrays "
                                "(or on NumPy arrays inside cuda.emulate())")
            if _emulating and not isinstance(arg, np.ndarray):
                raise TypeError(f"kernel {name}: inside cuda.emulate() {param.name} must be a NumPy array")
        elif not (isinstance(arg, np.generic) and arg.dtype == param.dtype):
            raise TypeError(f"kernel {name}: {param.name} must be a numpy {param.dtype} scalar, got {arg!r}")


_gpu_modules = {}
_gpu_functions = {}


def _gpu_function(name, path):
    """The cupy function of kernel ``name`` on the current GPU; its .cu is compiled once per process."""
    import cupy

    key = (name, cupy.cuda.runtime.getDevice())
    with _lock:
        if key not in _gpu_functions:
            if path not in _gpu_modules:
                _gpu_modules[path] = cupy.RawModule(code=_source(path), options=("-std=c++17",))
            _gpu_functions[key] = _gpu_modules[path].get_function(name)
        return _gpu_functions[key]


def _gpu_launch(name, path, grid, block, args, shared_mem):
    _gpu_function(name, path)(grid, block, tuple(args), shared_mem=shared_mem)


def preload():
    """Compile and load every kernel on the current GPU now instead of at its first launch."""
    require_cuda()
    for name, (path, _) in _kernel_table().items():
        _gpu_function(name, path)


_emu_libraries = {}
_GUARD = 256  # bytes of 0xFF on each side of every array an emulated kernel sees
_C_VALUES = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double,
             np.dtype(np.int32): ctypes.c_int32, np.dtype(np.int64): ctypes.c_int64}


def _emu_library(path):
    """The ctypes library of ``path`` compiled for the CPU; built once, cached by source hash."""
    with _lock:
        if path in _emu_libraries:
            return _emu_libraries[path]
        if not emulation_available():
            raise RuntimeError("kernel emulation needs g++ on PATH")
        header = kernel_dir() / "emu" / "cuda_emu.h"
        source = _source(path)
        key = hashlib.sha256("\0".join((source, header.read_text()) + _EMU_FLAGS).encode()).hexdigest()[:16]
        cache = Path(tempfile.gettempdir()) / f"scratchgan-emu-{os.getuid() if hasattr(os, 'getuid') else 0}"
        cache.mkdir(parents=True, exist_ok=True)
        library = cache / f"{path.stem}-{key}.so"
        if not library.exists():
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                cu, so = Path(tmp) / path.name, Path(tmp) / library.name
                cu.write_text(source)
                command = ["g++", *_EMU_FLAGS, "-x", "c++", "-include", str(header), str(cu), "-o", str(so)]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise RuntimeError(f"emulation build of {path.name} failed:\n{done.stderr}")
                os.replace(so, library)  # atomic: concurrent test processes never see half a file
        _emu_libraries[path] = ctypes.CDLL(str(library))
        return _emu_libraries[path]


def _emu_launch(name, path, params, grid, block, args, shared_mem):
    if shared_mem:
        raise NotImplementedError("the emulation has no dynamic shared memory; use static __shared__ arrays")
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    for i, a in enumerate(arrays):
        if any(np.may_share_memory(a, b) for b in arrays[i + 1:]):
            raise ValueError(f"kernel {name}: emulation copies each array, so arguments must not overlap")
    entry = getattr(_emu_library(path), "emu_launch_" + name)
    values, guarded = [], []
    for param, arg in zip(params, args):
        if param.pointer:
            buffer = np.full(arg.nbytes + 2 * _GUARD, 0xFF, np.uint8)
            buffer[_GUARD:_GUARD + arg.nbytes] = arg.reshape(-1).view(np.uint8)
            values.append(ctypes.c_void_p(buffer.ctypes.data + _GUARD))
            guarded.append((param, arg, buffer))
        else:
            values.append(_C_VALUES[param.dtype](arg.item()))
    argv = (ctypes.c_void_p * len(values))(*[ctypes.addressof(v) for v in values])
    entry((ctypes.c_uint * 3)(*grid), (ctypes.c_uint * 3)(*block), argv)
    for param, arg, buffer in guarded:
        body = buffer[_GUARD:_GUARD + arg.nbytes]
        if (buffer[:_GUARD] != 0xFF).any() or (buffer[_GUARD + arg.nbytes:] != 0xFF).any():
            raise RuntimeError(f"kernel {name} wrote outside the bounds of {param.name}")
        if not param.const:
            arg.reshape(-1).view(np.uint8)[:] = body


# ----------------------------------------------------------------------------- wrapper helpers


def _xp(a):
    if isinstance(a, np.ndarray):
        return np
    import cupy

    return cupy


def _suffix(dtype):
    if dtype == np.float32:
        return "f32"
    if dtype == np.float64:
        return "f64"
    raise TypeError(f"kernels take float32 or float64 arrays, got {dtype}")


def _pair(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(e) for e in v)


def _grid_for(n):
    """Blocks for a grid-stride loop over n elements."""
    return max(1, min(-(-n // BLOCK), MAX_GRID))


def _grid_rows(rows):
    """Blocks for a kernel that gives each of ``rows`` reductions to one block."""
    if REDUCE_BLOCK & (REDUCE_BLOCK - 1) or not 0 < REDUCE_BLOCK <= 256:
        raise ValueError(f"REDUCE_BLOCK must be a power of two <= 256, got {REDUCE_BLOCK}")
    return max(1, min(rows, MAX_GRID))


def _affine(xp, a, fill, C, dtype):
    return xp.full((C,), fill, dtype) if a is None else xp.ascontiguousarray(a)


def _expect(op, **named):
    """Raise ValueError unless every name=(array, shape) has that shape: kernels trust their sizes."""
    for name, (a, shape) in named.items():
        if a.shape != tuple(shape):
            raise ValueError(f"{op}: {name} has shape {a.shape}, expected {tuple(shape)}")


def _i32(*values):
    return [np.int32(v) for v in values]


# ----------------------------------------------------------------------------- leaky_relu


def leaky_relu_forward(x, slope=0.01):
    """y = x if x > 0 else slope * x, elementwise, any shape."""
    xp = _xp(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    T = x.dtype.type
    launch(f"leaky_relu_forward_{_suffix(x.dtype)}", _grid_for(x.size), BLOCK, [x, y, np.int64(x.size), T(slope)])
    return y


def leaky_relu_backward(x, gy, slope=0.01):
    """gx = gy * (1 if x > 0 else slope), elementwise."""
    xp = _xp(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    _expect("leaky_relu_backward", gy=(gy, x.shape))
    gx = xp.empty_like(x)
    T = x.dtype.type
    launch(f"leaky_relu_backward_{_suffix(x.dtype)}", _grid_for(x.size), BLOCK,
           [x, gy, gx, np.int64(x.size), T(slope)])
    return gx


# ----------------------------------------------------------------------------- conv: im2col / col2im


def conv_output_size(size, k, stride, padding, dilation):
    """floor((size + 2 padding - dilation (k - 1) - 1) / stride) + 1, as in PyTorch."""
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    """Unfold x (N, C, H, W) into col (N, C*kh*kw, Ho*Wo).

    col[n, (c*kh + ky)*kw + kx, oy*Wo + ox] = x[n, c, oy*sy - ph + ky*dy, ox*sx - pw + kx*dx] (0 in the padding).
    conv2d is then W.reshape(Cout, -1) @ col (per group: rows g*C/G*kh*kw ... of col belong to group g).
    """
    xp = _xp(x)
    x = xp.ascontiguousarray(x)
    (sy, sx), (ph, pw), (dy, dx) = _pair(stride), _pair(padding), _pair(dilation)
    N, C, H, W = x.shape
    Ho, Wo = conv_output_size(H, kh, sy, ph, dy), conv_output_size(W, kw, sx, pw, dx)
    if Ho <= 0 or Wo <= 0:
        raise ValueError(f"im2col: input {H}x{W} is too small for kernel {kh}x{kw} (output {Ho}x{Wo})")
    col = xp.empty((N, C * kh * kw, Ho * Wo), x.dtype)
    launch(f"im2col_{_suffix(x.dtype)}", _grid_for(col.size), BLOCK,
           [x, col, *_i32(N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo)])
    return col


def col2im(col, x_shape, kh, kw, stride=1, padding=0, dilation=1, col_hw=None):
    """Fold col (N, C*kh*kw, Ho*Wo) back onto an (N, C, H, W) array: the adjoint of im2col.

    Every col entry is added to the input pixel im2col read it from (entries from the padding are
    dropped). Serves conv2d's input gradient and conv_transpose2d's forward. ``col_hw`` = (Ho, Wo)
    defaults to the conv output size of x_shape (pass it when output_padding >= stride makes them differ).
    """
    xp = _xp(col)
    col = xp.ascontiguousarray(col)
    (sy, sx), (ph, pw), (dy, dx) = _pair(stride), _pair(padding), _pair(dilation)
    N, C, H, W = x_shape
    Ho, Wo = col_hw or (conv_output_size(H, kh, sy, ph, dy), conv_output_size(W, kw, sx, pw, dx))
    if col.shape != (N, C * kh * kw, Ho * Wo):
        raise ValueError(f"col2im: col has shape {col.shape}, expected {(N, C * kh * kw, Ho * Wo)}")
    x = xp.empty((N, C, H, W), col.dtype)
    launch(f"col2im_{_suffix(col.dtype)}", _grid_for(x.size), BLOCK,
           [col, x, *_i32(N, C, H, W, kh, kw, sy, sx, ph, pw, dy, dx, Ho, Wo)])
    return x


# ----------------------------------------------------------------------------- batch_norm


def batch_norm_stats(x, eps=1e-5):
    """Per-channel statistics of x (N, C, *): mean, biased var, invstd = 1/sqrt(var + eps), each (C,)."""
    xp = _xp(x)
    x = xp.ascontiguousarray(x)
    N, C, HW = x.shape[0], x.shape[1], x.size // max(1, x.shape[0] * x.shape[1])
    mean, var, invstd = (xp.empty((C,), x.dtype) for _ in range(3))
    launch(f"batch_norm_stats_{_suffix(x.dtype)}", _grid_rows(C), REDUCE_BLOCK,
           [x, mean, var, invstd, *_i32(N, C, HW), x.dtype.type(eps)])
    return mean, var, invstd


def batch_norm_forward(x, mean, invstd, gamma=None, beta=None):
    """y = (x - mean_c) * invstd_c * gamma_c + beta_c for x (N, C, *); the eval path with running stats."""
    xp = _xp(x)
    x, mean, invstd = (xp.ascontiguousarray(a) for a in (x, mean, invstd))
    N, C, HW = x.shape[0], x.shape[1], x.size // max(1, x.shape[0] * x.shape[1])
    gamma, beta = _affine(xp, gamma, 1, C, x.dtype), _affine(xp, beta, 0, C, x.dtype)
    _expect("batch_norm_forward", mean=(mean, (C,)), invstd=(invstd, (C,)), gamma=(gamma, (C,)), beta=(beta, (C,)))
    y = xp.empty_like(x)
    launch(f"batch_norm_forward_{_suffix(x.dtype)}", _grid_for(x.size), BLOCK,
           [x, mean, invstd, gamma, beta, y, *_i32(N, C, HW)])
    return y


def batch_norm_forward_train(x, gamma=None, beta=None, eps=1e-5, running_mean=None, running_var=None, momentum=0.1):
    """Training-mode batch norm of x (N, C, *) -> (y, mean, invstd), statistics over all axes but 1.

    If given, running_mean and running_var are updated in place as in PyTorch:
    r = (1 - momentum) r + momentum s, with the unbiased variance var * m / (m - 1), m = x.size / C.
    """
    mean, var, invstd = batch_norm_stats(x, eps)
    y = batch_norm_forward(x, mean, invstd, gamma, beta)
    m = x.size // x.shape[1]
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += (momentum * m / max(m - 1, 1)) * var
    return y, mean, invstd


def batch_norm_backward(x, gy, mean, invstd, gamma=None):
    """Fused backward of training-mode batch norm -> (gx, ggamma, gbeta).

    xhat = (x - mean) invstd; gbeta = sum gy; ggamma = sum gy xhat (sums over all axes but 1);
    gx = gamma invstd (gy - gbeta/m - xhat ggamma/m).
    """
    xp = _xp(x)
    x, gy, mean, invstd = (xp.ascontiguousarray(a) for a in (x, gy, mean, invstd))
    N, C, HW = x.shape[0], x.shape[1], x.size // max(1, x.shape[0] * x.shape[1])
    gamma = _affine(xp, gamma, 1, C, x.dtype)
    _expect("batch_norm_backward", gy=(gy, x.shape), mean=(mean, (C,)), invstd=(invstd, (C,)), gamma=(gamma, (C,)))
    gx, ggamma, gbeta = xp.empty_like(x), xp.empty((C,), x.dtype), xp.empty((C,), x.dtype)
    launch(f"batch_norm_backward_{_suffix(x.dtype)}", _grid_rows(C), REDUCE_BLOCK,
           [x, gy, mean, invstd, gamma, gx, ggamma, gbeta, *_i32(N, C, HW)])
    return gx, ggamma, gbeta


# ----------------------------------------------------------------------------- instance_norm


def instance_norm_forward(x, gamma=None, beta=None, eps=1e-5):
    """Instance norm of x (N, C, *) -> (y, mean, invstd); mean and invstd are (N, C).

    Statistics per (n, c) over the spatial axes (biased variance); y = (x - mean) invstd gamma_c + beta_c.
    """
    xp = _xp(x)
    x = xp.ascontiguousarray(x)
    N, C = x.shape[:2]
    HW = x.size // max(1, N * C)
    gamma, beta = _affine(xp, gamma, 1, C, x.dtype), _affine(xp, beta, 0, C, x.dtype)
    _expect("instance_norm_forward", gamma=(gamma, (C,)), beta=(beta, (C,)))
    y, mean, invstd = xp.empty_like(x), xp.empty((N, C), x.dtype), xp.empty((N, C), x.dtype)
    launch(f"instance_norm_forward_{_suffix(x.dtype)}", _grid_rows(N * C), REDUCE_BLOCK,
           [x, gamma, beta, y, mean, invstd, *_i32(N * C, C, HW), x.dtype.type(eps)])
    return y, mean, invstd


def instance_norm_backward(x, gy, mean, invstd, gamma=None):
    """Backward of instance norm -> (gx, ggamma (C,), gbeta (C,)).

    Per (n, c): xhat = (x - mean) invstd, sb = sum gy, sg = sum gy xhat,
    gx = gamma_c invstd (gy - sb/HW - xhat sg/HW); gbeta_c = sum_n sb, ggamma_c = sum_n sg.
    """
    xp = _xp(x)
    x, gy, mean, invstd = (xp.ascontiguousarray(a) for a in (x, gy, mean, invstd))
    N, C = x.shape[:2]
    HW = x.size // max(1, N * C)
    gamma = _affine(xp, gamma, 1, C, x.dtype)
    _expect("instance_norm_backward", gy=(gy, x.shape), mean=(mean, (N, C)), invstd=(invstd, (N, C)),
            gamma=(gamma, (C,)))
    gx, ggamma_part, gbeta_part = xp.empty_like(x), xp.empty((N, C), x.dtype), xp.empty((N, C), x.dtype)
    launch(f"instance_norm_backward_{_suffix(x.dtype)}", _grid_rows(N * C), REDUCE_BLOCK,
           [x, gy, mean, invstd, gamma, gx, ggamma_part, gbeta_part, *_i32(N * C, C, HW)])
    return gx, ggamma_part.sum(axis=0), gbeta_part.sum(axis=0)


# ----------------------------------------------------------------------------- pixel_norm


def pixel_norm_forward(x, eps=1e-8):
    """y = x / sqrt(mean_c x^2 + eps) for x (N, C, *), normalising each (n, pixel) across channels."""
    xp = _xp(x)
    x = xp.ascontiguousarray(x)
    N, C = x.shape[:2]
    HW = x.size // max(1, N * C)
    y = xp.empty_like(x)
    launch(f"pixel_norm_forward_{_suffix(x.dtype)}", _grid_for(N * HW), BLOCK,
           [x, y, *_i32(N, C, HW), x.dtype.type(eps)])
    return y


def pixel_norm_backward(x, gy, eps=1e-8):
    """gx = r gy - x r^3 (sum_c gy x) / C with r = 1/sqrt(mean_c x^2 + eps), per (n, pixel)."""
    xp = _xp(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    N, C = x.shape[:2]
    HW = x.size // max(1, N * C)
    _expect("pixel_norm_backward", gy=(gy, x.shape))
    gx = xp.empty_like(x)
    launch(f"pixel_norm_backward_{_suffix(x.dtype)}", _grid_for(N * HW), BLOCK,
           [x, gy, gx, *_i32(N, C, HW), x.dtype.type(eps)])
    return gx


# ----------------------------------------------------------------------------- minibatch_stddev


def _groups(N, group_size):
    G = min(group_size, N)
    if N % G:
        raise ValueError(f"minibatch_stddev: batch size {N} is not divisible by group size {G}")
    return G, N // G


def minibatch_stddev_forward(x, group_size=4, eps=1e-8):
    """ProGAN minibatch stddev: x (N, C, H, W) -> (N, C+1, H, W).

    G = min(group_size, N) samples per group, M = N / G groups; sample n belongs to group n % M
    (x.reshape(G, M, C, H, W) as in the ProGAN reference). Per group: std over its G samples
    (biased, sqrt(var + eps)) at every (c, h, w), averaged to one value, appended as a channel.
    """
    xp = _xp(x)
    x = xp.ascontiguousarray(x)
    N, C, H, W = x.shape
    G, M = _groups(N, group_size)
    T, sfx = x.dtype.type, _suffix(x.dtype)
    s = xp.empty((M,), x.dtype)
    launch(f"minibatch_stddev_stats_{sfx}", _grid_rows(M), REDUCE_BLOCK, [x, s, *_i32(G, M, C * H * W), T(eps)])
    y = xp.empty((N, C + 1, H, W), x.dtype)
    launch(f"minibatch_stddev_concat_{sfx}", _grid_for(y.size), BLOCK, [x, s, y, *_i32(N, C, H * W, M)])
    return y


def minibatch_stddev_backward(x, gy, group_size=4, eps=1e-8):
    """Gradient of minibatch_stddev_forward w.r.t. x, for gy (N, C+1, H, W) -> gx (N, C, H, W).

    With gs_m = sum of gy[:, C] over group m: gx = gy[:, :C] + gs_m (x - mu) / (G K std), K = C*H*W.
    """
    xp = _xp(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    N, C, H, W = x.shape
    G, M = _groups(N, group_size)
    _expect("minibatch_stddev_backward", gy=(gy, (N, C + 1, H, W)))
    T, sfx = x.dtype.type, _suffix(x.dtype)
    gs = xp.empty((M,), x.dtype)
    launch(f"minibatch_stddev_grad_stat_{sfx}", _grid_rows(M), REDUCE_BLOCK, [gy, gs, *_i32(G, M, C, H * W)])
    gx = xp.empty_like(x)
    launch(f"minibatch_stddev_backward_{sfx}", _grid_for(M * C * H * W), BLOCK,
           [x, gy, gs, gx, *_i32(G, M, C, H * W), T(eps)])
    return gx


# ----------------------------------------------------------------------------- adam


def adam_update(p, g, m, v, lr, b1, b2, eps, step):
    """One fused Adam step, in place on p, m, v (same shape and dtype, C-contiguous); step t >= 1.

    m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
    """
    for name, a in (("p", p), ("m", m), ("v", v)):
        if not a.flags.c_contiguous:
            raise ValueError(f"adam_update updates {name} in place, so it must be C-contiguous")
    g = _xp(g).ascontiguousarray(g)
    _expect("adam_update", g=(g, p.shape), m=(m, p.shape), v=(v, p.shape))
    T = p.dtype.type
    step_size = lr / (1 - b1**step)
    sqrt_bc2 = (1 - b2**step) ** 0.5
    launch(f"adam_update_{_suffix(p.dtype)}", _grid_for(p.size), BLOCK,
           [p, g, m, v, np.int64(p.size), T(step_size), T(b1), T(b2), T(eps), T(sqrt_bc2)])
