"""scratchgan's CUDA kernels: loading them, launching them, and one wrapper per op.

- loader.py: where kernels/*.cu lives (a checkout or the wheel; the only module that knows),
  each kernel's C signature, and compiling (NVRTC through CuPy for a GPU, g++ for emulation).
- launcher.py: ``launch`` on a GPU or, inside ``emulate()``, through the g++ build with guard
  zones around every array; ``uses_kernels``, the one question the ops ask; ``launch_counts``;
  ``emulate_device()``, under which the whole project runs with ``device="cuda"`` on the CPU.
- emulated_cupy/: the CuPy stand-in ``emulate_device()`` puts in CuPy's place (two emulated GPUs,
  an ndarray that is not a NumPy array, RawModule through g++).
- wrappers.py: the op wrappers (leaky_relu, im2col/col2im, batch and instance norm, pixel norm,
  minibatch stddev, Adam), raw arrays in and out.

``is_available`` and ``require_cuda`` are backend.py's (device choice lives there) and are
re-exported here. The package imports only the standard library, NumPy and backend.py; CuPy is
imported on first GPU use.
"""

from ..backend import is_available, require_cuda
from .launcher import emulate, emulate_device, launch, launch_counts, uses_kernels
from .loader import emulation_available
from .wrappers import (
    adam_update,
    batch_norm_backward,
    batch_norm_forward,
    batch_norm_stats,
    col2im,
    im2col,
    instance_norm_backward,
    instance_norm_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    minibatch_stddev_backward,
    minibatch_stddev_forward,
    pixel_norm_backward,
    pixel_norm_forward,
)

__all__ = [
    "adam_update",
    "batch_norm_backward",
    "batch_norm_forward",
    "batch_norm_stats",
    "col2im",
    "emulate",
    "emulate_device",
    "emulation_available",
    "im2col",
    "instance_norm_backward",
    "instance_norm_forward",
    "is_available",
    "launch",
    "launch_counts",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "minibatch_stddev_backward",
    "minibatch_stddev_forward",
    "pixel_norm_backward",
    "pixel_norm_forward",
    "require_cuda",
    "uses_kernels",
]
