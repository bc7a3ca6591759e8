"""On a GPU: every kernel loads, and every wrapper launches its own kernels (launch_counts says).

The numerical comparisons of the wrappers on CuPy arrays against NumPy references are the tests
of test_cuda_kernels.py, run again with the backend fixture's 'gpu' parameter.
"""

import numpy as np
import pytest

from scratchgan import cuda
from scratchgan.cuda import loader

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not cuda.is_available(), reason="needs CuPy and a CUDA GPU"),
]


def test_every_kernel_compiles_and_loads():
    for name in loader.kernel_names():
        assert loader.gpu_function(name) is not None, name


def _calls(cp, dtype):
    x = cp.asarray(np.random.default_rng(0).standard_normal((4, 3, 5, 6)), dtype)
    gy1 = cp.ones((4, 4, 5, 6), dtype)
    one = cp.ones((3,), dtype)
    mean, invstd = cp.zeros((3,), dtype), cp.ones((3,), dtype)
    imean, iinvstd = cp.zeros((4, 3), dtype), cp.ones((4, 3), dtype)
    p, m, v, g = (cp.zeros((17,), dtype) for _ in range(4))
    return {
        "leaky_relu_forward": lambda: cuda.leaky_relu_forward(x),
        "leaky_relu_backward": lambda: cuda.leaky_relu_backward(x, x),
        "im2col": lambda: cuda.im2col(x, 3, 3, padding=1),
        "col2im": lambda: cuda.col2im(cp.ones((4, 27, 30), dtype), x.shape, 3, 3, padding=1),
        "batch_norm_stats": lambda: cuda.batch_norm_stats(x),
        "batch_norm_forward": lambda: cuda.batch_norm_forward(x, mean, invstd, one, one),
        "batch_norm_backward": lambda: cuda.batch_norm_backward(x, x, mean, invstd, one),
        "instance_norm_forward": lambda: cuda.instance_norm_forward(x),
        "instance_norm_backward": lambda: cuda.instance_norm_backward(x, x, imean, iinvstd),
        "pixel_norm_forward": lambda: cuda.pixel_norm_forward(x),
        "pixel_norm_backward": lambda: cuda.pixel_norm_backward(x, x),
        "minibatch_stddev_stats minibatch_stddev_concat": lambda: cuda.minibatch_stddev_forward(
            x, 2
        ),
        "minibatch_stddev_grad_stat minibatch_stddev_backward": lambda: (
            cuda.minibatch_stddev_backward(x, gy1, 2)
        ),
        "adam_update": lambda: cuda.adam_update(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 1),
    }


@pytest.mark.parametrize("dtype, suffix", [(np.float32, "f32"), (np.float64, "f64")])
def test_every_wrapper_launches_its_kernels(dtype, suffix):
    import cupy

    for kernels, call in _calls(cupy, dtype).items():
        names = [f"{k}_{suffix}" for k in kernels.split()]
        before = [cuda.launch_counts[n] for n in names]
        call()
        cupy.cuda.Device().synchronize()
        assert [cuda.launch_counts[n] for n in names] == [b + 1 for b in before], kernels
